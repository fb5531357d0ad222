// An intent's aircraft (FlightAircraft) through IntentCore: validation,
// filing, modifying and activating with one, kept across writes and the
// store, and the registration check at activation. The registry here is a
// small map with the rule of registration_check.h; the real registry is
// tested against the real intent service end to end
// (tests/utmctl_registry_test.sh).
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/registration_check.h"
#include "services/common/store.h"
#include "services/intent/intent_core.h"

namespace utm::intent {
namespace {

using geo::Circle;
using geo::Volume4D;
using geo::test_util::kZurich;
using ::testing::HasSubstr;
using S = IntentState;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15

Volume4D Cylinder(double east_m) {
  return Volume4D{
      geo::Volume3D{Circle{geo::GeodesicDestination(kZurich, 90, east_m), 100},
                    {500, 620}},
      {kNow + absl::Minutes(10), kNow + absl::Minutes(40)}};
}

// Serial -> operator; the threshold 250 g. Counts the calls.
class MapRegistry final : public registration::RegistrationChecker {
 public:
  std::map<std::string, std::string> owners;
  mutable int calls = 0;
  absl::Status CheckAircraft(absl::string_view operator_id,
                             absl::string_view aircraft_id,
                             int64_t declared_mass_g,
                             absl::string_view field) const override {
    ++calls;
    auto it = owners.find(std::string(aircraft_id));
    if (it != owners.end()) {
      if (it->second == operator_id) return absl::OkStatus();
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": ", aircraft_id, " is registered to another operator"));
    }
    if (declared_mass_g > 0 && declared_mass_g <= 250) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", aircraft_id, " is not registered"));
  }
};

class IntentAircraftTest : public testing::Test {
 protected:
  IntentAircraftTest()
      : clock_(kNow), core_(IntentOptions(), &clock_, [this] {
          return absl::StrCat("intent-", ++ids_);
        }) {
    registry_.owners["1596A4JPN5R7B10"] = "op-a";
    core_.SetRegistrationChecker(&registry_);
  }

  // Files an intent of op-a with `aircraft`; its id.
  std::string Filed(AircraftDecl aircraft, double east_m = 0) {
    FileRequest file{"", 0, {Cylinder(east_m)}};
    file.aircraft = std::move(aircraft);
    absl::StatusOr<WriteOutcome> out = core_.File("op-a", file);
    EXPECT_TRUE(out.ok() && out->accepted()) << out.status();
    return out.ok() && out->accepted() ? out->intent->id : "";
  }

  absl::StatusOr<WriteOutcome> Activate(
      const std::string& id, int64_t version,
      std::optional<AircraftDecl> aircraft = std::nullopt) {
    TransitionRequest t{"", id, version, S::kActivated, {}};
    t.aircraft = std::move(aircraft);
    return core_.Transition("op-a", t);
  }

  SimulatedClock clock_;
  int ids_ = 0;
  MapRegistry registry_;
  IntentCore core_;
};

TEST_F(IntentAircraftTest, RegisteredAircraftActivates) {
  const std::string id = Filed({"1596A4JPN5R7B10", 900});
  absl::StatusOr<WriteOutcome> out = Activate(id, 1);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->accepted());
  EXPECT_EQ(out->intent->state, S::kActivated);
  EXPECT_EQ(out->intent->aircraft_serial, "1596A4JPN5R7B10");
  EXPECT_EQ(out->intent->aircraft_mass_g, 900);
}

TEST_F(IntentAircraftTest, UnregisteredHeavyAircraftStaysAccepted) {
  const std::string id = Filed({"1596A4JPN5R7B99", 900});
  absl::StatusOr<WriteOutcome> out = Activate(id, 1);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(out.status().message(),
            "aircraft.serial_number: 1596A4JPN5R7B99 is not registered");
  absl::StatusOr<IntentView> view = core_.Get("op-a", id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->intent.state, S::kAccepted);
  EXPECT_EQ(view->intent.version, 1);
}

TEST_F(IntentAircraftTest, NoAircraftNamedIsCheckedAsSuch) {
  const std::string id = Filed({});
  absl::StatusOr<WriteOutcome> out = Activate(id, 1);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  // The field is the aircraft as a whole: nothing in it was given.
  EXPECT_THAT(out.status().message(), HasSubstr("aircraft: "));
}

TEST_F(IntentAircraftTest, AnotherOperatorsAircraftIsRefused) {
  registry_.owners["1596A4JPN5R7B11"] = "op-b";
  const std::string id = Filed({"1596A4JPN5R7B11", 900});
  EXPECT_EQ(Activate(id, 1).status().message(),
            "aircraft.serial_number: 1596A4JPN5R7B11 is registered to another "
            "operator");
}

TEST_F(IntentAircraftTest, LightAircraftFliesUnregistered) {
  const std::string id = Filed({"my-mini", 249});
  absl::StatusOr<WriteOutcome> out = Activate(id, 1);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->accepted());
}

TEST_F(IntentAircraftTest, ActivationMayNameTheAircraft) {
  // Planned without an aircraft; the pilot picks a registered one at
  // take-off, and it is kept with the intent.
  const std::string id = Filed({});
  absl::StatusOr<WriteOutcome> out =
      Activate(id, 1, AircraftDecl{"1596A4JPN5R7B10", 900});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->accepted());
  absl::StatusOr<IntentView> view = core_.Get("op-a", id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->intent.aircraft_serial, "1596A4JPN5R7B10");
}

