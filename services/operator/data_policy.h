// What an operator has chosen to be kept about its flights ("your drone,
// your data, your control": docs/privacy.md), as the parts of utmd that
// would write something about a flight ask it.
//
// The operator sets it (OperatorService); whoever records a flight (flight
// logs, the intents' retention) asks For() each time it would write, so a
// change applies from the next write on. Local Data Mode: nothing about the
// operator's flights is written anywhere — intents, positions and alerts are
// used live for deconfliction and then forgotten.
//
// Typical usage:
//   DataPolicy policy = policies->For(report.operator_id);
//   if (policy.local_only) return;  // used live only, never written
//   ... record, to be kept until flight end + policy.flight_log_retention
#ifndef UTM_SERVICES_OPERATOR_DATA_POLICY_H_
#define UTM_SERVICES_OPERATOR_DATA_POLICY_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace utm::fleet {

// Flight logs are kept this long after their flight ends unless the
// operator says otherwise.
inline constexpr absl::Duration kDefaultFlightLogRetention =
    absl::Hours(24 * 30);

struct DataPolicy {
  // Local Data Mode: nothing about the operator's flights is written
  // (no flight log, intents held in memory only, no identifying audit
  // detail). DEFAULT: false.
  bool local_only = false;
  // How long a flight log is kept once its flight is over. Applies to logs
  // already kept too: a shorter period removes them sooner.
  absl::Duration flight_log_retention = kDefaultFlightLogRetention;
};

// Every operator's policy. Implementations are thread-safe and quick (asked
// per position report).
class DataPolicies {
 public:
  virtual ~DataPolicies() = default;
  virtual DataPolicy For(absl::string_view operator_id) const = 0;
};

// The same policy for everyone: the default one unless told otherwise. For
// tests and for cores built before settings exist.
class UniformDataPolicies : public DataPolicies {
 public:
  explicit UniformDataPolicies(DataPolicy policy = {}) : policy_(policy) {}
  DataPolicy For(absl::string_view) const override { return policy_; }

 private:
  const DataPolicy policy_;
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_DATA_POLICY_H_
