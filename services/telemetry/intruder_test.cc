// Non-participating aircraft (heard by Remote ID only) in the telemetry
// core: conflicts with participants, the minima widened by their
// uncertainty, no alerts of their own, silence between two of them,
// retirement, validation and the bound on their number, and the reserved
// "" operator.
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/auth_test_util.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// `east_m` east of Zurich, then `north_m` north.
geo::LatLng At(double east_m, double north_m = 0) {
  const geo::LatLng e =
      geo::GeodesicDestination(geo::test_util::kZurich, 90, east_m);
  return north_m == 0 ? e : geo::GeodesicDestination(e, 0, north_m);
}

// Op-a's intent covers everything near Zurich; a "TFR" blocks everyone
// everywhere (so a participant gets GEOFENCE_ENTRY wherever it flies). The
// lookups are counted: an intruder must cause none.
class CountingAirspace : public Airspace {
 public:
  CountingAirspace() {
    auto info = std::make_shared<IntentInfo>();
    info->owner = "op-a";
    info->activated = true;
    geo::Volume4D v;
    v.volume.footprint = geo::Circle{geo::test_util::kZurich, 20000};
    v.volume.altitude = {0, 2000};
    v.time = {kT0 - absl::Hours(1), kT0 + absl::Hours(1)};
    info->volumes = {v};
    intent_ = std::move(info);
  }
  std::shared_ptr<const IntentInfo> Intent(
      const std::string& id) const override {
    ++lookups;
    return id == "intent-a" ? intent_ : nullptr;
  }
  std::vector<std::string> BlockingConstraints(const std::string&,
                                               const geo::LatLng&, double,
                                               double, double,
                                               absl::Time) const override {
    ++lookups;
    return fence ? std::vector<std::string>{"tfr-1"}
                 : std::vector<std::string>{};
  }
  void MarkNonconforming(const std::string&, const std::string&,
                         absl::Time) override {}

  bool fence = false;
  mutable int lookups = 0;

 private:
  std::shared_ptr<const IntentInfo> intent_;
};

class IntruderTest : public ::testing::Test {
 protected:
  IntruderTest() : clock_(kT0), core_(Options(), &clock_, &airspace_) {}

  // D = 50 m, H = 30 m, T = 30 s.
  static TelemetryOptions Options() {
    TelemetryOptions o;
    o.separation.horizontal_m = 50;
    o.separation.vertical_m = 30;
    o.separation.lookahead_s = 30;
    return o;
  }

  v1::PositionReport Report(const std::string& id, geo::LatLng p, double ve,
                            double alt = 100, double vn = 0, double vu = 0) {
    v1::PositionReport r;
    r.set_aircraft_id(id);
    *r.mutable_time() = TimeToProto(clock_.Now());
    r.mutable_position()->set_lat_deg(p.lat_deg);
    r.mutable_position()->set_lng_deg(p.lng_deg);
    r.mutable_altitude()->set_value_m(alt);
    r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r.mutable_velocity()->set_east_mps(ve);
    r.mutable_velocity()->set_north_mps(vn);
    r.mutable_velocity()->set_up_mps(vu);
    r.mutable_accuracy()->set_horizontal_m(3);
    r.mutable_accuracy()->set_vertical_m(3);
    return r;
  }

  // A participant of op-a flying intent-a.
  std::vector<AlertChange> Participant(const std::string& id, geo::LatLng p,
                                       double ve, double alt = 100,
                                       const std::string& op = "op-a") {
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    v1::PositionReport& r = *batch.Add() = Report(id, p, ve, alt);
    r.set_intent_id("intent-a");
    TelemetryCore::Result result = core_.Ingest(op, batch);
    EXPECT_THAT(result.errors, IsEmpty());
    return result.alerts;
  }

  // An intruder's report: declared accuracy h, v (0: unknown), latency.
  IntruderReport Heard(const std::string& remote_id, geo::LatLng p, double ve,
                       double h_acc, double v_acc,
                       absl::Duration latency = absl::ZeroDuration(),
                       double alt = 100) {
    IntruderReport in;
    in.remote_id = remote_id;
    in.report = Report("ignored", p, ve, alt);
    in.report.mutable_accuracy()->set_horizontal_m(h_acc);
    in.report.mutable_accuracy()->set_vertical_m(v_acc);
    in.latency = latency;
    return in;
  }

