// OperatorService.ExportData and EraseData over a real gRPC server on
// loopback, with the real cores on one embedded store and a file audit log:
// an operator gets everything utmd holds about it and nothing of anyone
// else's; an erasure waits for flights to end, then leaves nothing of the
// operator in the store's files or the audit log but what the law keeps
// (its registration in force, and the audit entries under a pseudonym).
#include "services/operator/operator_data.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/audit/audit_log.h"
#include "services/common/file_testing.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/server.h"
#include "services/common/store.h"
#include "services/intent/intent_core.h"
#include "services/operator/data_policy.h"
#include "services/operator/data_sections.h"
#include "services/operator/flight_log.h"
#include "services/operator/flight_log_store.h"
#include "services/operator/operator_service.h"
#include "services/registry/registry_core.h"
#include "services/registry/registry_testing.h"
#include "services/remoteid/remoteid_core.h"
#include "tests/service_test_util.h"
#include "tests/telemetry_test_util.h"

namespace utm::fleet {
namespace {

namespace fs = std::filesystem;
using test_util::ServiceTestAuth;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

const absl::Time kStart = registry::test_util::kT0;
const geo::LatLng kZurich{47.3706, 8.4881};

// A cylinder `east_m` east of Zurich, minutes 10 to 40 from now.
geo::Volume4D Cylinder(double east_m, absl::Time now) {
  return geo::Volume4D{
      geo::Volume3D{
          geo::Circle{geo::GeodesicDestination(kZurich, 90, east_m), 100},
          {500, 620}},
      {now + absl::Minutes(10), now + absl::Minutes(40)}};
}

class OperatorDataTest : public ::testing::Test {
 protected:
  OperatorDataTest() {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat(
               "operator-data-", ::getpid(), "-",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store::StoreOptions so;
    so.dir = (dir_ / "store").string();
    store_ = *store::OpenStore(so);
    intents_ = std::make_unique<intent::IntentCore>(
        intent::IntentOptions(), &clock_, nullptr, store_.get());
    EXPECT_TRUE(intents_->Recover().ok());
    ledger_ = *ledger::LocalLedger::Open(store_.get());
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(20);
    follower_ = std::make_unique<ledger::Follower>(ledger_.get(), fo);
    registry_ = std::make_unique<registry::RegistryCore>(
        registry::RegistryOptions(), &clock_, ledger_.get(), follower_.get());
    EXPECT_TRUE(follower_->Start().ok());
    audit_ = *audit::OpenFileAuditLog((dir_ / "audit.log").string(), &clock_);
    remoteid::RemoteIdOptions ro;
    ro.session_key = "0123456789abcdef0123456789abcdef";
    display_ = std::make_unique<remoteid::RemoteIdCore>(ro, &clock_);

    flight_store_ = *OpenFlightLogStore(store_.get());
    flight_logs_ = std::make_unique<FlightLogs>(
        FlightLogOptions(), &clock_, &policies_, flight_store_.get());
    flight_section_ = std::make_unique<FlightLogSection>(flight_logs_.get());
    intent_section_ = std::make_unique<IntentSection>(intents_.get());
    registration_section_ =
        std::make_unique<RegistrationSection>(registry_.get());
    reads_section_ = std::make_unique<PrivilegedReadsSection>(
        audit_.get(), absl::Hours(1), &clock_);
    live_section_ = std::make_unique<LiveFlightsSection>(display_.get());
    data_ = std::make_unique<OperatorData>(
        std::vector<DataSection*>{live_section_.get(), intent_section_.get(),
                                  flight_section_.get(),
                                  registration_section_.get(),
                                  reads_section_.get()},
        [](const std::string& id) {
          return absl::StrCat("pseudonym-of-", id.size());
        },
        store_.get(), &clock_);

    FleetSources sources;
    sources.display = display_.get();
    sources.intent_state = [](const std::string&, const std::string&) {
      return v1::INTENT_STATE_UNSPECIFIED;
    };
    sources.open_alerts = [] { return std::vector<telemetry::AlertChange>(); };
    fleet_ = std::make_unique<FleetView>(std::move(sources));
    service_ = std::make_unique<OperatorService>(fleet_.get(), auth_.verifier(),
                                                 &clock_);
    service_->SetOperatorData(data_.get());
    server_ = *test_util::StartOnLoopback({service_.get()});
    stub_ = v1::OperatorService::NewStub(test_util::LoopbackChannel(*server_));
  }
  ~OperatorDataTest() override {
    server_->Shutdown(absl::Seconds(1));
    service_.reset();
    follower_->Stop();
    fs::remove_all(dir_);
  }

  std::string File(const std::string& owner, double east_m) {
    absl::StatusOr<intent::WriteOutcome> out =
        intents_->File(owner, {"", 0, {Cylinder(east_m, clock_.Now())}});
    EXPECT_TRUE(out.ok() && out->accepted());
    return out.ok() && out->accepted() ? out->intent->id : "";
  }
  void Audit(const std::string& about, const std::string& target) {
    audit::AuditEvent e;
    e.subject = "police-7";
    e.case_reference = "ZH-2026-0142";
    e.action = "intent-owner";
    e.target = target;
    e.about = about;
    e.disclosed = about;
    ASSERT_TRUE(audit_->Record(e).ok());
  }

  // The archive as the stream delivers it, file by file.
  absl::StatusOr<std::map<std::string, std::string>> Export(
      const std::string& who) {
    grpc::ClientContext context;
    ServiceTestAuth::Authorize(&context, auth_.Token(who, "operator"));
    auto reader = stub_->ExportData(&context, v1::ExportDataRequest());
    std::map<std::string, std::string> files;
    std::vector<std::string> order;
    v1::ArchivePiece piece;
    while (reader->Read(&piece)) {
      if (order.empty() || order.back() != piece.path()) {
        EXPECT_EQ(files.count(piece.path()), 0u) << "pieces not in a row";
        order.push_back(piece.path());
      }
      files[piece.path()].append(piece.data());
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    EXPECT_EQ(order.front(), "README.md");
    EXPECT_EQ(order.back(), "manifest.json");
    return files;
  }
  // `n` positions of `aircraft` naming no intent, one a second, then the
  // flight is closed (its log written).
  void Fly(const std::string& op, const std::string& aircraft, int n) {
    for (int i = 0; i < n; ++i) {
      flight_logs_->OnReport(
          op, test_util::ReportAt(aircraft,
                                  geo::GeodesicDestination(kZurich, 0, 5 * i),
                                  clock_.Now(), 5));
      clock_.Advance(absl::Seconds(1));
    }
    flight_logs_->CloseAll();
  }
  grpc::Status Erase(const std::string& who, const std::string& confirm,
                     v1::EraseDataResponse* response) {
    grpc::ClientContext context;
    ServiceTestAuth::Authorize(&context, auth_.Token(who, "operator"));
    v1::EraseDataRequest request;
    request.set_confirm(confirm);
    return stub_->EraseData(&context, request, response);
  }
  // How often `what` occurs in every file under `under` (DEFAULT: the
  // data directory).
  int Occurrences(const std::string& what, fs::path under = {}) const {
    int n = 0;
    for (const auto& e :
         fs::recursive_directory_iterator(under.empty() ? dir_ : under)) {
      if (!e.is_regular_file()) continue;
      const std::string bytes = test_util::ReadFileBytes(e.path());
      for (size_t at = bytes.find(what); at != std::string::npos;
           at = bytes.find(what, at + 1)) {
        ++n;
      }
    }
    return n;
  }

  SimulatedClock clock_{kStart};
  ServiceTestAuth auth_{&clock_};
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<intent::IntentCore> intents_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::unique_ptr<ledger::Follower> follower_;
  std::unique_ptr<registry::RegistryCore> registry_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<remoteid::RemoteIdCore> display_;
  UniformDataPolicies policies_;
  std::unique_ptr<FlightLogStore> flight_store_;
  std::unique_ptr<FlightLogs> flight_logs_;
  std::unique_ptr<FlightLogSection> flight_section_;
  std::unique_ptr<IntentSection> intent_section_;
  std::unique_ptr<RegistrationSection> registration_section_;
  std::unique_ptr<PrivilegedReadsSection> reads_section_;
  std::unique_ptr<LiveFlightsSection> live_section_;
  std::unique_ptr<OperatorData> data_;
  std::unique_ptr<FleetView> fleet_;
  std::unique_ptr<OperatorService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::OperatorService::Stub> stub_;
};

TEST_F(OperatorDataTest, ExportHoldsTheOperatorsDataAndNobodyElses) {
  const std::string a1 = File("operator-alice", 0);
  const std::string a2 = File("operator-alice", 1000);
  ASSERT_TRUE(intents_
                  ->Transition("operator-alice",
                               {"", a2, 1, intent::IntentState::kCancelled, {}})
                  ->accepted());
  const std::string b1 = File("operator-bob", 2000);
  const registry::Caller faa = registry::test_util::Regulator();
  ASSERT_TRUE(
      registry_
          ->Register(faa, registry::test_util::Reg(
                              registry::test_util::Serial(1), "operator-alice"))
          .ok());
  ASSERT_TRUE(
      registry_
          ->Register(faa, registry::test_util::Reg(
                              registry::test_util::Serial(2), "operator-bob"))
          .ok());
  Audit("operator-alice", a1);
  Audit("operator-bob", b1);
  Fly("operator-alice", "alice-drone-1", 12);
  Fly("operator-bob", "bob-drone-1", 5);
  clock_.Advance(absl::Hours(2));
  Audit("operator-alice", a2);  // too recent to be shown: withheld

  absl::StatusOr<std::map<std::string, std::string>> files =
      Export("operator-alice");
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(
      [&] {
        std::vector<std::string> names;
        for (const auto& [name, bytes] : *files) names.push_back(name);
        return names;
      }(),
      ::testing::ElementsAre("README.md", ::testing::StartsWith("flight-logs/"),
                             "intents.json", "manifest.json",
                             "privileged-reads.json", "registrations.json"));
  for (const auto& [name, bytes] : *files) {
    EXPECT_THAT(bytes, Not(HasSubstr("operator-bob"))) << name;
    EXPECT_THAT(bytes, Not(HasSubstr("bob-drone-1"))) << name;
    EXPECT_THAT(bytes, Not(HasSubstr(b1))) << name;
  }
  const std::string& readme = files->at("README.md");
  for (const char* name : {"intents.json", "registrations.json",
                           "privileged-reads.json", "manifest.json"}) {
    EXPECT_THAT(readme, HasSubstr(absl::StrCat("`", name, "`")));
  }
  const Json intents = Json::parse(files->at("intents.json"));
  ASSERT_EQ(intents["intents"].size(), 2u);
  EXPECT_EQ(intents["intents"][0]["id"], std::min(a1, a2));
  EXPECT_EQ(intents["intents"][0]["owner"], "operator-alice");
  for (const auto& [name, bytes] : *files) {
    if (name.rfind("flight-logs/", 0) != 0) continue;
    const Json log = Json::parse(bytes);
    EXPECT_EQ(log["type"], "FeatureCollection");
    EXPECT_EQ(log["features"][0]["geometry"]["coordinates"].size(), 12u);
    EXPECT_THAT(bytes, HasSubstr("alice-drone-1"));
  }
  const Json registrations = Json::parse(files->at("registrations.json"));
  ASSERT_EQ(registrations["registrations"].size(), 1u);
  EXPECT_EQ(registrations["registrations"][0]["serial_number"],
            registry::test_util::Serial(1));
  const Json reads = Json::parse(files->at("privileged-reads.json"));
  ASSERT_EQ(reads["reads"].size(), 1u);
  EXPECT_EQ(reads["reads"][0]["target"], a1);
  EXPECT_EQ(reads["reads"][0]["reader"], "police-7");
  EXPECT_EQ(reads["reads"][0]["case_reference"], "ZH-2026-0142");
  EXPECT_EQ(reads["withheld"], 1);
  const Json manifest = Json::parse(files->at("manifest.json"));
  EXPECT_EQ(manifest["operator"], "operator-alice");
  ASSERT_EQ(manifest["files"].size(), 5u);
  for (const Json& f : manifest["files"]) {
    const std::string& bytes = files->at(f["path"].get<std::string>());
    EXPECT_EQ(f["bytes"], bytes.size());
    EXPECT_EQ(f["sha256"], audit::Sha256Hex(bytes));
  }

  // An operator with nothing gets the README and the manifest only.
  absl::StatusOr<std::map<std::string, std::string>> nothing =
      Export("operator-carol");
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_EQ(nothing->size(), 2u);
  // Only operators: a police token has no strategic scope.
  grpc::ClientContext context;
  ServiceTestAuth::Authorize(&context, auth_.Token("police-7", "police"));
  auto reader = stub_->ExportData(&context, v1::ExportDataRequest());
  v1::ArchivePiece piece;
  EXPECT_FALSE(reader->Read(&piece));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(OperatorDataTest,
       EraseWaitsForFlightsThenLeavesNothingButWhatTheLawKeeps) {
  const registry::Caller faa = registry::test_util::Regulator();
  const std::string in_force = registry::test_util::Serial(1);
  const std::string revoked = registry::test_util::Serial(3);
  ASSERT_TRUE(
      registry_
          ->Register(faa, registry::test_util::Reg(in_force, "operator-alice"))
          .ok());
  ASSERT_TRUE(
      registry_
          ->Register(faa, registry::test_util::Reg(revoked, "operator-alice"))
          .ok());
  v1::RevokeRegistrationRequest revoke;
  revoke.set_serial_number(revoked);
  revoke.set_reason("sold");
  ASSERT_TRUE(registry_->Revoke(faa, revoke).ok());
  const std::string a1 = File("operator-alice", 0);
  const std::string flying = File("operator-alice", 1000);
  const std::string b1 = File("operator-bob", 2000);
  ASSERT_TRUE(
      intents_
          ->Transition("operator-alice",
                       {"", flying, 1, intent::IntentState::kActivated, {}})
          ->accepted());
  Audit("operator-alice", a1);
  Audit("operator-bob", b1);
  Fly("operator-alice", "alice-drone-1", 12);
  Fly("operator-bob", "bob-drone-1", 5);
  {
    audit::AuditEvent e;  // the police read her registration in force
    e.subject = "police-7";
    e.case_reference = "ZH-2026-0143";
    e.action = "registration";
    e.target = in_force;
    e.about = "operator-alice";
    e.disclosed = "operator=operator-alice,operator_registration_id=FA3XYZ123";
    ASSERT_TRUE(audit_->Record(e).ok());
  }

  v1::EraseDataResponse response;
  // The confirmation must be the caller's own id.
  EXPECT_EQ(Erase("operator-alice", "operator-bob", &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A flight in progress: nothing is erased.
  grpc::Status refused = Erase("operator-alice", "operator-alice", &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(),
              HasSubstr(absl::StrCat("intent ", flying, " is ACTIVATED")));
  ASSERT_TRUE(intents_
                  ->Transition("operator-alice",
                               {"", flying, 2, intent::IntentState::kEnded, {}})
                  ->accepted());
  // An aircraft still reporting is a flight in progress too.
  display_->AddNetworkReport(
      "operator-alice",
      test_util::ReportAt("alice-drone-1", kZurich, clock_.Now(), 5));
  refused = Erase("operator-alice", "operator-alice", &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("alice-drone-1 is flying"));
  EXPECT_TRUE(intents_->Get("operator-alice", a1).ok());
  ASSERT_TRUE(store_->Compact().ok());  // everything queued is on disk
  EXPECT_GT(Occurrences(a1, dir_ / "store"), 0);
  EXPECT_GT(Occurrences("alice-drone-1"), 0);
  clock_.Advance(absl::Seconds(61));
  display_->Expire();

  const grpc::Status erased =
      Erase("operator-alice", "operator-alice", &response);
  ASSERT_TRUE(erased.ok()) << erased.error_message();
  EXPECT_EQ(response.intents_erased(), 2);
  EXPECT_EQ(response.flight_logs_erased(), 1);
  EXPECT_EQ(response.registrations_erased(), 1);
  EXPECT_THAT(response.registrations_kept(), ::testing::ElementsAre(in_force));
  EXPECT_EQ(response.audit_entries_pseudonymised(), 2);
  EXPECT_EQ(response.pseudonym(), "pseudonym-of-14");

  // In the files: nothing of the intents or the revoked registration in
  // the store; the operator's id only in its registration in force (once,
  // in the snapshot); the audit entry under the pseudonym, its chain
  // intact; and everything of Bob's.
  EXPECT_EQ(Occurrences(a1, dir_ / "store"), 0);
  EXPECT_EQ(Occurrences("alice-drone-1"), 0);
  EXPECT_GT(Occurrences("bob-drone-1"), 0);
  EXPECT_EQ(Occurrences(flying), 0);
  EXPECT_EQ(Occurrences(revoked), 0);
  EXPECT_EQ(Occurrences("operator-alice"), 1);
  EXPECT_EQ(Occurrences("operator-alice", dir_ / "store"), 1);
  EXPECT_GT(Occurrences(in_force, dir_ / "store"), 0);  // key and record
  EXPECT_GT(Occurrences(b1), 0);
  EXPECT_GT(Occurrences("operator-bob"), 0);
  const std::string audit = test_util::ReadFileBytes(dir_ / "audit.log");
  EXPECT_THAT(audit, HasSubstr("about~="));
  EXPECT_THAT(audit, HasSubstr("pseudonym-of-14"));
  // Her other identifiers too: her registration number and her aircraft's
  // serial number (pseudonyms of their own).
  EXPECT_THAT(audit, Not(HasSubstr("FA3XYZ123")));
  EXPECT_THAT(audit, Not(HasSubstr(in_force)));
  EXPECT_THAT(audit, HasSubstr("operator_registration_id%3Dpseudonym-of-9"));
  std::vector<std::string> lines = absl::StrSplit(
      absl::string_view(audit).substr(0, audit.size() - 1), '\n');
  EXPECT_TRUE(audit::VerifyAuditLines(lines).ok());
  EXPECT_TRUE(intents_->Get("operator-bob", b1).ok());

  // Again: nothing left to do.
  ASSERT_TRUE(Erase("operator-alice", "operator-alice", &response).ok());
  EXPECT_EQ(response.intents_erased(), 0);
  EXPECT_EQ(response.audit_entries_pseudonymised(), 0);
}

}  // namespace
}  // namespace utm::fleet
