// The aircraft registry over a real gRPC server on a loopback port, with
// real tokens per role: regulators write, operators read their own, law
// enforcement reads under a case reference and each such read is audited
// before the answer leaves.
#include "services/registry/registry_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"
#include "services/registry/registry_core.h"
#include "services/registry/registry_testing.h"
#include "tests/service_test_util.h"
#include "utm/v1/registry.grpc.pb.h"

namespace utm::registry {
namespace {

using test_util::kT0;
using test_util::Reg;
using test_util::Serial;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::utm::test_util::ServiceTestAuth;

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions memory;
    memory.backend = "memory";
    store_ = *store::OpenStore(memory);
    ledger_ = *ledger::LocalLedger::Open(store_.get());
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(50);
    follower_ = std::make_unique<ledger::Follower>(ledger_.get(), fo);
    RegistryOptions options;
    options.jurisdiction.threshold_g = 250;
    core_ = std::make_unique<RegistryCore>(options, &clock_, ledger_.get(),
                                           follower_.get());
    ASSERT_TRUE(follower_->Start().ok());
    service_ = std::make_unique<RegistryService>(
        core_.get(), auth_.verifier(),
        [this](const audit::AuditEvent& e) -> absl::Status {
          absl::MutexLock lock(&mu_);
          if (!audit_ok_) return absl::UnavailableError("audit log down");
          audited_.push_back(e);
          return absl::OkStatus();
        });
    server_ = *::utm::test_util::StartOnLoopback({service_.get()});
    stub_ = v1::RegistryService::NewStub(
        ::utm::test_util::LoopbackChannel(*server_));
  }
  void TearDown() override {
    server_->Shutdown(absl::Seconds(1));
    follower_->Stop();
  }

  std::string Token(const std::string& subject, const std::string& role) {
    return auth_.Token(subject, role);
  }
  grpc::Status Register(const std::string& token,
                        const v1::RegisterAircraftRequest& request,
                        v1::RegisterAircraftResponse* response = nullptr) {
    v1::RegisterAircraftResponse unused;
    return stub_->RegisterAircraft(ServiceTestAuth::As(token).get(), request,
                                   response != nullptr ? response : &unused);
  }
  grpc::Status Get(const std::string& token, const std::string& serial,
                   const std::string& case_reference,
                   v1::GetRegistrationResponse* response) {
    v1::GetRegistrationRequest request;
    request.set_serial_number(serial);
    request.set_case_reference(case_reference);
    return stub_->GetRegistration(ServiceTestAuth::As(token).get(), request,
                                  response);
  }
  std::vector<audit::AuditEvent> Audited() {
    absl::MutexLock lock(&mu_);
    return audited_;
  }

  SimulatedClock clock_{kT0};
  ServiceTestAuth auth_{&clock_};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::LocalLedger> ledger_;
  std::unique_ptr<ledger::Follower> follower_;
  std::unique_ptr<RegistryCore> core_;
  std::unique_ptr<RegistryService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::RegistryService::Stub> stub_;

  absl::Mutex mu_;
  bool audit_ok_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<audit::AuditEvent> audited_ ABSL_GUARDED_BY(mu_);
};

