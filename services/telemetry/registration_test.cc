// Registration in the telemetry core: an aircraft above the jurisdiction's
// threshold must be registered to its operator to stream positions (checked
// when tracking starts and when the intent changes, never per report); a
// revocation while it flies raises REGISTRATION_REVOKED, keeps it tracked
// and deconflicted, and is cleared by a new registration or retirement;
// replicas raise it once. The registry is a test double holding a map: the
// interface (services/common/registration_check.h) is all the core sees.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/registration_check.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
// FAA Part 48 / EU 2019/947: aircraft above 250 g must be registered.
constexpr int64_t kThresholdG = 250;

geo::LatLng At(double east_m) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, east_m);
}

// The registry's rule (registration_check.h) over a map of serial numbers,
// counting the questions.
class MapRegistry : public registration::RegistrationChecker {
 public:
  struct Entry {
    std::string operator_id;
    bool revoked = false;
  };
  absl::Status CheckAircraft(absl::string_view operator_id,
                             absl::string_view aircraft_id,
                             int64_t declared_mass_g,
                             absl::string_view field) const override {
    ++calls;
    auto it = registered.find(aircraft_id);
    if (it != registered.end()) {
      if (it->second.operator_id != operator_id) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ": ", aircraft_id, " is registered to another operator"));
      }
      if (it->second.revoked) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ": ", aircraft_id, "'s registration was revoked"));
      }
      return absl::OkStatus();
    }
    if (declared_mass_g > 0 && declared_mass_g <= kThresholdG) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": ", aircraft_id,
        " is not registered; aircraft above 250 g must be registered here "
        "(declared mass: ",
        declared_mass_g, " g)"));
  }

  absl::flat_hash_map<std::string, Entry> registered;
  mutable int calls = 0;
};

// Intents by id, all covering Zurich.
class MapAirspace : public Airspace {
 public:
  void Add(const std::string& id, const std::string& owner,
           const std::string& serial, int64_t mass_g, bool activated = true) {
    auto info = std::make_shared<IntentInfo>();
    info->owner = owner;
    info->activated = activated;
    geo::Volume4D v;
    v.volume.footprint = geo::Circle{geo::test_util::kZurich, 20000};
    v.volume.altitude = {0, 2000};
    v.time = {kT0 - absl::Hours(1), kT0 + absl::Hours(1)};
    info->volumes = {v};
    info->aircraft_serial = serial;
    info->aircraft_mass_g = mass_g;
    intents[id] = std::move(info);
  }
  std::shared_ptr<const IntentInfo> Intent(
      const std::string& id) const override {
    auto it = intents.find(id);
    return it == intents.end() ? nullptr : it->second;
  }
  std::vector<std::string> BlockingConstraints(const std::string&,
                                               const geo::LatLng&, double,
                                               double, double,
                                               absl::Time) const override {
    return {};
  }
  void MarkNonconforming(const std::string&, const std::string&,
                         absl::Time) override {}

  absl::flat_hash_map<std::string, std::shared_ptr<const IntentInfo>> intents;
};

// A replica's scope that keeps every report and raises as told.
class FixedScope : public ReplicaScope {
 public:
  explicit FixedScope(bool raises) : raises(raises) {}
  bool Route(const std::string&, const v1::PositionReport&, const geo::LatLng&,
             absl::Time) override {
    return true;
  }
  bool Raises(const std::vector<std::pair<absl::string_view, geo::LatLng>>&)
      const override {
    return raises;
  }
  std::optional<Episode> OpenEpisode(const std::string&) const override {
    return std::nullopt;
  }
  bool raises;
};

TelemetryOptions Options() {
  TelemetryOptions o;
  o.separation.horizontal_m = 50;
  o.separation.vertical_m = 30;
  o.separation.lookahead_s = 30;
  return o;
}

