// The tactical edge cases that would leave an aircraft unwarned: an aircraft
// above the speed limit, reports that are late or early on the server clock
// (alerts are predicted from their own instant), and an aircraft whose clock
// runs ahead of the server's.
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/detector.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

geo::LatLng East(double m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, m);
}

// Every "intent-<op>" is an activated intent of <op> covering 20 km around
// Zurich up to 5 km for hours; no constraints.
class OpenAirspace : public Airspace {
 public:
  std::shared_ptr<const IntentInfo> Intent(
      const std::string& id) const override {
    if (id.rfind("intent-", 0) != 0) return nullptr;
    auto info = std::make_shared<IntentInfo>();
    info->owner = id.substr(7);
    info->activated = true;
    geo::Volume4D v;
    v.volume.footprint = geo::Circle{geo::test_util::kZurich, 20000};
    v.volume.altitude = {0, 5000};
    v.time = {kT0 - absl::Hours(2), kT0 + absl::Hours(2)};
    info->volumes = {v};
    return info;
  }
  std::vector<std::string> BlockingConstraints(const std::string&,
                                               const geo::LatLng&, double,
                                               double, double,
                                               absl::Time) const override {
    return {};
  }
  void MarkNonconforming(const std::string&, const std::string&,
                         absl::Time) override {}
};

double Seconds(const google::protobuf::Duration& d) {
  return d.seconds() + d.nanos() * 1e-9;
}

class TelemetryEdgeTest : public ::testing::Test {
 protected:
  TelemetryEdgeTest() : clock_(kT0), core_(Options(), &clock_, &airspace_) {}

  static TelemetryOptions Options() {
    TelemetryOptions o;
    o.separation.horizontal_m = 50;
    o.separation.vertical_m = 15;
    o.separation.lookahead_s = 30;
    // Cells of 20 m: a search finds little beyond its reach, so a reach
    // too short shows.
    o.grid_cell_m = 20;
    return o;
  }

  // A report of `op`'s aircraft `id` at `east_m` east of Zurich at 500 m,
  // flying `ve` m/s east (and `vu` up), stamped `lead` after the server
  // clock (negative: late).
  v1::PositionReport Report(const std::string& op, const std::string& id,
                            double east_m, double ve, double vu = 0,
                            absl::Duration lead = absl::ZeroDuration()) {
    v1::PositionReport r;
    r.set_aircraft_id(id);
    r.set_intent_id(absl::StrCat("intent-", op));
    *r.mutable_time() = TimeToProto(clock_.Now() + lead);
    const geo::LatLng p = East(east_m);
    r.mutable_position()->set_lat_deg(p.lat_deg);
    r.mutable_position()->set_lng_deg(p.lng_deg);
    r.mutable_altitude()->set_value_m(500);
    r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r.mutable_velocity()->set_east_mps(ve);
    r.mutable_velocity()->set_up_mps(vu);
    r.mutable_accuracy()->set_horizontal_m(3);
    r.mutable_accuracy()->set_vertical_m(3);
    return r;
  }

  TelemetryCore::Result Ingest(const std::string& op, v1::PositionReport r) {
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    *batch.Add() = std::move(r);
    return core_.Ingest(op, batch);
  }

  std::vector<AlertChange> Send(const std::string& op, v1::PositionReport r) {
    TelemetryCore::Result result = Ingest(op, std::move(r));
    EXPECT_THAT(result.errors, IsEmpty());
    return result.alerts;
  }

  // The conflict changes only, as "KIND:STATE".
  static std::vector<std::string> Conflicts(const std::vector<AlertChange>& c) {
    std::vector<std::string> out;
    for (const AlertChange& a : c) {
      if (a.alert.aircraft_ids_size() != 2) continue;
      out.push_back(
          absl::StrCat(v1::AlertKind_Name(a.alert.kind()).substr(11), ":",
                       v1::AlertState_Name(a.alert.state()).substr(12)));
    }
    return out;
  }
  static const AlertChange* Find(const std::vector<AlertChange>& c,
                                 v1::AlertKind kind) {
    for (const AlertChange& a : c) {
      if (a.alert.kind() == kind) return &a;
    }
    return nullptr;
  }
  // Seconds from the server clock to the alert's closest approach.
  double CpaFromNow(const v1::Alert& a) const {
    return absl::ToDoubleSeconds(
        absl::FromUnixSeconds(a.time_of_closest_approach().seconds()) +
        absl::Nanoseconds(a.time_of_closest_approach().nanos()) - clock_.Now());
  }

