#include "services/remoteid/published_check.h"

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "geo/region.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/region.h"

namespace utm::remoteid {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

// Two valid flights of two states each.
v1::PublishFlightsRequest Valid() {
  v1::PublishFlightsRequest r;
  for (int i = 0; i < 2; ++i) {
    v1::PublishedFlight* f = r.add_flights();
    f->set_uas_id(i == 0 ? "UTMS800000001" : "UTMS800000002");
    f->set_uas_id_type(v1::UAS_ID_TYPE_SERIAL_NUMBER);
    for (int k = 0; k < 2; ++k) {
      v1::PublishedState* s = f->add_states();
      s->mutable_time()->set_seconds(absl::ToUnixSeconds(kNow) - 2 + k);
      s->mutable_position()->set_lat_deg(47.4);
      s->mutable_position()->set_lng_deg(8.5);
      s->mutable_altitude()->set_value_m(500);
      s->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      s->set_track_deg(90);
      s->set_speed_mps(3.5);
    }
  }
  return r;
}

TEST(CheckPublishFlights, AcceptsValidRequest) {
  EXPECT_TRUE(CheckPublishFlights(Valid(), kNow, PublishLimits()).ok());
}

// The field names are built only on an error, from the path down to the
// field: each case names one nested field and must see its whole path.
TEST(CheckPublishFlights, NamesTheWholePathOfTheBadField) {
  struct Case {
    std::function<void(v1::PublishFlightsRequest*)> spoil;
    std::string message;
  };
  const Case cases[] = {
      {[](auto* r) { r->mutable_flights(1)->set_uas_id("nope"); },
       "flights[1].uas_id: "},
      {[](auto* r) {
         r->mutable_flights(1)->set_uas_id(r->flights(0).uas_id());
       },
       "flights[1].uas_id: \"UTMS800000001\" appears twice"},
      {[](auto* r) {
         r->mutable_flights(0)->mutable_operator_location()->set_lng_deg(200);
       },
       "flights[0].operator_location.lng_deg: 200 is outside [-180, 180]"},
      {[](auto* r) {
         r->mutable_flights(1)->mutable_operator_altitude()->set_value_m(1);
       },
       "flights[1].operator_altitude.reference: must be W84"},
      {[](auto* r) { r->mutable_flights(0)->set_operator_id("a\tb"); },
       "flights[0].operator_id: "},
      {[](auto* r) { r->mutable_flights(1)->clear_states(); },
       "flights[1].states: at least one"},
      {[](auto* r) {
         r->mutable_flights(1)
             ->mutable_states(1)
             ->mutable_position()
             ->set_lat_deg(91);
       },
       "flights[1].states[1].position.lat_deg: 91 is outside [-90, 90]"},
      {[](auto* r) {
         r->mutable_flights(0)
             ->mutable_states(1)
             ->mutable_altitude()
             ->set_value_m(40000);
       },
       "flights[0].states[1].altitude.value_m: 40000 is outside"},
      {[](auto* r) {
         r->mutable_flights(0)->mutable_states(0)->set_track_deg(365);
       },
       "flights[0].states[0].track_deg: 365 is outside [0, 360)"},
      {[](auto* r) {
         r->mutable_flights(1)->mutable_states(0)->set_vertical_speed_mps(-100);
       },
       "flights[1].states[0].vertical_speed_mps: -100 is outside [-62, 62]"},
      {[](auto* r) {
         r->mutable_flights(1)->mutable_states(1)->mutable_time()->set_seconds(
             absl::ToUnixSeconds(kNow) - 10);
       },
       "flights[1].states[1].time: not after the previous state's"},
      {[](auto* r) {
         r->mutable_flights(0)->mutable_states(0)->mutable_time()->set_seconds(
             absl::ToUnixSeconds(kNow) - 61);
       },
       "flights[0].states[0].time: "},
      {[](auto* r) {
         r->mutable_flights(0)->mutable_states(1)->set_height_m(12);
       },
       "flights[0].states[1].height_reference: required with a height_m"},
  };
  for (const Case& c : cases) {
    v1::PublishFlightsRequest r = Valid();
    c.spoil(&r);
    const absl::Status s = CheckPublishFlights(r, kNow, PublishLimits());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
}

TEST(CheckPublishRegion, NamesTheFirstStateOutsideTheRegion) {
  absl::StatusOr<geo::Region> boundary = geo::Region::Create(
      {geo::Polygon{{{47.0, 8.2}, {47.0, 8.8}, {47.6, 8.8}, {47.6, 8.2}}}}, {},
      "test boundary");
  ASSERT_TRUE(boundary.ok()) << boundary.status();
  const region::RegionPolicy swiss("EU-CH", *std::move(boundary), false);
  v1::PublishFlightsRequest r = Valid();
  EXPECT_TRUE(CheckPublishRegion(r, swiss).ok());
  // Lng 9.0: east of the square. Both of flight 1's states; the first named.
  r.mutable_flights(1)->mutable_states(0)->mutable_position()->set_lng_deg(9.0);
  r.mutable_flights(1)->mutable_states(1)->mutable_position()->set_lng_deg(9.0);
  const absl::Status s = CheckPublishRegion(r, swiss);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(s.message()),
            "flights[1].states[0].position lies outside region EU-CH "
            "(deployment boundary)");
  // The operator's location is not the aircraft's: not checked.
  r = Valid();
  r.mutable_flights(0)->mutable_operator_location()->set_lat_deg(47.4);
  r.mutable_flights(0)->mutable_operator_location()->set_lng_deg(9.0);
  EXPECT_TRUE(CheckPublishRegion(r, swiss).ok());
}

}  // namespace
}  // namespace utm::remoteid
