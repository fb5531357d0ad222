// The Remote ID display across replicas, in one process over a real
// redis-server on loopback (both replicas and Redis on the same 2-core
// machine):
//
//   build/services/remoteid/display_cluster_benchmark
//
// BM_Offer/<replicated>: one position report into the display of the
//   replica the aircraft streams to, 10,000 aircraft in turn. replicated 0
//   is the baseline, the core alone (one process); 1: the core with a
//   started DisplayCluster (the report is also queued for the others; the
//   publishing thread's serialisation shows in cpu_us, the whole process's
//   CPU per report).
// BM_Delivery/<reports per s>: reports paced at that rate into replica a
//   (10,000 aircraft in turn) for 3 s; each report's latency from a's core
//   keeping it to b's core having applied it (b's count of inputs received
//   passing it, sampled every 100 µs). p50 / p99 / max in ms; delivered:
//   reports b applied per second of the run; cpu_us: CPU of the whole
//   process (both replicas' threads; Redis aside) per report.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "geo/geodesy.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "services/remoteid/display_cluster.h"
#include "tests/telemetry_test_util.h"
#include "tests/testing/redis_server.h"

namespace utm::remoteid {
namespace {

constexpr int kAircraft = 10000;
const geo::LatLng kCentre{47.3769, 8.5417};

RemoteIdOptions Options() {
  RemoteIdOptions o;
  o.session_key = "0123456789abcdef0123456789abcdef";
  return o;
}

// Aircraft i's report at `t`, on a 100 x 100 grid 50 m apart.
v1::PositionReport Report(int i, absl::Time t) {
  v1::PositionReport r = test_util::ReportAt(
      absl::StrCat("aircraft-", i),
      geo::GeodesicDestination(
          geo::GeodesicDestination(kCentre, 0, 50.0 * (i / 100)), 90,
          50.0 * (i % 100)),
      t, 5);
  r.set_intent_id(absl::StrCat("intent-", i));
  return r;
}

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

std::unique_ptr<utm::testing::RedisServer> StartRedis(benchmark::State& state) {
  if (!utm::testing::RedisServerAvailable()) {
    state.SkipWithError("redis-server is not installed");
    return nullptr;
  }
  auto server = utm::testing::RedisServer::Start({});
  if (!server.ok()) {
    state.SkipWithError(server.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(server);
}

std::unique_ptr<DisplayCluster> Join(const std::string& addr,
                                     const std::string& member,
                                     RemoteIdCore* core) {
  DisplayClusterOptions o;
  o.redis.addr = addr;
  o.member_id = member;
  o.max_queued_inputs = 10'000'000;  // the benchmark counts every report
  auto cluster = std::make_unique<DisplayCluster>(o, core);
  if (!cluster->Start().ok()) return nullptr;
  return cluster;
}

void BM_Offer(benchmark::State& state) {
  const bool replicated = state.range(0) == 1;
  std::unique_ptr<utm::testing::RedisServer> redis;
  RemoteIdCore core(Options(), RealClock::Get());
  std::unique_ptr<DisplayCluster> cluster;
  if (replicated) {
    redis = StartRedis(state);
    if (redis == nullptr) return;
    cluster = Join(redis->addr(), "bench-a", &core);
    if (cluster == nullptr) {
      state.SkipWithError("the cluster did not start");
      return;
    }
  }
  std::vector<v1::PositionReport> reports;
  reports.reserve(kAircraft);
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < kAircraft; ++i) reports.push_back(Report(i, t0));
  int64_t n = 0;
  const double cpu0 = CpuSeconds();
  for (auto _ : state) {
    v1::PositionReport& r = reports[n % kAircraft];
    // Each round of the fleet a millisecond later: every report is new.
    *r.mutable_time() = TimeToProto(t0 + absl::Milliseconds(n / kAircraft));
    core.AddNetworkReport("op", r);
    ++n;
  }
  if (cluster != nullptr) {
    for (int i = 0; i < 2000 && cluster->pending() > 0; ++i) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  state.counters["cpu_us"] =
      (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(n);
  if (cluster != nullptr) cluster->Stop();
}
BENCHMARK(BM_Offer)->ArgName("replicated")->Arg(0)->Arg(1);

void BM_Delivery(benchmark::State& state) {
  const int64_t rate = state.range(0);
  std::unique_ptr<utm::testing::RedisServer> redis = StartRedis(state);
  if (redis == nullptr) return;
  RemoteIdCore a(Options(), RealClock::Get());
  RemoteIdCore b(Options(), RealClock::Get());
  std::unique_ptr<DisplayCluster> ca = Join(redis->addr(), "bench-a", &a);
  std::unique_ptr<DisplayCluster> cb = Join(redis->addr(), "bench-b", &b);
  if (ca == nullptr || cb == nullptr) {
    state.SkipWithError("the clusters did not start");
    return;
  }
  const int64_t total = rate * 3;
  std::vector<v1::PositionReport> reports;
  reports.reserve(kAircraft);
  for (int i = 0; i < kAircraft; ++i) reports.push_back(Report(i, absl::Now()));
  for (auto _ : state) {
    std::vector<std::atomic<int64_t>> sent_ns(static_cast<size_t>(total));
    std::vector<double> latency_ms;
    latency_ms.reserve(static_cast<size_t>(total));
    const int64_t before = cb->stats().inputs_received;
    std::atomic<bool> done{false};
    // b's side: when each report has been applied.
    std::thread watcher([&] {
      int64_t seen = 0;
      absl::Time progress = absl::Now();
      // Until every report arrived, or none arrived for 5 s after the last
      // was sent (lost ones are counted).
      while (seen < total &&
             !(done.load() && absl::Now() - progress > absl::Seconds(5))) {
        const int64_t got = cb->stats().inputs_received - before;
        const int64_t now_ns = absl::ToUnixNanos(absl::Now());
        if (got > seen) progress = absl::Now();
        for (; seen < got && seen < total; ++seen) {
          latency_ms.push_back(
              static_cast<double>(now_ns - sent_ns[seen].load()) * 1e-6);
        }
        absl::SleepFor(absl::Microseconds(100));
      }
    });
    const double cpu0 = CpuSeconds();
    const absl::Time start = absl::Now();
    int64_t k = 0;
    while (k < total) {
      // Paced: by now this many reports are due.
      const int64_t due = std::min<int64_t>(
          total,
          static_cast<int64_t>(absl::ToDoubleSeconds(absl::Now() - start) *
                               static_cast<double>(rate)) +
              1);
      for (; k < due; ++k) {
        v1::PositionReport& r = reports[k % kAircraft];
        const absl::Time now = absl::Now();
        *r.mutable_time() = TimeToProto(now);
        sent_ns[k].store(absl::ToUnixNanos(now));
        a.AddNetworkReport("op", r);
      }
      absl::SleepFor(absl::Microseconds(200));
    }
    const absl::Time fed = absl::Now();
    done.store(true);
    watcher.join();
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    state.counters["cpu_us"] =
        (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(total);
    state.counters["fed_per_s"] =
        static_cast<double>(total) / absl::ToDoubleSeconds(fed - start);
    state.counters["delivered_per_s"] =
        static_cast<double>(latency_ms.size()) / elapsed;
    state.counters["lost"] =
        static_cast<double>(total - static_cast<int64_t>(latency_ms.size()));
    state.counters["p50_ms"] = Percentile(latency_ms, 0.5);
    state.counters["p99_ms"] = Percentile(latency_ms, 0.99);
    state.counters["max_ms"] = Percentile(latency_ms, 1.0);
  }
  ca->Stop();
  cb->Stop();
}
BENCHMARK(BM_Delivery)
    ->ArgName("reports_per_s")
    ->Arg(10000)
    ->Arg(50000)
    ->Arg(100000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace utm::remoteid
