// The metrics utmd exposes about its services (the families listed in
// docs/operations.md, "Metrics"), read at each scrape from the cores.
// Per-call metrics come from the server (services/common/rpc_observer.h);
// the store's and Redis' latencies from the histograms main.cc hands them.
#ifndef UTM_SERVICES_UTMD_METRICS_WIRING_H_
#define UTM_SERVICES_UTMD_METRICS_WIRING_H_

#include "services/common/metrics/metrics.h"

namespace utm::constraint {
class ConstraintCore;
}  // namespace utm::constraint
namespace utm::intent {
class IntentCore;
}  // namespace utm::intent
namespace utm::telemetry {
class TelemetryService;
}  // namespace utm::telemetry

namespace utm::utmd {

// What the families read; not owned, each must outlive every scrape (stop
// the endpoint first). Null members are left out.
struct MetricSources {
  const intent::IntentCore* intents = nullptr;
  const constraint::ConstraintCore* constraints = nullptr;
  const telemetry::TelemetryService* telemetry = nullptr;
};

void AddServiceMetrics(metrics::Catalog* catalog, const MetricSources& sources);

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_METRICS_WIRING_H_
