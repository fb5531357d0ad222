// Watches whether the shared ledger (Redis) answers, for health checking in
// replicated mode: a thread asks the ledger for its latest position every
// `period` and reports each change between reachable and unreachable. There
// is no local store to fail in that mode; while Redis is down no write can
// be decided, so the writing services say NOT_SERVING, and SERVING again by
// themselves once it answers.
//
// Typical usage:
//   LedgerHealth health(ledger, absl::Milliseconds(500),
//                       [&](bool up) { server->SetServingStatus("", up); });
//   ... serve ...
//   health.Stop();  // before the server shuts down
#ifndef UTM_SERVICES_UTMD_LEDGER_HEALTH_H_
#define UTM_SERVICES_UTMD_LEDGER_HEALTH_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/ledger/ledger.h"

namespace utm::utmd {

class LedgerHealth {
 public:
  // Starts the thread; the ledger is taken to be reachable until a probe
  // fails. `on_change(reachable)` runs on that thread at each change (never
  // twice at once). `ledger` is not owned and must outlive this object.
  // Each probe is bounded by the ledger client's own timeouts.
  LedgerHealth(ledger::Ledger* ledger, absl::Duration period,
               std::function<void(bool reachable)> on_change);
  ~LedgerHealth();  // Stop()s
  LedgerHealth(const LedgerHealth&) = delete;
  LedgerHealth& operator=(const LedgerHealth&) = delete;

  // Ends the thread (waits for a probe in flight); `on_change` is not
  // called after it returns. Idempotent.
  void Stop();

 private:
  void Run();

  ledger::Ledger* const ledger_;
  const absl::Duration period_;
  const std::function<void(bool)> on_change_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_LEDGER_HEALTH_H_
