// Broadcast Remote ID frames built by hand, for tests: a Basic ID and a
// Location message (ASTM F3411-22a, protocol version 2), a message pack of
// them, and a ReceivedFrame as a ground receiver reports it. The encodings
// follow the scalings services/remoteid/broadcast/odid.h decodes (latitude
// and longitude int32 × 1e-7 degrees, geodetic altitude uint16 × 0.5 −
// 1000 m, time stamp in tenths of a second since the UTC hour); fields not
// given are "unknown" on the air. Test-only; header-only.
#ifndef UTM_SERVICES_REMOTEID_BROADCAST_FRAMES_TESTING_H_
#define UTM_SERVICES_REMOTEID_BROADCAST_FRAMES_TESTING_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "geo/latlng.h"
#include "google/protobuf/timestamp.pb.h"
#include "utm/v1/remote_id.pb.h"

namespace utm::remoteid::test_util {

inline constexpr size_t kOdidMessageBytes = 25;

inline void PutLe(std::string& m, int at, uint32_t value, int bytes) {
  for (int k = 0; k < bytes; ++k) {
    m[at + k] = static_cast<char>((value >> (8 * k)) & 0xFF);
  }
}

// A Basic ID message: a serial number (id type 1), UA type 2 (helicopter
// or multirotor).
inline std::string BasicIdMessage(const std::string& serial) {
  std::string m(kOdidMessageBytes, '\0');
  m[0] = 0x02;                     // type 0 (Basic ID), version 2
  m[1] = static_cast<char>(0x12);  // id type 1 << 4 | UA type 2
  for (size_t k = 0; k < serial.size() && k < 20; ++k) m[2 + k] = serial[k];
  return m;
}

// A Location message: airborne at `position` and `altitude_m` (metres above
// the WGS84 ellipsoid) at `time` (its offset into the UTC hour is sent),
// track, speed and accuracies unknown.
inline std::string LocationMessage(const geo::LatLng& position,
                                   double altitude_m, absl::Time time) {
  std::string m(kOdidMessageBytes, '\0');
  m[0] = 0x12;                     // type 1 (Location), version 2
  m[1] = static_cast<char>(0x23);  // airborne (2) << 4 | E/W | multiplier
  m[2] = static_cast<char>(181);   // with E/W: track unknown
  m[3] = static_cast<char>(255);   // with the multiplier: speed unknown
  m[4] = 126;                      // vertical speed unknown
  PutLe(m, 5,
        static_cast<uint32_t>(
            static_cast<int32_t>(std::lround(position.lat_deg * 1e7))),
        4);
  PutLe(m, 9,
        static_cast<uint32_t>(
            static_cast<int32_t>(std::lround(position.lng_deg * 1e7))),
        4);
  PutLe(m, 15, static_cast<uint32_t>(std::lround((altitude_m + 1000) * 2)), 2);
  const int64_t tenths = (absl::ToUnixMillis(time) % 3600000) / 100;
  PutLe(m, 21, static_cast<uint32_t>(tenths), 2);
  m[23] = 0x02;  // time stamp accurate to 0.2 s
  return m;
}

// A message pack (type 0xF) of `messages`.
inline std::string MessagePack(const std::vector<std::string>& messages) {
  std::string p;
  p.push_back(static_cast<char>(0xF2));
  p.push_back(static_cast<char>(kOdidMessageBytes));
  p.push_back(static_cast<char>(messages.size()));
  for (const std::string& m : messages) p += m;
  return p;
}

// `payload` as heard from `transmitter` over Wi-Fi beacon at `received`.
inline v1::ReceivedFrame Frame(const std::string& transmitter,
                               const std::string& payload,
                               absl::Time received) {
  v1::ReceivedFrame f;
  f.set_payload(payload);
  f.set_transmitter(transmitter);
  const int64_t ns = absl::ToUnixNanos(received);
  f.mutable_receive_time()->set_seconds(ns / 1000000000);
  f.mutable_receive_time()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  f.set_rssi_dbm(-70);
  f.set_transport(v1::RID_TRANSPORT_WIFI_BEACON);
  return f;
}

// A pack of a Basic ID (`serial`) and a Location, as most transmitters send.
inline v1::ReceivedFrame AircraftFrame(const std::string& transmitter,
                                       const std::string& serial,
                                       const geo::LatLng& position,
                                       absl::Time received) {
  return Frame(transmitter,
               MessagePack({BasicIdMessage(serial),
                            LocationMessage(position, 500, received)}),
               received);
}

}  // namespace utm::remoteid::test_util

#endif  // UTM_SERVICES_REMOTEID_BROADCAST_FRAMES_TESTING_H_
