// Withdrawn constraints as history, through ConstraintCore: readable as
// WITHDRAWN with who and when, listed on request, persisted across restarts,
// purged after the retention.
#include "services/constraint/withdrawn_history.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_testing.h"

namespace utm::constraint {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test_util::Area;
using test_util::East;
using test_util::kAuthority;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const Caller kAdmin{"root", false, /*admin=*/true};

// A permanent zone of 300 m around a point `east_m` east of Zurich.
v1::Constraint Zone(v1::ConstraintType type, double east_m) {
  return test_util::Zone(type, east_m, 300);
}

class WithdrawnHistoryTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<test_util::TempStore>(
        fs::path(testing::TempDir()) /
        absl::StrCat(
            "withdrawn-",
            testing::UnitTest::GetInstance()->current_test_info()->name()));
    Reopen();
  }
  void TearDown() override {
    core_.reset();
    store_.reset();
    dir_.reset();
  }
  // A restart: the core and store are dropped and recovered.
  void Reopen() {
    core_.reset();
    store_.reset();
    store_ = *dir_->Open();
    ConstraintOptions options;
    options.withdrawn_retention = absl::Hours(24 * 30);
    options.notify_thread = false;
    core_ = std::make_unique<ConstraintCore>(options, &clock_, store_.get());
    ASSERT_TRUE(core_->Recover().ok());
  }
  v1::Constraint Publish(const v1::Constraint& c) {
    v1::PublishConstraintRequest p;
    *p.mutable_constraint() = c;
    absl::StatusOr<v1::PublishConstraintResponse> r =
        core_->Publish(kAuthority, p);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->constraint() : v1::Constraint();
  }
  absl::StatusOr<v1::WithdrawConstraintResponse> Withdraw(
      const Caller& caller, const v1::Constraint& c, const std::string& why) {
    v1::WithdrawConstraintRequest w;
    w.set_constraint_id(c.id());
    w.set_version(c.version());
    w.set_reason(why);
    return core_->Withdraw(caller, w);
  }
  absl::StatusOr<v1::Constraint> Get(const std::string& id) {
    v1::GetConstraintRequest get;
    get.set_constraint_id(id);
    absl::StatusOr<v1::GetConstraintResponse> r = core_->Get(get);
    if (!r.ok()) return r.status();
    return r->constraint();
  }
  // Every id QueryConstraints lists over the area, following the pages.
  std::vector<std::string> QueryIds(bool include_withdrawn, int page_size,
                                    int* pages = nullptr) {
    v1::QueryConstraintsRequest q;
    *q.mutable_area() = Area(0, 50000);
    q.set_include_withdrawn(include_withdrawn);
    q.set_page_size(page_size);
    std::vector<std::string> ids;
    for (int page = 1;; ++page) {
      absl::StatusOr<v1::QueryConstraintsResponse> r = core_->Query(q);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return ids;
      for (const v1::Constraint& c : r->constraints()) ids.push_back(c.id());
      if (pages != nullptr) *pages = page;
      if (r->next_page_token().empty()) return ids;
      q.set_page_token(r->next_page_token());
    }
  }
  int StoredHistory() {
    int n = 0;
    EXPECT_TRUE(store_
                    ->Scan(WithdrawnHistory::kTable,
                           [&](absl::string_view, absl::string_view) { ++n; })
                    .ok());
    return n;
  }

  SimulatedClock clock_{kT0};
  std::unique_ptr<test_util::TempStore> dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ConstraintCore> core_;
};