  SimulatedClock clock_;
  OpenAirspace airspace_;
  TelemetryCore core_;
};

// A 60 m/s aircraft head-on with a 10 m/s drone 2 km away: closing at
// 70 m/s, they lose 50 m in (2000 − 50) / 70 = 27.86 s, within the look-ahead.
// The drone's own search reaches 0.7 km only; the fast one is found all the
// same, whichever reports first, and both operators are alerted.
TEST_F(TelemetryEdgeTest, FastAircraftHeadOnAlertsBothWhoeverReportsFirst) {
  for (const bool fast_first : {true, false}) {
    SCOPED_TRACE(fast_first ? "fast first" : "slow first");
    const std::string tag = fast_first ? "1" : "2";
    // The second round 10 km further east, beyond every reach.
    const double east_m = fast_first ? 0 : 10000;
    const v1::PositionReport fast =
        Report("op-f", "F" + tag, east_m + 2000, -60);
    const v1::PositionReport slow = Report("op-s", "S" + tag, east_m, 10);
    std::vector<AlertChange> c;
    if (fast_first) {
      EXPECT_THAT(Conflicts(Send("op-f", fast)), IsEmpty());
      c = Send("op-s", slow);
    } else {
      EXPECT_THAT(Conflicts(Send("op-s", slow)), IsEmpty());
      c = Send("op-f", fast);
    }
    ASSERT_THAT(Conflicts(c), ElementsAre("CONFLICT_PREDICTED:RAISED"));
    const AlertChange* change = Find(c, v1::ALERT_KIND_CONFLICT_PREDICTED);
    ASSERT_NE(change, nullptr);
    const v1::Alert* a = &change->alert;
    EXPECT_THAT(change->operators,
                ::testing::UnorderedElementsAre("op-f", "op-s"));
    EXPECT_NEAR(Seconds(a->time_to_loss_of_separation()), 1950.0 / 70, 0.01);
    EXPECT_NEAR(CpaFromNow(*a), 2000.0 / 70, 0.01);
    // Velocities are due east; 10 km out the geodesic through both has
    // turned by a tenth of a degree, so they pass a few metres apart.
    EXPECT_NEAR(a->horizontal_distance_at_cpa_m(), 0, 5);
  }

  // A second later the drone reports again: the fast aircraft, though far
  // beyond its grid search, is still evaluated, so the alert stays open.
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Conflicts(Send("op-s", Report("op-s", "S1", 10, 10))), IsEmpty());
  // At +5 s the figures are re-sent from the fast aircraft's extrapolated
  // state: 2000 − 5·70 = 1650 m apart, loss in 1600 / 70 s.
  clock_.Advance(absl::Seconds(4));
  const std::vector<AlertChange> c = Send("op-s", Report("op-s", "S1", 50, 10));
  ASSERT_THAT(Conflicts(c), ElementsAre("CONFLICT_PREDICTED:UPDATED"));
  EXPECT_NEAR(Seconds(c[0].alert.time_to_loss_of_separation()), 1600.0 / 70,
              0.01);
  EXPECT_EQ(core_.track_count(), 4u);
}

