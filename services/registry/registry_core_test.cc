// RegistryCore over a real LocalLedger (memory or embedded store) and real
// Followers: validation, the write rules, the registration check, the read
// permissions, paging, the change observer, two replicas racing for one
// serial number, and a restart.
#include "services/registry/registry_core.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/forwarding_ledger.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/registry/registration_record.h"
#include "services/registry/registry_testing.h"

namespace utm::registry {
namespace {

using test_util::kT0;
using test_util::Reg;
using test_util::Regulator;
using test_util::Serial;

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ANSI/CTA-2063-A serial numbers: manufacturer code, length character 'A'
// (10), ten characters.
constexpr char kSerial[] = "1596A4JPN5R7B10";
constexpr char kSerial2[] = "1596A4JPN5R7B20";
constexpr char kSerial3[] = "1596A4JPN5R7B30";

Caller Operator(const std::string& id) {
  Caller c;
  c.id = id;
  c.operator_ = true;
  return c;
}
Caller Police(const std::string& id = "police-7") {
  Caller c;
  c.id = id;
  c.law_enforcement = true;
  return c;
}

v1::RevokeRegistrationRequest Rev(const std::string& serial,
                                  const std::string& reason = "stolen") {
  v1::RevokeRegistrationRequest r;
  r.set_serial_number(serial);
  r.set_reason(reason);
  return r;
}

v1::GetRegistrationRequest GetReq(const std::string& serial,
                                  const std::string& case_reference = "") {
  v1::GetRegistrationRequest r;
  r.set_serial_number(serial);
  r.set_case_reference(case_reference);
  return r;
}

// One replica: a follower and the core it feeds.
struct Replica {
  std::unique_ptr<ledger::Follower> follower;
  std::unique_ptr<RegistryCore> core;

  Replica(ledger::Ledger* ledger, const Clock* clock, RegistryOptions options,
          RegistryCore::ChangeObserver observer = nullptr) {
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(20);
    follower = std::make_unique<ledger::Follower>(ledger, fo);
    core =
        std::make_unique<RegistryCore>(options, clock, ledger, follower.get());
    if (observer) core->SetChangeObserver(std::move(observer));
    absl::Status started = follower->Start();
    EXPECT_TRUE(started.ok()) << started;
  }
  ~Replica() {
    // The follower calls into the core: it stops first.
    follower->Stop();
  }
};

RegistryOptions Threshold250() {
  RegistryOptions o;
  o.jurisdiction.threshold_g = 250;  // FAA 14 CFR 48.15; EU 2019/947
  return o;
}

class RegistryCoreTest : public ::testing::Test {
 protected:
  RegistryCoreTest() {
    store::StoreOptions memory;
    memory.backend = "memory";
    store_ = *store::OpenStore(memory);
    ledger_ = *ledger::LocalLedger::Open(store_.get());
  }

  Replica& Start(RegistryOptions options = Threshold250(),
                 RegistryCore::ChangeObserver observer = nullptr) {
    replicas_.push_back(std::make_unique<Replica>(
        ledger_.get(), &clock_, std::move(options), std::move(observer)));
    return *replicas_.back();
  }
  RegistryCore& Core() {
    if (replicas_.empty()) Start();
    return *replicas_.front()->core;
  }