  std::vector<AlertChange> Intruders(std::vector<IntruderReport> reports) {
    TelemetryCore::Result result = core_.IngestIntruders(reports);
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

  static double Seconds(const google::protobuf::Duration& d) {
    return d.seconds() + d.nanos() * 1e-9;
  }

  SimulatedClock clock_;
  CountingAirspace airspace_;
  TelemetryCore core_;
};

TEST_F(IntruderTest, ParticipantIsAlertedPredictedThenSeparationLost) {
  // P at 1000 m flies east at 10 m/s; the intruder at 1600 m west at 10
  // m/s, declaring 10 m / 10 m, heard at once: D' = 60 m, so the loss comes
  // after (600 − 60) / 20 = 27 s (27.5 s for two participants).
  EXPECT_THAT(Participant("P", At(1000), 10), IsEmpty());
  std::vector<AlertChange> c =
      Intruders({Heard("FA3-RID-1", At(1600), -10, 10, 10)});
  ASSERT_THAT(Kinds(c), ElementsAre("CONFLICT_PREDICTED:RAISED"));
  const v1::Alert& a = c[0].alert;
  EXPECT_NEAR(Seconds(a.time_to_loss_of_separation()), 27.0, 0.01);
  // "" sorts first: the intruder, by its Remote ID, with no intent.
  EXPECT_THAT(a.aircraft_ids(), ElementsAre("FA3-RID-1", "P"));
  EXPECT_THAT(a.intent_ids(), ElementsAre("", "intent-a"));
  EXPECT_THAT(a.message(),
              HasSubstr("FA3-RID-1 (a non-participating aircraft heard by "
                        "Remote ID) and P lose separation in 27 s"));
  // Told to the participant's operator only: "" names no one.
  EXPECT_THAT(c[0].operators, ElementsAre("op-a"));
  EXPECT_EQ(c[0].aircraft[0],
            std::make_pair(std::string(), std::string("FA3-RID-1")));
  const std::string id = a.id();

  // 10 s on (both report within lost_link_after, or the other is no longer
  // extrapolated): 400 m apart, loss in 17 s; the figures are re-sent, the
  // update interval (5 s) being over.
  clock_.Advance(absl::Seconds(10));
  c = Participant("P", At(1100), 10);
  ASSERT_THAT(Kinds(c), ElementsAre("CONFLICT_PREDICTED:UPDATED"));
  EXPECT_NEAR(Seconds(c[0].alert.time_to_loss_of_separation()), 17.0, 0.01);
  EXPECT_THAT(Intruders({Heard("FA3-RID-1", At(1500), -10, 10, 10)}),
              IsEmpty());
  // 20 s: 200 m apart, loss in (200 − 60) / 20 = 7 s: IMMINENT, found by
  // the participant's report (the intruder's state extrapolated).
  clock_.Advance(absl::Seconds(10));
  c = Participant("P", At(1200), 10);
  ASSERT_THAT(Kinds(c), ElementsAre("CONFLICT_IMMINENT:UPDATED"));
  EXPECT_EQ(c[0].alert.id(), id);
  EXPECT_NEAR(Seconds(c[0].alert.time_to_loss_of_separation()), 7.0, 0.01);
  // The intruder's report: the same kind within the update interval.
  EXPECT_THAT(Intruders({Heard("FA3-RID-1", At(1400), -10, 10, 10)}),
              IsEmpty());
  // 7.25 s on: 55 m apart — inside D' = 60 m, where two participants
  // would still be separated (D = 50 m).
  clock_.Advance(absl::Milliseconds(7250));
  c = Intruders({Heard("FA3-RID-1", At(1327.5), -10, 10, 10)});
  ASSERT_THAT(Kinds(c), ElementsAre("SEPARATION_LOST:UPDATED"));
  EXPECT_EQ(c[0].alert.id(), id);
  EXPECT_NEAR(c[0].alert.horizontal_distance_at_cpa_m(), 0, 0.1)
      << "head-on: they would meet (within the meridians' convergence)";
  EXPECT_THAT(c[0].alert.message(), HasSubstr("inside the separation minima"));
}

// A pass at D + 10 m horizontally (or H + 10 m vertically) is clear for two
// participants, a conflict with an intruder whose extra uncertainty is 20 m,
// and clear with one whose extra uncertainty is 5 m.
TEST_F(IntruderTest, MinimaAreWidenedByTheIntrudersUncertainty) {
  struct Case {
    std::string name;
    double north_m, alt_m;  // the other aircraft's offset at the pass
    double h_acc, v_acc;    // declared (0: unknown)
    absl::Duration latency;
    bool conflict;
  };
  // Head-on along the east axis, 400 m apart at 10 m/s each: closest
  // approach after 20 s. D = 50, H = 30.
  const std::vector<Case> cases = {
      // Horizontal: 60 m abeam.
      {"h: declared 20 m", 60, 100, 20, 1, absl::ZeroDuration(), true},
      {"h: 10 m + 10 m/s × 1 s", 60, 100, 10, 1, absl::Seconds(1), true},
      {"h: declared 5 m", 60, 100, 5, 1, absl::ZeroDuration(), false},
      {"h: 3 m + 10 m/s × 0.2 s", 60, 100, 3, 1, absl::Milliseconds(200),
       false},
      {"h: unknown, 30 m assumed", 60, 100, 0, 1, absl::ZeroDuration(), true},
      // Vertical: 40 m above, level (the latency adds nothing vertically).
      {"v: declared 20 m", 0, 140, 1, 20, absl::ZeroDuration(), true},
      {"v: declared 5 m", 0, 140, 1, 5, absl::Seconds(1), false},
      {"v: unknown, 45 m assumed", 0, 140, 1, 0, absl::ZeroDuration(), true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SimulatedClock clock(kT0);
    CountingAirspace airspace;
    TelemetryCore core(Options(), &clock, &airspace);
    auto participant = [&](const std::string& op, const std::string& id,
                           geo::LatLng p, double ve, double alt) {
      google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
      *batch.Add() = Report(id, p, ve, alt);
      TelemetryCore::Result r = core.Ingest(op, batch);
      EXPECT_THAT(r.errors, IsEmpty());
      std::vector<std::string> kinds;
      for (const AlertChange& a : r.alerts) {
        if (a.alert.aircraft_ids_size() == 2) kinds.push_back(a.key);
      }
      return kinds;
    };
    // The baseline: the same pass between two participants, 5 km north.
    EXPECT_THAT(participant("op-a", "P2", At(1000, 5000), 10, 100), IsEmpty());
    EXPECT_THAT(
        participant("op-b", "Q2", At(1400, 5000 + c.north_m), -10, c.alt_m),
        IsEmpty())
        << "two participants passing at D + 10 m or H + 10 m conflict";
    EXPECT_THAT(participant("op-a", "P", At(1000), 10, 100), IsEmpty());
    IntruderReport in = Heard("RID", At(1400, c.north_m), -10, c.h_acc, c.v_acc,
                              c.latency, c.alt_m);
    TelemetryCore::Result r = core.IngestIntruders({in});
    ASSERT_THAT(r.errors, IsEmpty());
    std::vector<std::string> kinds = Kinds(r.alerts);
    if (c.conflict) {
      EXPECT_THAT(kinds, ElementsAre("CONFLICT_PREDICTED:RAISED"));
    } else {
      EXPECT_THAT(kinds, IsEmpty());
    }
    // The participant's own report finds the same (its search of the
    // intruders' grid is widened as the intruder's of the participants').
    clock.Advance(absl::Seconds(6));
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    *batch.Add() = Report("P", At(1060), 10, 100);
    r = core.Ingest("op-a", batch);
    bool open = false;
    for (const AlertChange& a : core.OpenAlerts()) {
      open |=
          a.alert.aircraft_ids_size() == 2 && a.alert.aircraft_ids(0) == "RID";
    }
    EXPECT_EQ(open, c.conflict);
  }
}

TEST_F(IntruderTest, IntrudersTakePartInNoOtherAlert) {
  // Fast (60 m/s, above the 50 m/s limit), inside a TFR, with no intent,
  // then silent: a participant flying so gets UNKNOWN_INTENT,
  // SPEED_ABOVE_LIMIT, GEOFENCE_ENTRY and later LOST_LINK; an intruder
  // nothing, and costs no lookup of intents or constraints.
  airspace_.fence = true;
  google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
  *batch.Add() = Report("X", At(0), 60);
  std::vector<std::string> participant =
      Kinds(core_.Ingest("op-b", batch).alerts);
  EXPECT_THAT(participant,
              testing::UnorderedElementsAre("UNKNOWN_INTENT:RAISED",
                                            "SPEED_ABOVE_LIMIT:RAISED",
                                            "GEOFENCE_ENTRY:RAISED"));
  const int lookups = airspace_.lookups;
  EXPECT_THAT(Intruders({Heard("RID-FAST", At(9000), 60, 3, 3)}), IsEmpty());
  EXPECT_EQ(airspace_.lookups, lookups);
  EXPECT_EQ(core_.intruder_count(), 1u);
  for (int s = 1; s <= 12; ++s) {
    clock_.Advance(absl::Seconds(1));
    for (const AlertChange& a : core_.Tick()) {
      EXPECT_THAT(a.alert.aircraft_ids(),
                  testing::Not(testing::Contains("RID-FAST")))
          << a.alert.DebugString();
    }
  }
  EXPECT_EQ(core_.intruder_count(), 0u) << "not retired after 10 s";
  for (const AlertChange& a : core_.OpenAlerts()) {
    for (const std::string& op : a.operators) EXPECT_FALSE(op.empty());
  }
}

TEST_F(IntruderTest, TwoIntrudersRaiseNothingBetweenThem) {
  // Head-on, 100 m apart, at one altitude: a conflict for two
  // participants (the baseline below), nothing for two intruders.
  EXPECT_THAT(Intruders({Heard("R1", At(1000), 10, 3, 3),
                         Heard("R2", At(1100), -10, 3, 3)}),
              IsEmpty());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Intruders({Heard("R1", At(1010), 10, 3, 3),
                         Heard("R2", At(1090), -10, 3, 3)}),
              IsEmpty());
  EXPECT_THAT(core_.OpenAlerts(), IsEmpty());
  EXPECT_THAT(Participant("P1", At(1000, 500), 10), IsEmpty());
  // (100 − 50) / 20 = 2.5 s.
  EXPECT_THAT(Kinds(Participant("P2", At(1100, 500), -10)),
              ElementsAre("CONFLICT_IMMINENT:RAISED"));
}

TEST_F(IntruderTest, SilentIntruderIsRetiredAndItsConflictCleared) {
  EXPECT_THAT(Participant("P", At(1000), 10), IsEmpty());
  ASSERT_THAT(Kinds(Intruders({Heard("RID", At(1400), -10, 3, 3)})),
              ElementsAre("CONFLICT_PREDICTED:RAISED"));
  // The participant keeps reporting (no lost link of its own); the
  // intruder is heard no more. Its state is extrapolated as anyone's until
  // lost_link_after (10 s), then it is retired: the conflict is cleared,
  // and no alert says it went silent.
  std::vector<std::string> seen;
  for (int s = 1; s <= 10; ++s) {
    clock_.Advance(absl::Seconds(1));
    for (const AlertChange& a : Participant("P", At(1000 + 10 * s), 10)) {
      seen.push_back(Kinds({a})[0]);
    }
    for (const AlertChange& a : core_.Tick()) seen.push_back(Kinds({a})[0]);
    if (s < 10) {
      EXPECT_EQ(core_.intruder_count(), 1u) << "retired early, at " << s;
    }
  }
  EXPECT_EQ(core_.intruder_count(), 0u);
  EXPECT_EQ(core_.track_count(), 1u);
  // Updated on the way (at 5 s, the update interval; imminent from 8 s,
  // (400 − 53) / 20 = 17.35 s from the start), then cleared by the
  // retirement; never a lost link.
  EXPECT_THAT(seen, ElementsAre("CONFLICT_PREDICTED:UPDATED",
                                "CONFLICT_IMMINENT:UPDATED",
                                "CONFLICT_IMMINENT:CLEARED"));
  EXPECT_THAT(core_.OpenAlerts(), IsEmpty());
}

TEST_F(IntruderTest, BadReportsAreRefusedNamingTheField) {
  std::vector<IntruderReport> in;
  auto add = [&](IntruderReport r) { in.push_back(std::move(r)); };
  add(Heard("", At(0), 0, 3, 3));                     // 0
  add(Heard("bad\x07id", At(0), 0, 3, 3));            // 1
  add(Heard(std::string(129, 'x'), At(0), 0, 3, 3));  // 2
  {
    IntruderReport r = Heard("R3", At(0), 0, 3, 3);
    r.report.set_intent_id("intent-a");
    add(r);  // 3
  }
  add(Heard("R4", At(0), 0, 3, 3, absl::Milliseconds(-1)));  // 4
  add(Heard("R5", At(0), 0, 3, 3, absl::Seconds(11)));       // 5
  {
    IntruderReport r = Heard("R6", At(0), 0, 3, 3);
    r.report.mutable_altitude()->clear_reference();
    add(r);  // 6
  }
  // 9,990 m declared + 10 m/s × 1 s = 10 km.
  add(Heard("R7", At(0), 10, 9990, 3, absl::Seconds(1)));  // 7
  {
    IntruderReport r = Heard("R8", At(0), 0, 3, 3);
    *r.report.mutable_time() = TimeToProto(kT0 - absl::Seconds(11));
    add(r);  // 8
  }
  add(Heard("OK", At(0), 0, 3, 3));  // 9: valid
  {
    IntruderReport r = Heard("OK", At(0), 0, 3, 3);
    *r.report.mutable_time() = TimeToProto(kT0 - absl::Seconds(1));
    add(r);  // 10: before OK's report 9
  }
  {
    IntruderReport r = Heard("R11", At(0), 0, 3, 3);
    r.report.mutable_velocity()->set_up_mps(std::nan(""));
    add(r);  // 11
  }
  TelemetryCore::Result r = core_.IngestIntruders(in);
  std::vector<std::string> got;
  for (const v1::ReportError& e : r.errors) {
    got.push_back(e.message());
    EXPECT_THAT(e.message(), testing::StartsWith(absl::StrCat(
                                 "intruders[", e.report_index(), "].")));
  }
  EXPECT_THAT(
      got,
      ElementsAre(HasSubstr("intruders[0].remote_id: required"),
                  HasSubstr("intruders[1].remote_id: "),
                  HasSubstr("intruders[2].remote_id: "),
                  HasSubstr("intruders[3].report.intent_id: must be empty"),
                  HasSubstr("intruders[4].latency: negative"),
                  HasSubstr("intruders[5].latency: 11s is above 10s"),
                  HasSubstr("intruders[6].report.altitude.reference: must be "
                            "W84"),
                  HasSubstr("intruders[7].report.accuracy: uncertainty 10000 "
                            "m horizontally"),
                  HasSubstr("intruders[8].report.time: older than 10s"),
                  HasSubstr("intruders[10].report.time: older than this "
                            "aircraft's previous report"),
                  HasSubstr("intruders[11].report.velocity.up_mps: not "
                            "finite")));
  EXPECT_THAT(got[1], HasSubstr("control character at byte 3"));
  EXPECT_EQ(core_.intruder_count(), 1u);
  EXPECT_EQ(core_.track_count(), 1u);
}

TEST_F(IntruderTest, IntrudersAreBoundedByMaxIntruders) {
  TelemetryOptions o = Options();
  o.max_intruders = 2;
  TelemetryCore core(o, &clock_, &airspace_);
  TelemetryCore::Result r = core.IngestIntruders(
      {Heard("R0", At(0), 0, 3, 3), Heard("R1", At(100), 0, 3, 3),
       Heard("R2", At(200), 0, 3, 3)});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].report_index(), 2);
  EXPECT_THAT(r.errors[0].message(),
              HasSubstr("intruders[2].remote_id: RESOURCE_EXHAUSTED: 2 "
                        "non-participating aircraft are tracked"));
  EXPECT_EQ(core.intruder_count(), 2u);
  // Known ones are still updated, and participants are not bounded by it.
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(core.IngestIntruders({Heard("R1", At(110), 0, 3, 3)}).errors,
              IsEmpty());
  google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
  *batch.Add() = Report("P", At(5000), 0);
  *batch.Add() = Report("Q", At(6000), 0);
  *batch.Add() = Report("S", At(7000), 0);
  EXPECT_THAT(core.Ingest("op-b", batch).errors, IsEmpty());
  // Once the silent ones are retired, there is room again.
  clock_.Advance(absl::Seconds(10));
  core.Tick();
  EXPECT_EQ(core.intruder_count(), 0u);
  EXPECT_THAT(core.IngestIntruders({Heard("R2", At(200), 0, 3, 3)}).errors,
              IsEmpty());
}

