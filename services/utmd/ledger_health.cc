#include "services/utmd/ledger_health.h"

#include <iostream>
#include <utility>

#include "services/common/log/log.h"

namespace utm::utmd {

LedgerHealth::LedgerHealth(ledger::Ledger* ledger, absl::Duration period,
                           std::function<void(bool reachable)> on_change)
    : ledger_(ledger), period_(period), on_change_(std::move(on_change)) {
  thread_ = std::thread([this] { Run(); });
}

LedgerHealth::~LedgerHealth() { Stop(); }

void LedgerHealth::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void LedgerHealth::Run() {
  bool reachable = true;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), period_);
      if (stop_) return;
    }
    const absl::StatusOr<ledger::Position> latest = ledger_->Latest();
    if (latest.ok() == reachable) continue;
    reachable = latest.ok();
    // Under the lock: once Stop() has set stop_, no change is reported.
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    if (reachable) {
      UTM_LOG(kInfo) << "Redis answers again (at entry " << latest->seq
                     << "); health is SERVING";
    } else {
      UTM_LOG(kWarning) << "Redis does not answer ("
                        << latest.status().message()
                        << "); health is NOT_SERVING for writes until it does";
    }
    on_change_(reachable);
  }
}

}  // namespace utm::utmd
