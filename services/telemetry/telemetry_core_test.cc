#include "services/telemetry/telemetry_core.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/live_airspace.h"

namespace utm::telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

geo::LatLng East(double m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, m);
}

class FakeAirspace : public Airspace {
 public:
  std::shared_ptr<const IntentInfo> Intent(
      const std::string& id) const override {
    auto it = intents.find(id);
    if (it == intents.end()) return nullptr;
    return std::make_shared<IntentInfo>(it->second);
  }
  std::vector<std::string> BlockingConstraints(const std::string& operator_id,
                                               const geo::LatLng& position,
                                               double, double, double,
                                               absl::Time) const override {
    // A "TFR" east of 5 km, for everyone but the rescue operator.
    if (operator_id != "rescue" &&
        geo::GeodesicDistance(geo::test_util::kZurich, position) > 5000) {
      return {"tfr-1"};
    }
    return {};
  }
  void MarkNonconforming(const std::string& operator_id,
                         const std::string& intent_id, absl::Time) override {
    marked.push_back(absl::StrCat(operator_id, ":", intent_id));
  }

  std::map<std::string, IntentInfo> intents;
  std::vector<std::string> marked;
};

class TelemetryCoreTest : public ::testing::Test {
 protected:
  TelemetryCoreTest() : clock_(kT0), core_(Options(), &clock_, &airspace_) {
    // Every operator's intent covers 0..3 km east, 0..1000 m, for an hour.
    for (const std::string op : {"op-a", "op-b", "rescue"}) {
      IntentInfo info;
      info.owner = op;
      info.activated = true;
      geo::Volume4D v;
      v.volume.footprint = geo::Circle{East(1500), 1600};
      v.volume.altitude = {0, 1000};
      v.time = {kT0 - absl::Hours(1), kT0 + absl::Hours(1)};
      info.volumes = {v};
      airspace_.intents[absl::StrCat("intent-", op)] = info;
    }
  }

  static TelemetryOptions Options() {
    TelemetryOptions o;
    o.separation.horizontal_m = 50;
    o.separation.vertical_m = 15;
    o.separation.lookahead_s = 30;
    return o;
  }

  // One report: `east_m` along the east axis, velocity east `ve`.
  v1::PositionReport Report(const std::string& op, const std::string& id,
                            double east_m, double ve, double alt = 500,
                            double vn = 0) {
    v1::PositionReport r;
    r.set_aircraft_id(id);
    r.set_intent_id(absl::StrCat("intent-", op));
    *r.mutable_time() = TimeToProto(clock_.Now());
    const geo::LatLng p = East(east_m);
    r.mutable_position()->set_lat_deg(p.lat_deg);
    r.mutable_position()->set_lng_deg(p.lng_deg);
    r.mutable_altitude()->set_value_m(alt);
    r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r.mutable_velocity()->set_east_mps(ve);
    r.mutable_velocity()->set_north_mps(vn);
    r.mutable_accuracy()->set_horizontal_m(3);
    r.mutable_accuracy()->set_vertical_m(3);
    return r;
  }

  std::vector<AlertChange> Send(const std::string& op,
                                std::vector<v1::PositionReport> reports) {
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    for (auto& r : reports) *batch.Add() = std::move(r);
    TelemetryCore::Result result = core_.Ingest(op, batch);
    EXPECT_THAT(result.errors, IsEmpty());
    return result.alerts;
  }

  // "KIND:STATE" of each change.
  static std::vector<std::string> Kinds(const std::vector<AlertChange>& c) {
    std::vector<std::string> out;
    for (const AlertChange& a : c) {
      out.push_back(
          absl::StrCat(v1::AlertKind_Name(a.alert.kind()).substr(11), ":",
                       v1::AlertState_Name(a.alert.state()).substr(12)));
    }
    return out;
  }

  SimulatedClock clock_;
  FakeAirspace airspace_;
  TelemetryCore core_;
};

