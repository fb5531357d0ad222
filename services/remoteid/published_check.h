// The checks of PublishFlights requests (F3411-22a RIDAircraftState and
// RIDFlightDetails ranges, in the units of remote_id.proto), and the
// deployment's region (data residency, services/common/region.h). Pure.
#ifndef UTM_SERVICES_REMOTEID_PUBLISHED_CHECK_H_
#define UTM_SERVICES_REMOTEID_PUBLISHED_CHECK_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/common/region.h"
#include "utm/v1/remote_id.pb.h"

namespace utm::remoteid {

// F3411-22a ranges (its Table 1 and the RIDAircraftState fields).
inline constexpr double kMaxSpeedMps = 254.25;         // MaxSpeed
inline constexpr double kMaxAbsVerticalSpeedMps = 62;  // MaxAbsVerticalSpeed
inline constexpr double kMinAltitudeM = -1000;         // SpecialHeight / alt
inline constexpr double kMaxAltitudeM = 31767.5;       // uint16 · 0.5 − 1000
inline constexpr double kMaxTimeAccuracyS = 1.5;       // 0.1 s steps to 1.5 s
inline constexpr double kMaxHorizontalAccuracyM = 18520;  // HA10NMPlus bound
inline constexpr double kMaxVerticalAccuracyM = 150;      // VA150mPlus bound
inline constexpr double kMaxSpeedAccuracyMps = 10;        // SA10mpsPlus bound
inline constexpr int kMaxPublishedFlights = 100;
inline constexpr int kMaxPublishedStates = 100;
inline constexpr size_t kMaxOperatorIdBytes = 64;
inline constexpr size_t kMaxDescriptionBytes = 128;

struct PublishLimits {
  absl::Duration max_age = absl::Seconds(60);
  absl::Duration max_lead = absl::Seconds(2);
};

// OK, or INVALID_ARGUMENT naming the first bad field, e.g.
// "flights[0].states[0].track_deg: 365 is outside [0, 360)".
absl::Status CheckPublishFlights(const v1::PublishFlightsRequest& request,
                                 absl::Time now, const PublishLimits& limits);

// OK when every state's position lies inside `region`; otherwise
// FAILED_PRECONDITION naming the first that does not,
// "flights[1].states[0].position lies outside region EU-CH (deployment
// boundary)". Operator locations are not checked: residency follows the
// aircraft, and a remote pilot may stand across the border from it.
// REQUIRES: CheckPublishFlights(request, ...) is OK.
absl::Status CheckPublishRegion(const v1::PublishFlightsRequest& request,
                                const region::RegionPolicy& region);

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_PUBLISHED_CHECK_H_
