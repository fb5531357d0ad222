#include "services/common/metrics/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::metrics {
namespace {

using ::testing::ElementsAre;

TEST(HistogramTest, CountsEachValueInTheFirstBucketThatHoldsIt) {
  Histogram h({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 5.0, 7.0}) h.Observe(v);
  const Histogram::Snapshot s = h.Read();
  // <=1: 0.5 and 1.0 (bounds are inclusive); <=2: +1.5; <=5: +5.0; +Inf.
  EXPECT_THAT(s.cumulative_counts, ElementsAre(2, 3, 4, 5));
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.sum, 15.0);
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram h(Histogram::LatencyBounds());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.Observe(0.001);
    });
  }
  for (std::thread& t : threads) t.join();
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_NEAR(s.sum, 40.0, 1e-6);
}

TEST(CatalogTest, FamiliesKeepTheirOrderAndGatherTheirSeries) {
  Catalog catalog;
  int level = 7;
  catalog.AddGauge("g", "a gauge", [&level](Samples* out) {
    out->push_back({{{"kind", "x"}}, static_cast<double>(level)});
  });
  Counter* ok = catalog.AddCounter("c", "a counter", Labels{{"code", "OK"}});
  Counter* bad =
      catalog.AddCounter("c", "ignored", Labels{{"code", "InvalidArgument"}});
  Histogram* h = catalog.AddHistogram("h", "a histogram", {}, {1, 2});
  ok->Add(3);
  bad->Add();
  h->Observe(1.5);
  level = 9;  // read at collection time, not when added

  const std::vector<Family> families = catalog.Collect();
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "g");
  EXPECT_EQ(families[0].kind, Kind::kGauge);
  ASSERT_EQ(families[0].samples.size(), 1u);
  EXPECT_EQ(families[0].samples[0].value, 9);
  EXPECT_EQ(families[1].name, "c");
  EXPECT_EQ(families[1].help, "a counter");
  ASSERT_EQ(families[1].samples.size(), 2u);
  EXPECT_EQ(families[1].samples[0].value, 3);
  EXPECT_EQ(families[1].samples[1].labels[0].second, "InvalidArgument");
  EXPECT_EQ(families[2].kind, Kind::kHistogram);
  ASSERT_EQ(families[2].histograms.size(), 1u);
  EXPECT_THAT(families[2].histograms[0].second.cumulative_counts,
              ElementsAre(0, 1, 1));
}

}  // namespace
}  // namespace utm::metrics