// The "" operator is where intruders live; no caller can act as it.
TEST_F(IntruderTest, EmptyOperatorIsNotReachableThroughIngest) {
  // A verified token never has an empty subject...
  auth::test_util::Claims claims;
  claims.sub = "\"\"";
  SimulatedClock auth_clock(auth::test_util::kStart);
  absl::StatusOr<std::unique_ptr<auth::Verifier>> verifier =
      auth::Verifier::FromHmacSecret(auth::test_util::kSecret, {}, &auth_clock);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  absl::StatusOr<auth::Principal> p =
      (*verifier)->Verify(auth::test_util::HmacToken(claims));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(p.status().message(), HasSubstr("no sub claim"));
  claims.sub = "\"op-a\"";
  EXPECT_TRUE((*verifier)->Verify(auth::test_util::HmacToken(claims)).ok());

  // ...and Ingest refuses "" anyway: it cannot move or create an intruder.
  EXPECT_THAT(Intruders({Heard("RID", At(1400), -10, 3, 3)}), IsEmpty());
  google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
  *batch.Add() = Report("RID", At(3000), 0);
  *batch.Add() = Report("OTHER", At(3000), 0);
  TelemetryCore::Result r = core_.Ingest("", batch);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_THAT(r.errors[0].message(),
              HasSubstr("reports[0].operator: the empty operator id is "
                        "reserved for non-participating aircraft"));
  EXPECT_EQ(core_.track_count(), 1u);
  EXPECT_EQ(core_.intruder_count(), 1u);
  // The forwarded form (a replica passing on what IngestIntruders took in)
  // is accepted: the accuracy carries the whole uncertainty.
  batch.Clear();
  *batch.Add() = Report("RID2", At(3000), 0);
  r = core_.IngestForwarded("", batch);
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(core_.intruder_count(), 2u);
}

