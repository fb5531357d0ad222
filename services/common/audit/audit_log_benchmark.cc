// What an audit entry costs: building and verifying the chain (SHA-256 per
// entry), and appending through each backend against its baseline in the
// same run — the file's Record() against a bare write + fdatasync of the
// same bytes, the Redis Record() (the check-and-set EVAL) against a bare
// XADD of the same line on a real redis-server on loopback. Wall time
// (UseRealTime) for the appends: they wait on the disk or the server.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/common/audit/audit_chain.h"
#include "services/common/audit/audit_log.h"
#include "tests/testing/redis_server.h"

namespace utm::audit {
namespace {

AuditEvent Event() {
  AuditEvent event;
  event.subject = "officer-7";
  event.case_reference = "WARRANT 2026/0042";
  event.action = "intent-owner";
  event.target = "3f0c9a1e-4b7d-4c1e-9a57-0d3c2b1a0e9f";
  event.disclosed = "operator-4711";
  return event;
}

const absl::Time kT = absl::FromUnixSeconds(1'800'000'000);

void BM_Sha256OfAnEntry(benchmark::State& state) {
  const std::string line = FormatAuditEntry(1, kT, Event(), kGenesisHash);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Hex(line));
  state.SetBytesProcessed(state.iterations() * line.size());
}
BENCHMARK(BM_Sha256OfAnEntry);

void BM_FormatAuditEntry(benchmark::State& state) {
  const AuditEvent event = Event();
  int64_t seq = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(FormatAuditEntry(seq++, kT, event, kGenesisHash));
  }
}
BENCHMARK(BM_FormatAuditEntry);

// Per entry, verifying a chain of 10,000.
void BM_VerifyAuditLines(benchmark::State& state) {
  std::vector<std::string> lines;
  AuditHead head;
  for (int i = 1; i <= 10'000; ++i) {
    lines.push_back(FormatAuditEntry(i, kT, Event(), head.hash));
    head.sequence = i;
    head.hash = lines.back().substr(lines.back().size() - 64);
  }
  for (auto _ : state) {
    absl::StatusOr<VerifyResult> result = VerifyAuditLines(lines);
    if (!result.ok()) state.SkipWithError("the chain does not verify");
  }
  state.SetItemsProcessed(state.iterations() * lines.size());
}
BENCHMARK(BM_VerifyAuditLines)->Unit(benchmark::kMillisecond);

std::string TempPath(absl::string_view name) {
  return (std::filesystem::temp_directory_path() /
          absl::StrCat("audit-bench-", getpid(), "-", name))
      .string();
}

// Baseline: the same bytes, written and fdatasync'ed, nothing else.
void BM_FileWriteFdatasync(benchmark::State& state) {
  const std::string path = TempPath("raw");
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
  const std::string line =
      FormatAuditEntry(1, kT, Event(), kGenesisHash) + "\n";
  for (auto _ : state) {
    if (::write(fd, line.data(), line.size()) !=
            static_cast<ssize_t>(line.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write failed");
      break;
    }
  }
  ::close(fd);
  std::filesystem::remove(path);
}
BENCHMARK(BM_FileWriteFdatasync)->UseRealTime();

void BM_FileRecord(benchmark::State& state) {
  const std::string path = TempPath("log");
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = OpenFileAuditLog(path);
    if (!log.ok()) {
      state.SkipWithError("cannot open the log");
      return;
    }
    const AuditEvent event = Event();
    for (auto _ : state) {
      if (!(*log)->Record(event).ok()) {
        state.SkipWithError("Record failed");
        break;
      }
    }
  }
  std::filesystem::remove(path);
}
BENCHMARK(BM_FileRecord)->UseRealTime();

testing::RedisServer& Server() {
  static std::unique_ptr<testing::RedisServer> server = [] {
    absl::StatusOr<std::unique_ptr<testing::RedisServer>> s =
        testing::RedisServer::Start(testing::RedisServerOptions{});
    if (!s.ok()) {
      std::cerr << "cannot start redis-server: " << s.status() << "\n";
      std::exit(1);
    }
    return std::move(*s);
  }();
  return *server;
}

// Baseline: one XADD of an entry-sized line, no script, no head.
void BM_RedisXadd(benchmark::State& state) {
  redis::ClientOptions options;
  options.addr = Server().addr();
  absl::StatusOr<std::unique_ptr<redis::Client>> client =
      redis::Client::Connect(options);
  if (!client.ok()) {
    state.SkipWithError("cannot connect");
    return;
  }
  const std::string line = FormatAuditEntry(1, kT, Event(), kGenesisHash);
  for (auto _ : state) {
    absl::StatusOr<redis::Reply> r =
        (*client)->Command({"XADD", "{bench}:raw", "*", "line", line});
    if (!r.ok() || r->is_error()) {
      state.SkipWithError("XADD failed");
      break;
    }
  }
}
BENCHMARK(BM_RedisXadd)->UseRealTime();

void BM_RedisRecord(benchmark::State& state) {
  redis::ClientOptions options;
  options.addr = Server().addr();
  // Each run continues the same chain (opening verifies it, untimed).
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      OpenRedisAuditLog(options, "{bench}:audit");
  if (!log.ok()) {
    state.SkipWithError("cannot open the log");
    return;
  }
  const AuditEvent event = Event();
  for (auto _ : state) {
    if (!(*log)->Record(event).ok()) {
      state.SkipWithError("Record failed");
      break;
    }
  }
}
BENCHMARK(BM_RedisRecord)->UseRealTime();

}  // namespace
}  // namespace utm::audit