TEST_F(TelemetryCoreTest, HeadOnEncounterIsPredictedToBothAndClearedAfter) {
  // A at 1000 m going east at 10 m/s, B at 1800 m going west at 10 m/s:
  // 800 m apart closing at 20 m/s; separation (50 m) lost after
  // (800 - 50) / 20 = 37.5 s — beyond the 30 s look-ahead at first.
  EXPECT_THAT(Send("op-a", {Report("op-a", "A", 1000, 10)}), IsEmpty());
  EXPECT_THAT(Send("op-b", {Report("op-b", "B", 1800, -10)}), IsEmpty());
  // 10 s later A reports: B's 10 s old state, extrapolated, is 600 m away;
  // loss in (600 - 50) / 20 = 27.5 s.
  clock_.Advance(absl::Seconds(10));
  std::vector<AlertChange> c = Send("op-a", {Report("op-a", "A", 1100, 10)});
  ASSERT_THAT(Kinds(c), ElementsAre("CONFLICT_PREDICTED:RAISED"));
  const v1::Alert a = c[0].alert;  // a copy: `c` is reused below
  EXPECT_THAT(c[0].operators, ElementsAre("op-a", "op-b"));
  EXPECT_THAT(a.aircraft_ids(), ElementsAre("A", "B"));
  EXPECT_THAT(a.intent_ids(), ElementsAre("intent-op-a", "intent-op-b"));
  EXPECT_NEAR(absl::ToDoubleSeconds(
                  absl::Seconds(a.time_to_loss_of_separation().seconds()) +
                  absl::Nanoseconds(a.time_to_loss_of_separation().nanos())),
              27.5, 0.05);
  EXPECT_NEAR(a.horizontal_distance_at_cpa_m(), 0, 0.5);
  EXPECT_NEAR(a.vertical_distance_at_cpa_m(), 0, 0.01);
  EXPECT_NEAR(
      absl::ToDoubleSeconds(
          absl::FromUnixSeconds(a.time_of_closest_approach().seconds()) +
          absl::Nanoseconds(a.time_of_closest_approach().nanos()) -
          clock_.Now()),
      30, 0.01);
  // B's own report confirms it: nothing new to say.
  EXPECT_THAT(Send("op-b", {Report("op-b", "B", 1700, -10)}), IsEmpty());

  // 1 Hz reports: no storm (nothing new for the same kind within 5 s).
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(absl::Seconds(1));
    EXPECT_THAT(Send("op-a", {Report("op-a", "A", 1100 + 10 * i, 10)}),
                IsEmpty());
  }
  // At +22 s B reports: 360 m apart; the figures are re-sent (5 s passed).
  clock_.Advance(absl::Seconds(9));
  c = Send("op-b", {Report("op-b", "B", 1580, -10)});
  ASSERT_THAT(Kinds(c), ElementsAre("CONFLICT_PREDICTED:UPDATED"));
  // At +30 s: 200 m apart, loss in 7.5 s: IMMINENT.
  clock_.Advance(absl::Seconds(8));
  c = Send("op-a", {Report("op-a", "A", 1300, 10)});
  ASSERT_THAT(Kinds(c), ElementsAre("CONFLICT_IMMINENT:UPDATED"));
  EXPECT_EQ(c[0].alert.id(), a.id());
  // At +38 s: 40 m apart: separation lost.
  clock_.Advance(absl::Seconds(8));
  c = Send("op-b", {Report("op-b", "B", 1420, -10)});
  ASSERT_THAT(Kinds(c), ElementsAre("SEPARATION_LOST:UPDATED"));
  // B climbs away: diverging vertically, cleared.
  c = Send("op-b", {Report("op-b", "B", 1420, 0, 700)});
  ASSERT_THAT(Kinds(c), ElementsAre("SEPARATION_LOST:CLEARED"));
  EXPECT_EQ(c[0].alert.id(), a.id());
}

TEST_F(TelemetryCoreTest, DistantAndParallelTrafficRaisesNothing) {
  EXPECT_THAT(Send("op-a", {Report("op-a", "A", 0, 10)}), IsEmpty());
  EXPECT_THAT(Send("op-b", {Report("op-b", "B", 2900, 10)}), IsEmpty());
  // Parallel, 100 m above A at the same speed: never closer.
  EXPECT_THAT(Send("op-b", {Report("op-b", "C", 0, 10, 600)}), IsEmpty());
}