  SimulatedClock clock_{kT0};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

void ExpectInvalid(const absl::Status& s, absl::string_view field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith(absl::StrCat(field, ":")))
      << s;
}

TEST_F(RegistryCoreTest, EveryRegistrationErrorNamesItsField) {
  struct Case {
    std::string field;
    std::function<void(v1::RegisterAircraftRequest*)> spoil;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"registration.serial_number",
       [](auto* r) { r->mutable_registration()->set_serial_number("WRONG"); },
       "ANSI/CTA-2063-A"},
      {"registration.serial_number",
       [](auto* r) { r->mutable_registration()->clear_serial_number(); }, ""},
      {"registration.mass_g",
       [](auto* r) { r->mutable_registration()->set_mass_g(0); },
       "1..25000000"},
      {"registration.mass_g",
       [](auto* r) { r->mutable_registration()->set_mass_g(25'000'001); },
       "25000001 g"},
      {"registration.operator_id",
       [](auto* r) { r->mutable_registration()->clear_operator_id(); },
       "required"},
      {"registration.operator_id",
       [](auto* r) { r->mutable_registration()->set_operator_id("op\n1"); },
       "byte 2 (0x0a) is not printable ASCII"},
      {"registration.operator_id",
       [](auto* r) {
         r->mutable_registration()->set_operator_id(std::string(129, 'o'));
       },
       "129 bytes, at most 128"},
      {"registration.operator_registration_id",
       [](auto* r) {
         r->mutable_registration()->clear_operator_registration_id();
       },
       "required"},
      {"registration.operator_registration_id",
       [](auto* r) {
         r->mutable_registration()->set_operator_registration_id(
             std::string(65, 'R'));
       },
       "65 bytes, at most 64"},
      {"registration.make_model",
       [](auto* r) {
         r->mutable_registration()->set_make_model(std::string(129, 'm'));
       },
       "129 bytes, at most 128"},
      {"registration.make_model",
       [](auto* r) { r->mutable_registration()->set_make_model("Acme\x07"); },
       "byte 4 (0x07) is a control character"},
      {"registration.ua_type",
       [](auto* r) {
         r->mutable_registration()->set_ua_type(static_cast<v1::UaType>(99));
       },
       "99"},
      {"registration.expire_time",
       [](auto* r) {
         *r->mutable_registration()->mutable_expire_time() =
             TimeToProto(kT0 - absl::Seconds(1));
       },
       "2026-12-07T09:59:59Z is not in the future"},
      {"registration.expire_time",
       [](auto* r) {
         r->mutable_registration()->mutable_expire_time()->set_nanos(-1);
       },
       ""},
      {"version", [](auto* r) { r->set_version(-1); }, "-1 is negative"},
  };
  for (const Case& c : cases) {
    v1::RegisterAircraftRequest r = Reg(kSerial, "op-1");
    c.spoil(&r);
    absl::Status s = Core().Register(Regulator(), r).status();
    SCOPED_TRACE(c.field + " " + c.fragment);
    ExpectInvalid(s, c.field);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.fragment));
  }
  EXPECT_EQ(Core().size(), 0u);
}

TEST_F(RegistryCoreTest, EveryRevokeReadAndListErrorNamesItsField) {
  ExpectInvalid(Core().Revoke(Regulator(), Rev("1596")).status(),
                "serial_number");
  ExpectInvalid(Core().Revoke(Regulator(), Rev(kSerial, "")).status(),
                "reason");
  ExpectInvalid(
      Core().Revoke(Regulator(), Rev(kSerial, std::string(257, 'x'))).status(),
      "reason");
  ExpectInvalid(
      Core().Revoke(Regulator(), Rev(kSerial, "bad\rreason")).status(),
      "reason");
  ExpectInvalid(Core().Get(Regulator(), GetReq("x")).status(), "serial_number");
  absl::Status s = Core().Get(Police(), GetReq(kSerial, "W-1\n")).status();
  ExpectInvalid(s, "case_reference");
  EXPECT_THAT(std::string(s.message()), HasSubstr("byte 3"));

  v1::ListRegistrationsRequest list;
  list.set_page_size(1001);
  ExpectInvalid(Core().List(Regulator(), list).status(), "page_size");
  list.set_page_size(-1);
  ExpectInvalid(Core().List(Regulator(), list).status(), "page_size");
  list.set_page_size(0);
  list.set_page_token(std::string(100000, '!'));
  s = Core().List(Regulator(), list).status();
  ExpectInvalid(s, "page_token");
  EXPECT_LT(s.message().size(), 200u) << "the message is bounded";
  list.clear_page_token();
  list.set_operator_id("op\x01");
  ExpectInvalid(Core().List(Regulator(), list).status(), "operator_id");
}