v1::AircraftRegistration Registration(const std::string& serial,
                                      const std::string& op,
                                      std::optional<absl::Time> revoked,
                                      const std::string& reason = "") {
  v1::AircraftRegistration r;
  r.set_serial_number(serial);
  r.set_operator_id(op);
  r.set_mass_g(900);
  if (revoked) {
    *r.mutable_revoke_time() = TimeToProto(*revoked);
    r.set_revoke_reason(reason);
  }
  return r;
}

// The registration's alert changes, as TelemetryService delivers them.
std::vector<AlertChange> Changed(TelemetryCore& core,
                                 const v1::AircraftRegistration& r) {
  core.OnRegistrationChanged(r);
  return core.TakeRegistrationAlerts();
}

std::vector<std::string> Kinds(const std::vector<AlertChange>& c) {
  std::vector<std::string> out;
  for (const AlertChange& a : c) {
    out.push_back(
        absl::StrCat(v1::AlertKind_Name(a.alert.kind()).substr(11), ":",
                     v1::AlertState_Name(a.alert.state()).substr(12)));
  }
  return out;
}

std::vector<AlertChange> OfKind(const std::vector<AlertChange>& c,
                                v1::AlertKind kind) {
  std::vector<AlertChange> out;
  for (const AlertChange& a : c) {
    if (a.alert.kind() == kind) out.push_back(a);
  }
  return out;
}

class TelemetryRegistrationTest : public ::testing::Test {
 protected:
  TelemetryRegistrationTest()
      : clock_(kT0), core_(Options(), &clock_, &airspace_) {
    // op-a's general intent (no aircraft declared), its heavy aircraft's,
    // its light aircraft's, one declaring 200 g for any aircraft, a light
    // one not activated, and op-b's.
    airspace_.Add("intent-a", "op-a", "", 0);
    airspace_.Add("intent-heavy", "op-a", "SN-HEAVY", 900);
    airspace_.Add("intent-light", "op-a", "SN-LIGHT", 200);
    airspace_.Add("intent-any-light", "op-a", "", 200);
    airspace_.Add("intent-light-planned", "op-a", "SN-LIGHT", 200, false);
    airspace_.Add("intent-b", "op-b", "", 0);
    registry_.registered["SN-REG"] = {"op-a", false};
    registry_.registered["SN-B"] = {"op-b", false};
    core_.SetRegistrationChecker(&registry_);
  }

  v1::PositionReport Report(const std::string& id, const std::string& intent,
                            geo::LatLng p, double ve = 0) {
    v1::PositionReport r;
    r.set_aircraft_id(id);
    r.set_intent_id(intent);
    *r.mutable_time() = TimeToProto(clock_.Now());
    r.mutable_position()->set_lat_deg(p.lat_deg);
    r.mutable_position()->set_lng_deg(p.lng_deg);
    r.mutable_altitude()->set_value_m(100);
    r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r.mutable_velocity()->set_east_mps(ve);
    r.mutable_accuracy()->set_horizontal_m(3);
    r.mutable_accuracy()->set_vertical_m(3);
    return r;
  }

  TelemetryCore::Result Send(TelemetryCore& core, const std::string& op,
                             std::vector<v1::PositionReport> reports,
                             bool forwarded = false) {
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    for (v1::PositionReport& r : reports) *batch.Add() = std::move(r);
    return forwarded ? core.IngestForwarded(op, batch) : core.Ingest(op, batch);
  }
  TelemetryCore::Result Send(const std::string& op,
                             std::vector<v1::PositionReport> reports) {
    return Send(core_, op, std::move(reports));
  }

  // One report that must be accepted; its alert changes.
  std::vector<AlertChange> Fly(const std::string& op, const std::string& id,
                               const std::string& intent, geo::LatLng p,
                               double ve = 0) {
    TelemetryCore::Result r = Send(op, {Report(id, intent, p, ve)});
    EXPECT_THAT(r.errors, IsEmpty()) << id;
    return r.alerts;
  }

  SimulatedClock clock_;
  MapAirspace airspace_;
  MapRegistry registry_;
  TelemetryCore core_;
};