TEST_F(TelemetryCoreTest, NonconformanceIsRaisedOnceAndReportedToTheIntent) {
  EXPECT_THAT(Send("op-a", {Report("op-a", "A", 1000, 10)}), IsEmpty());
  // 3.2 km east is outside the intent (0..3.1 km).
  clock_.Advance(absl::Seconds(1));
  std::vector<AlertChange> c = Send("op-a", {Report("op-a", "A", 3200, 10)});
  ASSERT_THAT(Kinds(c), ElementsAre("NONCONFORMANCE:RAISED"));
  EXPECT_THAT(airspace_.marked, ElementsAre("op-a:intent-op-a"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Send("op-a", {Report("op-a", "A", 3210, 10)}), IsEmpty());
  EXPECT_THAT(airspace_.marked, SizeIs(1));
  // Within the accuracy of the edge counts as inside.
  v1::PositionReport back = Report("op-a", "A", 3105, -10);
  back.mutable_accuracy()->set_horizontal_m(10);
  c = Send("op-a", {back});
  ASSERT_THAT(Kinds(c), ElementsAre("NONCONFORMANCE:CLEARED"));
}

TEST_F(TelemetryCoreTest, GeofenceEntryNamesTheConstraint) {
  std::vector<AlertChange> c = Send("op-a", {Report("op-a", "A", 5100, 0)});
  // Outside the intent too.
  ASSERT_THAT(Kinds(c),
              ElementsAre("NONCONFORMANCE:RAISED", "GEOFENCE_ENTRY:RAISED"));
  EXPECT_EQ(c[1].alert.constraint_id(), "tfr-1");
  c = Send("op-a", {Report("op-a", "A", 1000, 0)});
  EXPECT_THAT(Kinds(c),
              ElementsAre("NONCONFORMANCE:CLEARED", "GEOFENCE_ENTRY:CLEARED"));
  // The authorised rescue operator gets no geofence alert.
  c = Send("rescue", {Report("rescue", "R", 5100, 0)});
  EXPECT_THAT(Kinds(c), ElementsAre("NONCONFORMANCE:RAISED"));
}

TEST_F(TelemetryCoreTest, UnknownIntentIsFlagged) {
  v1::PositionReport r = Report("op-a", "A", 1000, 0);
  r.clear_intent_id();
  std::vector<AlertChange> c = Send("op-a", {r});
  ASSERT_THAT(Kinds(c), ElementsAre("UNKNOWN_INTENT:RAISED"));
  // Another operator's intent is not this aircraft's.
  r.set_intent_id("intent-op-b");
  EXPECT_THAT(Send("op-a", {r}), IsEmpty());  // still open, not re-sent
  c = Send("op-a", {Report("op-a", "A", 1000, 0)});
  EXPECT_THAT(Kinds(c), ElementsAre("UNKNOWN_INTENT:CLEARED"));
}

TEST_F(TelemetryCoreTest, LostLinkThenRetirement) {
  Send("op-a", {Report("op-a", "A", 1000, 0)});
  clock_.Advance(absl::Seconds(9));
  EXPECT_THAT(core_.Tick(), IsEmpty());
  clock_.Advance(absl::Seconds(2));
  std::vector<AlertChange> c = core_.Tick();
  ASSERT_THAT(Kinds(c), ElementsAre("LOST_LINK:RAISED"));
  EXPECT_THAT(core_.Tick(), IsEmpty());
  c = Send("op-a", {Report("op-a", "A", 1000, 0)});
  EXPECT_THAT(Kinds(c), ElementsAre("LOST_LINK:CLEARED"));
  clock_.Advance(absl::Seconds(11));
  EXPECT_THAT(Kinds(core_.Tick()), ElementsAre("LOST_LINK:RAISED"));
  // Silent for a minute: retired, and its alerts cleared.
  clock_.Advance(absl::Seconds(50));
  EXPECT_THAT(Kinds(core_.Tick()), ElementsAre("LOST_LINK:CLEARED"));
  EXPECT_EQ(core_.track_count(), 0u);
}

// A flight whose intent has ended and that stopped reporting is over: it is
// retired without a lost-link alert, and its conflicts are cleared.
TEST_F(TelemetryCoreTest, EndedFlightIsRetiredWithoutLostLink) {
  Send("op-a", {Report("op-a", "A", 1000, 10)});
  EXPECT_THAT(Kinds(Send("op-b", {Report("op-b", "B", 1400, -10)})),
              ElementsAre("CONFLICT_PREDICTED:RAISED"));
  airspace_.intents["intent-op-b"].activated = false;  // B landed, ENDED
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(core_.Tick(), IsEmpty());  // within the report gap
  clock_.Advance(absl::Seconds(2));
  EXPECT_THAT(Kinds(core_.Tick()), ElementsAre("CONFLICT_PREDICTED:CLEARED"));
  EXPECT_EQ(core_.track_count(), 1u);
  clock_.Advance(absl::Seconds(10));
  EXPECT_THAT(Kinds(core_.Tick()), ElementsAre("LOST_LINK:RAISED"));  // A's
}

// A silent aircraft is extrapolated for the lost-link time, no longer: after
// that it is a lost link, not a ghost on a straight line.
TEST_F(TelemetryCoreTest, SilentAircraftIsCoastedOnlyUntilItsLinkIsLost) {
  // B hovers on A's path, silent after one report.
  Send("op-b", {Report("op-b", "B", 1500, 0)});
  // A, heading for it at 20 m/s from 500 m away 10.5 s later: loss in
  // 22.5 s, but B has been silent beyond the 10 s lost-link time.
  clock_.Advance(absl::Seconds(10.5));
  EXPECT_THAT(Send("op-a", {Report("op-a", "A", 1000, 20)}), IsEmpty());
  EXPECT_THAT(Kinds(core_.Tick()), ElementsAre("LOST_LINK:RAISED"));
  // B reports again: it is back, and the conflict is raised at once.
  EXPECT_THAT(Kinds(Send("op-b", {Report("op-b", "B", 1500, 0)})),
              ::testing::UnorderedElementsAre("LOST_LINK:CLEARED",
                                              "CONFLICT_PREDICTED:RAISED"));
}

// Aircraft ids are arbitrary: separators in them must not make two pairs
// (or two operators' aircraft) share an alert.
TEST_F(TelemetryCoreTest, IdsWithSeparatorsKeepAlertsApart) {
  // Without length prefixes both pairs would be "pair/op-a/x|op-a/y|op-a/z".
  Send("op-a", {Report("op-a", "x|op-a/y", 1000, 10)});
  EXPECT_THAT(Kinds(Send("op-a", {Report("op-a", "z", 1400, -10)})),
              ElementsAre("CONFLICT_PREDICTED:RAISED"));
  Send("op-a", {Report("op-a", "x", 1000, 10, 800)});
  EXPECT_THAT(Kinds(Send("op-a", {Report("op-a", "y|op-a/z", 1400, -10, 800)})),
              ElementsAre("CONFLICT_PREDICTED:RAISED"));
  EXPECT_THAT(core_.OpenAlerts(), SizeIs(2));
}

TEST_F(TelemetryCoreTest, BadReportsGetPreciseErrorsAndTheRestIsProcessed) {
  google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
  *batch.Add() = Report("op-a", "A", 1000, 0);
  v1::PositionReport bad = Report("op-a", "B", 1000, 0);
  bad.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_UNSPECIFIED);
  *batch.Add() = bad;
  bad = Report("op-a", "C", 1000, 500);
  *batch.Add() = bad;
  bad = Report("op-a", "D", 1000, 0);
  *bad.mutable_time() = TimeToProto(kT0 - absl::Minutes(5));
  *batch.Add() = bad;
  bad = Report("op-a", "", 1000, 0);
  *batch.Add() = bad;
  TelemetryCore::Result r = core_.Ingest("op-a", batch);
  ASSERT_THAT(r.errors, SizeIs(4));
  EXPECT_EQ(r.errors[0].report_index(), 1);
  EXPECT_THAT(r.errors[0].message(),
              ::testing::StartsWith("reports[1].altitude.reference"));
  EXPECT_THAT(r.errors[1].message(),
              ::testing::StartsWith("reports[2].velocity"));
  EXPECT_THAT(r.errors[2].message(), ::testing::StartsWith("reports[3].time"));
  EXPECT_THAT(r.errors[3].message(),
              ::testing::StartsWith("reports[4].aircraft_id"));
  EXPECT_EQ(core_.track_count(), 1u);
}

}  // namespace
}  // namespace utm::telemetry