TEST_F(RegistryCoreTest, RegisterReplaceStaleAlreadyExistsAndRetry) {
  absl::StatusOr<v1::RegisterAircraftResponse> first =
      Core().Register(Regulator(), Reg(kSerial, "op-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  const v1::AircraftRegistration& r = first->registration();
  EXPECT_EQ(r.version(), 1);
  EXPECT_EQ(r.registered_by(), "faa");
  EXPECT_EQ(r.register_time().seconds(), absl::ToUnixSeconds(kT0));
  EXPECT_EQ(r.operator_id(), "op-1");
  EXPECT_FALSE(r.has_revoke_time());

  // The same registration again, by the same regulator: a retry, answered
  // with what was stored (not version 2).
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<v1::RegisterAircraftResponse> retry =
      Core().Register(Regulator(), Reg(kSerial, "op-1"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->registration().version(), 1);
  EXPECT_EQ(retry->registration().register_time().seconds(),
            absl::ToUnixSeconds(kT0));

  // Different content at version 0: ALREADY_EXISTS, and so is the same
  // content from another regulator.
  absl::Status s = Core().Register(Regulator(), Reg(kSerial, "op-2")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("registration.serial_number: 1596A4JPN5R7B10 is "
                        "already registered (version 1)"));
  EXPECT_EQ(
      Core().Register(Regulator("easa"), Reg(kSerial, "op-1")).status().code(),
      absl::StatusCode::kAlreadyExists);

  // Replace version 1: version 2, the new operator.
  absl::StatusOr<v1::RegisterAircraftResponse> replaced =
      Core().Register(Regulator(), Reg(kSerial, "op-2", 1200, 1));
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->registration().version(), 2);
  EXPECT_EQ(replaced->registration().mass_g(), 1200);
  // Its retry answers version 2 again; a stale version is ABORTED.
  absl::StatusOr<v1::RegisterAircraftResponse> replaced_again =
      Core().Register(Regulator(), Reg(kSerial, "op-2", 1200, 1));
  ASSERT_TRUE(replaced_again.ok()) << replaced_again.status();
  EXPECT_EQ(replaced_again->registration().version(), 2);
  s = Core().Register(Regulator(), Reg(kSerial, "op-3", 1200, 1)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("version: 1 is stale; the registration of "
                        "1596A4JPN5R7B10 is at version 2"));
  // A version for an unknown serial: NOT_FOUND.
  s = Core().Register(Regulator(), Reg(kSerial2, "op-1", 900, 4)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(std::string(s.message()),
              StartsWith("registration.serial_number: 1596A4JPN5R7B20 is not "
                         "registered"));
  // Only regulators write.
  s = Core().Register(Operator("op-1"), Reg(kSerial2, "op-1")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  s = Core().Revoke(Police(), Rev(kSerial)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_EQ(Core().size(), 1u);
}

TEST_F(RegistryCoreTest, AFullRegistryRefusesNewSerialsOnly) {
  RegistryOptions options = Threshold250();
  options.max_registrations = 2;
  RegistryCore& core = *Start(options).core;
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-1")).ok());
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial2, "op-1")).ok());
  absl::Status s = core.Register(Regulator(), Reg(kSerial3, "op-1")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(s.message(), "the registry holds 2 registrations, at most 2");
  // Replacing and revoking what is held still work.
  EXPECT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-2", 900, 1)).ok());
  EXPECT_TRUE(core.Revoke(Regulator(), Rev(kSerial2)).ok());
  EXPECT_TRUE(core.Register(Regulator(), Reg(kSerial2, "op-1")).ok());
  EXPECT_EQ(core.size(), 2u);
}

TEST_F(RegistryCoreTest, RevokeThenReplaceTheRevokedRegistration) {
  ASSERT_TRUE(Core().Register(Regulator(), Reg(kSerial, "op-1")).ok());
  clock_.Advance(absl::Hours(1));
  absl::StatusOr<v1::RevokeRegistrationResponse> revoked =
      Core().Revoke(Regulator(), Rev(kSerial, "reported stolen"));
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->registration().version(), 2);
  EXPECT_EQ(revoked->registration().revoke_time().seconds(),
            absl::ToUnixSeconds(kT0 + absl::Hours(1)));
  EXPECT_EQ(revoked->registration().revoked_by(), "faa");
  EXPECT_EQ(revoked->registration().revoke_reason(), "reported stolen");
  EXPECT_EQ(revoked->registration().operator_id(), "op-1");

  // The same revocation again is a retry; another is FAILED_PRECONDITION.
  absl::StatusOr<v1::RevokeRegistrationResponse> again =
      Core().Revoke(Regulator(), Rev(kSerial, "reported stolen"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->registration().version(), 2);
  absl::Status s = Core().Revoke(Regulator(), Rev(kSerial, "other")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(s.message(),
            "serial_number: the registration of 1596A4JPN5R7B10 was already "
            "revoked at 2026-12-07T11:00:00Z");
  s = Core().Revoke(Regulator(), Rev(kSerial2)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(s.message(), "serial_number: 1596A4JPN5R7B20 is not registered");

  // A revoked registration is replaced by version 0: in force again, with
  // no revocation on it.
  absl::StatusOr<v1::RegisterAircraftResponse> anew =
      Core().Register(Regulator(), Reg(kSerial, "op-1"));
  ASSERT_TRUE(anew.ok()) << anew.status();
  EXPECT_EQ(anew->registration().version(), 3);
  EXPECT_FALSE(anew->registration().has_revoke_time());
  EXPECT_EQ(anew->registration().revoke_reason(), "");
  EXPECT_TRUE(Core().CheckAircraft("op-1", kSerial, 900, "f").ok());
}

TEST_F(RegistryCoreTest, FindAnswersTheRecordAsHeldWithoutAccessRules) {
  EXPECT_FALSE(Core().Find(kSerial).has_value());
  ASSERT_TRUE(Core().Register(Regulator(), Reg(kSerial, "op-1")).ok());
  ASSERT_TRUE(Core().Revoke(Regulator(), Rev(kSerial, "reported stolen")).ok());
  std::optional<v1::AircraftRegistration> r = Core().Find(kSerial);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->operator_id(), "op-1");
  EXPECT_EQ(r->version(), 2);
  EXPECT_EQ(r->revoke_reason(), "reported stolen");
  EXPECT_FALSE(Core().Find(kSerial2).has_value());
}

TEST_F(RegistryCoreTest, ExpiredRegistrationsAreNotInForce) {
  v1::RegisterAircraftRequest r = Reg(kSerial, "op-1");
  *r.mutable_registration()->mutable_expire_time() =
      TimeToProto(kT0 + absl::Hours(24));
  ASSERT_TRUE(Core().Register(Regulator(), r).ok());
  EXPECT_TRUE(Core().CheckAircraft("op-1", kSerial, 900, "aircraft").ok());
  v1::ListRegistrationsRequest list;
  EXPECT_EQ(Core().List(Regulator(), list)->registrations_size(), 1);

  clock_.Advance(absl::Hours(24));
  absl::Status s = Core().CheckAircraft("op-1", kSerial, 900, "aircraft");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "aircraft: the registration of 1596A4JPN5R7B10 expired at "
            "2026-12-08T10:00:00Z");
  EXPECT_EQ(Core().List(Regulator(), list)->registrations_size(), 0);
  list.set_include_inactive(true);
  EXPECT_EQ(Core().List(Regulator(), list)->registrations_size(), 1);
  // An expired registration is replaced by version 0.
  absl::StatusOr<v1::RegisterAircraftResponse> renewed =
      Core().Register(Regulator(), Reg(kSerial, "op-1"));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->registration().version(), 2);
  EXPECT_FALSE(renewed->registration().has_expire_time());
  EXPECT_TRUE(Core().CheckAircraft("op-1", kSerial, 900, "aircraft").ok());
}

TEST_F(RegistryCoreTest, CheckAircraftEachBranchAndMessage) {
  RegistryCore& core = Core();
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-1")).ok());
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial2, "op-1")).ok());
  clock_.Set(kT0 + absl::Hours(3));
  ASSERT_TRUE(core.Revoke(Regulator(), Rev(kSerial2, "unpaid fee")).ok());
  const std::string f = "aircraft.serial_number";
  auto message = [&](absl::string_view op, absl::string_view id,
                     int64_t mass) -> std::string {
    absl::Status s = core.CheckAircraft(op, id, mass, f);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    return std::string(s.message());
  };
  // Registered to the caller, in force.
  EXPECT_TRUE(core.CheckAircraft("op-1", kSerial, 900, f).ok());
  EXPECT_TRUE(core.CheckAircraft("op-1", kSerial, 0, f).ok());
  // Another operator's: whose it is stays unsaid.
  EXPECT_EQ(message("op-2", kSerial, 900),
            "aircraft.serial_number: 1596A4JPN5R7B10 is registered to another "
            "operator");
  // Revoked: when and why.
  EXPECT_EQ(message("op-1", kSerial2, 900),
            "aircraft.serial_number: the registration of 1596A4JPN5R7B20 was "
            "revoked at 2026-12-07T13:00:00Z: unpaid fee");
  // Not registered: the threshold decides, on the declared mass.
  EXPECT_EQ(message("op-1", kSerial3, 900),
            "aircraft.serial_number: 1596A4JPN5R7B30 is not registered; "
            "aircraft above 250 g must be registered here (declared mass: "
            "900 g)");
  EXPECT_EQ(message("op-1", kSerial3, 251),
            "aircraft.serial_number: 1596A4JPN5R7B30 is not registered; "
            "aircraft above 250 g must be registered here (declared mass: "
            "251 g)");
  EXPECT_EQ(message("op-1", kSerial3, 0),
            "aircraft.serial_number: 1596A4JPN5R7B30 is not registered; "
            "aircraft above 250 g must be registered here (no mass declared)");
  EXPECT_TRUE(core.CheckAircraft("op-1", kSerial3, 250, f).ok());
  EXPECT_TRUE(core.CheckAircraft("op-1", kSerial3, 1, f).ok());
  EXPECT_EQ(message("op-1", "", 0),
            "aircraft.serial_number: no aircraft named and no mass declared; "
            "aircraft above 250 g must be registered here");
  EXPECT_EQ(message("op-1", "", 300),
            "aircraft.serial_number: no aircraft named; aircraft above 250 g "
            "must be registered here (declared mass: 300 g)");
  EXPECT_TRUE(core.CheckAircraft("op-1", "", 249, f).ok());
  // An unprintable id from a caller is quoted, never echoed raw.
  EXPECT_THAT(message("op-1", "bad\nid", 900), HasSubstr("\"bad\\nid\""));
}

