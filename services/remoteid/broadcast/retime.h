// Moving recorded broadcast frames in time, for replays: a capture's
// Location messages carry their own time stamps (tenths of a second since
// the UTC hour), which must move with the frame, or a replayed position
// would look an hour old or in the future.
#ifndef UTM_SERVICES_REMOTEID_BROADCAST_RETIME_H_
#define UTM_SERVICES_REMOTEID_BROADCAST_RETIME_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace utm::remoteid::broadcast {

// Rewrites the time stamp of every Location message in `payload` (one
// message or a pack, as DecodeMessages takes it) heard at `recorded` so
// that it keeps its offset from the receive time when heard at `replayed`.
// Unknown time stamps stay unknown; other messages and fields are
// untouched. INVALID_ARGUMENT as DecodeMessages for a payload it refuses.
absl::Status RetimeLocations(std::string* payload, absl::Time recorded,
                             absl::Time replayed);

}  // namespace utm::remoteid::broadcast

#endif  // UTM_SERVICES_REMOTEID_BROADCAST_RETIME_H_
