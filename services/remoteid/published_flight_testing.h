// Test helper: a flight as a Remote ID service provider publishes it
// (PublishFlights), with who flies it, which the display keeps for
// GetFlightDetails only and a public view must never show.
#ifndef UTM_SERVICES_REMOTEID_PUBLISHED_FLIGHT_TESTING_H_
#define UTM_SERVICES_REMOTEID_PUBLISHED_FLIGHT_TESTING_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "geo/latlng.h"
#include "utm/v1/remote_id.pb.h"

namespace utm::remoteid::test_util {

// The operator and pilot position every PublishedFlightAt carries.
inline constexpr char kPublishedOperatorId[] = "CHE-RP-f39mqfitkh9e5";
inline constexpr geo::LatLng kPublishedOperatorLocation{47.3708, 8.4879};

// A multirotor `uas_id` (a serial number), one airborne state at `t` over
// `p`: 496 m WGS84, 5 m/s on track 162.4°, accuracies 1 s and 3 m/s.
inline v1::PublishedFlight PublishedFlightAt(const std::string& uas_id,
                                             absl::Time t,
                                             const geo::LatLng& p) {
  v1::PublishedFlight f;
  f.set_uas_id(uas_id);
  f.set_uas_id_type(v1::UAS_ID_TYPE_SERIAL_NUMBER);
  f.set_ua_type(v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  f.set_operator_id(kPublishedOperatorId);
  f.mutable_operator_location()->set_lat_deg(
      kPublishedOperatorLocation.lat_deg);
  f.mutable_operator_location()->set_lng_deg(
      kPublishedOperatorLocation.lng_deg);
  v1::PublishedState* s = f.add_states();
  const int64_t seconds = absl::ToUnixSeconds(t);
  s->mutable_time()->set_seconds(seconds);
  s->mutable_time()->set_nanos(static_cast<int32_t>(
      (t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  s->set_status(v1::RID_OPERATIONAL_STATUS_AIRBORNE);
  s->mutable_position()->set_lat_deg(p.lat_deg);
  s->mutable_position()->set_lng_deg(p.lng_deg);
  s->mutable_altitude()->set_value_m(496);
  s->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  s->set_time_accuracy_s(1);
  s->set_track_deg(162.4);
  s->set_speed_mps(5);
  s->set_speed_accuracy_mps(3);
  return f;
}

}  // namespace utm::remoteid::test_util

#endif  // UTM_SERVICES_REMOTEID_PUBLISHED_FLIGHT_TESTING_H_
