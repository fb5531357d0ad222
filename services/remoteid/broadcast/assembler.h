// Assembles broadcast Remote ID messages, which mostly arrive one at a time,
// into one report per position of an aircraft.
//
// A transmitter (the Bluetooth or Wi-Fi source address) sends its Basic ID,
// System, Operator ID and Self-ID messages interleaved with Location
// messages; the Assembler remembers the latest of each per (receiver id,
// transmitter address) and, for every Location message that carries a
// position, emits an AircraftReport, naming the aircraft by its UAS id once
// a Basic ID of that transmitter was heard (an aircraft on the air is an
// aircraft, named or not). Messages of one call (e.g. one message pack) are one snapshot:
// identification messages in it apply to the Location messages in it
// whatever their order.
//
// Memory is bounded: at most AssemblerOptions::max_transmitters entries, the
// least recently heard evicted first, and entries not heard for max_age
// evicted as time (the `received` arguments) moves on.
//
// Thread-safe: Add may be called from many threads.
//
// Typical usage:
//   Assembler assembler(AssemblerOptions{});
//   for (const CapturedFrame& f : frames) {
//     auto messages = DecodeMessages(f.payload);
//     if (!messages.ok()) continue;
//     for (AircraftReport& r :
//          assembler.Add(receiver, f.transmitter, f.time, *messages)) { ... }
//   }
#ifndef UTM_SERVICES_REMOTEID_BROADCAST_ASSEMBLER_H_
#define UTM_SERVICES_REMOTEID_BROADCAST_ASSEMBLER_H_

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/remoteid/broadcast/odid.h"

namespace utm::remoteid::broadcast {

// One position of one aircraft, with everything known about it.
struct AircraftReport {
  // Who heard it: the receiver id and transmitter address given to Add.
  std::string receiver_id;
  std::string transmitter;
  // When the receiver heard the Location message.
  absl::Time received;

  // The preferred UAS id (serial number, then CAA registration, then UTM
  // UUID, then session id, then an id of type kNone), its type, and every
  // Basic ID the transmitter sent (at most two, F3411-22a allows two).
  // Empty (and id_type kNone) while no Basic ID with an id was heard.
  std::string uas_id;
  IdType id_type = IdType::kNone;
  UaType ua_type = UaType::kNone;
  std::vector<BasicId> basic_ids;

  // When the aircraft was at this position: the latest instant not after
  // `received` + AssemblerOptions::clock_allowance whose offset into its UTC
  // hour is the Location timestamp; `received` when the timestamp is unknown
  // (then time_from_timestamp is false).
  absl::Time time;
  bool time_from_timestamp = false;
  // Accuracy of that timestamp, 0.1 s .. 1.5 s, when given.
  std::optional<absl::Duration> timestamp_accuracy;

  Status status = Status::kUndeclared;
  // WGS84 position, degrees.
  double lat_deg = 0;
  double lng_deg = 0;
  // Metres above the WGS84 ellipsoid (HAE).
  std::optional<double> geodetic_altitude_m;
  // Pressure altitude, metres, referenced to 1013.25 hPa.
  std::optional<double> pressure_altitude_m;
  // Metres above take-off or ground, as height_type says.
  std::optional<double> height_m;
  HeightType height_type = HeightType::kAboveTakeoff;
  // Degrees clockwise from true north; m/s; m/s up positive.
  std::optional<int> track_deg;
  std::optional<double> speed_mps;
  std::optional<double> vertical_speed_mps;
  // 95 % accuracy bounds: metres (horizontal, geodetic vertical, pressure
  // altitude) and m/s (speed); nullopt when unknown.
  std::optional<double> horizontal_accuracy_m;
  std::optional<double> vertical_accuracy_m;
  std::optional<double> baro_accuracy_m;
  std::optional<double> speed_accuracy_mps;

  // From the latest System message, when one was heard: where the operator
  // (or take-off point, per operator_location_type) is, WGS84 degrees and
  // metres above the ellipsoid.
  std::optional<OperatorLocationType> operator_location_type;
  std::optional<LatLng> operator_position;
  std::optional<double> operator_altitude_m;
  // EU classification (ASD-STAN prEN 4709-002) when the System message
  // declares it; kUndeclared otherwise.
  ClassificationType classification_type = ClassificationType::kUndeclared;
  EuCategory eu_category = EuCategory::kUndeclared;
  EuClass eu_class = EuClass::kUndeclared;

  // From the latest Operator ID and Self-ID messages; empty when none.
  std::string operator_id;
  std::string self_id_description;
};

struct AssemblerOptions {
  // At most this many (receiver, transmitter) entries; the least recently
  // heard is evicted first. DEFAULT: 10000. REQUIRES: > 0.
  size_t max_transmitters = 10000;
  // An entry not heard for this long is forgotten. DEFAULT: 10 minutes.
  absl::Duration max_age = absl::Minutes(10);
  // How far ahead of the receiver's clock an aircraft's clock may be when a
  // Location timestamp is placed in time. DEFAULT: 1 s.
  absl::Duration clock_allowance = absl::Seconds(1);
};

class Assembler {
 public:
  explicit Assembler(AssemblerOptions options = {});

  // Records `messages` heard by `receiver_id` from `transmitter` at
  // `received`, and returns one report for every Location message among
  // them that has a position; its uas_id is empty until a Basic ID with a
  // non-empty UAS id is known for the pair. Never fails; messages without a report are
  // remembered only.
  std::vector<AircraftReport> Add(absl::string_view receiver_id,
                                  absl::string_view transmitter,
                                  absl::Time received,
                                  const std::vector<Message>& messages);

  // How many (receiver, transmitter) entries are remembered.
  size_t size() const;

  // The instant whose offset into its UTC hour is `time_since_hour`, latest
  // not after `received` + `allowance`.
  static absl::Time ReconstructTime(absl::Duration time_since_hour,
                                    absl::Time received,
                                    absl::Duration allowance);

 private:
  struct Entry {
    std::pair<std::string, std::string> key;  // receiver, transmitter
    absl::Time last_heard;
    std::vector<BasicId> basic_ids;  // latest per id type, at most 2
    std::optional<System> system;
    std::optional<OperatorId> operator_id;
    std::optional<SelfId> self_id;
  };
  using Lru = std::list<Entry>;  // most recently heard first

  void EvictLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AssemblerOptions options_;
  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::pair<std::string, std::string>, Lru::iterator>
      index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::remoteid::broadcast

#endif  // UTM_SERVICES_REMOTEID_BROADCAST_ASSEMBLER_H_