TEST_F(RegistryCoreTest, WithoutAThresholdEverythingMayFly) {
  RegistryCore& core = *Start(RegistryOptions{}).core;
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-1")).ok());
  ASSERT_TRUE(core.Revoke(Regulator(), Rev(kSerial)).ok());
  EXPECT_TRUE(core.CheckAircraft("op-2", kSerial, 900, "f").ok());
  EXPECT_TRUE(core.CheckAircraft("op-2", kSerial3, 90000, "f").ok());
  EXPECT_TRUE(core.CheckAircraft("op-2", "", 0, "f").ok());
}

TEST_F(RegistryCoreTest, ReadPermissionMatrix) {
  RegistryCore& core = Core();
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-1")).ok());
  struct Case {
    const char* name;
    Caller caller;
    std::string serial;
    std::string case_reference;
    absl::StatusCode code;
    bool audited;
    bool found;
  };
  Caller nobody;
  nobody.id = "someone";
  Caller police_operator = Police("op-1");
  police_operator.operator_ = true;
  const std::vector<Case> cases = {
      {"registry", Regulator(), kSerial, "", absl::StatusCode::kOk, false,
       true},
      {"registry, unknown", Regulator(), kSerial2, "",
       absl::StatusCode::kNotFound, false, false},
      {"registry with a case", Regulator(), kSerial, "W-1",
       absl::StatusCode::kOk, false, true},
      {"its operator", Operator("op-1"), kSerial, "", absl::StatusCode::kOk,
       false, true},
      {"its operator, also police", police_operator, kSerial, "W-1",
       absl::StatusCode::kOk, false, true},
      {"another operator", Operator("op-2"), kSerial, "",
       absl::StatusCode::kPermissionDenied, false, false},
      {"another operator, unknown", Operator("op-2"), kSerial2, "",
       absl::StatusCode::kPermissionDenied, false, false},
      {"another operator with a case", Operator("op-2"), kSerial, "W-1",
       absl::StatusCode::kPermissionDenied, false, false},
      {"police without a case", Police(), kSerial, "",
       absl::StatusCode::kPermissionDenied, false, false},
      {"police with a case", Police(), kSerial, "W-1", absl::StatusCode::kOk,
       true, true},
      {"police with a case, unknown", Police(), kSerial2, "W-1",
       absl::StatusCode::kOk, true, false},
      {"no role", nobody, kSerial, "W-1", absl::StatusCode::kPermissionDenied,
       false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<RegistryCore::GetResult> r =
        core.Get(c.caller, GetReq(c.serial, c.case_reference));
    ASSERT_EQ(r.status().code(), c.code) << r.status();
    if (!r.ok()) continue;
    EXPECT_EQ(r->audited, c.audited);
    EXPECT_EQ(r->found, c.found);
    EXPECT_EQ(r->response.has_registration(), c.found);
    if (c.found) {
      EXPECT_EQ(r->response.registration().operator_id(), "op-1");
    }
  }
  // Refusals say the same whether or not the serial number is registered.
  absl::Status known = core.Get(Operator("op-2"), GetReq(kSerial)).status();
  absl::Status unknown = core.Get(Operator("op-2"), GetReq(kSerial2)).status();
  EXPECT_EQ(known.message(),
            "op-2 may not read the registration of 1596A4JPN5R7B10: the "
            "registry authority, the operator it is registered to or law "
            "enforcement with a case reference only");
  EXPECT_THAT(
      std::string(unknown.message()),
      HasSubstr("op-2 may not read the registration of 1596A4JPN5R7B20"));
  EXPECT_THAT(
      std::string(core.Get(Police(), GetReq(kSerial)).status().message()),
      StartsWith("case_reference: required"));
}

std::vector<std::string> Serials(const v1::ListRegistrationsResponse& r) {
  std::vector<std::string> out;
  for (const v1::AircraftRegistration& a : r.registrations()) {
    out.push_back(a.serial_number());
  }
  return out;
}

TEST_F(RegistryCoreTest, ListPagesAndFilters) {
  RegistryCore& core = Core();
  // Registered out of order; op-1 holds 0, 2, 4, 6; op-2 holds 1, 3, 5.
  for (int i : {4, 0, 6, 2, 5, 1, 3}) {
    ASSERT_TRUE(
        core.Register(Regulator(), Reg(Serial(i), i % 2 == 0 ? "op-1" : "op-2"))
            .ok());
  }
  ASSERT_TRUE(core.Revoke(Regulator(), Rev(Serial(2))).ok());

  // The registry authority, three at a time, in serial order, in force.
  v1::ListRegistrationsRequest list;
  list.set_page_size(3);
  std::vector<std::string> all;
  int pages = 0;
  for (;; ++pages) {
    absl::StatusOr<v1::ListRegistrationsResponse> page =
        core.List(Regulator(), list);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const std::string& s : Serials(*page)) all.push_back(s);
    if (page->next_page_token().empty()) break;
    ASSERT_LE(pages, 5);
    list.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(pages, 1);  // two pages: 3 + 3
  EXPECT_THAT(all, ElementsAre(Serial(0), Serial(1), Serial(3), Serial(4),
                               Serial(5), Serial(6)));

  // Exactly a page's worth: no next page.
  v1::ListRegistrationsRequest one_op;
  one_op.set_operator_id("op-2");
  one_op.set_page_size(3);
  absl::StatusOr<v1::ListRegistrationsResponse> op2 =
      core.List(Regulator(), one_op);
  ASSERT_TRUE(op2.ok()) << op2.status();
  EXPECT_THAT(Serials(*op2), ElementsAre(Serial(1), Serial(3), Serial(5)));
  EXPECT_EQ(op2->next_page_token(), "");

  // An operator sees its own, revoked ones when asked.
  v1::ListRegistrationsRequest own;
  own.set_include_inactive(true);
  absl::StatusOr<v1::ListRegistrationsResponse> op1 =
      core.List(Operator("op-1"), own);
  ASSERT_TRUE(op1.ok()) << op1.status();
  EXPECT_THAT(Serials(*op1),
              ElementsAre(Serial(0), Serial(2), Serial(4), Serial(6)));
  own.set_operator_id("op-2");
  absl::Status s = core.List(Operator("op-1"), own).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith("operator_id:"));
  s = core.List(Police(), v1::ListRegistrationsRequest()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
}

TEST_F(RegistryCoreTest, ListLooksAtABoundedNumberPerCall) {
  RegistryOptions options = Threshold250();
  options.list_scan_limit = 3;
  RegistryCore& core = *Start(options).core;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(core.Register(Regulator(), Reg(Serial(i), "op-1")).ok());
  }
  for (int i : {0, 1, 2, 3, 4}) {
    ASSERT_TRUE(core.Revoke(Regulator(), Rev(Serial(i))).ok());
  }
  // Pages of up to 100, but three looked at per call: short pages with a
  // token, until the end; everyone's and one operator's alike.
  for (const char* op : {"", "op-1"}) {
    SCOPED_TRACE(op);
    v1::ListRegistrationsRequest list;
    list.set_operator_id(op);
    std::vector<std::vector<std::string>> pages;
    for (int calls = 0; calls < 10; ++calls) {
      absl::StatusOr<v1::ListRegistrationsResponse> page =
          core.List(Regulator(), list);
      ASSERT_TRUE(page.ok()) << page.status();
      pages.push_back(Serials(*page));
      if (page->next_page_token().empty()) break;
      list.set_page_token(page->next_page_token());
    }
    EXPECT_THAT(pages, ElementsAre(ElementsAre(), ElementsAre(Serial(5)),
                                   ElementsAre(Serial(6), Serial(7))));
  }
}

