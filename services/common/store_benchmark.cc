// The embedded store's commit throughput, in the clear and encrypted at rest
// (StoreOptions::key), in one run so that the cost of AES-256-GCM is read
// against its baseline. Each iteration commits one batch of one 256-byte
// put and waits for it; with sync the wait includes fdatasync, without it
// the cost is the encoding, the write() and the bookkeeping. The log
// compacts every 4 MiB, so snapshot writing (sealed too) is included.
// BM_Encode isolates what encryption adds: encoding one such batch into a
// log record, in the clear and sealed.
//
//   build/services/common/store_benchmark --benchmark_min_time=2
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/common/store.h"
#include "services/common/store_crypto.h"
#include "services/common/store_format.h"

namespace utm::store {
namespace {

namespace fs = std::filesystem;

void BM_Commit(benchmark::State& state) {
  const bool encrypted = state.range(0) != 0;
  const bool sync = state.range(1) != 0;
  const fs::path dir =
      fs::temp_directory_path() /
      absl::StrCat("store-benchmark-", getpid(), "-", encrypted, sync);
  fs::remove_all(dir);
  StoreOptions options;
  options.dir = dir.string();
  options.sync = sync;
  options.compact_after_bytes = int64_t{4} << 20;
  if (encrypted) options.key = std::string(crypto::kKeyBytes, '\x5a');
  {
    absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(options);
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      return;
    }
    const std::string value(256, 'v');
    int64_t i = 0;
    for (auto _ : state) {
      // 1,000 keys: the log outgrows the live data and compacts.
      absl::Status s = (*store)->Commit(
          {Put("intents", absl::StrCat("intent-", i++ % 1000), value)});
      if (!s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        break;
      }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * 256);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_Commit)
    ->ArgNames({"encrypted", "sync"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->UseRealTime();

void BM_Encode(benchmark::State& state) {
  const bool encrypted = state.range(0) != 0;
  crypto::Cipher cipher(std::string(crypto::kKeyBytes, '\x5a'));
  std::string out;
  format::Encoder encoder = format::Encoder::NewFile(
      format::FileKind::kLog, 0, encrypted ? &cipher : nullptr, &out);
  const std::vector<Mutation> batch = {
      Put("intents", "intent-123", std::string(256, 'v'))};
  for (auto _ : state) {
    out.clear();
    encoder.AppendBatch(&out, batch);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Encode)->ArgName("encrypted")->Arg(0)->Arg(1);

}  // namespace
}  // namespace utm::store