TEST_F(TelemetryRegistrationTest,
       UnregisteredHeavyAircraftIsRefusedAndStreamGoesOn) {
  TelemetryCore::Result r =
      Send("op-a", {Report("SN-HEAVY", "intent-heavy", At(0)),
                    Report("SN-REG", "intent-a", At(500))});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].report_index(), 0);
  EXPECT_EQ(r.errors[0].message(),
            "reports[0].aircraft_id: SN-HEAVY is not registered; aircraft "
            "above 250 g must be registered here (declared mass: 900 g)");
  // The refused aircraft is not tracked; the registered one after it is.
  EXPECT_EQ(core_.track_count(), 1u);
  // Refused again (asked again: it may have been registered meanwhile).
  clock_.Advance(absl::Seconds(1));
  r = Send("op-a", {Report("SN-HEAVY", "intent-heavy", At(10))});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message(),
              StartsWith("reports[0].aircraft_id: SN-HEAVY is not registered"));
  EXPECT_EQ(core_.track_count(), 1u);
  EXPECT_EQ(registry_.calls, 3);
}

TEST_F(TelemetryRegistrationTest, RegisteredAircraftIsAccepted) {
  EXPECT_THAT(Fly("op-a", "SN-REG", "intent-heavy", At(0)), IsEmpty());
  EXPECT_EQ(core_.track_count(), 1u);
  // Another operator's registered aircraft is not the caller's.
  TelemetryCore::Result r = Send("op-b", {Report("SN-REG", "intent-b", At(0))});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].message(),
            "reports[0].aircraft_id: SN-REG is registered to another operator");
  EXPECT_EQ(core_.track_count(), 1u);
}

TEST_F(TelemetryRegistrationTest,
       DeclaredMassCountsOnlyFromTheOperatorsActiveIntent) {
  struct Case {
    std::string op, aircraft, intent;
    int64_t mass_seen;  // -1: accepted
  };
  const std::vector<Case> cases = {
      // At or below the threshold, declared for this aircraft: may fly.
      {"op-a", "SN-LIGHT", "intent-light", -1},
      // Declared for whatever aircraft flies it (no serial).
      {"op-a", "SN-OTHER", "intent-any-light", -1},
      // The intent declares another aircraft: no declared mass.
      {"op-a", "SN-STRAY", "intent-light", 0},
      // Another operator's intent, an intent not activated, none at all.
      {"op-b", "SN-LIGHT", "intent-light", 0},
      {"op-a", "SN-PLANNED", "intent-light-planned", 0},
      {"op-a", "SN-NONE", "", 0},
      {"op-a", "SN-GHOST", "intent-unknown", 0},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(absl::StrCat(c.op, " ", c.aircraft, " ", c.intent));
    TelemetryCore::Result r =
        Send(c.op, {Report(c.aircraft, c.intent, At(100.0 * i))});
    if (c.mass_seen < 0) {
      EXPECT_THAT(r.errors, IsEmpty());
    } else {
      ASSERT_THAT(r.errors, SizeIs(1));
      EXPECT_EQ(r.errors[0].message(),
                absl::StrCat("reports[0].aircraft_id: ", c.aircraft,
                             " is not registered; aircraft above 250 g must "
                             "be registered here (declared mass: ",
                             c.mass_seen, " g)"));
    }
  }
  EXPECT_EQ(core_.track_count(), 2u);
}

