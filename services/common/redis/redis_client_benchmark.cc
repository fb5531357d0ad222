// What the Redis client layer costs per command, against a real
// redis-server on loopback, and how much pipelining saves.
//
// Baseline in the same run: BM_RawSocketPing, one PING over a plain blocking
// socket (no hiredis, no client layer): the loopback round trip plus the
// server's work. BM_ClientPing minus it is what the client layer adds.
// Every benchmark reports wall time (UseRealTime): the client mostly waits
// for the server, so CPU time would flatter it.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/common/redis/redis_client.h"
#include "tests/testing/redis_server.h"

namespace utm::redis {
namespace {

using ::utm::testing::RedisServer;

// One server for the whole run (appendonly no: the client, not the disk,
// is measured), stopped at exit.
RedisServer& Server() {
  static std::unique_ptr<RedisServer> server = [] {
    absl::StatusOr<std::unique_ptr<RedisServer>> s =
        RedisServer::Start(utm::testing::RedisServerOptions{});
    if (!s.ok()) {
      std::cerr << "cannot start redis-server: " << s.status() << "\n";
      std::exit(1);
    }
    return std::move(*s);
  }();
  return *server;
}

ClientOptions Options() {
  ClientOptions options;
  options.addr = Server().addr();
  return options;
}

std::unique_ptr<Client> Connected() {
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(Options());
  if (!c.ok()) {
    std::cerr << c.status() << "\n";
    std::exit(1);
  }
  return std::move(*c);
}

void BM_RawSocketPing(benchmark::State& state) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(Server().port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    state.SkipWithError("connect failed");
    ::close(fd);
    return;
  }
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  char buffer[16];
  for (auto _ : state) {
    if (::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(ping.size()) ||
        ::recv(fd, buffer, 7, MSG_WAITALL) != 7) {
      state.SkipWithError("raw PING failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  ::close(fd);
}
BENCHMARK(BM_RawSocketPing)->UseRealTime();

void BM_ClientPing(benchmark::State& state) {
  std::unique_ptr<Client> client = Connected();
  for (auto _ : state) {
    absl::StatusOr<Reply> r = client->Command({"PING"});
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(r->str);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClientPing)->UseRealTime();

// SET of a value of state.range(0) bytes, one round trip each.
void BM_ClientSet(benchmark::State& state) {
  std::unique_ptr<Client> client = Connected();
  const std::string value(static_cast<size_t>(state.range(0)), 'v');
  int64_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<Reply> r =
        client->Command({"SET", absl::StrCat("bench:", i++ % 1024), value});
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ClientSet)->Arg(64)->Arg(4096)->UseRealTime();

// state.range(0) SETs of 64 bytes in one Pipeline; items are commands.
void BM_PipelineSet(benchmark::State& state) {
  std::unique_ptr<Client> client = Connected();
  std::vector<std::vector<std::string>> commands;
  for (int64_t i = 0; i < state.range(0); ++i) {
    commands.push_back({"SET", absl::StrCat("bench:", i % 1024), std::string(64, 'v')});
  }
  for (auto _ : state) {
    absl::StatusOr<std::vector<Reply>> r = client->Pipeline(commands);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PipelineSet)->Arg(1)->Arg(10)->Arg(100)->UseRealTime();

// Threads sharing one Pool of 4, each iteration Acquire + INCR + return.
void BM_PoolIncr(benchmark::State& state) {
  static Pool* pool = nullptr;
  if (state.thread_index() == 0) pool = new Pool(Options(), 4);
  // Google Benchmark starts every thread's timed loop together, after the
  // setup above.
  for (auto _ : state) {
    absl::StatusOr<Pool::Lease> lease = pool->Acquire();
    if (!lease.ok()) {
      state.SkipWithError(std::string(lease.status().message()).c_str());
      break;
    }
    absl::StatusOr<Reply> r = (*lease)->Command({"INCR", "bench:counter"});
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete pool;
    pool = nullptr;
  }
}
BENCHMARK(BM_PoolIncr)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

}  // namespace
}  // namespace utm::redis
