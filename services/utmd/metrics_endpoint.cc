#include "services/utmd/metrics_endpoint.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/listen_address.h"

namespace utm::utmd {

namespace {

std::vector<prometheus::ClientMetric::Label> ToLabels(
    const metrics::Labels& labels) {
  std::vector<prometheus::ClientMetric::Label> out;
  out.reserve(labels.size());
  for (const auto& [name, value] : labels) out.push_back({name, value});
  return out;
}

std::vector<prometheus::MetricFamily> ToPrometheus(
    const metrics::Catalog& catalog) {
  std::vector<prometheus::MetricFamily> out;
  for (metrics::Family& family : catalog.Collect()) {
    prometheus::MetricFamily pf;
    pf.name = std::move(family.name);
    pf.help = std::move(family.help);
    switch (family.kind) {
      case metrics::Kind::kCounter:
        pf.type = prometheus::MetricType::Counter;
        break;
      case metrics::Kind::kGauge:
        pf.type = prometheus::MetricType::Gauge;
        break;
      case metrics::Kind::kHistogram:
        pf.type = prometheus::MetricType::Histogram;
        break;
    }
    for (const metrics::Sample& sample : family.samples) {
      prometheus::ClientMetric metric;
      metric.label = ToLabels(sample.labels);
      if (family.kind == metrics::Kind::kCounter) {
        metric.counter.value = sample.value;
      } else {
        metric.gauge.value = sample.value;
      }
      pf.metric.push_back(std::move(metric));
    }
    for (const auto& [labels, snapshot] : family.histograms) {
      prometheus::ClientMetric metric;
      metric.label = ToLabels(labels);
      metric.histogram.sample_count = snapshot.count;
      metric.histogram.sample_sum = snapshot.sum;
      for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
        metric.histogram.bucket.push_back(
            {snapshot.cumulative_counts[i],
             i < snapshot.bounds.size()
                 ? snapshot.bounds[i]
                 : std::numeric_limits<double>::infinity()});
      }
      pf.metric.push_back(std::move(metric));
    }
    // A family with no series yet (a code never answered) is left out, as
    // Prometheus' own clients do.
    if (!pf.metric.empty()) out.push_back(std::move(pf));
  }
  return out;
}

class CatalogCollectable : public prometheus::Collectable {
 public:
  explicit CatalogCollectable(const metrics::Catalog* catalog)
      : catalog_(catalog) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return ToPrometheus(*catalog_);
  }

 private:
  const metrics::Catalog* const catalog_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, const metrics::Catalog* catalog) {
  absl::StatusOr<ListenAddress> parsed =
      ParseListenAddress(address, "--metrics");
  if (!parsed.ok()) return parsed.status();
  const int requested = parsed->port;
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint);
  endpoint->collectable_ = std::make_shared<CatalogCollectable>(catalog);
  try {
    // Two threads: scrapes are rare; a second keeps one slow scraper from
    // blocking Prometheus.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "--metrics ", address, ": cannot listen there: ", e.what()));
  }
  endpoint->exposer_->RegisterCollectable(endpoint->collectable_);
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->port_ = ports.empty() ? requested : ports.front();
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

std::string RenderMetricsText(const metrics::Catalog& catalog) {
  return prometheus::TextSerializer().Serialize(ToPrometheus(catalog));
}

}  // namespace utm::utmd
