// Time, injected. Services read the time only through a Clock so that tests
// can hold it still and move it by hand (Envoy's SimulatedTimeSystem); no
// test reads the wall clock.
//
// Typical usage:
//   SimulatedClock clock(absl::FromUnixSeconds(1'800'000'000));
//   IntentCore core(options, &clock);
//   clock.Advance(absl::Minutes(5));
#ifndef UTM_SERVICES_COMMON_CLOCK_H_
#define UTM_SERVICES_COMMON_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace utm {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system's real-time clock. Thread-safe.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance (never destroyed).
  static RealClock* Get() {
    static RealClock* const kClock = new RealClock();
    return kClock;
  }
};

// A clock that moves only when told to. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_CLOCK_H_