// The grids find exactly the all-pairs conflicts with intruders mixed in:
// participant pairs at the minima, participant-intruder pairs at the minima
// widened by the intruder's uncertainty (declared or default accuracy plus
// speed × latency; some wider than a grid cell, some above the speed
// limit, kept apart), intruder pairs never. After each round of reports the
// open conflict alerts must equal that reference, evaluated with the
// geodetic conversion (RelativeLocalState).
TEST(IntruderRandomTest, GridsFindExactlyTheAllPairsConflicts) {
  const uint64_t seed = 20261206;
  std::mt19937_64 rng(seed);
  SimulatedClock clock(kT0);
  CountingAirspace airspace;
  TelemetryOptions options;
  options.max_speed_mps = 30;
  TelemetryCore core(options, &clock, &airspace);
  struct Aircraft {
    std::string id;
    bool intruder;
    GeodeticState s;
    double h_acc = 0, v_acc = 0;  // declared
    absl::Duration latency;
    double h_extra = 0, v_extra = 0;
  };
  auto u = [&](double lo, double hi) {
    return geo::test_util::Uniform(rng, lo, hi);
  };
  auto draw = [&](Aircraft* a) {
    const double r = u(0, 1);
    const double speed = a->intruder && r < 0.03 ? 60  // above the limit
                         : r < 0.06              ? 28
                                                 : u(0, 12);
    const double course = u(0, 2 * M_PI);
    a->s.east_mps = speed * std::sin(course);
    a->s.north_mps = speed * std::cos(course);
    a->s.up_mps = u(-3, 3);
    if (!a->intruder) return;
    // F3411 accuracy categories in metres, 0 for unknown; one in 50 is
    // wider than a grid cell (< 1852 m).
    const double h[] = {0, 3, 10, 30, 92.6};
    const double v[] = {0, 1, 3, 10, 25, 45};
    a->h_acc = u(0, 1) < 0.02 ? 1852 : h[static_cast<int>(u(0, 5))];
    a->v_acc = v[static_cast<int>(u(0, 6))];
    a->latency = absl::Milliseconds(static_cast<int>(u(0, 2000)));
    const double lat = absl::ToDoubleSeconds(a->latency);
    a->h_extra = (a->h_acc > 0 ? a->h_acc : 30) + speed * lat;
    a->v_extra = (a->v_acc > 0 ? a->v_acc : 45) + std::fabs(a->s.up_mps) * lat;
  };
  std::vector<Aircraft> fleet;
  for (int i = 0; i < 400; ++i) {
    Aircraft a;
    a.intruder = i % 4 == 0;
    a.id = absl::StrCat(a.intruder ? "rid" : "ac", i);
    a.s.position = geo::GeodesicDestination(geo::test_util::kZurich, u(0, 360),
                                            u(0, 5000));
    a.s.altitude_m = u(400, 600);
    draw(&a);
    fleet.push_back(a);
  }
  constexpr double kStepS = 4;
  int total = 0, with_intruders = 0;
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
        if (u(0, 1) < 0.3) draw(&a);
      }
    }
    for (const Aircraft& a : fleet) {
      v1::PositionReport r;
      r.set_aircraft_id(a.id);
      *r.mutable_time() = TimeToProto(t);
      r.mutable_position()->set_lat_deg(a.s.position.lat_deg);
      r.mutable_position()->set_lng_deg(a.s.position.lng_deg);
      r.mutable_altitude()->set_value_m(a.s.altitude_m);
      r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      r.mutable_velocity()->set_east_mps(a.s.east_mps);
      r.mutable_velocity()->set_north_mps(a.s.north_mps);
      r.mutable_velocity()->set_up_mps(a.s.up_mps);
      if (a.intruder) {
        r.mutable_accuracy()->set_horizontal_m(a.h_acc);
        r.mutable_accuracy()->set_vertical_m(a.v_acc);
        IntruderReport in;
        in.remote_id = a.id;
        in.report = r;
        in.latency = a.latency;
        ASSERT_THAT(core.IngestIntruders({in}).errors, IsEmpty());
      } else {
        google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
        *batch.Add() = r;
        ASSERT_THAT(core.Ingest("op", batch).errors, IsEmpty());
      }
    }
    std::set<std::pair<std::string, std::string>> got;
    for (const AlertChange& c : core.OpenAlerts()) {
      if (c.alert.aircraft_ids_size() != 2) continue;
      got.insert({c.alert.aircraft_ids(0), c.alert.aircraft_ids(1)});
      for (const std::string& op : c.operators) {
        EXPECT_FALSE(op.empty()) << c.alert.DebugString();
      }
    }
    std::set<std::pair<std::string, std::string>> want;
    int near_boundary = 0;
    for (size_t i = 0; i < fleet.size(); ++i) {
      for (size_t j = i + 1; j < fleet.size(); ++j) {
        const Aircraft& a = fleet[i];
        const Aircraft& b = fleet[j];
        if (a.intruder && b.intruder) continue;
        Separation sep = options.separation;
        const Aircraft* intruder = a.intruder ? &a : b.intruder ? &b : nullptr;
        if (intruder != nullptr) {
          sep.horizontal_m += intruder->h_extra;
          sep.vertical_m += intruder->v_extra;
        }
        const Detection d = Detect(RelativeLocalState(a.s, b.s), sep);
        if (!d.conflict) continue;
        // Alerts name the pair in (operator, aircraft id) order; "" first.
        const std::string ka = absl::StrCat(a.intruder ? "" : "op", "/", a.id);
        const std::string kb = absl::StrCat(b.intruder ? "" : "op", "/", b.id);
        want.insert(ka < kb ? std::make_pair(a.id, b.id)
                            : std::make_pair(b.id, a.id));
        with_intruders += intruder != nullptr;
        if (d.time_out_s - d.time_in_s < 1e-3) ++near_boundary;
      }
    }
    total += want.size();
    EXPECT_EQ(got, want) << "seed " << seed << ", round " << round << ", "
                         << near_boundary << " pairs within 1 ms of a boundary";
  }
  EXPECT_GT(with_intruders, 30) << "seed " << seed << ": too few conflicts "
                                << "with intruders to mean anything";
  EXPECT_GT(total - with_intruders, 30) << "seed " << seed;
}

}  // namespace
}  // namespace utm::telemetry