// Above the limit: tracked and flagged to its operator, cleared when back
// within it; horizontal or vertical.
TEST_F(TelemetryEdgeTest, SpeedAboveTheLimitIsFlaggedToItsOperator) {
  std::vector<AlertChange> c = Send("op-f", Report("op-f", "F", 0, 60));
  ASSERT_THAT(c, SizeIs(1));
  EXPECT_EQ(c[0].alert.kind(), v1::ALERT_KIND_SPEED_ABOVE_LIMIT);
  EXPECT_EQ(c[0].alert.state(), v1::ALERT_STATE_RAISED);
  EXPECT_THAT(c[0].operators, ElementsAre("op-f"));
  EXPECT_THAT(c[0].alert.aircraft_ids(), ElementsAre("F"));
  EXPECT_THAT(c[0].alert.message(),
              ::testing::HasSubstr("60.0 m/s horizontally"));
  EXPECT_THAT(c[0].alert.message(), ::testing::HasSubstr("50 m/s limit"));
  const std::string id = c[0].alert.id();
  // Still fast: nothing new within the update interval.
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Send("op-f", Report("op-f", "F", 60, 60)), IsEmpty());
  // Back within the limit: cleared.
  clock_.Advance(absl::Seconds(1));
  c = Send("op-f", Report("op-f", "F", 120, 50));
  ASSERT_THAT(c, SizeIs(1));
  EXPECT_EQ(c[0].alert.kind(), v1::ALERT_KIND_SPEED_ABOVE_LIMIT);
  EXPECT_EQ(c[0].alert.state(), v1::ALERT_STATE_CLEARED);
  EXPECT_EQ(c[0].alert.id(), id);
  // Diving at 55 m/s is above the limit too.
  clock_.Advance(absl::Seconds(1));
  c = Send("op-f", Report("op-f", "F", 170, 0, -55));
  ASSERT_THAT(c, SizeIs(1));
  EXPECT_EQ(c[0].alert.kind(), v1::ALERT_KIND_SPEED_ABOVE_LIMIT);
  EXPECT_EQ(c[0].alert.state(), v1::ALERT_STATE_RAISED);
  EXPECT_THAT(c[0].alert.message(), ::testing::HasSubstr("-55.0 m/s vert"));
  // Within the limit, nobody is flagged.
  EXPECT_THAT(Send("op-s", Report("op-s", "S", 3000, 50, 50)), IsEmpty());
}

// Only what no aircraft near drones does is refused, each with its field.
TEST_F(TelemetryEdgeTest, ImplausibleVelocitiesAreRefusedPrecisely) {
  struct Case {
    double north, east, up;
    std::string error;  // empty: accepted
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<Case> cases = {
      {200, 200, 0,
       "reports[0].velocity: horizontal speed 282.8 m/s is above 250 m/s, "
       "faster than any aircraft near drones flies"},
      {0, -250.5, 0, "reports[0].velocity: horizontal speed 250.5 m/s is "},
      {0, 0, 300, "reports[0].velocity.up_mps: vertical speed 300.0 m/s is "},
      {0, 0, -251, "reports[0].velocity.up_mps: vertical speed 251.0 m/s is "},
      {nan, 0, 0, "reports[0].velocity.north_mps: not finite"},
      {0, std::numeric_limits<double>::infinity(), 0,
       "reports[0].velocity.east_mps: not finite"},
      {0, 0, -std::numeric_limits<double>::infinity(),
       "reports[0].velocity.up_mps: not finite"},
      {0, 250, 0, ""},
      {150, -200, -250, ""},
  };
  int accepted = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    SCOPED_TRACE(i);
    v1::PositionReport r = Report("op-a", absl::StrCat("A", i), 100.0 * i, 0);
    r.mutable_velocity()->set_north_mps(k.north);
    r.mutable_velocity()->set_east_mps(k.east);
    r.mutable_velocity()->set_up_mps(k.up);
    const TelemetryCore::Result result = Ingest("op-a", r);
    if (k.error.empty()) {
      EXPECT_THAT(result.errors, IsEmpty());
      ++accepted;
    } else {
      ASSERT_THAT(result.errors, SizeIs(1));
      EXPECT_THAT(result.errors[0].message(), ::testing::StartsWith(k.error));
    }
    EXPECT_EQ(core_.track_count(), static_cast<size_t>(accepted));
  }
}

