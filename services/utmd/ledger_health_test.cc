#include "services/utmd/ledger_health.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::utmd {
namespace {

using ::testing::ElementsAre;

// A ledger whose Latest() answers or fails as the test says; nothing else
// is used by LedgerHealth.
class SwitchedLedger final : public ledger::Ledger {
 public:
  void set_up(bool up) { up_ = up; }
  int64_t probes() const { return probes_.load(); }

  absl::StatusOr<ledger::Position> Load(
      const std::vector<std::string>&,
      const std::function<void(absl::string_view, absl::string_view,
                               absl::string_view)>&) override {
    return absl::UnimplementedError("not used");
  }
  void Commit(ledger::Guard, std::vector<store::Mutation>,
              Done done) override {
    done(absl::UnimplementedError("not used"));
  }
  absl::StatusOr<std::vector<ledger::Entry>> Read(const ledger::Position&, int,
                                                  absl::Duration) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<ledger::Position> Latest() override {
    ++probes_;
    if (!up_.load()) return absl::UnavailableError("redis: connection refused");
    return ledger::Position{7, "h"};
  }

 private:
  std::atomic<bool> up_{true};
  std::atomic<int64_t> probes_{0};
};

class Changes {
 public:
  void Add(bool reachable) {
    absl::MutexLock lock(&mu_);
    seen_.push_back(reachable);
  }
  // The changes so far, once there are at least `n` (or after 10 s).
  std::vector<bool> Await(size_t n) {
    absl::MutexLock lock(&mu_);
    want_ = n;
    mu_.AwaitWithTimeout(absl::Condition(this, &Changes::Enough),
                         absl::Seconds(10));
    return seen_;
  }

 private:
  bool Enough() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return seen_.size() >= want_;
  }
  absl::Mutex mu_;
  std::vector<bool> seen_ ABSL_GUARDED_BY(mu_);
  size_t want_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(LedgerHealth, ReportsEachChangeOnce) {
  SwitchedLedger ledger;
  Changes changes;
  LedgerHealth health(&ledger, absl::Milliseconds(5),
                      [&](bool reachable) { changes.Add(reachable); });
  // Reachable at start: nothing to report however many probes pass.
  while (ledger.probes() < 5) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_THAT(changes.Await(0), ElementsAre());
  ledger.set_up(false);
  EXPECT_THAT(changes.Await(1), ElementsAre(false));
  const int64_t probes = ledger.probes();
  while (ledger.probes() < probes + 5) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_THAT(changes.Await(1), ElementsAre(false)) << "down once, not per probe";
  ledger.set_up(true);
  EXPECT_THAT(changes.Await(2), ElementsAre(false, true));
}

TEST(LedgerHealth, NothingIsReportedAfterStop) {
  SwitchedLedger ledger;
  Changes changes;
  LedgerHealth health(&ledger, absl::Milliseconds(5),
                      [&](bool reachable) { changes.Add(reachable); });
  health.Stop();
  const int64_t probes = ledger.probes();
  ledger.set_up(false);
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(ledger.probes(), probes);
  EXPECT_THAT(changes.Await(0), ElementsAre());
  health.Stop();  // idempotent
}

}  // namespace
}  // namespace utm::utmd