TEST_F(IntentAircraftTest, ModifyReplacesOrKeepsTheAircraft) {
  const std::string id = Filed({"1596A4JPN5R7B99", 900});
  ModifyRequest keep{"", id, 1, 0, {Cylinder(50)}};
  absl::StatusOr<WriteOutcome> kept = core_.Modify("op-a", keep);
  ASSERT_TRUE(kept.ok() && kept->accepted()) << kept.status();
  EXPECT_EQ(kept->intent->aircraft_serial, "1596A4JPN5R7B99");
  ModifyRequest swap{"", id, 2, 0, {Cylinder(50)}};
  swap.aircraft = AircraftDecl{"1596A4JPN5R7B10", 1200};
  absl::StatusOr<WriteOutcome> swapped = core_.Modify("op-a", swap);
  ASSERT_TRUE(swapped.ok() && swapped->accepted()) << swapped.status();
  EXPECT_EQ(swapped->intent->aircraft_serial, "1596A4JPN5R7B10");
  EXPECT_EQ(swapped->intent->aircraft_mass_g, 1200);
  absl::StatusOr<WriteOutcome> out = Activate(id, 3);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->accepted());
}

TEST_F(IntentAircraftTest, OnlyActivationOfAnAcceptedIntentTakesAnAircraft) {
  const std::string id = Filed({"1596A4JPN5R7B10", 900});
  ASSERT_TRUE(Activate(id, 1).ok());
  TransitionRequest end{"", id, 2, S::kEnded, {}};
  end.aircraft = AircraftDecl{"1596A4JPN5R7B10", 900};
  EXPECT_EQ(core_.Transition("op-a", end).status().message(),
            "aircraft: only with activation, not ENDED");
}

TEST_F(IntentAircraftTest, OtherTransitionsDoNotAskTheRegistry) {
  const std::string id = Filed({"1596A4JPN5R7B10", 900});
  ASSERT_TRUE(Activate(id, 1).ok());
  const int calls = registry_.calls;
  // Revoked in flight: ending the flight must still work.
  registry_.owners.clear();
  TransitionRequest end{"", id, 2, S::kEnded, {}};
  absl::StatusOr<WriteOutcome> out = core_.Transition("op-a", end);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->accepted());
  EXPECT_EQ(registry_.calls, calls);
}

TEST_F(IntentAircraftTest, WithoutARegistryAnythingActivates) {
  core_.SetRegistrationChecker(nullptr);
  const std::string id = Filed({"anything", 0});
  absl::StatusOr<WriteOutcome> out = Activate(id, 1);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->accepted());
}

TEST_F(IntentAircraftTest, MalformedAircraftIsRefusedNamingTheField) {
  FileRequest file{"", 0, {Cylinder(0)}};
  file.aircraft = AircraftDecl{std::string(65, 'A'), 0};
  EXPECT_EQ(core_.File("op-a", file).status().message(),
            "aircraft.serial_number: 65 bytes; at most 64 are allowed");
  file.aircraft = AircraftDecl{"ab cd", 0};
  EXPECT_EQ(core_.File("op-a", file).status().message(),
            "aircraft.serial_number: byte 2 (0x20) is not printable ASCII "
            "(spaces are not allowed either)");
  file.aircraft = AircraftDecl{"X", -1};
  EXPECT_EQ(core_.File("op-a", file).status().message(),
            "aircraft.mass_g: -1 is outside [0, 25000000] grams");
  file.aircraft = AircraftDecl{"X", 25000001};
  EXPECT_EQ(core_.File("op-a", file).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IntentAircraftTest, RetryWithAnotherAircraftIsNotTheSameRequest) {
  FileRequest file{"req-1", 0, {Cylinder(0)}};
  file.aircraft = AircraftDecl{"1596A4JPN5R7B10", 900};
  ASSERT_TRUE(core_.File("op-a", file).ok());
  // The same request again answers the same intent ...
  absl::StatusOr<WriteOutcome> again = core_.File("op-a", file);
  ASSERT_TRUE(again.ok()) << again.status();
  // ... another aircraft under the same request id is a different request.
  file.aircraft = AircraftDecl{"1596A4JPN5R7B11", 900};
  EXPECT_EQ(core_.File("op-a", file).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(IntentAircraftStore, TheAircraftSurvivesARestart) {
  SimulatedClock clock(kNow);
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) /
                                    absl::StrCat("intent-aircraft-", getpid());
  std::filesystem::remove_all(dir);
  store::StoreOptions options;
  options.dir = dir.string();
  std::string id;
  {
    std::unique_ptr<store::Store> store = *store::OpenStore(options);
    IntentCore core(IntentOptions(), &clock, nullptr, store.get());
    ASSERT_TRUE(core.Recover().ok());
    FileRequest file{"", 0, {Cylinder(0)}};
    file.aircraft = AircraftDecl{"1596A4JPN5R7B10", 900};
    absl::StatusOr<WriteOutcome> out = core.File("op-a", file);
    ASSERT_TRUE(out.ok() && out->accepted()) << out.status();
    id = out->intent->id;
  }
  {
    std::unique_ptr<store::Store> store = *store::OpenStore(options);
    IntentCore core(IntentOptions(), &clock, nullptr, store.get());
    ASSERT_TRUE(core.Recover().ok());
    absl::StatusOr<IntentView> view = core.Get("op-a", id);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->intent.aircraft_serial, "1596A4JPN5R7B10");
    EXPECT_EQ(view->intent.aircraft_mass_g, 900);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace utm::intent