namespace utm::telemetry {
namespace {

// The live airspace over real intent and constraint cores.
TEST(LiveAirspaceTest, IntentsConstraintsAndNonconformance) {
  SimulatedClock clock(kT0);
  intent::IntentCore intents(intent::IntentOptions(), &clock);
  constraint::ConstraintOptions options;
  options.notify_thread = false;
  constraint::ConstraintCore constraints(options, &clock);
  intents.SetConstraintChecker(&constraints);
  LiveAirspace airspace(&intents, &constraints);

  intent::FileRequest file;
  geo::Volume4D v;
  v.volume.footprint = geo::Circle{East(0), 500};
  v.volume.altitude = {400, 600};
  v.time = {kT0 + absl::Minutes(1), kT0 + absl::Minutes(30)};
  file.volumes = {v};
  absl::StatusOr<intent::WriteOutcome> filed = intents.File("op-a", file);
  ASSERT_TRUE(filed.ok() && filed->accepted());
  const std::string id = filed->intent->id;
  std::shared_ptr<const IntentInfo> info = airspace.Intent(id);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->owner, "op-a");
  EXPECT_FALSE(info->activated);
  EXPECT_EQ(airspace.Intent("no-such-intent"), nullptr);
  // Unchanged: the cached copy.
  EXPECT_EQ(airspace.Intent(id), info);
  EXPECT_EQ(intents.Version(id), 1);
  EXPECT_EQ(intents.Version("no-such-intent"), std::nullopt);