// Both reports of a head-on pair closing at 20 m/s arrive 5 s (or 9 s)
// after their fix: the alert speaks from its own instant.
TEST_F(TelemetryEdgeTest, LateReportsArePredictedFromTheAlertsInstant) {
  struct Case {
    std::string name;
    absl::Duration lead;  // of both reports' time over the server clock
    double gap_m;         // between them at their time
    std::string kind;     // "" : no conflict
    double ttl_s, cpa_s;  // from now
  };
  const std::vector<Case> cases = {
      // Loss 8 s after the fix, 3 s from now.
      {"late, loss ahead", absl::Seconds(-5), 210, "CONFLICT_IMMINENT", 3, 5.5},
      // Loss 3 s after the fix: lost 2 s ago (not "imminent in 3 s").
      {"late, already lost", absl::Seconds(-5), 110, "SEPARATION_LOST", 0, 0.5},
      // Lost from 1 s to 6 s after the fix: over 3 s ago, they diverge.
      {"late, loss over", absl::Seconds(-9), 70, "", 0, 0},
      // 8 s late and 790 m apart at their time, beyond the 717 m a timely
      // report searches (the fixture's small cells keep the search that
      // tight): 630 m now, loss in 29 s. Only a reach grown by the age
      // finds them.
      {"late, far", absl::Seconds(-8), 790, "CONFLICT_PREDICTED", 29, 31.5},
      // Stamped 1.5 s ahead: 30 m farther apart now than at their time;
      // loss in (130 + 30 − 50) / 20 = 5.5 s.
      {"early", absl::Seconds(1.5), 130, "CONFLICT_IMMINENT", 5.5, 8},
      // Timely, for reference: loss in (300 − 50) / 20 = 12.5 s.
      {"timely", absl::ZeroDuration(), 300, "CONFLICT_PREDICTED", 12.5, 15},
  };
  double east_m = 0;
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    east_m += 3000;  // each pair beyond the others' reach
    const std::string a = "A" + k.name, b = "B" + k.name;
    EXPECT_THAT(Conflicts(Send("op-b", Report("op-b", b, east_m + k.gap_m, -10,
                                              0, k.lead))),
                IsEmpty());
    const std::vector<AlertChange> c =
        Send("op-a", Report("op-a", a, east_m, 10, 0, k.lead));
    if (k.kind.empty()) {
      EXPECT_THAT(Conflicts(c), IsEmpty());
      continue;
    }
    ASSERT_THAT(Conflicts(c), ElementsAre(k.kind + ":RAISED"));
    const v1::Alert& alert = c.back().alert;  // the only change
    EXPECT_NEAR(Seconds(alert.time_to_loss_of_separation()), k.ttl_s, 0.01);
    EXPECT_NEAR(CpaFromNow(alert), k.cpa_s, 0.01);
    EXPECT_EQ(alert.update_time().seconds(), absl::ToUnixSeconds(kT0));
  }
}

// One aircraft's report is 5 s late, the other's timely: each is brought to
// now. A is at 0 + 5·10 = 50 m now, B at 320 m: loss in (270 − 50) / 20 s.
TEST_F(TelemetryEdgeTest, OneLateOneTimelyReport) {
  EXPECT_THAT(Conflicts(Send("op-b", Report("op-b", "B", 320, -10))),
              IsEmpty());
  const std::vector<AlertChange> c =
      Send("op-a", Report("op-a", "A", 0, 10, 0, absl::Seconds(-5)));
  ASSERT_THAT(Conflicts(c), ElementsAre("CONFLICT_PREDICTED:RAISED"));
  EXPECT_NEAR(Seconds(c[0].alert.time_to_loss_of_separation()), 11, 0.01);
  EXPECT_NEAR(CpaFromNow(c[0].alert), 13.5, 0.01);
}

