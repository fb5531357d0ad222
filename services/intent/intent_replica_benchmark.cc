// Filings per second through replicated intent cores (no gRPC), against
// the single process in the same run:
//   backend 0  one core, memory store: the ceiling (no durability at all)
//   backend 1  one core, embedded store with fsync: utmd on one machine
//   backend 2  cores on the local ledger (memory store): the protocol's own
//              cost without a network
//   backend 3  cores on Redis, appendfsync everysec
//   backend 4  cores on Redis, appendfsync always ("acknowledged = on disk")
// `replicas` cores share the backend (Redis: each with its own connections,
// as separate processes have); the benchmark's threads are clients spread
// over them. Every filing lands on its own spot of a 100 km grid, scattered
// so that concurrent filings rarely share an area key: each pays the full
// path (decision, guarded commit, the follower applying it). Counters:
// Redis round trips and decisions repeated per filing.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/common/store.h"
#include "services/intent/intent_benchmark_filings.h"
#include "services/intent/intent_core.h"
#include "tests/testing/redis_server.h"

namespace utm::intent {
namespace {

using benchmarking::kNow;

// Filing n at a spot of the grid (intent_benchmark_filings.h), scattered so
// that consecutive filings are far apart.
FileRequest Filing(int64_t n) {
  return benchmarking::GridFiling((n * 7919) % 1'000'000 +
                                  n / 1'000'000 * 1'000'000);
}

struct Cluster {
  SimulatedClock clock{kNow};
  std::unique_ptr<utm::testing::RedisServer> redis;
  std::unique_ptr<store::Store> store;
  std::vector<std::unique_ptr<ledger::Ledger>> ledgers;
  std::vector<std::unique_ptr<ledger::Follower>> followers;
  std::vector<std::unique_ptr<IntentCore>> cores;
  std::string dir;

