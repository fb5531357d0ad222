// What ground receivers hear, into the Remote ID display: checks a
// ReportReceptions request, decodes each frame (services/remoteid/broadcast),
// puts the messages of each transmitter together, and hands every aircraft
// position to RemoteIdCore as a broadcast state. Pure (no gRPC).
//
// A bad frame is reported by index and field — `frames[3].payload: byte 7
// (Location.latitude): 95.1234567 is outside [-90, 90]` — and never stops
// the others; a bad request as a whole (no receiver position, too many
// frames) is INVALID_ARGUMENT and nothing of it is kept.
//
// Data residency: when the core has a region (RemoteIdOptions::region), a
// frame with an aircraft position outside it is refused the same way, on
// its own — `frames[3].position lies outside region EU-CH (deployment
// boundary)` — before anything of it is remembered, shown or handed on as
// an intruder. A frame without a position (Basic ID, System, Self-ID,
// Operator ID) is accepted and remembered for the transmitter's next
// Location, but shows nothing by itself: an aircraft whose positions are
// all refused never appears. The operator location a System message gives
// is not checked (residency follows the aircraft; a remote pilot may stand
// across the border from it).
//
// Thread-safe.
#ifndef UTM_SERVICES_REMOTEID_BROADCAST_FEED_H_
#define UTM_SERVICES_REMOTEID_BROADCAST_FEED_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/remoteid/broadcast/assembler.h"
#include "services/remoteid/remoteid_core.h"
#include "utm/v1/remote_id.pb.h"

namespace utm::remoteid {

struct BroadcastFeedOptions {
  // Frames in one request. DEFAULT: 1000.
  int max_frames = 1000;
  // Bytes of one frame's payload: a pack of 9 messages is 228. DEFAULT: 250.
  size_t max_payload_bytes = 250;
  // Receive times older or further ahead than these are refused. DEFAULT:
  // 60 s (Remote ID is near-real-time) / 2 s.
  absl::Duration max_age = absl::Seconds(60);
  absl::Duration max_lead = absl::Seconds(2);
  // A Location time stamp further than this from the receive time is not
  // trusted: the position is placed at the receive time, with 1 s of
  // uncertainty (F3411 broadcasts positions at least once a second).
  // DEFAULT: 10 s.
  absl::Duration max_clock_error = absl::Seconds(10);
  broadcast::AssemblerOptions assembler;
};

class BroadcastFeed {
 public:
  // `core` and `clock` are not owned and must outlive the feed.
  BroadcastFeed(RemoteIdCore* core, const Clock* clock,
                BroadcastFeedOptions options);

  struct Result {
    v1::ReportReceptionsResponse response;
    // For tactical deconfliction: the aircraft heard that are not
    // participants already shown.
    std::vector<HeardState> heard;
  };
  // The frames `receiver` (the token's subject) heard.
  absl::StatusOr<Result> Report(const std::string& receiver,
                                const v1::ReportReceptionsRequest& request);

 private:
  // FAILED_PRECONDITION "position lies outside region CODE (deployment
  // boundary)" when the core has a region and a Location message among
  // `messages` has a position outside it; OK otherwise.
  absl::Status OutsideRegion(
      const std::vector<broadcast::Message>& messages) const;

  RemoteIdCore* const core_;
  const Clock* const clock_;
  const BroadcastFeedOptions options_;
  broadcast::Assembler assembler_;
};

// One assembled broadcast position as a display state (units and enums of
// remote_id.proto).
BroadcastFix ToBroadcastFix(const broadcast::AircraftReport& report);

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_BROADCAST_FEED_H_
