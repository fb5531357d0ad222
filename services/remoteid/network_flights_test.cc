// The network Remote ID test flights published with the InterUSS test
// suite: the valid ones are read whole and accepted by the server's checks;
// each invalid one is refused, by the reader or by the server's checks,
// naming the field it breaks.
#include "services/remoteid/network_flights.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/remoteid/published_check.h"

namespace utm::remoteid {
namespace {

using ::testing::HasSubstr;

std::string Dir() { return UTM_SHARED_DATA_DIR "/remoteid/network/"; }

std::optional<std::string> Read(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Replays the whole file so that its last state is `now`, as one request.
absl::Status ReplayCheck(const NetworkTestFlights& f, absl::Time now) {
  const absl::Duration shift = now - f.end_time();
  const v1::PublishFlightsRequest r =
      f.StatesBetween(absl::InfinitePast(), absl::InfiniteFuture(), shift);
  PublishLimits limits;
  limits.max_age = absl::Hours(1);  // the whole recording at once
  return CheckPublishFlights(r, now, limits);
}

TEST(NetworkTestFlights, ReadsTheZurichFlights) {
  const std::optional<std::string> text =
      Read(Dir() + "zurich-two-flights.json");
  if (!text) GTEST_SKIP() << "sample data not found in " << Dir();
  const absl::StatusOr<NetworkTestFlights> f = ParseNetworkTestFlights(*text);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->flights.size(), 2u);
  const v1::PublishedFlight& a = f->flights[0].flight;
  EXPECT_EQ(a.uas_id(), "1AKGAAN8G70R7JS");
  EXPECT_EQ(a.uas_id_type(), v1::UAS_ID_TYPE_SERIAL_NUMBER);
  EXPECT_EQ(a.ua_type(), v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  EXPECT_EQ(a.operator_id(), "CHE-RP-f39mqfitkh9e5");
  EXPECT_DOUBLE_EQ(a.operator_location().lat_deg(), 47.37085983569079);
  EXPECT_DOUBLE_EQ(a.operator_location().lng_deg(), 8.487908591798265);
  EXPECT_EQ(a.description(), "U-turn south of takeoff");
  ASSERT_EQ(f->flights[0].states.size(), 17u);
  const v1::PublishedState& s0 = f->flights[0].states[0];
  EXPECT_DOUBLE_EQ(s0.position().lat_deg(), 47.37063724619898);
  EXPECT_DOUBLE_EQ(s0.position().lng_deg(), 8.488106090860573);
  EXPECT_DOUBLE_EQ(s0.altitude().value_m(), 496.0);
  EXPECT_DOUBLE_EQ(s0.track_deg(), 162.3752362098515);
  EXPECT_DOUBLE_EQ(s0.speed_mps(), 5.0);
  EXPECT_DOUBLE_EQ(s0.speed_accuracy_mps(), 3.0);  // SA3mps
  EXPECT_EQ(s0.horizontal_accuracy_m(), 0);        // HAUnknown
  EXPECT_EQ(s0.height_reference(), v1::HEIGHT_REFERENCE_TAKEOFF);
  EXPECT_EQ(s0.status(), v1::RID_OPERATIONAL_STATUS_AIRBORNE);
  EXPECT_EQ(f->flights[1].flight.uas_id(), "ULYK563L5G");
  EXPECT_EQ(f->flights[1].states.size(), 13u);
  EXPECT_EQ(f->reference_time, absl::FromUnixSeconds(1640995200));
  EXPECT_TRUE(ReplayCheck(*f, absl::Now()).ok())
      << ReplayCheck(*f, absl::Now());
}

TEST(NetworkTestFlights, StatesBetweenShiftsAWindow) {
  const std::optional<std::string> text =
      Read(Dir() + "zurich-two-flights.json");
  if (!text) GTEST_SKIP() << "sample data not found in " << Dir();
  const absl::StatusOr<NetworkTestFlights> f = ParseNetworkTestFlights(*text);
  ASSERT_TRUE(f.ok()) << f.status();
  const absl::Time start = absl::FromUnixSeconds(2000000000);
  const absl::Duration shift = start - f->reference_time;
  // Recorded states at 00:00:01..00:00:03 (both flights have them).
  const v1::PublishFlightsRequest r = f->StatesBetween(
      f->reference_time, f->reference_time + absl::Seconds(3), shift);
  ASSERT_EQ(r.flights_size(), 2);
  ASSERT_EQ(r.flights(0).states_size(), 3);
  EXPECT_EQ(r.flights(0).states(0).time().seconds(), 2000000001);
  EXPECT_EQ(r.flights(0).states(2).time().seconds(), 2000000003);
  EXPECT_EQ(r.flights(0).uas_id(), "1AKGAAN8G70R7JS");
}

// Each invalid file, and the field it must be refused for.
TEST(NetworkTestFlights, EveryInvalidFileIsRefusedNamingItsField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"invalid_no_accuracy_h",
       "flights[0].states[0].position.accuracy_h: required"},
      {"invalid_no_accuracy_v",
       "flights[0].states[0].position.accuracy_v: required"},
      {"invalid_no_alt", "flights[0].states[0].position.alt: required"},
      {"invalid_no_height",
       "flights[0].states[0].position.height.distance: required"},
      {"invalid_no_height_type",
       "flights[0].states[0].position.height.reference: required"},
      {"invalid_no_speed", "flights[0].states[0].speed: required"},
      {"invalid_no_speed_accuracy",
       "flights[0].states[0].speed_accuracy: required"},
      {"invalid_no_timestamp", "flights[0].states[0].timestamp: required"},
      {"invalid_no_timestamp_accuracy",
       "flights[0].states[0].timestamp_accuracy: required"},
      {"invalid_no_track", "flights[0].states[0].track: required"},
      {"invalid_no_uas_id", "flights[0].flight_details: no UAS id"},
      {"invalid_no_vertical_speed",
       "flights[0].states[0].vertical_speed: required"},
      {"invalid_wrong_accuracy_h",
       "flights[0].states[0].position.accuracy_h: \"WRONG\" is not one of"},
      {"invalid_wrong_accuracy_v",
       "flights[0].states[0].position.accuracy_v: \"WRONG\" is not one of"},
      {"invalid_wrong_height_type",
       "flights[0].states[0].height.reference: \"WRONG\" is not one of"},
      {"invalid_wrong_operational_status",
       "flights[0].states[0].operational_status: \"WRONG\" is not one of"},
      {"invalid_wrong_registration_id",
       "flights[0].uas_id: \"WRONG\" is not a CAA registration id"},
      {"invalid_wrong_serial_number",
       "flights[0].uas_id: \"WRONG\" is not an ANSI/CTA-2063-A serial number"},
      {"invalid_wrong_speed",
       "flights[0].states[0].speed_mps: -5 is outside [0, 254.25]"},
      {"invalid_wrong_speed_accuracy",
       "flights[0].states[0].speed_accuracy: \"WRONG\" is not one of"},
      {"invalid_wrong_timestamp",
       "flights[0].states[0].timestamp: \"42\" is not an RFC 3339 time"},
      {"invalid_wrong_timestamp_accuracy",
       "flights[0].states[0].time_accuracy_s: -42 is outside [0, 1.5]"},
      {"invalid_wrong_track",
       "flights[0].states[0].track_deg: 365 is outside [0, 360)"},
      {"invalid_wrong_ua_type",
       "flights[0].aircraft_type: \"WRONG\" is not one of"},
      {"invalid_wrong_utm_id", "flights[0].uas_id: \"!\" is not a UTM id"},
      {"invalid_wrong_vertical_speed",
       "flights[0].states[0].vertical_speed_mps: 1e+33 is outside [-62, 62]"},
  };
  int seen = 0;
  for (const auto& [name, expected] : cases) {
    const std::optional<std::string> text =
        Read(Dir() + "invalid/" + name + ".json");
    if (!text) continue;
    ++seen;
    const absl::StatusOr<NetworkTestFlights> f = ParseNetworkTestFlights(*text);
    const absl::Status status =
        f.ok() ? ReplayCheck(*f, absl::Now()) : f.status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(status.message(), HasSubstr(expected)) << name;
  }
  if (seen == 0) GTEST_SKIP() << "sample data not found in " << Dir();
  EXPECT_EQ(seen, 26);
}

TEST(NetworkTestFlights, RefusesWhatIsNotAFlightsFile) {
  EXPECT_THAT(ParseNetworkTestFlights("{").status().message(),
              HasSubstr("not JSON"));
  EXPECT_THAT(ParseNetworkTestFlights("{}").status().message(),
              HasSubstr("(file).flights: required"));
  EXPECT_THAT(ParseNetworkTestFlights("{\"flights\": [{}]}").status().message(),
              HasSubstr("flights[0].reference_time: required"));
  EXPECT_THAT(ParseNetworkTestFlights("{\"flights\": 3}").status().message(),
              HasSubstr("flights: not a non-empty array"));
}

}  // namespace
}  // namespace utm::remoteid