TEST_F(TelemetryRegistrationTest,
       CheckedWhenTrackingStartsAndWhenTheIntentChanges) {
  for (int s = 0; s < 3; ++s) {
    Fly("op-a", "SN-LIGHT", "intent-light", At(10.0 * s));
    clock_.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(registry_.calls, 1);  // not per report
  // Another intent, declaring no mass: checked again and refused; the
  // track keeps its previous state.
  TelemetryCore::Result r =
      Send("op-a", {Report("SN-LIGHT", "intent-a", At(30))});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].message(),
            "reports[0].aircraft_id: SN-LIGHT is not registered; aircraft "
            "above 250 g must be registered here (declared mass: 0 g)");
  EXPECT_EQ(registry_.calls, 2);
  EXPECT_EQ(core_.track_count(), 1u);
  // Back on the intent it was checked for: no question.
  clock_.Advance(absl::Seconds(1));
  Fly("op-a", "SN-LIGHT", "intent-light", At(40));
  EXPECT_EQ(registry_.calls, 2);
  // Another intent that declares it light: asked, accepted.
  clock_.Advance(absl::Seconds(1));
  Fly("op-a", "SN-LIGHT", "intent-any-light", At(50));
  EXPECT_EQ(registry_.calls, 3);
}

TEST_F(TelemetryRegistrationTest, NoCheckerNoChecks) {
  TelemetryCore unchecked(Options(), &clock_, &airspace_);
  TelemetryCore::Result r =
      Send(unchecked, "op-a", {Report("SN-HEAVY", "intent-heavy", At(0))});
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(unchecked.track_count(), 1u);
  EXPECT_EQ(registry_.calls, 0);
}

TEST_F(TelemetryRegistrationTest, IntrudersAreNotChecked) {
  IntruderReport in;
  in.remote_id = "SN-HEAVY";
  in.report = Report("ignored", "", At(0), 5);
  TelemetryCore::Result r = core_.IngestIntruders({in});
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(core_.intruder_count(), 1u);
  EXPECT_EQ(registry_.calls, 0);
  // A registration change never names the intruders' namespace.
  EXPECT_THAT(Changed(core_, Registration("SN-HEAVY", "", kT0)), IsEmpty());
}

TEST_F(TelemetryRegistrationTest,
       RevocationWhileFlyingAlertsAndKeepsDeconflicting) {
  // SN-REG (op-a) flies east at 10 m/s from 0 m, SN-B (op-b) west at 10 m/s
  // from 2000 m: no conflict within the 30 s look-ahead yet.
  EXPECT_THAT(Fly("op-a", "SN-REG", "intent-a", At(0), 10), IsEmpty());
  EXPECT_THAT(Fly("op-b", "SN-B", "intent-b", At(2000), -10), IsEmpty());

  registry_.registered["SN-REG"].revoked = true;
  std::vector<AlertChange> c =
      Changed(core_, Registration("SN-REG", "op-a", kT0 - absl::Minutes(1),
                                  "remote pilot certificate "
                                  "suspended"));
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:RAISED"));
  const v1::Alert& a = c[0].alert;
  EXPECT_THAT(a.aircraft_ids(), ElementsAre("SN-REG"));
  EXPECT_THAT(a.intent_ids(), ElementsAre("intent-a"));
  EXPECT_EQ(a.message(),
            "SN-REG: registration revoked at 2027-01-15T07:59:00Z: remote "
            "pilot certificate suspended; still tracked and deconflicted");
  // To its operator, and where it is (what the area watchers are sent by).
  EXPECT_THAT(c[0].operators, ElementsAre("op-a"));
  EXPECT_EQ(c[0].aircraft[0],
            std::make_pair(std::string("op-a"), std::string("SN-REG")));
  ASSERT_TRUE(a.has_position());
  EXPECT_NEAR(a.position().lng_deg(), At(0).lng_deg, 1e-9);
  const std::string id = a.id();
  // Among the open alerts a new watcher gets.
  EXPECT_THAT(OfKind(core_.OpenAlerts(), v1::ALERT_KIND_REGISTRATION_REVOKED),
              SizeIs(1));
  // The same revocation told again changes nothing.
  EXPECT_THAT(
      Changed(core_, Registration("SN-REG", "op-a", kT0 - absl::Minutes(1),
                                  "remote pilot certificate suspended")),
      IsEmpty());

  // It flies on: its reports are accepted (not checked again), it is
  // deconflicted, and the alert follows it at the update interval.
  for (int s = 1; s <= 80; ++s) {
    clock_.Advance(absl::Seconds(1));
    std::vector<AlertChange> got =
        Fly("op-a", "SN-REG", "intent-a", At(10.0 * s), 10);
    Fly("op-b", "SN-B", "intent-b", At(2000 - 10.0 * s), -10);
    for (const AlertChange& g :
         OfKind(got, v1::ALERT_KIND_REGISTRATION_REVOKED)) {
      EXPECT_EQ(g.alert.id(), id);
      EXPECT_EQ(g.alert.state(), v1::ALERT_STATE_UPDATED);
      EXPECT_NEAR(g.alert.position().lng_deg(), At(10.0 * s).lng_deg, 1e-9);
    }
  }
  EXPECT_EQ(core_.track_count(), 2u);
  EXPECT_EQ(registry_.calls, 2);  // each aircraft once, at the start
  // 80 s on they are 400 m apart, closing at 20 m/s: within the look-ahead.
  std::vector<AlertChange> conflicts;
  for (const AlertChange& g : core_.OpenAlerts()) {
    if (g.alert.aircraft_ids_size() == 2) conflicts.push_back(g);
  }
  ASSERT_THAT(conflicts, SizeIs(1));
  EXPECT_THAT(conflicts[0].alert.aircraft_ids(), ElementsAre("SN-REG", "SN-B"));
  EXPECT_THAT(conflicts[0].operators, ElementsAre("op-a", "op-b"));
}