  intent::TransitionRequest activate;
  activate.intent_id = id;
  activate.version = 1;
  activate.to = intent::IntentState::kActivated;
  ASSERT_TRUE(intents.Transition("op-a", activate)->accepted());
  EXPECT_TRUE(airspace.Intent(id)->activated);

  // A modified intent is seen at once (the cache follows the version).
  intent::ModifyRequest modify;
  modify.intent_id = id;
  modify.version = 2;
  modify.volumes = {v};
  modify.volumes[0].volume.altitude = {400, 700};
  ASSERT_TRUE(intents.Modify("op-a", modify)->accepted());
  ASSERT_EQ(airspace.Intent(id)->volumes.size(), 1u);
  EXPECT_EQ(airspace.Intent(id)->volumes[0].volume.altitude.upper_m, 700);

  // A TFR published after take-off blocks op-a where it is.
  v1::PublishConstraintRequest tfr;
  tfr.mutable_constraint()->set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  geo::Volume4D zone;
  zone.volume.footprint = geo::Circle{East(2000), 300};
  zone.volume.altitude = {0, 1000};
  zone.time = {absl::InfinitePast(), absl::InfiniteFuture()};
  *tfr.mutable_constraint()->add_volumes() = VolumeToProto(zone);
  const std::string tfr_id =
      constraints.Publish(constraint::Caller{"faa", true, false}, tfr)
          ->constraint()
          .id();
  const absl::Time t = kT0 + absl::Minutes(5);
  EXPECT_THAT(airspace.BlockingConstraints("op-a", East(2000), 500, 5, 5, t),
              ElementsAre(tfr_id));
  // Just outside, but the 20 m accuracy reaches in.
  EXPECT_THAT(airspace.BlockingConstraints("op-a", East(2310), 500, 20, 5, t),
              ElementsAre(tfr_id));
  EXPECT_THAT(airspace.BlockingConstraints("op-a", East(2310), 500, 5, 5, t),
              IsEmpty());
  EXPECT_THAT(airspace.BlockingConstraints("op-a", East(2000), 1100, 5, 5, t),
              IsEmpty());

  airspace.MarkNonconforming("op-a", id, t);
  EXPECT_EQ(intents.Get("op-a", id)->intent.state,
            intent::IntentState::kNonconforming);
  // The plan not yet over is declared where the aircraft may be (F3548
  // wants off-nominal volumes; the monitor knows no tighter bound).
  ASSERT_EQ(intents.Get("op-a", id)->intent.off_nominal_volumes.size(), 1u);
  EXPECT_EQ(intents.Get("op-a", id)->intent.off_nominal_volumes[0].time.end,
            v.time.end);
  EXPECT_TRUE(airspace.Intent(id)->activated);  // nonconforming is flying
  // Again: nothing (already nonconforming).
  airspace.MarkNonconforming("op-a", id, t);
  EXPECT_EQ(intents.Get("op-a", id)->intent.version, 4);
}

}  // namespace
}  // namespace utm::telemetry

