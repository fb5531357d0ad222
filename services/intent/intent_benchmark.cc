// Benchmarks of the strategic coordination core (no gRPC):
//  - BM_File: filings per second into a core holding N live intents, with
//    nothing retained, with the embedded store without fsync, and with it.
//  - BM_Recover: restart time (open the store + rebuild the core) after
//    N filings.
// Every filing lands on its own spot of a grid (no conflicts), so each one
// pays the full path: validation, deconfliction query, index insert, store.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/intent/intent_benchmark_filings.h"
#include "services/intent/intent_core.h"

namespace utm::intent {
namespace {

namespace fs = std::filesystem;

using benchmarking::kNow;

// Spot k of the grid (intent_benchmark_filings.h).
FileRequest Filing(int64_t k) { return benchmarking::GridFiling(k); }

struct Setup {
  fs::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<IntentCore> core;
};

Setup Open(const std::string& backend, bool sync, const std::string& name) {
  Setup s;
  s.dir = fs::temp_directory_path() / absl::StrCat("utm-intent-bench-", name);
  store::StoreOptions options;
  options.backend = backend;
  options.dir = s.dir.string();
  options.sync = sync;
  s.store = *store::OpenStore(options);
  static SimulatedClock clock(kNow);
  s.core = std::make_unique<IntentCore>(IntentOptions(), &clock, nullptr,
                                        s.store.get());
  if (!s.core->Recover().ok()) std::abort();
  return s;
}

// state.range(0): live intents before timing; range(1): 0 memory,
// 1 embedded without fsync, 2 embedded with fsync.
void BM_File(benchmark::State& state) {
  const int64_t live = state.range(0);
  const int mode = static_cast<int>(state.range(1));
  const std::string name = absl::StrCat("file-", live, "-", mode);
  fs::remove_all(fs::temp_directory_path() /
                 absl::StrCat("utm-intent-bench-", name));
  Setup s = Open(mode == 0 ? "memory" : "embedded", mode == 2, name);
  for (int64_t k = 0; k < live; ++k) {
    if (!s.core->File("op", Filing(k)).ok()) std::abort();
  }
  int64_t k = live;
  for (auto _ : state) {
    absl::StatusOr<WriteOutcome> out = s.core->File("op", Filing(k++));
    if (!out.ok() || !out->accepted()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  s.core.reset();
  s.store.reset();
  fs::remove_all(s.dir);
}
BENCHMARK(BM_File)
    ->ArgsProduct({{1000, 100000}, {0, 1, 2}})
    ->ArgNames({"live", "store"})
    ->UseRealTime()  // with a store, the caller waits on the writer thread
    ->Unit(benchmark::kMicrosecond);

// Several clients filing at once into a core with 10,000 live intents:
// with the embedded store their syncs are shared (group commit).
// state.range(0): 0 memory, 2 embedded with fsync.
void BM_FileConcurrent(benchmark::State& state) {
  static Setup* shared = nullptr;
  static std::atomic<int64_t> next{0};
  const int mode = static_cast<int>(state.range(0));
  const std::string name = absl::StrCat("concurrent-", mode);
  if (state.thread_index() == 0) {
    fs::remove_all(fs::temp_directory_path() /
                   absl::StrCat("utm-intent-bench-", name));
    shared =
        new Setup(Open(mode == 0 ? "memory" : "embedded", mode == 2, name));
    for (int64_t k = 0; k < 10000; ++k) {
      if (!shared->core->File("op", Filing(k)).ok()) std::abort();
    }
    next = 10000;
  }
  for (auto _ : state) {
    absl::StatusOr<WriteOutcome> out = shared->core->File("op", Filing(next++));
    if (!out.ok() || !out->accepted()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const fs::path dir = shared->dir;
    delete shared;
    shared = nullptr;
    fs::remove_all(dir);
  }
}
BENCHMARK(BM_FileConcurrent)
    ->Arg(0)
    ->Arg(2)
    ->ArgName("store")
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_Recover(benchmark::State& state) {
  const int64_t writes = state.range(0);
  const std::string name = absl::StrCat("recover-", writes);
  fs::remove_all(fs::temp_directory_path() /
                 absl::StrCat("utm-intent-bench-", name));
  {
    Setup s = Open("embedded", /*sync=*/false, name);
    for (int64_t k = 0; k < writes; ++k) {
      if (!s.core->File("op", Filing(k)).ok()) std::abort();
    }
  }
  const fs::path dir =
      fs::temp_directory_path() / absl::StrCat("utm-intent-bench-", name);
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) bytes += e.file_size();
  for (auto _ : state) {
    Setup s = Open("embedded", false, name);
    benchmark::DoNotOptimize(s.core->live_count());
    if (s.core->live_count() != static_cast<size_t>(writes)) std::abort();
    state.PauseTiming();  // closing is not part of a restart
    s.core.reset();
    s.store.reset();
    state.ResumeTiming();
  }
  state.counters["MB_on_disk"] = static_cast<double>(bytes) / 1e6;
  fs::remove_all(dir);
}
BENCHMARK(BM_Recover)
    ->Arg(100000)
    ->Arg(1000000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace utm::intent
