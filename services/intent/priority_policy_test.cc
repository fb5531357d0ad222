#include "services/intent/priority_policy.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"

namespace utm::intent {
namespace {

using auth::Principal;
using auth::Scope;

Principal Caller(std::vector<Scope> scopes) {
  Principal p;
  p.subject = "op-1";
  p.scopes = std::move(scopes);
  std::sort(p.scopes.begin(), p.scopes.end());
  return p;
}

const Principal& Operator() {
  static const Principal* const p =
      new Principal(Caller({Scope::kStrategicCoordination}));
  return *p;
}
const Principal& PublicSafety() {
  static const Principal* const p = new Principal(
      Caller({Scope::kStrategicCoordination, Scope::kPriorityPublicSafety}));
  return *p;
}
const Principal& Emergency() {
  static const Principal* const p = new Principal(
      Caller({Scope::kStrategicCoordination, Scope::kPriorityEmergency}));
  return *p;
}

struct Case {
  const char* who;
  const Principal* caller;
  int32_t priority;
  absl::StatusCode code;
  std::string message;  // The whole message; empty when OK.
};

// Every band with the default policy, at each edge, for each kind of token.
TEST(PriorityPolicy, DefaultBandsForEveryKindOfToken) {
  const std::string kOperatorLimit =
      "exceeds 99, the most an operator token may take; 100-199 need scope "
      "utm.priority.public_safety, 200-1000 utm.priority.emergency";
  const std::string kPublicSafetyLimit =
      "exceeds 199, the most a utm.priority.public_safety token may take; "
      "200-1000 need scope utm.priority.emergency";
  const absl::StatusCode kOk = absl::StatusCode::kOk;
  const absl::StatusCode kDenied = absl::StatusCode::kPermissionDenied;
  const absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
  const std::vector<Case> cases = {
      {"operator", &Operator(), 0, kOk, ""},
      {"operator", &Operator(), 99, kOk, ""},
      {"operator", &Operator(), 100, kDenied,
       "priority: 100 " + kOperatorLimit},
      {"operator", &Operator(), 199, kDenied,
       "priority: 199 " + kOperatorLimit},
      {"operator", &Operator(), 1000, kDenied,
       "priority: 1000 " + kOperatorLimit},
      {"public safety", &PublicSafety(), 0, kOk, ""},
      {"public safety", &PublicSafety(), 100, kOk, ""},
      {"public safety", &PublicSafety(), 199, kOk, ""},
      {"public safety", &PublicSafety(), 200, kDenied,
       "priority: 200 " + kPublicSafetyLimit},
      {"public safety", &PublicSafety(), 1000, kDenied,
       "priority: 1000 " + kPublicSafetyLimit},
      {"emergency", &Emergency(), 0, kOk, ""},
      {"emergency", &Emergency(), 150, kOk, ""},
      {"emergency", &Emergency(), 200, kOk, ""},
      {"emergency", &Emergency(), 1000, kOk, ""},
      // Outside the range: no token may take it, so it is malformed.
      {"operator", &Operator(), -1, kInvalid,
       "priority: -1 is outside [0, 1000]"},
      {"emergency", &Emergency(), -1, kInvalid,
       "priority: -1 is outside [0, 1000]"},
      {"emergency", &Emergency(), 1001, kInvalid,
       "priority: 1001 is outside [0, 1000]"},
      {"operator", &Operator(), 1001, kInvalid,
       "priority: 1001 is outside [0, 1000]"},
  };
  const PriorityPolicy policy;
  for (const Case& c : cases) {
    const absl::Status status = policy.Check(*c.caller, c.priority);
    EXPECT_EQ(status.code(), c.code)
        << c.who << " " << c.priority << ": " << status;
    EXPECT_EQ(status.message(), c.message) << c.who << " " << c.priority;
  }
  EXPECT_EQ(policy.MaxFor(Operator()), 99);
  EXPECT_EQ(policy.MaxFor(PublicSafety()), 199);
  EXPECT_EQ(policy.MaxFor(Emergency()), 1000);
}

// The priority scopes stand on their own (the adapter separately requires
// utm.strategic_coordination for any write); emergency includes the
// public-safety band; unknown or unrelated scopes give nothing.
TEST(PriorityPolicy, HigherBandIncludesLowerAndOtherScopesGiveNothing) {
  const PriorityPolicy policy;
  EXPECT_EQ(policy.MaxFor(Caller({})), 99);
  EXPECT_EQ(policy.MaxFor(Caller({Scope::kAdmin, Scope::kLawEnforcement,
                                  Scope::kConstraintManagement})),
            99);
  EXPECT_EQ(policy.MaxFor(Caller(
                {Scope::kPriorityPublicSafety, Scope::kPriorityEmergency})),
            1000);
  EXPECT_TRUE(policy.Check(Emergency(), 150).ok());
}

TEST(PriorityPolicy, ConfiguredBandsAndFieldName) {
  PriorityBands bands;
  bands.max_operator = 10;
  bands.max_public_safety = 20;
  bands.max_priority = 30;
  const absl::StatusOr<PriorityPolicy> policy = PriorityPolicy::Create(bands);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->Check(Operator(), 10).ok());
  const absl::Status denied = policy->Check(Operator(), 11, "intent.priority");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "intent.priority: 11 exceeds 10, the most an operator token may "
            "take; 11-20 need scope utm.priority.public_safety, 21-30 "
            "utm.priority.emergency");
  EXPECT_TRUE(policy->Check(PublicSafety(), 20).ok());
  EXPECT_EQ(policy->Check(PublicSafety(), 21).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy->Check(Emergency(), 30).ok());
  EXPECT_EQ(policy->Check(Emergency(), 31).message(),
            "priority: 31 is outside [0, 30]");
}