namespace utm::telemetry {
namespace {

// The neighbour grid finds every conflicting pair: the open conflict alerts
// after everyone has reported equal an all-pairs evaluation with the
// reference geodetic conversion (RelativeLocalState).
TEST(TelemetryCoreRandomTest, GridFindsExactlyTheAllPairsConflicts) {
  // Rounds of reports as the fleet moves (tracks change cells, speeds
  // change, so the search reach grows and shrinks, and alerts are raised
  // and cleared); after each round the open conflict alerts must be exactly
  // the conflicting pairs of an all-pairs evaluation with the reference
  // geodetic conversion.
  const uint64_t seed = 20261121;
  std::mt19937_64 rng(seed);
  SimulatedClock clock(kT0);
  FakeAirspace airspace;
  TelemetryOptions options;
  options.max_speed_mps = 30;
  TelemetryCore core(options, &clock, &airspace);
  struct Aircraft {
    std::string id;
    GeodeticState s;
  };
  auto draw_velocity = [&](GeodeticState* s) {
    // Mostly drones at up to 12 m/s; now and then one at 28 m/s.
    const double speed = geo::test_util::Uniform(rng, 0, 1) < 0.03
                             ? 28
                             : geo::test_util::Uniform(rng, 0, 12);
    const double course = geo::test_util::Uniform(rng, 0, 2 * M_PI);
    s->east_mps = speed * std::sin(course);
    s->north_mps = speed * std::cos(course);
    s->up_mps = geo::test_util::Uniform(rng, -3, 3);
  };
  std::vector<Aircraft> fleet;
  for (int i = 0; i < 400; ++i) {
    Aircraft a;
    a.id = absl::StrCat("ac", i);
    a.s.position = geo::GeodesicDestination(
        geo::test_util::kZurich, geo::test_util::Uniform(rng, 0, 360),
        geo::test_util::Uniform(rng, 0, 5000));
    a.s.altitude_m = geo::test_util::Uniform(rng, 400, 600);
    draw_velocity(&a.s);
    fleet.push_back(a);
  }
  constexpr double kStepS = 4;
  int total_conflicts = 0;
  for (int round = 0; round < 6; ++round) {
    const absl::Time t = kT0 + absl::Seconds(kStepS * round);
    clock.Set(t);
    if (round > 0) {
      for (Aircraft& a : fleet) {
        const double east = a.s.east_mps * kStepS;
        const double north = a.s.north_mps * kStepS;
        a.s.position = geo::GeodesicDestination(
            a.s.position, std::atan2(east, north) * 180 / M_PI,
            std::hypot(east, north));
        a.s.altitude_m += a.s.up_mps * kStepS;
        if (geo::test_util::Uniform(rng, 0, 1) < 0.3) draw_velocity(&a.s);
      }
    }
    for (const Aircraft& a : fleet) {
      google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
      v1::PositionReport* r = batch.Add();
      r->set_aircraft_id(a.id);
      *r->mutable_time() = TimeToProto(t);
      r->mutable_position()->set_lat_deg(a.s.position.lat_deg);
      r->mutable_position()->set_lng_deg(a.s.position.lng_deg);
      r->mutable_altitude()->set_value_m(a.s.altitude_m);
      r->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      r->mutable_velocity()->set_east_mps(a.s.east_mps);
      r->mutable_velocity()->set_north_mps(a.s.north_mps);
      r->mutable_velocity()->set_up_mps(a.s.up_mps);
      TelemetryCore::Result result = core.Ingest("op", batch);
      ASSERT_THAT(result.errors, IsEmpty());
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
        if (d.conflict) {
          const std::string a = absl::StrCat("op/", fleet[i].id);
          const std::string b = absl::StrCat("op/", fleet[j].id);
          want.insert(a < b ? std::make_pair(fleet[i].id, fleet[j].id)
                            : std::make_pair(fleet[j].id, fleet[i].id));
          if (d.time_out_s - d.time_in_s < 1e-3) ++near_boundary;
        }
      }
    }
    total_conflicts += want.size();
    EXPECT_EQ(got, want) << "seed " << seed << ", round " << round << ", "
                         << near_boundary << " pairs within 1 ms of a boundary";
  }
  EXPECT_GT(total_conflicts, 30) << "seed " << seed << ": too few conflicts "
                                 << "to mean anything";
}

// A fast aircraft far away is found by a slow one's report: the search
// reach follows the fastest live track, not the reporter's own speed.
TEST_F(TelemetryCoreTest, FastIntruderFromBeyondASlowSearch) {
  // Slow A at 5 m/s east; fast B 1.4 km east of it at 45 m/s west: they
  // lose 50 m in (1400 − 50) / 50 = 27 s. On its own speed A would search
  // about 300 m.
  EXPECT_THAT(Send("op-b", {Report("op-b", "b", 1400, -45)}), IsEmpty());
  // A reports: it must reach out to B.
  const std::vector<AlertChange> r = Send("op-a", {Report("op-a", "a", 0, 5)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].alert.kind(), v1::ALERT_KIND_CONFLICT_PREDICTED);
  EXPECT_EQ(r[0].alert.time_to_loss_of_separation().seconds(), 27);

  // B slows to 5 m/s a second later: no loss within 30 s any more, and A is
  // now beyond every search; the alert is cleared all the same.
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Kinds(Send("op-b", {Report("op-b", "b", 1355, -5)})),
              ElementsAre("CONFLICT_PREDICTED:CLEARED"));
}

}  // namespace
}  // namespace utm::telemetry