// An aircraft whose clock runs 1.9 s ahead of the server's does not lock
// out its correctly stamped reports that follow; a report older than the
// latest in arrival order is still refused.
TEST_F(TelemetryEdgeTest, ClockSkewDoesNotLockAnAircraftOut) {
  // B hovers 1 km east.
  Send("op-b", Report("op-b", "B", 1000, 0));
  // A's report stamped 1.9 s ahead, 5 km away.
  EXPECT_THAT(Conflicts(Send(
                  "op-a", Report("op-a", "A", 5000, 0, 0, absl::Seconds(1.9)))),
              IsEmpty());
  // Half a second later, a correctly stamped report 40 m from B: tracked at
  // once (the separation loss is raised), though its time is before the
  // skewed one's.
  clock_.Advance(absl::Seconds(0.5));
  EXPECT_THAT(Conflicts(Send("op-a", Report("op-a", "A", 960, 0))),
              ElementsAre("SEPARATION_LOST:RAISED"));
  // And so is the next one, which moves it away.
  clock_.Advance(absl::Seconds(0.5));
  EXPECT_THAT(Conflicts(Send("op-a", Report("op-a", "A", 3000, 0))),
              ElementsAre("SEPARATION_LOST:CLEARED"));
  // A report from before the latest is still out of order.
  const TelemetryCore::Result late =
      Ingest("op-a", Report("op-a", "A", 960, 0, 0, absl::Seconds(-0.2)));
  ASSERT_THAT(late.errors, SizeIs(1));
  EXPECT_EQ(late.errors[0].message(),
            "reports[0].time: older than this aircraft's previous report");
  // A clock consistently ahead: every report is taken, in arrival order.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Seconds(1));
    EXPECT_THAT(Ingest("op-c", Report("op-c", "C", 4000, 0, 0,
                                      absl::Seconds(1.9 - 0.1 * i)))
                    .errors,
                IsEmpty())
        << i;
  }
  // Beyond the lead allowance a stamp is still refused.
  const TelemetryCore::Result future =
      Ingest("op-c", Report("op-c", "C", 4000, 0, 0, absl::Seconds(2.5)));
  ASSERT_THAT(future.errors, SizeIs(1));
  EXPECT_EQ(future.errors[0].message(), "reports[0].time: in the future");
}