TEST_F(TelemetryRegistrationTest, ALapseWhileFlyingAlertsLikeARevocation) {
  Fly("op-a", "SN-REG", "intent-a", At(0), 10);
  // The registration lapsed a second ago; the registry tells of it.
  registry_.registered["SN-REG"].revoked = true;  // no longer in force
  v1::AircraftRegistration lapsed =
      Registration("SN-REG", "op-a", std::nullopt);
  *lapsed.mutable_expire_time() = TimeToProto(kT0 - absl::Seconds(1));
  std::vector<AlertChange> c = Changed(core_, lapsed);
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:RAISED"));
  EXPECT_EQ(c[0].alert.message(),
            "SN-REG: registration expired at 2027-01-15T07:59:59Z; still "
            "tracked and deconflicted");
  EXPECT_THAT(c[0].operators, ElementsAre("op-a"));
  // Told again: nothing changes. Renewed: cleared.
  EXPECT_THAT(Changed(core_, lapsed), IsEmpty());
  registry_.registered["SN-REG"].revoked = false;
  *lapsed.mutable_expire_time() = TimeToProto(kT0 + absl::Hours(24 * 365));
  EXPECT_THAT(Kinds(Changed(core_, lapsed)),
              ElementsAre("REGISTRATION_REVOKED:CLEARED"));
  // A lapse of an aircraft not flying changes nothing.
  *lapsed.mutable_expire_time() = TimeToProto(kT0 - absl::Seconds(1));
  lapsed.set_serial_number("SN-B");
  lapsed.set_operator_id("op-b");
  EXPECT_THAT(Changed(core_, lapsed), IsEmpty());
}

TEST_F(TelemetryRegistrationTest, RegisteredAgainClearsTheAlert) {
  Fly("op-a", "SN-REG", "intent-a", At(0));
  registry_.registered["SN-REG"].revoked = true;
  std::vector<AlertChange> c =
      Changed(core_, Registration("SN-REG", "op-a", kT0, "lost"));
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:RAISED"));
  const std::string id = c[0].alert.id();
  // Another operator's, or an expired, registration of the serial does not.
  EXPECT_THAT(Changed(core_, Registration("SN-REG", "op-b", std::nullopt)),
              IsEmpty());
  v1::AircraftRegistration expired =
      Registration("SN-REG", "op-a", std::nullopt);
  *expired.mutable_expire_time() = TimeToProto(kT0 - absl::Seconds(1));
  EXPECT_THAT(Changed(core_, expired), IsEmpty());

  registry_.registered["SN-REG"].revoked = false;
  c = Changed(core_, Registration("SN-REG", "op-a", std::nullopt));
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:CLEARED"));
  EXPECT_EQ(c[0].alert.id(), id);
  EXPECT_THAT(c[0].operators, ElementsAre("op-a"));
  // Its next report is checked again, and raises nothing.
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Fly("op-a", "SN-REG", "intent-a", At(10)), IsEmpty());
  EXPECT_EQ(registry_.calls, 2);
  EXPECT_THAT(core_.OpenAlerts(), IsEmpty());
}