TEST_F(RegistryCoreTest, ListFollowsARegistrationToItsNewOperator) {
  RegistryCore& core = Core();
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-1")).ok());
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-2", 900, 1)).ok());
  EXPECT_EQ(core.List(Operator("op-1"), {})->registrations_size(), 0);
  absl::StatusOr<v1::ListRegistrationsResponse> op2 =
      core.List(Operator("op-2"), {});
  ASSERT_TRUE(op2.ok()) << op2.status();
  EXPECT_THAT(Serials(*op2), ElementsAre(kSerial));
}

TEST_F(RegistryCoreTest, TheChangeObserverSeesTheRevocation) {
  absl::Mutex mu;
  std::vector<v1::AircraftRegistration> seen;
  RegistryCore& core =
      *Start(Threshold250(), [&](const v1::AircraftRegistration& r) {
         absl::MutexLock lock(&mu);
         seen.push_back(r);
       }).core;
  ASSERT_TRUE(core.Register(Regulator(), Reg(kSerial, "op-1")).ok());
  ASSERT_TRUE(core.Revoke(Regulator(), Rev(kSerial, "crashed")).ok());
  // Revoke answered once this replica applied it: the observer ran.
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[0].has_revoke_time());
  EXPECT_EQ(seen[1].serial_number(), kSerial);
  EXPECT_TRUE(seen[1].has_revoke_time());
  EXPECT_EQ(seen[1].revoke_reason(), "crashed");
  EXPECT_EQ(seen[1].operator_id(), "op-1");
}

