// Disclosures and their audit over a real gRPC server: the strategic
// service discloses an intent's owner only to law enforcement that gives a
// case reference, records each disclosure in a real (file) audit log before
// answering, and auditors — only auditors — read that log back through
// AuditService.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/audit_service.h"
#include "services/common/audit/audit_chain.h"
#include "services/common/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_service.h"
#include "tests/service_test_util.h"
#include "utm/v1/audit.grpc.pb.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr char kCase[] = "WARRANT 2026/0042";

v1::Volume4D Cylinder(double east_m) {
  geo::Volume4D v{
      geo::Volume3D{geo::Circle{geo::GeodesicDestination(
                                    geo::test_util::kZurich, 90, east_m),
                                100},
                    {500, 620}},
      {kNow + absl::Minutes(10), kNow + absl::Minutes(40)}};
  return VolumeToProto(v);
}

class AuditServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("audit-service-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    absl::StatusOr<std::unique_ptr<audit::AuditLog>> log =
        audit::OpenFileAuditLog((dir_ / "audit.log").string(), &clock_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    sink_ = log_->Sink();
    core_ = std::make_unique<intent::IntentCore>(intent::IntentOptions(),
                                                 &clock_);
    // The service's sink goes through sink_, which a test may replace.
    intent_service_ = std::make_unique<intent::IntentService>(
        core_.get(), auth_.verifier(),
        [this](const audit::AuditEvent& event) { return sink_(event); });
    audit_service_ =
        std::make_unique<audit::AuditService>(log_.get(), auth_.verifier());
    absl::StatusOr<std::unique_ptr<Server>> server =
        test_util::StartOnLoopback(
            {intent_service_.get(), audit_service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    strategic_ = v1::StrategicCoordination::NewStub(
        test_util::LoopbackChannel(*server_));
    audit_ = v1::AuditService::NewStub(test_util::LoopbackChannel(*server_));
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string Token(const std::string& subject, const std::string& role) {
    return auth_.Token(subject, role);
  }
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return test_util::ServiceTestAuth::As(token);
  }
  std::string File(const std::string& owner, double east_m) {
    v1::FileIntentRequest request;
    *request.add_volumes() = Cylinder(east_m);
    v1::FileIntentResponse response;
    const grpc::Status s = strategic_->FileIntent(
        As(Token(owner, "operator")).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.intent().id();
  }
  grpc::Status Get(const std::string& token, const std::string& id,
                   const std::string& case_reference,
                   v1::GetIntentResponse* response) {
    v1::GetIntentRequest request;
    request.set_intent_id(id);
    request.set_case_reference(case_reference);
    return strategic_->GetIntent(As(token).get(), request, response);
  }
  grpc::Status Query(const std::string& token,
                     const std::string& case_reference,
                     v1::QueryIntentsResponse* response) {
    v1::QueryIntentsRequest request;
    *request.mutable_area() = Cylinder(300);
    request.mutable_area()->mutable_volume()->mutable_outline_circle()
        ->set_radius_m(2000);
    request.set_case_reference(case_reference);
    return strategic_->QueryIntents(As(token).get(), request, response);
  }
  grpc::Status Read(const std::string& token, int64_t after, int page_size,
                    v1::ReadAuditLogResponse* response) {
    v1::ReadAuditLogRequest request;
    request.set_after_sequence(after);
    request.set_page_size(page_size);
    return audit_->ReadAuditLog(As(token).get(), request, response);
  }
  // Every entry, read through the server as an auditor.
  std::vector<v1::AuditEntry> Entries() {
    v1::ReadAuditLogResponse response;
    const grpc::Status s = Read(Token("auditor-1", "auditor"), 0, 1000,
                                &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.entries().begin(), response.entries().end()};
  }

  fs::path dir_;
  SimulatedClock clock_{kNow};
  test_util::ServiceTestAuth auth_{&clock_};
  std::unique_ptr<audit::AuditLog> log_;
  audit::AuditSink sink_;
  std::unique_ptr<intent::IntentCore> core_;
  std::unique_ptr<intent::IntentService> intent_service_;
  std::unique_ptr<audit::AuditService> audit_service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::StrategicCoordination::Stub> strategic_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

TEST_F(AuditServiceTest, PoliceWithACaseSeeTheOwnerAndTheReadIsAudited) {
  const std::string id = File("alice", 0);
  v1::GetIntentResponse response;
  ASSERT_TRUE(Get(Token("officer-7", "police"), id, kCase, &response).ok());
  EXPECT_EQ(response.intent().owner(), "alice");

  const std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  const v1::AuditEntry& e = entries[0];
  EXPECT_EQ(e.sequence(), 1);
  EXPECT_EQ(e.subject(), "officer-7");
  EXPECT_EQ(e.case_reference(), kCase);
  EXPECT_EQ(e.action(), "intent-owner");
  EXPECT_EQ(e.target(), id);
  EXPECT_EQ(e.disclosed(), "alice");
  EXPECT_EQ(e.time().seconds(), absl::ToUnixSeconds(kNow));
  EXPECT_EQ(e.prev_hash(), audit::kGenesisHash);
  EXPECT_THAT(e.line(), HasSubstr(" case=WARRANT%202026/0042 "));
  // The line is what verifies, and it is the chain's head.
  absl::StatusOr<audit::VerifyResult> verified =
      audit::VerifyAuditLines({e.line()});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->head.hash, e.hash());
}

TEST_F(AuditServiceTest, PoliceWithoutACaseGetTheRedactedView) {
  const std::string id = File("alice", 0);
  v1::GetIntentResponse response;
  ASSERT_TRUE(Get(Token("officer-7", "police"), id, "", &response).ok());
  EXPECT_TRUE(response.has_redacted());
  EXPECT_FALSE(response.has_intent());
  v1::QueryIntentsResponse query;
  ASSERT_TRUE(Query(Token("officer-7", "police"), "", &query).ok());
  ASSERT_EQ(query.intents_size(), 1);
  EXPECT_EQ(query.intents(0).owner(), "");
  EXPECT_TRUE(Entries().empty());
}

TEST_F(AuditServiceTest, ACaseReferenceFromAnyoneElseIsRefused) {
  const std::string id = File("alice", 0);
  for (const char* role : {"operator", "regulator", "monitor", "auditor"}) {
    v1::GetIntentResponse response;
    grpc::Status s = Get(Token("someone", role), id, kCase, &response);
    if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
        s.error_message().find("case_reference") == std::string::npos) {
      continue;  // a role that may not read intents at all
    }
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role;
    EXPECT_THAT(s.error_message(),
                HasSubstr("case_reference: only a caller with scope "
                          "utm.law_enforcement"))
        << role;
    v1::QueryIntentsResponse query;
    s = Query(Token("someone", role), kCase, &query);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role;
    EXPECT_EQ(query.intents_size(), 0);
  }
  // The owner too: its own intents need no case, and a case is not its to
  // give.
  v1::GetIntentResponse response;
  EXPECT_EQ(Get(Token("alice", "operator"), id, kCase, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Entries().empty());
}

TEST_F(AuditServiceTest, AMalformedCaseReferenceNamesTheField) {
  const std::string id = File("alice", 0);
  struct Case {
    std::string reference;
    std::string error;
  };
  const std::vector<Case> cases = {
      {std::string(129, 'A'), "case_reference: 129 bytes, at most 128"},
      {"CASE\n2", "case_reference: byte 4 (0x0a) is not printable ASCII"},
      {"caf\xc3\xa9", "case_reference: byte 3 (0xc3) is not printable ASCII"},
  };
  for (const Case& c : cases) {
    v1::GetIntentResponse response;
    grpc::Status s = Get(Token("officer-7", "police"), id, c.reference,
                         &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr(c.error));
    v1::QueryIntentsResponse query;
    s = Query(Token("officer-7", "police"), c.reference, &query);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr(c.error));
  }
  // 128 bytes is fine.
  v1::GetIntentResponse response;
  EXPECT_TRUE(Get(Token("officer-7", "police"), id, std::string(128, 'A'),
                  &response)
                  .ok());
  EXPECT_EQ(Entries().size(), 1u);
}

TEST_F(AuditServiceTest, QueryDisclosesEachOwnerAuditedOnce) {
  const std::string a = File("alice", 0);
  const std::string b = File("bob", 600);
  v1::QueryIntentsResponse query;
  ASSERT_TRUE(Query(Token("officer-7", "police"), kCase, &query).ok());
  ASSERT_EQ(query.intents_size(), 2);
  std::map<std::string, std::string> owners;
  for (const v1::FlightIntentView& view : query.intents()) {
    owners[view.id()] = view.owner();
  }
  EXPECT_EQ(owners[a], "alice");
  EXPECT_EQ(owners[b], "bob");
  const std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  std::map<std::string, std::string> audited;
  for (const v1::AuditEntry& e : entries) {
    EXPECT_EQ(e.case_reference(), kCase);
    audited[e.target()] = e.disclosed();
  }
  EXPECT_EQ(audited, owners);
  // An operator's query shows no owner and records nothing.
  query.Clear();
  ASSERT_TRUE(Query(Token("carol", "operator"), "", &query).ok());
  for (const v1::FlightIntentView& view : query.intents()) {
    EXPECT_EQ(view.owner(), "");
  }
  EXPECT_EQ(Entries().size(), 2u);
}

TEST_F(AuditServiceTest, NoOwnerLeavesWhenTheAuditCannotBeWritten) {
  const std::string id = File("alice", 0);
  int attempts = 0;
  sink_ = [&attempts](const audit::AuditEvent&) {
    ++attempts;
    return absl::UnavailableError("the audit log cannot be written (disk)");
  };
  v1::GetIntentResponse response;
  grpc::Status s = Get(Token("officer-7", "police"), id, kCase, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("the owner is not disclosed"));
  EXPECT_FALSE(response.has_intent());
  EXPECT_FALSE(response.has_redacted());
  v1::QueryIntentsResponse query;
  s = Query(Token("officer-7", "police"), kCase, &query);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(query.intents_size(), 0);
  EXPECT_EQ(attempts, 2);
  // Readers who are shown no owner are not held up by the audit log.
  ASSERT_TRUE(Get(Token("bob", "operator"), id, "", &response).ok());
  EXPECT_TRUE(response.has_redacted());
}

TEST_F(AuditServiceTest, OnlyAuditorsReadTheLog) {
  const std::string id = File("alice", 0);
  v1::GetIntentResponse got;
  ASSERT_TRUE(Get(Token("officer-7", "police"), id, kCase, &got).ok());
  for (const char* role :
       {"operator", "regulator", "monitor", "police", "admin"}) {
    v1::ReadAuditLogResponse response;
    const grpc::Status s = Read(Token("x", role), 0, 10, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role;
    EXPECT_THAT(s.error_message(), HasSubstr("utm.audit")) << role;
    EXPECT_EQ(response.entries_size(), 0);
  }
  v1::ReadAuditLogResponse response;
  EXPECT_EQ(Read("", 0, 10, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Read(Token("auditor-1", "auditor"), 0, 10, &response).ok());
  EXPECT_EQ(response.entries_size(), 1);
}

TEST_F(AuditServiceTest, PagesAndTheHead) {
  const std::string id = File("alice", 0);
  for (int i = 0; i < 5; ++i) {
    v1::GetIntentResponse got;
    ASSERT_TRUE(Get(Token("officer-7", "police"), id, kCase, &got).ok());
    clock_.Advance(absl::Seconds(1));
  }
  const std::string auditor = Token("auditor-1", "auditor");
  audit::AuditVerifier verifier;
  int64_t after = 0;
  for (;;) {
    v1::ReadAuditLogResponse page;
    ASSERT_TRUE(Read(auditor, after, 2, &page).ok());
    EXPECT_EQ(page.head().sequence(), 5);
    if (page.entries_size() == 0) {
      audit::AuditHead head;
      head.sequence = page.head().sequence();
      head.hash = page.head().hash();
      EXPECT_TRUE(audit::CheckHead(verifier.head(), head).ok());
      break;
    }
    EXPECT_LE(page.entries_size(), 2);
    for (const v1::AuditEntry& e : page.entries()) {
      ASSERT_TRUE(verifier.Add(e.line()).ok());
      after = e.sequence();
    }
  }
  EXPECT_EQ(verifier.count(), 5);
  struct Bad {
    int64_t after;
    int page_size;
    std::string error;
  };
  for (const Bad& bad : std::vector<Bad>{
           {-1, 10, "after_sequence: -1 is negative"},
           {0, 1001, "page_size: 1001 is not in 0..1000"},
           {0, -1, "page_size: -1 is not in 0..1000"}}) {
    v1::ReadAuditLogResponse page;
    const grpc::Status s = Read(auditor, bad.after, bad.page_size, &page);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr(bad.error));
  }
}

}  // namespace
}  // namespace utm