// The search stays exact with fast movers and with late or early reports:
// after each round the open conflict alerts equal an all-pairs evaluation,
// with the reference geodetic conversion, of the true states at the server's
// instant. Each round the reports are stamped at a common age ± 1 s (within
// the report gap of each other): late, timely or early; their positions
// are where each aircraft was (or will be) along its geodesic at its stamp.
TEST(TelemetryEdgeRandomTest, FastMoversAndReportAgesKeepTheSearchExact) {
  const uint64_t seed = 20261206;
  std::mt19937_64 rng(seed);
  SimulatedClock clock(kT0);
  OpenAirspace airspace;
  TelemetryOptions options;
  options.max_speed_mps = 30;  // the fast ones are fast movers
  TelemetryCore core(options, &clock, &airspace);
  struct Aircraft {
    std::string id;
    GeodeticState s;  // at the server's instant
    double speed = 0, course_deg = 0;
  };
  auto draw_velocity = [&](Aircraft* a) {
    // Mostly drones at up to 12 m/s; one in 15 flies 35 to 120 m/s.
    a->speed = geo::test_util::Uniform(rng, 0, 1) < 1.0 / 15
                   ? geo::test_util::Uniform(rng, 35, 120)
                   : geo::test_util::Uniform(rng, 0, 12);
    a->course_deg = geo::test_util::Uniform(rng, 0, 360);
    a->s.east_mps = a->speed * std::sin(a->course_deg * M_PI / 180);
    a->s.north_mps = a->speed * std::cos(a->course_deg * M_PI / 180);
    a->s.up_mps = geo::test_util::Uniform(rng, -3, 3);
  };
  std::vector<Aircraft> fleet;
  for (int i = 0; i < 300; ++i) {
    Aircraft a;
    a.id = absl::StrCat("ac", i);
    a.s.position = geo::GeodesicDestination(
        geo::test_util::kZurich, geo::test_util::Uniform(rng, 0, 360),
        geo::test_util::Uniform(rng, 0, 4000));
    a.s.altitude_m = geo::test_util::Uniform(rng, 400, 600);
    draw_velocity(&a);
    fleet.push_back(a);
  }
  constexpr double kStepS = 4;
  // Rising by less than the step minus the spread, so stamps keep order.
  const double base_age_s[] = {0, 1.5, 3, 4.5, 6, -0.5};
  int total_conflicts = 0, fast_conflicts = 0;
  for (int round = 0; round < 6; ++round) {
    const absl::Time now = kT0 + absl::Seconds(kStepS * round);
    clock.Set(now);
    if (round > 0) {
      for (Aircraft& a : fleet) {
        const double d = a.speed * kStepS;
        const geo::LatLng to =
            geo::GeodesicDestination(a.s.position, a.course_deg, d);
        // The course at the new position, along the same geodesic.
        if (d > 0.01)
          a.course_deg = geo::GeodesicAzimuth(to, a.s.position) + 180;
        a.s.position = to;
        a.s.altitude_m += a.s.up_mps * kStepS;
        a.s.east_mps = a.speed * std::sin(a.course_deg * M_PI / 180);
        a.s.north_mps = a.speed * std::cos(a.course_deg * M_PI / 180);
        if (geo::test_util::Uniform(rng, 0, 1) < 0.3) draw_velocity(&a);
      }
    }
    for (const Aircraft& a : fleet) {
      const double age_s =
          base_age_s[round] + geo::test_util::Uniform(rng, -1, 1);
      // Where it was at its stamp: back along its geodesic (ahead for an
      // early stamp), with the course it had there.
      const double back_m = a.speed * age_s;
      const geo::LatLng at =
          back_m > 0.01 ? geo::GeodesicDestination(a.s.position,
                                                   a.course_deg + 180, back_m)
          : back_m < -0.01
              ? geo::GeodesicDestination(a.s.position, a.course_deg, -back_m)
              : a.s.position;
      const double course =
          back_m > 0.01    ? geo::GeodesicAzimuth(at, a.s.position)
          : back_m < -0.01 ? geo::GeodesicAzimuth(at, a.s.position) + 180
                           : a.course_deg;
      google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
      v1::PositionReport* r = batch.Add();
      r->set_aircraft_id(a.id);
      r->set_intent_id("intent-op");
      *r->mutable_time() = TimeToProto(now - absl::Seconds(age_s));
      r->mutable_position()->set_lat_deg(at.lat_deg);
      r->mutable_position()->set_lng_deg(at.lng_deg);
      r->mutable_altitude()->set_value_m(a.s.altitude_m - a.s.up_mps * age_s);
      r->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      r->mutable_velocity()->set_east_mps(a.speed *
                                          std::sin(course * M_PI / 180));
      r->mutable_velocity()->set_north_mps(a.speed *
                                           std::cos(course * M_PI / 180));
      r->mutable_velocity()->set_up_mps(a.s.up_mps);
      TelemetryCore::Result result = core.Ingest("op", batch);
      ASSERT_THAT(result.errors, IsEmpty()) << "seed " << seed;
    }
    std::set<std::pair<std::string, std::string>> got;
    for (const AlertChange& c : core.OpenAlerts()) {
      if (c.alert.aircraft_ids_size() != 2) continue;
      got.insert({c.alert.aircraft_ids(0), c.alert.aircraft_ids(1)});
    }
    std::set<std::pair<std::string, std::string>> want;
    int near_boundary = 0;
    for (size_t i = 0; i < fleet.size(); ++i) {
      for (size_t j = i + 1; j < fleet.size(); ++j) {
        const Detection d = Detect(RelativeLocalState(fleet[i].s, fleet[j].s),
                                   options.separation);
        if (!d.conflict) continue;
        want.insert(fleet[i].id < fleet[j].id
                        ? std::make_pair(fleet[i].id, fleet[j].id)
                        : std::make_pair(fleet[j].id, fleet[i].id));
        if (d.time_out_s - d.time_in_s < 1e-2) ++near_boundary;
        if (fleet[i].speed > 30 || fleet[j].speed > 30) ++fast_conflicts;
      }
    }
    total_conflicts += want.size();
    EXPECT_EQ(got, want) << "seed " << seed << ", round " << round << ", "
                         << near_boundary
                         << " pairs within 10 ms of a boundary";
  }
  EXPECT_GT(total_conflicts, 30) << "seed " << seed;
  EXPECT_GT(fast_conflicts, 5) << "seed " << seed;
}

}  // namespace
}  // namespace utm::telemetry
