// Reads packet captures (pcap and pcapng, through libpcap) of broadcast
// Remote ID and extracts every Open Drone ID payload with its transmitter,
// time, transport and signal strength.
//
// Transports (F3411-22a, broadcast transport; ASD-STAN prEN 4709-002):
//   kWifiNan            Wi-Fi Neighbour Awareness Networking service
//                       discovery frames (public action frame, vendor
//                       specific, OUI 50:6F:9A type 0x13) whose Service
//                       Descriptor attribute has the service id of
//                       "org.opendroneid.remoteid"; the service info is a
//                       message counter byte and a message pack.
//   kWifiBeacon         Wi-Fi beacon frames with a vendor specific element,
//                       OUI FA:0B:BC type 0x0D: a counter byte and a pack.
//   kBluetoothLegacy    Bluetooth 4 legacy advertising; kBluetoothLongRange
//                       Bluetooth 5 extended advertising (the long range,
//                       coded PHY, transport): AD type 0x16 (service data),
//                       UUID 0xFFFA, application code 0x0D, a counter byte,
//                       then one message (legacy) or a message pack.
// Link types read: LINKTYPE_IEEE802_11_RADIOTAP (127), LINKTYPE_IEEE802_11
// (105), LINKTYPE_BLUETOOTH_LE_LL (251), LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR
// (256), LINKTYPE_NORDIC_BLE (272); any other is refused.
//
// Frames without Remote ID (other beacons, other advertisers) are ignored.
// A frame that is malformed (truncated headers or elements, a failed CRC or
// FCS the capture flags) is skipped and reported, never fatal.
//
// Typical usage:
//   std::vector<SkippedFrame> skipped;
//   absl::StatusOr<std::vector<CapturedFrame>> frames =
//       ReadCapture("/var/captures/site-a.pcapng", &skipped);
#ifndef UTM_SERVICES_REMOTEID_BROADCAST_CAPTURE_H_
#define UTM_SERVICES_REMOTEID_BROADCAST_CAPTURE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace utm::remoteid::broadcast {

enum class Transport {
  kBluetoothLegacy,
  kBluetoothLongRange,
  kWifiNan,
  kWifiBeacon,
};

absl::string_view TransportName(Transport transport);

struct CapturedFrame {
  // When the capture recorded the frame.
  absl::Time time;
  // Source address, lowercase "aa:bb:cc:dd:ee:ff" (Bluetooth addresses in
  // the usual most-significant-byte-first order).
  std::string transmitter;
  Transport transport = Transport::kWifiBeacon;
  // Received signal strength, dBm, when the capture header carries it.
  std::optional<int> rssi_dbm;
  // Exactly the bytes DecodeMessages takes: one 25-byte message or a
  // message pack (without the transport's counter byte; a pack's unused,
  // all-zero message slots that some Bluetooth 5 transmitters append are
  // cut off).
  std::string payload;
  // 1-based, as Wireshark numbers frames.
  int64_t frame_number = 0;
};

struct SkippedFrame {
  int64_t frame_number = 0;  // 1-based
  std::string reason;
};

// Reads the capture at `path`. Errors: NOT_FOUND / INVALID_ARGUMENT when
// libpcap cannot open it (its message included), INVALID_ARGUMENT naming the
// link type when it is not one listed above, DATA_LOSS naming the frame when
// the file ends inside it. Malformed frames are appended to `*skipped` when
// it is not null.
absl::StatusOr<std::vector<CapturedFrame>> ReadCapture(
    const std::string& path, std::vector<SkippedFrame>* skipped = nullptr);

// The same for one frame's bytes of the given link type, for callers that
// receive frames themselves (and for tests): returns the Remote ID payloads
// found (none for a frame without Remote ID), or INVALID_ARGUMENT with the
// reason the frame is malformed. `frame.time` and `frame.frame_number` are
// copied from `prototype`.
absl::StatusOr<std::vector<CapturedFrame>> ExtractFrame(
    int link_type, absl::string_view bytes, const CapturedFrame& prototype);

}  // namespace utm::remoteid::broadcast

#endif  // UTM_SERVICES_REMOTEID_BROADCAST_CAPTURE_H_