TEST_F(RegistryCoreTest, TheChangeObserverHearsOfEachLapseOnce) {
  absl::Mutex mu;
  std::vector<v1::AircraftRegistration> seen;
  RegistryCore& core =
      *Start(Threshold250(), [&](const v1::AircraftRegistration& r) {
         absl::MutexLock lock(&mu);
         seen.push_back(r);
       }).core;
  auto expiring = [&](const std::string& serial, absl::Duration in,
                      int64_t version = 0) {
    v1::RegisterAircraftRequest r = Reg(serial, "op-1", 900, version);
    *r.mutable_registration()->mutable_expire_time() =
        TimeToProto(clock_.Now() + in);
    return r;
  };
  auto count = [&] {
    absl::MutexLock lock(&mu);
    return seen.size();
  };
  ASSERT_TRUE(
      core.Register(Regulator(), expiring(Serial(1), absl::Hours(1))).ok());
  ASSERT_TRUE(
      core.Register(Regulator(), expiring(Serial(2), absl::Hours(1))).ok());
  ASSERT_TRUE(
      core.Register(Regulator(), expiring(Serial(3), absl::Hours(1))).ok());
  ASSERT_TRUE(core.Register(Regulator(), Reg(Serial(4), "op-1")).ok());
  // Serial 2 renewed for a day; serial 3 revoked.
  ASSERT_TRUE(
      core.Register(Regulator(), expiring(Serial(2), absl::Hours(24), 1)).ok());
  ASSERT_TRUE(core.Revoke(Regulator(), Rev(Serial(3), "sold")).ok());
  ASSERT_EQ(count(), 6u);  // every write

  core.NotifyLapsed();
  EXPECT_EQ(count(), 6u);  // nothing lapsed yet
  clock_.Advance(absl::Hours(1));
  core.NotifyLapsed();
  ASSERT_EQ(count(), 7u);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(seen.back().serial_number(), Serial(1));
    EXPECT_FALSE(registry::InForce(seen.back(), clock_.Now()));
  }
  core.NotifyLapsed();
  EXPECT_EQ(count(), 7u);  // once
  clock_.Advance(absl::Hours(23));
  core.NotifyLapsed();
  ASSERT_EQ(count(), 8u);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen.back().serial_number(), Serial(2));
  EXPECT_EQ(seen.back().version(), 2);
}

