// How stale a replica's read model is: the time from a commit being
// acknowledged to its writer until another replica has applied it, on a real
// redis-server (started by the benchmark on a loopback port). Two followers,
// each with its own connections as separate processes have, tail the feed
// while one writer commits small entries; the baseline in the same run is
// the commit round trip itself.
//
// BM_DurableWatermark: the cost of waiting for a Redis replica and of the
// watermark, on a primary and one replica (both started by the benchmark):
// commits/s with wait_replicas 0 (the baseline, same run) and 1, and the
// durable lag a follower sees (commit acknowledged to its writer until the
// follower's durable() covers it).
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

// state.range(0): wait_replicas (0 or 1). state.range(1): 1 to commit
// through a bare client instead (FCALL utm_commit + WAIT in one pipeline,
// no watermark): WAIT's own cost, the baseline the watermark adds to.
void BM_DurableWatermark(benchmark::State& state) {
  if (!utm::testing::RedisServerAvailable()) {
    state.SkipWithError("redis-server is not installed");
    return;
  }
  utm::testing::RedisServerOptions po;
  po.appendonly = true;
  po.appendfsync = "always";
  po.extra_args = {"--repl-diskless-sync-delay", "0"};
  auto primary = *utm::testing::RedisServer::Start(po);
  utm::testing::RedisServerOptions ro = po;
  ro.extra_args = {"--replicaof", "127.0.0.1", absl::StrCat(primary->port())};
  auto replica = *utm::testing::RedisServer::Start(ro);
  RedisLedgerOptions lo;
  lo.client.addr = primary->addr();
  lo.wait_replicas = static_cast<int>(state.range(0));
  lo.wait_timeout = absl::Seconds(5);
  // Bounded: the replica in sync before the first commit waits for it.
  {
    auto admin = *redis::Client::Connect(lo.client);
    bool online = false;
    for (int i = 0; i < 200 && !online; ++i) {
      absl::StatusOr<redis::Reply> info = admin->Command({"INFO", "replication"});
      online = info.ok() && info->str.find("state=online") != std::string::npos;
      if (!online) absl::SleepFor(absl::Milliseconds(50));
    }
    if (!online) {
      state.SkipWithError("the replica did not come online");
      return;
    }
  }
  auto writer = *RedisLedger::Open(lo);
  auto reading = *RedisLedger::Open(lo);
  constexpr int kCommits = 2000;
  if (state.range(1) == 1) {
    auto bare = *redis::Client::Connect(lo.client);
    absl::Duration took;
    for (auto _ : state) {
      uint64_t seq = 0;
      std::string hash;
      const absl::Time start = absl::Now();
      for (int i = 1; i <= kCommits; ++i) {
        std::vector<std::vector<std::string>> commands = {
            {"FCALL", "utm_commit", "1", "{utm}:seq", absl::StrCat(seq), hash,
             "1", "1", "1", "1000000", "k", "k", "p", "t", absl::StrCat(i),
             "v"}};
        if (lo.wait_replicas > 0) {
          commands.push_back({"WAIT", absl::StrCat(lo.wait_replicas), "5000"});
        }
        absl::StatusOr<std::vector<redis::Reply>> r = bare->Pipeline(commands);
        if (!r.ok() || (*r)[0].elements.size() != 3 ||
            (*r)[0].elements[0].str != "ok") {
          std::abort();
        }
        seq = static_cast<uint64_t>((*r)[0].elements[1].integer);
        hash = (*r)[0].elements[2].str;
      }
      took = absl::Now() - start;
    }
    state.counters["commits_per_s"] = kCommits / absl::ToDoubleSeconds(took);
    return;
  }
  absl::Mutex mu;
  std::vector<absl::Time> committed(kCommits + 1), durable(kCommits + 1);
  FollowerOptions fo;
  Follower follower(reading.get(), fo);
  follower.OnDurable([&](uint64_t d) {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu);
    for (uint64_t s = 1; s <= d && s <= kCommits; ++s) {
      if (durable[s] == absl::Time()) durable[s] = now;
    }
  });
  if (!follower.Start().ok()) std::abort();
  const int64_t trips_before = writer->round_trips();
  absl::Duration elapsed;
  for (auto _ : state) {
    Position at;
    const absl::Time start = absl::Now();
    for (int i = 1; i <= kCommits; ++i) {
      absl::StatusOr<CommitResult> c = writer->CommitAndWait(
          Guard{at, {"k"}, {"k"}}, {store::Put("t", absl::StrCat(i), "v")});
      if (!c.ok() || c->status != CommitStatus::kCommitted) std::abort();
      const absl::Time done = absl::Now();
      {
        absl::MutexLock lock(&mu);
        committed[c->position.seq] = done;
      }
      at = c->position;
    }
    elapsed = absl::Now() - start;
    for (int i = 0; i < 1000 && follower.durable() < at.seq; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  follower.Stop();
  absl::MutexLock lock(&mu);
  state.counters["commits_per_s"] = kCommits / absl::ToDoubleSeconds(elapsed);
  state.counters["writer_round_trips_per_commit"] =
      static_cast<double>(writer->round_trips() - trips_before) / kCommits;
  std::vector<double> lag_ms;
  for (int seq = 1; seq <= kCommits; ++seq) {
    if (durable[seq] == absl::Time()) continue;
    // A follower can see an entry durable before its writer heard back: 0.
    lag_ms.push_back(
        std::max(0.0, absl::ToDoubleMilliseconds(durable[seq] - committed[seq])));
  }
  state.counters["durable_seen"] = static_cast<double>(lag_ms.size());
  state.counters["durable_lag_p50_ms"] = Percentile(lag_ms, 0.5);
  state.counters["durable_lag_p99_ms"] = Percentile(lag_ms, 0.99);
}
BENCHMARK(BM_DurableWatermark)
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 0})
    ->Args({1, 0})
    ->ArgNames({"wait_replicas", "bare"})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace utm::ledger
