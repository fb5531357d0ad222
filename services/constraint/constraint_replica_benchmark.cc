// Publishes per second through the constraint core, as an import of a
// national data set makes them (NationalMix zones: circles, polygons of a
// dozen vertices and every 100th of 2,000), one client after another:
//   backend 0  one core, no store: the ceiling
//   backend 1  one core, embedded store with fsync: utmd on one machine
//   backend 2  a replica on the local ledger (memory store)
//   backend 3  a replica on Redis, appendfsync always
// and how long a replica takes to load that many zones when it starts
// (BM_LoadReplica: the follower reading every table from Redis and building
// the model).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/common/store.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_testing.h"
#include "tests/testing/redis_server.h"

namespace utm::constraint {
namespace {

using test_util::kAuthority;
using test_util::kMonday10Utc;
using test_util::NationalMix;

struct Setup {
  SimulatedClock clock{kMonday10Utc};
  std::unique_ptr<utm::testing::RedisServer> redis;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<ledger::Follower> follower;
  std::unique_ptr<ConstraintCore> core;
  std::string dir;
  ~Setup() {
    if (follower != nullptr) follower->Stop();
    core.reset();
    follower.reset();
    ledger.reset();
    store.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

std::unique_ptr<Setup> Build(int backend,
                             utm::testing::RedisServer* shared = nullptr) {
  auto s = std::make_unique<Setup>();
  ConstraintOptions options;
  options.notify_thread = false;
  if (backend == 1 || backend == 2) {
    store::StoreOptions so;
    so.backend = backend == 1 ? "embedded" : "memory";
    if (backend == 1) {
      s->dir = (std::filesystem::temp_directory_path() /
                absl::StrCat("utm-constraint-bench-", getpid()))
                   .string();
      std::filesystem::remove_all(s->dir);
      so.dir = s->dir;
    }
    s->store = *store::OpenStore(so);
  }
  if (backend <= 1) {
    s->core = std::make_unique<ConstraintCore>(options, &s->clock,
                                               s->store.get());
    if (!s->core->Recover().ok()) std::abort();
    return s;
  }
  if (backend == 2) {
    s->ledger = *ledger::LocalLedger::Open(s->store.get());
  } else {
    if (shared == nullptr) {
      utm::testing::RedisServerOptions ro;
      ro.appendonly = true;
      ro.appendfsync = "always";
      s->redis = *utm::testing::RedisServer::Start(ro);
      shared = s->redis.get();
    }
    ledger::RedisLedgerOptions lo;
    lo.client.addr = shared->addr();
    s->ledger = *ledger::RedisLedger::Open(lo);
  }
  s->follower = std::make_unique<ledger::Follower>(s->ledger.get());
  s->core = std::make_unique<ConstraintCore>(options, &s->clock);
  s->core->UseLedger(s->ledger.get(), s->follower.get());
  if (!s->follower->Start().ok()) std::abort();
  return s;
}

void BM_Publish(benchmark::State& state) {
  const int backend = static_cast<int>(state.range(0));
  if (backend == 3 && !utm::testing::RedisServerAvailable()) {
    state.SkipWithError("redis-server is not installed");
    return;
  }
  std::unique_ptr<Setup> s = Build(backend);
  int64_t k = 0;
  for (auto _ : state) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = NationalMix(k++);
    if (!s->core->Publish(kAuthority, request).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  if (s->ledger != nullptr) {
    state.counters["round_trips_per_publish"] =
        static_cast<double>(s->ledger->round_trips()) /
        static_cast<double>(state.iterations());
  }
}
BENCHMARK(BM_Publish)
    ->DenseRange(0, 3)
    ->ArgName("backend")
    ->MinTime(2.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// A replica starting on a Redis that holds `zones` zones: from Start() to a
// model that answers.
void BM_LoadReplica(benchmark::State& state) {
  if (!utm::testing::RedisServerAvailable()) {
    state.SkipWithError("redis-server is not installed");
    return;
  }
  const int zones = static_cast<int>(state.range(0));
  std::unique_ptr<Setup> writer = Build(3);
  for (int k = 0; k < zones; ++k) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = NationalMix(k);
    if (!writer->core->Publish(kAuthority, request).ok()) std::abort();
  }
  for (auto _ : state) {
    std::unique_ptr<Setup> reader = Build(3, writer->redis.get());
    if (reader->core->constraint_count() != static_cast<size_t>(zones)) {
      std::abort();
    }
    state.PauseTiming();
    reader.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * zones);
}
BENCHMARK(BM_LoadReplica)
    ->Arg(10000)
    ->ArgName("zones")
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace utm::constraint
