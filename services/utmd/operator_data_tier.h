// What an operator's data export and erasure reach in one utmd process
// (services/operator/operator_data.h): the sections over this process's
// cores, in the order an export lists them and an erasure runs them.
//
// Lifetime: built after the cores and the tactical tier it reads, which
// outlive it; the operator service it serves through must stop using it
// (server shut down, erasures waited for) before it goes.
#ifndef UTM_SERVICES_UTMD_OPERATOR_DATA_TIER_H_
#define UTM_SERVICES_UTMD_OPERATOR_DATA_TIER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/common/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/intent/intent_core.h"
#include "services/operator/data_sections.h"
#include "services/operator/operator_data.h"
#include "services/operator/operator_settings.h"
#include "services/registry/registry_core.h"
#include "services/remoteid/remoteid_core.h"

namespace utm::utmd {

struct OperatorDataOptions {
  // Not owned; outlive the tier. `store` is null on Redis.
  const Clock* clock = nullptr;
  intent::IntentCore* intents = nullptr;
  registry::RegistryCore* registry = nullptr;
  audit::AuditLog* audit = nullptr;
  const remoteid::RemoteIdCore* display = nullptr;
  // Null where no flight logs are kept.
  fleet::FlightLogs* flight_logs = nullptr;
  store::Store* store = nullptr;
  // The ledger shared by replicas (on Redis), whose history an erasure
  // forgets; null in one process.
  ledger::Ledger* ledger = nullptr;
  // Operators' data settings.
  fleet::OperatorSettings* settings = nullptr;
  // The keyed pseudonym of an identifier; null when the deployment has
  // none (an erasure is then refused).
  std::function<std::string(const std::string&)> pseudonym;
  // Privileged reads younger than this are counted, not listed, in an
  // export (--export-reads-after).
  absl::Duration export_reads_after = absl::ZeroDuration();
};

class OperatorDataTier {
 public:
  explicit OperatorDataTier(OperatorDataOptions options);
  const fleet::OperatorData* data() const { return data_.get(); }

 private:
  std::vector<std::unique_ptr<fleet::DataSection>> sections_;
  std::unique_ptr<fleet::OperatorData> data_;
};

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_OPERATOR_DATA_TIER_H_
