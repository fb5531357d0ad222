// OperatorSettings over a LocalLedger on a real embedded store: the rules,
// durability across a reopen, two read models of one ledger, and that the
// files hold the operator's pseudonym, never its id.
#include "services/operator/operator_settings.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"

namespace utm::fleet {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kOperator[] = "op-settings-Zq7xKw";

pseudonym::Pseudonymizer Pseudonyms() {
  return *pseudonym::Pseudonymizer::Create(std::string(32, 'k'));
}

// Every byte of every file under `dir`.
std::string AllBytes(const fs::path& dir) {
  std::string all;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

// One process: an embedded store, its ledger, a follower and the settings.
struct Process {
  explicit Process(const fs::path& dir,
                   const pseudonym::Pseudonymizer* pseudonyms) {
    store::StoreOptions options;
    options.dir = dir.string();
    absl::StatusOr<std::unique_ptr<store::Store>> opened =
        store::OpenStore(options);
    EXPECT_TRUE(opened.ok()) << opened.status();
    st = *std::move(opened);
    ledger = *ledger::LocalLedger::Open(st.get());
    follower = std::make_unique<ledger::Follower>(ledger.get());
    settings = std::make_unique<OperatorSettings>(pseudonyms, ledger.get(),
                                                  &*follower);
    EXPECT_TRUE(follower->Start().ok());
  }
  ~Process() { follower->Stop(); }
  std::unique_ptr<store::Store> st;
  std::unique_ptr<ledger::LocalLedger> ledger;
  std::unique_ptr<ledger::Follower> follower;
  std::unique_ptr<OperatorSettings> settings;
};

class OperatorSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("operator-settings-", ::getpid());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  const pseudonym::Pseudonymizer pseudonyms_ = Pseudonyms();
};

TEST_F(OperatorSettingsTest, DefaultsUntilTheOperatorChangesThem) {
  Process p(dir_, &pseudonyms_);
  EXPECT_FALSE(p.settings->For(kOperator).local_only);
  EXPECT_EQ(p.settings->For(kOperator).flight_log_retention,
            kDefaultFlightLogRetention);

  absl::StatusOr<DataPolicy> set =
      p.settings->Set(kOperator, {.local_only = true});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->local_only);
  EXPECT_EQ(set->flight_log_retention, kDefaultFlightLogRetention);
  EXPECT_TRUE(p.settings->For(kOperator).local_only);
  EXPECT_FALSE(p.settings->For("someone-else").local_only);

  // A partial change keeps the other field.
  set =
      p.settings->Set(kOperator, {.flight_log_retention = absl::Hours(24 * 7)});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->local_only);
  EXPECT_EQ(p.settings->For(kOperator).flight_log_retention,
            absl::Hours(24 * 7));
  absl::StatusOr<DataPolicy> got = p.settings->Get(kOperator);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->local_only);
  EXPECT_EQ(p.settings->size(), 1u);

  // Back to the defaults: no record is kept.
  set = p.settings->Set(kOperator,
                        {.local_only = false,
                         .flight_log_retention = kDefaultFlightLogRetention});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(p.settings->size(), 0u);
  EXPECT_FALSE(p.settings->For(kOperator).local_only);
}

TEST_F(OperatorSettingsTest, SurvivesARestartKeyedByThePseudonymOnly) {
  {
    Process p(dir_, &pseudonyms_);
    ASSERT_TRUE(p.settings
                    ->Set(kOperator, {.local_only = true,
                                      .flight_log_retention = absl::Hours(5)})
                    .ok());
  }
  const std::string files = AllBytes(dir_);
  EXPECT_EQ(files.find(kOperator), std::string::npos);
  EXPECT_NE(files.find(pseudonyms_.Of(kOperator)), std::string::npos);

  {
    Process again(dir_, &pseudonyms_);
    EXPECT_TRUE(again.settings->For(kOperator).local_only);
    EXPECT_EQ(again.settings->For(kOperator).flight_log_retention,
              absl::Hours(5));
  }
  // Under another key the record is not found: the operator is on the
  // defaults (what was kept is orphaned, as good as erased).
  const pseudonym::Pseudonymizer other =
      *pseudonym::Pseudonymizer::Create(std::string(32, 'o'));
  Process other_key(dir_, &other);
  EXPECT_EQ(other_key.settings->size(), 1u);
  EXPECT_FALSE(other_key.settings->For(kOperator).local_only);
}

TEST_F(OperatorSettingsTest, TwoReadModelsOfOneLedgerSeeEachOthersChanges) {
  store::StoreOptions options;
  options.backend = "memory";
  std::unique_ptr<store::Store> st = *store::OpenStore(options);
  std::unique_ptr<ledger::LocalLedger> ledger =
      *ledger::LocalLedger::Open(st.get());
  ledger::Follower fa(ledger.get()), fb(ledger.get());
  OperatorSettings a(&pseudonyms_, ledger.get(), &fa);
  OperatorSettings b(&pseudonyms_, ledger.get(), &fb);
  ASSERT_TRUE(fa.Start().ok());
  ASSERT_TRUE(fb.Start().ok());
  ASSERT_TRUE(a.Set(kOperator, {.local_only = true}).ok());
  // b decides on its own model: it catches up and keeps a's change.
  absl::StatusOr<DataPolicy> set =
      b.Set(kOperator, {.flight_log_retention = absl::Hours(48)});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->local_only);
  EXPECT_EQ(set->flight_log_retention, absl::Hours(48));
  ASSERT_TRUE(fa.WaitApplied(fb.applied().seq).ok());
  EXPECT_TRUE(a.For(kOperator).local_only);
  EXPECT_EQ(a.For(kOperator).flight_log_retention, absl::Hours(48));
  fa.Stop();
  fb.Stop();
}

TEST_F(OperatorSettingsTest, RefusesBadInputNamingTheField) {
  Process p(dir_, &pseudonyms_);
  struct Case {
    absl::Duration retention;
    const char* fragment;
  };
  for (const Case& c : {
           Case{absl::ZeroDuration(),
                "flight_log_retention: 0 is not in (0, 5 years]"},
           Case{-absl::Seconds(1), "flight_log_retention: -1s is not in"},
           Case{kMaxFlightLogRetention + absl::Seconds(1), "at most 1827 days"},
           Case{absl::Milliseconds(1500),
                "flight_log_retention: 1.5s is not a whole number of seconds"},
       }) {
    absl::StatusOr<DataPolicy> set = p.settings->Set(
        kOperator, {.local_only = true, .flight_log_retention = c.retention});
    ASSERT_FALSE(set.ok()) << c.fragment;
    EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(set.status().message(), HasSubstr(c.fragment));
  }
  // Nothing was changed by the refusals.
  EXPECT_FALSE(p.settings->For(kOperator).local_only);
  EXPECT_TRUE(
      p.settings
          ->Set(kOperator, {.flight_log_retention = kMaxFlightLogRetention})
          .ok());

  absl::StatusOr<DataPolicy> anonymous = p.settings->Get("");
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(OperatorSettingsTest, WithoutAKeyNothingIsKept) {
  Process p(dir_, nullptr);
  absl::StatusOr<DataPolicy> set =
      p.settings->Set(kOperator, {.local_only = true});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(set.status().message(), HasSubstr("--pseudonym-key"));
  EXPECT_EQ(p.settings->Get(kOperator).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(p.settings->For(kOperator).local_only);
}

}  // namespace
}  // namespace utm::fleet
