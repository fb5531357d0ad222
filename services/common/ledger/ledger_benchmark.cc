// How stale a replica's read model is: the time from a commit being
// acknowledged to its writer until another replica has applied it, on a real
// redis-server (started by the benchmark on a loopback port). Two followers,
// each with its own connections as separate processes have, tail the feed
// while one writer commits small entries; the baseline in the same run is
// the commit round trip itself.
//
//   ninja -C build ledger_benchmark && build/services/common/ledger/ledger_benchmark
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/redis_ledger.h"
#include "tests/testing/redis_server.h"

namespace utm::ledger {
namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// state.range(0): pause between commits, µs (0: back to back).
void BM_FeedStaleness(benchmark::State& state) {
  if (!utm::testing::RedisServerAvailable()) {
    state.SkipWithError("redis-server is not installed");
    return;
  }
  utm::testing::RedisServerOptions ro;
  ro.appendonly = true;
  ro.appendfsync = "always";
  auto redis = *utm::testing::RedisServer::Start(ro);
  RedisLedgerOptions lo;
  lo.client.addr = redis->addr();
  auto writer = *RedisLedger::Open(lo);
  constexpr int kFollowers = 2, kCommits = 2000;
  std::vector<std::unique_ptr<RedisLedger>> ledgers;
  std::vector<std::unique_ptr<Follower>> followers;
  absl::Mutex mu;
  std::vector<absl::Time> committed(kCommits + 1);
  std::vector<double> commit_ms;
  // When each follower applied each entry.
  std::vector<std::vector<absl::Time>> applied(
      kFollowers, std::vector<absl::Time>(kCommits + 1));
  for (int f = 0; f < kFollowers; ++f) {
    ledgers.push_back(*RedisLedger::Open(lo));
    followers.push_back(std::make_unique<Follower>(ledgers.back().get()));
    followers.back()->OnApplied([&, f](const Entry& e) {
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu);
      if (e.seq <= kCommits) applied[f][e.seq] = now;
    });
    if (!followers.back()->Start().ok()) std::abort();
  }
  for (auto _ : state) {
    Position at;
    for (int i = 1; i <= kCommits; ++i) {
      const absl::Time start = absl::Now();
      absl::StatusOr<CommitResult> c = writer->CommitAndWait(
          Guard{at, {"k"}, {"k"}}, {store::Put("t", absl::StrCat(i), "v")});
      if (!c.ok() || c->status != CommitStatus::kCommitted) std::abort();
      const absl::Time done = absl::Now();
      {
        absl::MutexLock lock(&mu);
        committed[c->position.seq] = done;
        commit_ms.push_back(absl::ToDoubleMilliseconds(done - start));
      }
      at = c->position;
      if (state.range(0) > 0) absl::SleepFor(absl::Microseconds(state.range(0)));
    }
    for (auto& f : followers) {
      if (!f->WaitApplied(at.seq).ok()) std::abort();
    }
  }
  for (auto& f : followers) f->Stop();
  absl::MutexLock lock(&mu);
  state.counters["commit_p50_ms"] = Percentile(commit_ms, 0.5);
  state.counters["commit_p99_ms"] = Percentile(commit_ms, 0.99);
  // An entry applied before its writer heard back counts as 0.
  std::vector<double> staleness_ms;
  for (int f = 0; f < kFollowers; ++f) {
    for (int seq = 1; seq <= kCommits; ++seq) {
      staleness_ms.push_back(std::max(
          0.0, absl::ToDoubleMilliseconds(applied[f][seq] - committed[seq])));
    }
  }
  state.counters["staleness_p50_ms"] = Percentile(staleness_ms, 0.5);
  state.counters["staleness_p99_ms"] = Percentile(staleness_ms, 0.99);
}
BENCHMARK(BM_FeedStaleness)
    ->Arg(0)
    ->Arg(1000)
    ->ArgName("pause_us")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace utm::ledger