TEST_F(WithdrawnHistoryTest, AWithdrawnConstraintReadsAsWithdrawnByWhomWhen) {
  const v1::Constraint c = Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  EXPECT_EQ(c.state(), v1::CONSTRAINT_STATE_PUBLISHED);
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<v1::WithdrawConstraintResponse> w =
      Withdraw(kAuthority, c, "fire out");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->constraint().state(), v1::CONSTRAINT_STATE_WITHDRAWN);
  absl::StatusOr<v1::Constraint> got = Get(c.id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->state(), v1::CONSTRAINT_STATE_WITHDRAWN);
  EXPECT_EQ(got->withdrawn_by(), "ch-foca");
  EXPECT_EQ(got->withdraw_reason(), "fire out");
  EXPECT_EQ(got->withdraw_time().seconds(),
            absl::ToUnixSeconds(kT0 + absl::Minutes(5)));
  EXPECT_FALSE(got->active());
  EXPECT_EQ(got->version(), 1);
  EXPECT_EQ(got->reason(), "test zone");  // its last content
  // History restricts nothing and cannot be withdrawn again.
  v1::CheckPositionRequest check;
  check.mutable_position()->set_lat_deg(East(0).lat_deg);
  check.mutable_position()->set_lng_deg(East(0).lng_deg);
  absl::StatusOr<v1::CheckPositionResponse> at =
      core_->CheckPosition(kAuthority, check);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->applicable_size(), 0);
  EXPECT_EQ(Withdraw(kAuthority, c, "again").status().code(),
            absl::StatusCode::kNotFound);
  // An administrator's withdrawal names the administrator.
  const v1::Constraint d = Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 2000));
  ASSERT_TRUE(Withdraw(kAdmin, d, "").ok());
  EXPECT_EQ(Get(d.id())->withdrawn_by(), "root");
  // A client cannot publish a constraint as withdrawn: output only.
  v1::Constraint fake = Zone(v1::CONSTRAINT_TYPE_ADVISORY, 4000);
  fake.set_state(v1::CONSTRAINT_STATE_WITHDRAWN);
  fake.set_withdrawn_by("someone");
  const v1::Constraint published = Publish(fake);
  EXPECT_EQ(published.state(), v1::CONSTRAINT_STATE_PUBLISHED);
  EXPECT_EQ(Get(published.id())->withdrawn_by(), "");
}

TEST_F(WithdrawnHistoryTest,
       QueryListsHistoryOnlyWhenAskedMergedByIdAcrossPages) {
  std::vector<std::string> all, live;
  for (int i = 0; i < 6; ++i) {
    const v1::Constraint c =
        Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 1000.0 * i));
    all.push_back(c.id());
    if (i % 2 == 0) {
      ASSERT_TRUE(Withdraw(kAuthority, c, "").ok());
    } else {
      live.push_back(c.id());
    }
  }
  std::sort(all.begin(), all.end());
  std::sort(live.begin(), live.end());
  EXPECT_EQ(QueryIds(false, 100), live);
  int pages = 0;
  EXPECT_EQ(QueryIds(true, 2, &pages), all);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(QueryIds(true, 100), all);
  // Outside the area: none.
  v1::QueryConstraintsRequest q;
  *q.mutable_area() = Area(90000, 100);
  q.set_include_withdrawn(true);
  EXPECT_EQ(core_->Query(q)->constraints_size(), 0);
}

TEST_F(WithdrawnHistoryTest, PersistsAcrossRestartsAndIsPurgedAfterRetention) {
  const v1::Constraint old = Publish(Zone(v1::CONSTRAINT_TYPE_PROHIBITED, 0));
  ASSERT_TRUE(Withdraw(kAuthority, old, "old").ok());
  Reopen();
  absl::StatusOr<v1::Constraint> got = Get(old.id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->state(), v1::CONSTRAINT_STATE_WITHDRAWN);
  EXPECT_EQ(got->withdraw_reason(), "old");
  EXPECT_EQ(StoredHistory(), 1);

  // 29 days on: a second one; the first still readable.
  clock_.Advance(absl::Hours(24 * 29));
  const v1::Constraint recent =
      Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 3000));
  ASSERT_TRUE(Withdraw(kAuthority, recent, "recent").ok());
  EXPECT_TRUE(Get(old.id()).ok());
  // Past 30 days: invisible at once, before any purge.
  clock_.Advance(absl::Hours(24) + absl::Seconds(1));
  EXPECT_EQ(Get(old.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(QueryIds(true, 100), ElementsAre(recent.id()));
  // A restart purges it from the store too; the recent one stays.
  Reopen();
  EXPECT_EQ(StoredHistory(), 1);
  EXPECT_EQ(Get(old.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(recent.id())->withdraw_reason(), "recent");
  // So does the next withdrawal, without a restart.
  clock_.Advance(absl::Hours(24 * 31));
  const v1::Constraint last = Publish(Zone(v1::CONSTRAINT_TYPE_ADVISORY, 6000));
  ASSERT_TRUE(Withdraw(kAuthority, last, "").ok());
  EXPECT_EQ(StoredHistory(), 1);  // only `last`
  EXPECT_EQ(Get(recent.id()).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace utm::constraint
