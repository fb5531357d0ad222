// Calls a function every period on a thread of its own while it lives (the
// services' tickers: watch streams due, expiries, lost links).
//
// Typical usage:
//   PeriodicThread ticker(absl::Milliseconds(100), [&] { service.Tick(); });
//   ... the destructor stops the thread after the call in progress ...
#ifndef UTM_SERVICES_COMMON_PERIODIC_H_
#define UTM_SERVICES_COMMON_PERIODIC_H_

#include <functional>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace utm {

class PeriodicThread {
 public:
  // Calls `fn` every `period` (the first call one period from now).
  PeriodicThread(absl::Duration period, std::function<void()> fn)
      : fn_(std::move(fn)), thread_([this, period] {
          while (!stop_.WaitForNotificationWithTimeout(period)) fn_();
        }) {}
  // Stops: waits for a call in progress, makes no other.
  ~PeriodicThread() {
    stop_.Notify();
    thread_.join();
  }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

 private:
  absl::Notification stop_;
  const std::function<void()> fn_;
  std::thread thread_;  // last: starts once the others are initialised
};

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_PERIODIC_H_