  int64_t RoundTrips() const {
    int64_t n = 0;
    for (const auto& l : ledgers) n += l->round_trips();
    return n;
  }
  int64_t Retries() const {
    int64_t n = 0;
    for (const auto& c : cores) n += c->ledger_retries();
    return n;
  }
  ~Cluster() {
    for (auto& f : followers) f->Stop();
    cores.clear();
    followers.clear();
    ledgers.clear();
    store.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

std::unique_ptr<Cluster> Build(int backend, int replicas) {
  auto c = std::make_unique<Cluster>();
  if (backend <= 2) {
    store::StoreOptions so;
    so.backend = backend == 1 ? "embedded" : "memory";
    if (backend == 1) {
      c->dir = (std::filesystem::temp_directory_path() /
                absl::StrCat("utm-replica-bench-", getpid()))
                   .string();
      std::filesystem::remove_all(c->dir);
      so.dir = c->dir;
    }
    c->store = *store::OpenStore(so);
  }
  if (backend <= 1) {
    c->cores.push_back(std::make_unique<IntentCore>(IntentOptions(), &c->clock,
                                                    nullptr, c->store.get()));
    if (!c->cores.back()->Recover().ok()) std::abort();
    return c;
  }
  if (backend >= 3) {
    utm::testing::RedisServerOptions ro;
    ro.appendonly = true;
    ro.appendfsync = backend == 4 ? "always" : "everysec";
    c->redis = *utm::testing::RedisServer::Start(ro);
  }
  for (int r = 0; r < replicas; ++r) {
    if (backend == 2) {
      if (c->ledgers.empty()) {
        c->ledgers.push_back(*ledger::LocalLedger::Open(c->store.get()));
      }
    } else {
      ledger::RedisLedgerOptions lo;
      lo.client.addr = c->redis->addr();
      lo.pool_size = 16;
      c->ledgers.push_back(*ledger::RedisLedger::Open(lo));
    }
    ledger::Ledger* l = c->ledgers.back().get();
    c->followers.push_back(std::make_unique<ledger::Follower>(l));
    c->cores.push_back(std::make_unique<IntentCore>(IntentOptions(), &c->clock));
    c->cores.back()->UseLedger(l, c->followers.back().get());
    if (!c->followers.back()->Start().ok()) std::abort();
  }
  return c;
}

void BM_FileReplicated(benchmark::State& state) {
  static Cluster* cluster = nullptr;
  static std::atomic<int64_t> next{0};
  const int backend = static_cast<int>(state.range(0));
  const int replicas = static_cast<int>(state.range(1));
  // Every thread decides alike; the cluster is shared only once the timed
  // loop has begun (its start is a barrier for all threads).
  if ((backend <= 1 && replicas > 1) ||
      (backend >= 3 && !utm::testing::RedisServerAvailable())) {
    state.SkipWithError("not applicable");
    return;
  }
  if (state.thread_index() == 0) {
    cluster = Build(backend, replicas).release();
    next = 0;
  }
  IntentCore* core = nullptr;
  for (auto _ : state) {
    if (core == nullptr) {
      core = cluster->cores[state.thread_index() % cluster->cores.size()].get();
    }
    absl::StatusOr<WriteOutcome> out =
        core->File(absl::StrCat("op-", state.thread_index()), Filing(next++));
    if (!out.ok() || !out->accepted()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    // Totals over every thread (the loop's end is a barrier too), including
    // the followers' own reads of the feed.
    const double filings = static_cast<double>(next.load());
    state.counters["round_trips_per_filing"] =
        static_cast<double>(cluster->RoundTrips()) / filings;
    state.counters["retries_per_filing"] =
        static_cast<double>(cluster->Retries()) / filings;
    delete cluster;
    cluster = nullptr;
  }
}
BENCHMARK(BM_FileReplicated)
    ->Args({0, 1})
    ->Args({1, 1})
    ->ArgsProduct({{2, 3, 4}, {1, 2, 3}})
    ->ArgNames({"backend", "replicas"})
    ->Threads(16)
    ->MinTime(2.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Conflict queries per second on the same replicas, against the single
// process: 10,000 intents filed through replica 0 (every replica applies
// them), then each thread asks its replica for the intents within 300 m of
// a random spot of the filled part of the grid (a few dozen). Reads are
// answered from the replica's own model: no round trip to the ledger
// (round_trips_per_query counts the followers' idle polling only).
void BM_QueryReplicated(benchmark::State& state) {
  static Cluster* cluster = nullptr;
  static int64_t trips_before = 0;
  constexpr int kFiled = 10'000;
  const int backend = static_cast<int>(state.range(0));
  const int replicas = static_cast<int>(state.range(1));
  if ((backend <= 1 && replicas > 1) ||
      (backend >= 3 && !utm::testing::RedisServerAvailable())) {
    state.SkipWithError("not applicable");
    return;
  }
  if (state.thread_index() == 0) {
    cluster = Build(backend, replicas).release();
    for (int k = 0; k < kFiled; ++k) {
      absl::StatusOr<WriteOutcome> out =
          cluster->cores[0]->File("op-fill", benchmarking::GridFiling(k));
      if (!out.ok() || !out->accepted()) std::abort();
    }
    for (auto& f : cluster->followers) {
      if (!f->CatchUp().ok()) std::abort();
    }
    trips_before = cluster->RoundTrips();
  }
  IntentCore* core = nullptr;
  std::mt19937_64 rng(state.thread_index());
  std::uniform_int_distribution<int64_t> spot(0, kFiled - 1);
  int64_t found = 0;
  for (auto _ : state) {
    if (core == nullptr) {
      core = cluster->cores[state.thread_index() % cluster->cores.size()].get();
    }
    geo::Volume4D area = benchmarking::GridFiling(spot(rng)).volumes[0];
    std::get<geo::Circle>(area.volume.footprint).radius_m = 300;
    found += static_cast<int64_t>(core->Query("op-reader", area).size());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["intents_per_query"] = benchmark::Counter(
      static_cast<double>(found), benchmark::Counter::kAvgIterations);
  if (state.thread_index() == 0) {
    state.counters["round_trips_per_query"] =
        static_cast<double>(cluster->RoundTrips() - trips_before) /
        static_cast<double>(state.iterations() * state.threads());
    delete cluster;
    cluster = nullptr;
  }
}
BENCHMARK(BM_QueryReplicated)
    ->Args({0, 1})
    ->ArgsProduct({{2, 4}, {1, 3}})
    ->ArgNames({"backend", "replicas"})
    ->Threads(4)
    ->MinTime(1.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace utm::intent