TEST_F(RegistryCoreTest, AnUndecodableRecordIsSkipped) {
  RegistryCore& core = Core();
  Replica& r = *replicas_.front();
  absl::StatusOr<ledger::CommitResult> c = ledger_->CommitAndWait(
      ledger::Guard{r.follower->applied(), {}, {}},
      {store::Put(RegistryCore::kTable, kSerial, "\xff\xff not a proto")});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(r.follower->WaitApplied(c->position.seq).ok());
  EXPECT_EQ(core.size(), 0u);
  EXPECT_TRUE(core.Register(Regulator(), Reg(kSerial2, "op-1")).ok());
  EXPECT_EQ(core.size(), 1u);
}

// Holds each replica's commit until the other's arrives (or a second
// passes), so that both decide on a model without the other's write.
class Rendezvous {
 public:
  void Arrive() {
    absl::MutexLock lock(&mu_);
    const int n = ++arrived_;
    const int pair_done = (n + 1) / 2 * 2;
    auto met = [&] { return arrived_ >= pair_done; };
    mu_.AwaitWithTimeout(absl::Condition(&met), absl::Seconds(1));
  }

 private:
  absl::Mutex mu_;
  int arrived_ ABSL_GUARDED_BY(mu_) = 0;
};

class RendezvousLedger final : public ledger::ForwardingLedger {
 public:
  RendezvousLedger(Ledger* inner, Rendezvous* r)
      : ForwardingLedger(inner), rendezvous_(r) {}
  void Commit(ledger::Guard guard, std::vector<ledger::Mutation> mutations,
              Done done) override {
    if (!mutations.empty()) rendezvous_->Arrive();
    ForwardingLedger::Commit(std::move(guard), std::move(mutations),
                             std::move(done));
  }

 private:
  Rendezvous* const rendezvous_;
};

