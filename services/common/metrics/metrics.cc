#include "services/common/metrics/metrics.h"

#include <algorithm>
#include <cassert>

namespace utm::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value,
                                     std::memory_order_relaxed)) {
  }
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  snapshot.cumulative_counts.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts[i] = running;
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> Histogram::LatencyBounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::vector<double> Histogram::SizeBounds() {
  std::vector<double> bounds;
  for (double b = 1; b <= 4096; b *= 2) bounds.push_back(b);
  return bounds;
}

Catalog::Entry* Catalog::FindOrAdd(const std::string& name,
                                   const std::string& help, Kind kind) {
  for (const std::unique_ptr<Entry>& entry : entries_) {
    if (entry->name == name) {
      assert(entry->kind == kind);
      return entry.get();
    }
  }
  entries_.push_back(std::make_unique<Entry>());
  Entry* entry = entries_.back().get();
  entry->name = name;
  entry->help = help;
  entry->kind = kind;
  return entry;
}

void Catalog::AddCounter(std::string name, std::string help, ReadSamples read) {
  absl::MutexLock lock(&mu_);
  FindOrAdd(name, help, Kind::kCounter)->reads.push_back(std::move(read));
}

void Catalog::AddGauge(std::string name, std::string help, ReadSamples read) {
  absl::MutexLock lock(&mu_);
  FindOrAdd(name, help, Kind::kGauge)->reads.push_back(std::move(read));
}

Counter* Catalog::AddCounter(const std::string& name, const std::string& help,
                             Labels labels) {
  absl::MutexLock lock(&mu_);
  owned_counters_.push_back(std::make_unique<Counter>());
  Counter* counter = owned_counters_.back().get();
  FindOrAdd(name, help, Kind::kCounter)
      ->counters.emplace_back(std::move(labels), counter);
  return counter;
}

Histogram* Catalog::AddHistogram(const std::string& name,
                                 const std::string& help, Labels labels,
                                 std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  owned_histograms_.push_back(std::make_unique<Histogram>(std::move(bounds)));
  Histogram* histogram = owned_histograms_.back().get();
  FindOrAdd(name, help, Kind::kHistogram)
      ->histograms.emplace_back(std::move(labels), histogram);
  return histogram;
}

void Catalog::AddHistogram(const std::string& name, const std::string& help,
                           Labels labels, const Histogram* histogram) {
  absl::MutexLock lock(&mu_);
  FindOrAdd(name, help, Kind::kHistogram)
      ->histograms.emplace_back(std::move(labels), histogram);
}

std::vector<Family> Catalog::Collect() const {
  // What to read is copied under the lock and read outside it: a callback
  // may take a core's lock, and Add calls must not wait on a scrape.
  struct ToRead {
    Family family;
    std::vector<ReadSamples> reads;
    std::vector<std::pair<Labels, const Counter*>> counters;
    std::vector<std::pair<Labels, const Histogram*>> histograms;
  };
  std::vector<ToRead> to_read;
  {
    absl::MutexLock lock(&mu_);
    to_read.reserve(entries_.size());
    for (const std::unique_ptr<Entry>& entry : entries_) {
      ToRead item;
      item.family.name = entry->name;
      item.family.help = entry->help;
      item.family.kind = entry->kind;
      item.reads = entry->reads;
      item.counters = entry->counters;
      item.histograms = entry->histograms;
      to_read.push_back(std::move(item));
    }
  }
  std::vector<Family> families;
  families.reserve(to_read.size());
  for (ToRead& item : to_read) {
    for (const ReadSamples& read : item.reads) read(&item.family.samples);
    for (const auto& [labels, counter] : item.counters) {
      item.family.samples.push_back(
          {labels, static_cast<double>(counter->value())});
    }
    for (const auto& [labels, histogram] : item.histograms) {
      item.family.histograms.emplace_back(labels, histogram->Read());
    }
    families.push_back(std::move(item.family));
  }
  return families;
}

}  // namespace utm::metrics
