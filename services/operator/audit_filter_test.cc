#include "services/operator/audit_filter.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace utm::fleet {
namespace {

class OneLocal : public DataPolicies {
 public:
  DataPolicy For(absl::string_view operator_id) const override {
    DataPolicy p;
    p.local_only = operator_id == "op-local";
    return p;
  }
};

audit::AuditEvent Read(const std::string& about) {
  audit::AuditEvent e;
  e.subject = "officer-7";
  e.case_reference = "CASE-2026-001";
  e.action = "flight-details";
  e.target = "rid-session-1";
  e.disclosed = "serial=SN-LOCAL,account=op-local";
  e.about = about;
  return e;
}

TEST(WithholdLocalData, KeepsOnlyTheFactOfAReadAboutALocalOperator) {
  OneLocal policies;
  std::vector<audit::AuditEvent> recorded;
  audit::AuditSink sink = WithholdLocalData(
      [&](const audit::AuditEvent& e) {
        recorded.push_back(e);
        return absl::OkStatus();
      },
      &policies);
  ASSERT_TRUE(sink(Read("op-local")).ok());
  ASSERT_TRUE(sink(Read("op-plain")).ok());
  ASSERT_TRUE(sink(Read("")).ok());
  ASSERT_EQ(recorded.size(), 3u);
  const audit::AuditEvent& fact = recorded[0];
  EXPECT_EQ(fact.subject, "officer-7");
  EXPECT_EQ(fact.case_reference, "CASE-2026-001");
  EXPECT_EQ(fact.action, "flight-details");
  EXPECT_EQ(fact.target, kWithheldTarget);
  EXPECT_EQ(fact.disclosed, kWithheldDisclosed);
  EXPECT_TRUE(fact.about.empty());
  // Others' reads are recorded in full.
  EXPECT_EQ(recorded[1].target, "rid-session-1");
  EXPECT_EQ(recorded[1].disclosed, "serial=SN-LOCAL,account=op-local");
  EXPECT_EQ(recorded[2].disclosed, "serial=SN-LOCAL,account=op-local");
}

TEST(WithholdLocalData, AFailedRecordStillWithholdsTheAnswer) {
  OneLocal policies;
  audit::AuditSink sink = WithholdLocalData(
      [](const audit::AuditEvent&) {
        return absl::UnavailableError("disk full");
      },
      &policies);
  EXPECT_EQ(sink(Read("op-local")).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace utm::fleet