TEST_F(TelemetryRegistrationTest, LostLinkAndRetirementClearTheAlert) {
  Fly("op-a", "SN-REG", "intent-a", At(0));
  registry_.registered["SN-REG"].revoked = true;
  std::string id = Changed(core_, Registration("SN-REG", "op-a", kT0, "lost"))
                       .at(0)
                       .alert.id();
  // Silent: a lost link first (the revocation stays open with it), then
  // retired with every alert about it.
  clock_.Advance(Options().lost_link_after + absl::Seconds(1));
  EXPECT_THAT(Kinds(core_.Tick()), ElementsAre("LOST_LINK:RAISED"));
  clock_.Advance(Options().retire_after);
  std::vector<AlertChange> c =
      OfKind(core_.Tick(), v1::ALERT_KIND_REGISTRATION_REVOKED);
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:CLEARED"));
  EXPECT_EQ(c[0].alert.id(), id);
  EXPECT_EQ(core_.track_count(), 0u);
  // Back after retirement: a new track, checked, refused (revoked).
  TelemetryCore::Result r = Send("op-a", {Report("SN-REG", "intent-a", At(0))});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].message(),
            "reports[0].aircraft_id: SN-REG's registration was revoked");

  // The flight ends (its intent no longer active): retired at the next
  // tick after the report gap, the revocation cleared with it.
  registry_.registered["SN-LIGHT"] = {"op-a", false};
  Fly("op-a", "SN-LIGHT", "intent-light", At(0));
  registry_.registered["SN-LIGHT"].revoked = true;
  id = Changed(core_, Registration("SN-LIGHT", "op-a", kT0)).at(0).alert.id();
  airspace_.Add("intent-light", "op-a", "SN-LIGHT", 200, false);
  clock_.Advance(Options().report_gap);
  c = core_.Tick();
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:CLEARED"));
  EXPECT_EQ(c[0].alert.id(), id);
}

// An observer that holds only the core (no service) loses nothing: the
// changes come out of the next Tick, once.
TEST_F(TelemetryRegistrationTest, WaitingAlertsComeOutOfTheNextTickOnce) {
  Fly("op-a", "SN-REG", "intent-a", At(0));
  registry_.registered["SN-REG"].revoked = true;
  core_.OnRegistrationChanged(Registration("SN-REG", "op-a", kT0, "lost"));
  EXPECT_THAT(Kinds(core_.Tick()), ElementsAre("REGISTRATION_REVOKED:RAISED"));
  EXPECT_THAT(core_.TakeRegistrationAlerts(), IsEmpty());
  EXPECT_THAT(core_.Tick(), IsEmpty());
  registry_.registered["SN-REG"].revoked = false;
  core_.OnRegistrationChanged(Registration("SN-REG", "op-a", std::nullopt));
  EXPECT_THAT(Kinds(core_.TakeRegistrationAlerts()),
              ElementsAre("REGISTRATION_REVOKED:CLEARED"));
  EXPECT_THAT(core_.Tick(), IsEmpty());
}

TEST_F(TelemetryRegistrationTest, RevocationReasonIsBounded) {
  Fly("op-a", "SN-REG", "intent-a", At(0));
  std::vector<AlertChange> c = Changed(
      core_, Registration("SN-REG", "op-a", kT0, std::string(100000, 'x')));
  ASSERT_THAT(c, SizeIs(1));
  EXPECT_LT(c[0].alert.message().size(), 1000u);
}