TEST_F(RegistryCoreTest, TwoReplicasRegisteringOneSerialAtOnceOneWins) {
  Rendezvous rendezvous;
  RendezvousLedger view_a(ledger_.get(), &rendezvous);
  RendezvousLedger view_b(ledger_.get(), &rendezvous);
  Replica a(&view_a, &clock_, Threshold250());
  Replica b(&view_b, &clock_, Threshold250());
  constexpr int kSerials = 8;
  for (int i = 0; i < kSerials; ++i) {
    SCOPED_TRACE(Serial(i));
    absl::Status sa, sb;
    // Different operators: neither is a retry of the other.
    std::thread ta([&] {
      sa = a.core->Register(Regulator(), Reg(Serial(i), "op-a")).status();
    });
    std::thread tb([&] {
      sb = b.core->Register(Regulator(), Reg(Serial(i), "op-b")).status();
    });
    ta.join();
    tb.join();
    EXPECT_EQ(sa.ok() + sb.ok(), 1) << sa << " / " << sb;
    EXPECT_TRUE(sa.code() == absl::StatusCode::kAlreadyExists ||
                sb.code() == absl::StatusCode::kAlreadyExists)
        << sa << " / " << sb;
    ASSERT_TRUE(a.follower->CatchUp().ok());
    ASSERT_TRUE(b.follower->CatchUp().ok());
    absl::StatusOr<RegistryCore::GetResult> ga =
        a.core->Get(Regulator(), GetReq(Serial(i)));
    absl::StatusOr<RegistryCore::GetResult> gb =
        b.core->Get(Regulator(), GetReq(Serial(i)));
    ASSERT_TRUE(ga.ok() && gb.ok());
    EXPECT_EQ(ga->response.SerializeAsString(),
              gb->response.SerializeAsString());
    EXPECT_EQ(ga->response.registration().version(), 1);
    EXPECT_EQ(ga->response.registration().operator_id(),
              sa.ok() ? "op-a" : "op-b");
  }
  EXPECT_EQ(a.core->size(), static_cast<size_t>(kSerials));
  EXPECT_EQ(b.core->size(), static_cast<size_t>(kSerials));
}

TEST(RegistryCoreRestart, RegistrationsAndRevocationsComeBack) {
  const fs::path dir = fs::path(::testing::TempDir()) /
                       absl::StrCat("registry-", getpid(), "-restart");
  fs::remove_all(dir);
  store::StoreOptions options;
  options.dir = dir.string();
  SimulatedClock clock(kT0);
  {
    std::unique_ptr<store::Store> st = *store::OpenStore(options);
    std::unique_ptr<ledger::LocalLedger> ledger =
        *ledger::LocalLedger::Open(st.get());
    Replica r(ledger.get(), &clock, Threshold250());
    ASSERT_TRUE(r.core->Register(Regulator(), Reg(kSerial, "op-1")).ok());
    ASSERT_TRUE(r.core->Register(Regulator(), Reg(kSerial2, "op-2")).ok());
    clock.Advance(absl::Minutes(5));
    ASSERT_TRUE(r.core->Revoke(Regulator(), Rev(kSerial2, "sold")).ok());
  }
  {
    absl::StatusOr<std::unique_ptr<store::Store>> st =
        store::OpenStore(options);
    ASSERT_TRUE(st.ok()) << st.status();
    std::unique_ptr<ledger::LocalLedger> ledger =
        *ledger::LocalLedger::Open(st->get());
    Replica r(ledger.get(), &clock, Threshold250());
    EXPECT_EQ(r.core->size(), 2u);
    absl::StatusOr<RegistryCore::GetResult> one =
        r.core->Get(Regulator(), GetReq(kSerial));
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(one->response.registration().operator_id(), "op-1");
    EXPECT_EQ(one->response.registration().version(), 1);
    EXPECT_TRUE(r.core->CheckAircraft("op-1", kSerial, 900, "f").ok());
    absl::StatusOr<RegistryCore::GetResult> two =
        r.core->Get(Regulator(), GetReq(kSerial2));
    ASSERT_TRUE(two.ok()) << two.status();
    EXPECT_EQ(two->response.registration().version(), 2);
    EXPECT_EQ(two->response.registration().revoke_reason(), "sold");
    EXPECT_EQ(r.core->CheckAircraft("op-2", kSerial2, 900, "f").message(),
              "f: the registration of 1596A4JPN5R7B20 was revoked at "
              "2026-12-07T10:05:00Z: sold");
    // Writes go on from the reloaded versions.
    absl::StatusOr<v1::RegisterAircraftResponse> next =
        r.core->Register(Regulator(), Reg(kSerial, "op-3", 900, 1));
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(next->registration().version(), 2);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace utm::registry
