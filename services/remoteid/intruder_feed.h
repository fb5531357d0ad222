// Aircraft the Remote ID display hears but that fly no intent here
// (broadcast and published flights) as intruders for tactical
// deconfliction (telemetry_core.h, IngestIntruders).
#ifndef UTM_SERVICES_REMOTEID_INTRUDER_FEED_H_
#define UTM_SERVICES_REMOTEID_INTRUDER_FEED_H_

#include <vector>

#include "services/remoteid/remoteid_core.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::remoteid {

// One intruder report per state that has an altitude (without one, the
// vertical separation cannot be judged: such states are left out, and
// counted in `*without_altitude` when given). The velocity is the state's
// track and speed as East-North-Up; the accuracy its declared 95 % bounds
// (0 where unknown: the telemetry core then assumes its defaults).
std::vector<telemetry::IntruderReport> ToIntruderReports(
    const std::vector<HeardState>& states, int* without_altitude = nullptr);

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_INTRUDER_FEED_H_