TEST_F(RegistryServiceTest, RegulatorRegistersAndRevokes) {
  const std::string faa = Token("faa", "regulator");
  v1::RegisterAircraftResponse registered;
  grpc::Status s = Register(faa, Reg(Serial(1), "op-1"), &registered);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(registered.registration().version(), 1);
  EXPECT_EQ(registered.registration().registered_by(), "faa");
  EXPECT_EQ(registered.registration().register_time().seconds(),
            absl::ToUnixSeconds(kT0));
  EXPECT_TRUE(core_->CheckAircraft("op-1", Serial(1), 900, "f").ok());

  v1::RevokeRegistrationRequest revoke;
  revoke.set_serial_number(Serial(1));
  revoke.set_reason("reported stolen");
  v1::RevokeRegistrationResponse revoked;
  s = stub_->RevokeRegistration(ServiceTestAuth::As(faa).get(), revoke,
                                &revoked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(revoked.registration().version(), 2);
  EXPECT_EQ(revoked.registration().revoke_reason(), "reported stolen");
  s = stub_->RevokeRegistration(ServiceTestAuth::As(faa).get(), revoke,
                                &revoked);
  ASSERT_TRUE(s.ok()) << "a retry: " << s.error_message();
  revoke.set_reason("again");
  s = stub_->RevokeRegistration(ServiceTestAuth::As(faa).get(), revoke,
                                &revoked);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::GetRegistrationResponse got;
  s = Get(faa, Serial(1), "", &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(got.registration().has_revoke_time());
  EXPECT_EQ(core_->CheckAircraft("op-1", Serial(1), 900, "f").code(),
            absl::StatusCode::kFailedPrecondition);
  // Registry authorities' reads are not audited.
  EXPECT_TRUE(Audited().empty());

  // Bad input comes back naming its field.
  v1::RegisterAircraftRequest bad = Reg("not a serial", "op-1");
  s = Register(faa, bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("registration.serial_number:"));
}

TEST_F(RegistryServiceTest, OperatorsReadTheirOwnOnly) {
  const std::string faa = Token("faa", "regulator");
  const std::string op1 = Token("op-1", "operator");
  grpc::Status s = Register(op1, Reg(Serial(1), "op-1"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("registry authorities only"));
  ASSERT_TRUE(Register(faa, Reg(Serial(1), "op-1")).ok());
  ASSERT_TRUE(Register(faa, Reg(Serial(2), "op-2")).ok());

  v1::GetRegistrationResponse got;
  s = Get(op1, Serial(1), "", &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.registration().operator_id(), "op-1");
  v1::GetRegistrationResponse other;
  s = Get(op1, Serial(2), "", &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_FALSE(other.has_registration());
  // Unregistered: the same refusal, nothing learnt.
  s = Get(op1, Serial(3), "", &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // A token with none of the registry's scopes.
  s = Get(Token("viewer", "display"), Serial(1), "", &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(),
              StartsWith("token for viewer lacks scope utm.registry"));
  // No token at all.
  s = Get("", Serial(1), "", &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Audited().empty());
}

TEST_F(RegistryServiceTest, LawEnforcementReadsUnderACaseAndIsAudited) {
  ASSERT_TRUE(Register(Token("faa", "regulator"), Reg(Serial(1), "op-1")).ok());
  const std::string police = Token("officer-12", "police");
  v1::GetRegistrationResponse got;
  grpc::Status s = Get(police, Serial(1), "", &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), StartsWith("case_reference: required"));
  EXPECT_TRUE(Audited().empty());

  s = Get(police, Serial(1), "WARRANT-2026-77", &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.registration().operator_id(), "op-1");
  std::vector<audit::AuditEvent> events = Audited();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subject, "officer-12");
  EXPECT_EQ(events[0].case_reference, "WARRANT-2026-77");
  EXPECT_EQ(events[0].action, "registration");
  EXPECT_EQ(events[0].target, Serial(1));
  EXPECT_EQ(events[0].disclosed,
            "operator=op-1,operator_registration_id=FA3XYZ123,mass_g=900");

  // An unknown serial: NOT_FOUND, and that it is not registered is audited.
  v1::GetRegistrationResponse none;
  s = Get(police, Serial(9), "WARRANT-2026-77", &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  events = Audited();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].target, Serial(9));
  EXPECT_EQ(events[1].disclosed, "not registered");

  // A malformed case reference is refused naming it, before any read.
  s = Get(police, Serial(1), "W\x01", &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("case_reference:"));
  EXPECT_EQ(Audited().size(), 2u);
}

TEST_F(RegistryServiceTest, NoAuditRecordNoAnswer) {
  ASSERT_TRUE(Register(Token("faa", "regulator"), Reg(Serial(1), "op-1")).ok());
  {
    absl::MutexLock lock(&mu_);
    audit_ok_ = false;
  }
  v1::GetRegistrationResponse got;
  grpc::Status s =
      Get(Token("officer-12", "police"), Serial(1), "WARRANT-1", &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("audit log down"));
  EXPECT_FALSE(got.has_registration());
  EXPECT_TRUE(Audited().empty());
  // Reads that need no audit still work.
  s = Get(Token("op-1", "operator"), Serial(1), "", &got);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(RegistryServiceTest, ListPagesOverTheWire) {
  const std::string faa = Token("faa", "regulator");
  for (int i : {3, 0, 4, 1, 2}) {
    ASSERT_TRUE(Register(faa, Reg(Serial(i), i == 4 ? "op-2" : "op-1")).ok());
  }
  v1::ListRegistrationsRequest request;
  request.set_page_size(2);
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    v1::ListRegistrationsResponse page;
    grpc::Status s = stub_->ListRegistrations(ServiceTestAuth::As(faa).get(),
                                              request, &page);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ++pages;
    ASSERT_LE(page.registrations_size(), 2);
    for (const auto& r : page.registrations()) {
      seen.push_back(r.serial_number());
    }
    if (page.next_page_token().empty()) break;
    ASSERT_LT(pages, 10);
    request.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(
      seen, ElementsAre(Serial(0), Serial(1), Serial(2), Serial(3), Serial(4)));

  // An operator gets its own.
  v1::ListRegistrationsResponse own;
  grpc::Status s = stub_->ListRegistrations(
      ServiceTestAuth::As(Token("op-2", "operator")).get(),
      v1::ListRegistrationsRequest(), &own);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(own.registrations_size(), 1);
  EXPECT_EQ(own.registrations(0).serial_number(), Serial(4));
  // A token it did not issue.
  request.set_page_token("<forged>");
  s = stub_->ListRegistrations(ServiceTestAuth::As(faa).get(), request, &own);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("page_token:"));
}

}  // namespace
}  // namespace utm::registry
