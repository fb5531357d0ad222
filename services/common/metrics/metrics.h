// What utmd measures about itself, with no exporter attached.
//
// Cores record into these types (lock-free) or report gauges through
// callbacks read at scrape time; an exporter (services/utmd/metrics_endpoint.h,
// Prometheus text format) reads a Catalog. Nothing here depends on an
// exporter, so cores and their tests carry no HTTP or Prometheus code.
//
// Typical usage:
//   metrics::Catalog catalog;
//   metrics::Histogram* sync = catalog.AddHistogram(
//       "utmd_store_sync_seconds", "Time to write and sync one group commit.",
//       {}, metrics::Histogram::LatencyBounds());
//   store_options.sync_seconds = sync;          // the store calls Observe()
//   catalog.AddGauge("utmd_live_tracks", "Aircraft tracked now.",
//                    [&core](metrics::Samples* out) {
//                      out->push_back({{}, double(core.track_count())});
//                    });
#ifndef UTM_SERVICES_COMMON_METRICS_METRICS_H_
#define UTM_SERVICES_COMMON_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace utm::metrics {

// Label names and values of one sample, in the family's label order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Counts of observations in fixed buckets (each bucket counts the values at
// most its upper bound, as Prometheus histograms do), their sum and number.
// Observe() is lock-free and safe from any thread.
class Histogram {
 public:
  // `bounds`: upper bounds, strictly increasing; a last +Inf bucket is
  // implied.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    // Cumulative: cumulative_counts[i] observations were <= bounds[i]; one
    // more entry than bounds, for +Inf (== count).
    std::vector<uint64_t> cumulative_counts;
    double sum = 0;
    uint64_t count = 0;
  };
  // Consistent enough for monitoring: counts read one by one while others
  // may observe; count is the +Inf bucket, so never below a bucket.
  Snapshot Read() const;

  // Seconds from 100 µs to 10 s, for call, sync and round-trip latencies.
  static std::vector<double> LatencyBounds();
  // Powers of two from 1 to 4096, for sizes (batches in a group commit).
  static std::vector<double> SizeBounds();

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// A monotonically increasing count. Lock-free.
class Counter {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

struct Sample {
  Labels labels;
  double value = 0;
};
using Samples = std::vector<Sample>;
// Fills `out` at scrape time: must be thread-safe and quick (it holds no
// lock of the catalog's, but scrapes wait for it).
using ReadSamples = std::function<void(Samples* out)>;

enum class Kind { kCounter, kGauge, kHistogram };

// One family as an exporter sees it.
struct Family {
  std::string name;
  std::string help;
  Kind kind = Kind::kGauge;
  Samples samples;  // counters and gauges
  std::vector<std::pair<Labels, Histogram::Snapshot>> histograms;
};

// The families a process exposes. Families are added while the process
// starts (by utmd's wiring) and live as long as the catalog; a callback must
// stay valid until the exporter reading the catalog has stopped.
// Thread-safe.
class Catalog {
 public:
  Catalog() = default;
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // A counter (or gauge) whose samples are read at scrape time, for counts
  // and levels a core already keeps.
  void AddCounter(std::string name, std::string help, ReadSamples read);
  void AddGauge(std::string name, std::string help, ReadSamples read);
  // A counter owned by the catalog, with fixed labels. Several calls with
  // one name and different labels make one family.
  Counter* AddCounter(const std::string& name, const std::string& help,
                      Labels labels);
  // A histogram owned by the catalog, with fixed labels; several calls with
  // one name make one family (same bounds expected).
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          Labels labels, std::vector<double> bounds);
  // A histogram owned elsewhere (it must outlive the exporter).
  void AddHistogram(const std::string& name, const std::string& help,
                    Labels labels, const Histogram* histogram);

  // Every family, in the order first added, samples read now.
  std::vector<Family> Collect() const;

 private:
  struct Entry {
    std::string name;
    std::string help;
    Kind kind;
    std::vector<ReadSamples> reads;
    std::vector<std::pair<Labels, const Counter*>> counters;
    std::vector<std::pair<Labels, const Histogram*>> histograms;
  };
  Entry* FindOrAdd(const std::string& name, const std::string& help, Kind kind)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Counter>> owned_counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Histogram>> owned_histograms_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::metrics

#endif  // UTM_SERVICES_COMMON_METRICS_METRICS_H_
