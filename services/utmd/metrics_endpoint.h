// The Prometheus scrape endpoint of utmd (--metrics HOST:PORT): GET /metrics
// answers a metrics::Catalog in Prometheus' text format, read at each scrape.
// Served by prometheus-cpp's exposer on a port of its own, so that a
// deployment can keep metrics on an internal network while the gRPC port
// faces clients. It names no operator, aircraft or place: only counts,
// levels and latencies.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(auto endpoint,
//                        MetricsEndpoint::Start("127.0.0.1:9464", &catalog));
//   ... endpoint->port() ...
//   endpoint.reset();  // before the catalog's sources go away
#ifndef UTM_SERVICES_UTMD_METRICS_ENDPOINT_H_
#define UTM_SERVICES_UTMD_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/metrics/metrics.h"

namespace prometheus {
class Exposer;
class Collectable;
}  // namespace prometheus

namespace utm::utmd {

class MetricsEndpoint {
 public:
  // Serves `catalog` (not owned; it must outlive the endpoint) at
  // http://ADDRESS/metrics. INVALID_ARGUMENT for a malformed address,
  // UNAVAILABLE when it cannot be bound. Port 0 picks a free port.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, const metrics::Catalog* catalog);
  ~MetricsEndpoint();  // stops serving; scrapes in flight finish first

  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;

  std::shared_ptr<prometheus::Collectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

// The catalog in Prometheus' text exposition format (as /metrics answers).
std::string RenderMetricsText(const metrics::Catalog& catalog);

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_METRICS_ENDPOINT_H_