// Empty bands are left out of the explanation; one-value bands read as one
// number.
TEST(PriorityPolicy, EmptyAndSingleValueBands) {
  PriorityBands no_public_safety;
  no_public_safety.max_operator = 5;
  no_public_safety.max_public_safety = 5;
  no_public_safety.max_priority = 6;
  const absl::StatusOr<PriorityPolicy> policy =
      PriorityPolicy::Create(no_public_safety);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->Check(Operator(), 6).message(),
            "priority: 6 exceeds 5, the most an operator token may take; 6 "
            "needs scope utm.priority.emergency");
  // A public-safety token gets nothing more than an operator here.
  EXPECT_EQ(policy->MaxFor(PublicSafety()), 5);
  EXPECT_EQ(policy->Check(PublicSafety(), 6).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy->Check(Emergency(), 6).ok());

  PriorityBands operators_only;
  operators_only.max_operator = 7;
  operators_only.max_public_safety = 7;
  operators_only.max_priority = 7;
  const absl::StatusOr<PriorityPolicy> flat =
      PriorityPolicy::Create(operators_only);
  ASSERT_TRUE(flat.ok()) << flat.status();
  EXPECT_TRUE(flat->Check(Operator(), 7).ok());
  EXPECT_EQ(flat->Check(Emergency(), 8).message(),
            "priority: 8 is outside [0, 7]");
}

TEST(PriorityPolicy, CreateRejectsDisorderedBands) {
  PriorityBands negative;
  negative.max_operator = -1;
  EXPECT_EQ(PriorityPolicy::Create(negative).status().message(),
            "max operator priority -1 is negative");
  PriorityBands inverted;
  inverted.max_operator = 100;
  inverted.max_public_safety = 50;
  EXPECT_EQ(PriorityPolicy::Create(inverted).status().message(),
            "max public-safety priority 50 is below the max operator "
            "priority 100");
  PriorityBands low_top;
  low_top.max_priority = 150;
  EXPECT_EQ(PriorityPolicy::Create(low_top).status().message(),
            "max priority 150 is below the max public-safety priority 199");
  EXPECT_EQ(PriorityPolicy::Create(low_top).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace utm::intent
