// RegistryCore's costs, each against a baseline in the same run:
//   - CheckAircraft (asked by intent activation and telemetry under their
//     own locks) against the floor of a reader lock and one std::map lookup
//     over the same keys;
//   - Register (decide, guarded commit through a LocalLedger over the memory
//     store, wait until applied) against a bare LocalLedger commit of the
//     same record followed by the follower's WaitApplied.
// The registry is loaded with N registrations (10k, 1M: the FAA's register
// holds about a million drones).
//
//   build/services/registry/registry_core_benchmark
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/registry/registry_core.h"

namespace utm::registry {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'796'000'000);

// ANSI/CTA-2063-A: code 1596, length 'A' (10), ten characters.
std::string Serial(int64_t i) { return absl::StrFormat("1596A4J%08d", i); }

v1::AircraftRegistration Record(int64_t i) {
  v1::AircraftRegistration r;
  r.set_serial_number(Serial(i));
  r.set_mass_g(900);
  r.set_operator_id(absl::StrFormat("op-%d", i % 1000));
  r.set_operator_registration_id("FA3XYZ123");
  r.set_make_model("Acme Quad 4");
  r.set_version(1);
  r.set_registered_by("faa");
  *r.mutable_register_time() = TimeToProto(kT0);
  return r;
}

// A registry of `n` registrations, loaded from its store at start.
struct Loaded {
  SimulatedClock clock{kT0};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ledger::LocalLedger> ledger;
  std::unique_ptr<ledger::Follower> follower;
  std::unique_ptr<RegistryCore> core;
  // The baseline: the same keys in a plain map behind a reader lock.
  mutable absl::Mutex mu;
  std::map<std::string, int64_t> plain;

  explicit Loaded(int64_t n) {
    store::StoreOptions memory;
    memory.backend = "memory";
    store = *store::OpenStore(memory);
    std::vector<store::Mutation> batch;
    for (int64_t i = 0; i < n; ++i) {
      batch.push_back(store::Put(RegistryCore::kTable, Serial(i),
                                 Record(i).SerializeAsString()));
      plain[Serial(i)] = i;
      if (batch.size() == 10000) {
        (void)store->Commit(std::move(batch));
        batch.clear();
      }
    }
    (void)store->Commit(std::move(batch));
    ledger = *ledger::LocalLedger::Open(store.get());
    follower = std::make_unique<ledger::Follower>(ledger.get());
    RegistryOptions options;
    options.jurisdiction.threshold_g = 250;
    core = std::make_unique<RegistryCore>(options, &clock, ledger.get(),
                                          follower.get());
    (void)follower->Start();
  }
};

Loaded& Registry(int64_t n) {
  static auto* const kLoaded = new std::map<int64_t, std::unique_ptr<Loaded>>;
  std::unique_ptr<Loaded>& l = (*kLoaded)[n];
  if (l == nullptr) l = std::make_unique<Loaded>(n);
  return *l;
}

void BM_CheckAircraft_Registered(benchmark::State& state) {
  const int64_t n = state.range(0);
  Loaded& r = Registry(n);
  if (r.core->size() != static_cast<size_t>(n)) {
    state.SkipWithError("registry not loaded");
    return;
  }
  std::vector<std::string> serials, operators;
  for (int64_t i = 0; i < 4096; ++i) {
    const int64_t j = i * 7919 % n;
    serials.push_back(Serial(j));
    operators.push_back(absl::StrFormat("op-%d", j % 1000));
  }
  size_t k = 0;
  for (auto _ : state) {
    absl::Status s = r.core->CheckAircraft(
        operators[k & 4095], serials[k & 4095], 900, "aircraft.serial_number");
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(s);
    ++k;
  }
}
BENCHMARK(BM_CheckAircraft_Registered)->Arg(10'000)->Arg(1'000'000);

void BM_CheckAircraft_NotRegistered(benchmark::State& state) {
  Loaded& r = Registry(state.range(0));
  const std::string absent = Serial(99'999'999);
  for (auto _ : state) {
    absl::Status s =
        r.core->CheckAircraft("op-1", absent, 900, "aircraft.serial_number");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_CheckAircraft_NotRegistered)->Arg(10'000)->Arg(1'000'000);

// Baseline: a reader lock and a map lookup of the same keys.
void BM_Baseline_LockedMapFind(benchmark::State& state) {
  const int64_t n = state.range(0);
  Loaded& r = Registry(n);
  std::vector<std::string> serials;
  for (int64_t i = 0; i < 4096; ++i) serials.push_back(Serial(i * 7919 % n));
  size_t k = 0;
  for (auto _ : state) {
    absl::ReaderMutexLock lock(&r.mu);
    auto it = r.plain.find(serials[k & 4095]);
    benchmark::DoNotOptimize(it);
    ++k;
  }
}
BENCHMARK(BM_Baseline_LockedMapFind)->Arg(10'000)->Arg(1'000'000);

// A new registration each iteration, through the core.
void BM_Register(benchmark::State& state) {
  Loaded& r = Registry(state.range(0));
  Caller faa;
  faa.id = "faa";
  faa.registry = true;
  static int64_t next = 10'000'000;
  for (auto _ : state) {
    v1::RegisterAircraftRequest request;
    *request.mutable_registration() = Record(next++);
    absl::StatusOr<v1::RegisterAircraftResponse> done =
        r.core->Register(faa, request);
    if (!done.ok()) {
      state.SkipWithError(std::string(done.status().message()).c_str());
      return;
    }
  }
}
BENCHMARK(BM_Register)->Arg(10'000)->UseRealTime();

// Baseline: the same record committed to the same ledger with the same
// guard, bare, and waited for on the follower.
void BM_Baseline_LedgerCommit(benchmark::State& state) {
  Loaded& r = Registry(state.range(0));
  static int64_t next = 20'000'000;
  for (auto _ : state) {
    const v1::AircraftRegistration record = Record(next++);
    ledger::Guard guard;
    guard.base = r.follower->applied();
    guard.reads = {RegistryCore::GuardKey(record.serial_number())};
    guard.writes = guard.reads;
    absl::StatusOr<ledger::CommitResult> c = r.ledger->CommitAndWait(
        std::move(guard),
        {store::Put(RegistryCore::kTable, record.serial_number(),
                    record.SerializeAsString())});
    if (!c.ok() || !r.follower->WaitApplied(c->position.seq).ok()) {
      state.SkipWithError("commit failed");
      return;
    }
  }
}
BENCHMARK(BM_Baseline_LedgerCommit)->Arg(10'000)->UseRealTime();

}  // namespace
}  // namespace utm::registry