// Replicas: every replica's registry observer fires, and each that holds
// the aircraft keeps the alert's state, but only the owner raises it.
TEST_F(TelemetryRegistrationTest, OnlyTheOwningReplicaRaises) {
  FixedScope owner_scope(true), halo_scope(false);
  TelemetryCore owner(Options(), &clock_, &airspace_);
  TelemetryCore halo(Options(), &clock_, &airspace_);
  owner.SetReplicaScope(&owner_scope);
  halo.SetReplicaScope(&halo_scope);
  owner.SetRegistrationChecker(&registry_);
  halo.SetRegistrationChecker(&registry_);
  EXPECT_THAT(Send(owner, "op-a", {Report("SN-REG", "intent-a", At(0))}).errors,
              IsEmpty());
  EXPECT_THAT(
      Send(halo, "op-a", {Report("SN-REG", "intent-a", At(0))}, true).errors,
      IsEmpty());

  registry_.registered["SN-REG"].revoked = true;
  const v1::AircraftRegistration revoked =
      Registration("SN-REG", "op-a", kT0, "lost");
  std::vector<AlertChange> raised = Changed(owner, revoked);
  ASSERT_THAT(Kinds(raised), ElementsAre("REGISTRATION_REVOKED:RAISED"));
  EXPECT_THAT(Changed(halo, revoked), IsEmpty());

  // The aircraft crosses into the halo's region: it takes the episode over
  // under the same (deterministic) id at the next update.
  halo_scope.raises = true;
  owner_scope.raises = false;
  clock_.Advance(Options().update_interval);
  std::vector<AlertChange> c = OfKind(
      Send(halo, "op-a", {Report("SN-REG", "intent-a", At(50))}, true).alerts,
      v1::ALERT_KIND_REGISTRATION_REVOKED);
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:UPDATED"));
  EXPECT_EQ(c[0].alert.id(), raised[0].alert.id());
  EXPECT_THAT(
      OfKind(Send(owner, "op-a", {Report("SN-REG", "intent-a", At(50))}).alerts,
             v1::ALERT_KIND_REGISTRATION_REVOKED),
      IsEmpty());
}

// A replica that starts holding the aircraft after the revocation (its
// reports now forwarded from another replica) does not refuse it: it
// raises the alert, once per aircraft, and clears it on registration.
TEST_F(TelemetryRegistrationTest,
       ForwardedAircraftWithLapsedRegistrationIsAlerted) {
  FixedScope scope(true);
  TelemetryCore replica(Options(), &clock_, &airspace_);
  replica.SetReplicaScope(&scope);
  replica.SetRegistrationChecker(&registry_);
  registry_.registered["SN-REG"].revoked = true;
  TelemetryCore::Result r =
      Send(replica, "op-a", {Report("SN-REG", "intent-a", At(0))}, true);
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(replica.track_count(), 1u);
  std::vector<AlertChange> c =
      OfKind(r.alerts, v1::ALERT_KIND_REGISTRATION_REVOKED);
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:RAISED"));
  EXPECT_EQ(c[0].alert.message(),
            "SN-REG: registration no longer in force (aircraft_id: SN-REG's "
            "registration was revoked); still tracked and deconflicted");
  // Its answer is kept: the next forwarded reports do not ask again.
  for (int s = 1; s <= 3; ++s) {
    clock_.Advance(absl::Seconds(1));
    EXPECT_THAT(
        Send(replica, "op-a", {Report("SN-REG", "intent-a", At(s))}, true)
            .errors,
        IsEmpty());
  }
  EXPECT_EQ(registry_.calls, 1);
  registry_.registered["SN-REG"].revoked = false;
  c = Changed(replica, Registration("SN-REG", "op-a", std::nullopt));
  ASSERT_THAT(Kinds(c), ElementsAre("REGISTRATION_REVOKED:CLEARED"));
}

}  // namespace
}  // namespace utm::telemetry
