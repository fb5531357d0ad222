// utmload: a load generator for utmd's strategic coordination service.
//
// It files flight intents over gRPC from many concurrent clients and reports
// filings per second and latency percentiles as JSON. Every figure comes with
// a baseline from the same run: the identical load against a no-op
// StrategicCoordination server started in this process on loopback, which
// answers every FileIntent at once with a canned acceptance. The ratio of the
// two is the part of the cost that is utmd's own.
//
// The workload is a busy area: all intents lie in one square of --area-km2
// around Zurich, on a 100 m grid of 40 m circles; successive intents take
// successive 30-minute slots at each spot, so none conflicts and every
// filing pays the full deconfliction query against everything live there.
// --preload intents are filed first (untimed). With --mode query the timed
// part asks instead for the intents meeting volumes already filed (conflict
// queries, each finding exactly one intent).
//
// --target may name several replicas of one deployment (comma-separated):
// the connections are spread over them round-robin, as a load balancer
// without affinity would.
//
// Loopback only: every --target must be a 127.0.0.0/8 or [::1] address.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "geo/geodesy.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "sim/load_common.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm::sim {
namespace {

struct Options {
  std::string mode = "file";  // or "query"
  std::string target;
  std::string token;
  int clients = 16;
  int channels = 4;
  int64_t preload = 100000;
  int64_t filings = 20000;
  double area_km2 = 10;
};

// Answers every FileIntent at once: the gRPC ceiling of this machine.
class NoopService final : public v1::StrategicCoordination::CallbackService {
 public:
  grpc::ServerUnaryReactor* FileIntent(
      grpc::CallbackServerContext* context, const v1::FileIntentRequest*,
      v1::FileIntentResponse* response) override {
    response->mutable_intent()->set_id("noop");
    response->mutable_intent()->set_version(1);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* QueryIntents(
      grpc::CallbackServerContext* context, const v1::QueryIntentsRequest*,
      v1::QueryIntentsResponse* response) override {
    response->add_intents()->set_id("noop");
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class Workload {
 public:
  explicit Workload(double area_km2)
      : side_(static_cast<int>(std::sqrt(area_km2) * 10)),  // 100 m grid
        start_(absl::Now() + absl::Minutes(30)) {}

  v1::FileIntentRequest Filing(int64_t k) const {
    const int64_t spots = static_cast<int64_t>(side_) * side_;
    const int64_t spot = k % spots, slot = k / spots;
    const geo::LatLng centre = geo::GeodesicDestination(
        geo::GeodesicDestination({47.3769, 8.5417}, 90,
                                 static_cast<double>(spot % side_) * 100.0),
        0, static_cast<double>(spot / side_) * 100.0);
    const absl::Time t0 = start_ + absl::Minutes(31 * slot);
    v1::FileIntentRequest request;
    request.set_request_id(absl::StrCat("load-", k));
    *request.add_volumes() = VolumeToProto(
        geo::Volume4D{geo::Volume3D{geo::Circle{centre, 40}, {500, 620}},
                      {t0, t0 + absl::Minutes(30)}});
    return request;
  }
  int64_t capacity() const {
    return static_cast<int64_t>(side_) * side_ * (30 * 24 * 60 / 31);
  }

 private:
  int side_;
  absl::Time start_;
};

struct Result {
  int64_t ok = 0, failed = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
};

// Files intents [first, first + count) from `clients` threads; with
// `query`, asks instead for the intents meeting each of those volumes
// (conflict queries: each finds exactly the intent filed there).
Result Run(const Options& o, const std::string& target, const Workload& w,
           int64_t first, int64_t count, bool query = false) {
  const std::vector<std::string> targets = absl::StrSplit(target, ',');
  std::vector<std::unique_ptr<v1::StrategicCoordination::Stub>> stubs;
  for (int c = 0; c < o.channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // distinct connections
    stubs.push_back(
        v1::StrategicCoordination::NewStub(grpc::CreateCustomChannel(
            targets[c % targets.size()], grpc::InsecureChannelCredentials(),
            args)));
  }
  std::atomic<int64_t> next{first};
  std::vector<std::vector<double>> latencies(o.clients);
  std::vector<Result> partial(o.clients);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      v1::StrategicCoordination::Stub* stub = stubs[t % stubs.size()].get();
      for (int64_t k = next++; k < first + count; k = next++) {
        const v1::FileIntentRequest request = w.Filing(k);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
        if (!o.token.empty()) {
          context.AddMetadata("authorization",
                              absl::StrCat("Bearer ", o.token));
        }
        v1::FileIntentResponse response;
        v1::QueryIntentsRequest query_request;
        v1::QueryIntentsResponse query_response;
        if (query) *query_request.mutable_area() = request.volumes(0);
        const auto s = std::chrono::steady_clock::now();
        const grpc::Status status =
            query ? stub->QueryIntents(&context, query_request, &query_response)
                  : stub->FileIntent(&context, request, &response);
        const auto e = std::chrono::steady_clock::now();
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(e - s).count());
        const bool answered =
            query ? query_response.intents_size() == 1 : response.has_intent();
        if (status.ok() && answered) {
          ++partial[t].ok;
        } else {
          ++partial[t].failed;
          if (partial[t].first_error.empty()) {
            partial[t].first_error = !status.ok() ? status.error_message()
                                     : query ? query_response.ShortDebugString()
                                             : response.ShortDebugString();
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  Result r;
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::vector<double> all;
  for (int t = 0; t < o.clients; ++t) {
    r.ok += partial[t].ok;
    r.failed += partial[t].failed;
    if (r.first_error.empty()) r.first_error = partial[t].first_error;
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
  }
  std::sort(all.begin(), all.end());
  if (!all.empty()) {
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    r.max_ms = all.back();
  }
  return r;
}

std::string Json(const char* name, const Result& r) {
  return absl::StrFormat(
      R"("%s": {"filings": %d, "failed": %d, "seconds": %.3f, "per_second": %.0f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f})",
      name, r.ok, r.failed, r.seconds, r.ok / std::max(r.seconds, 1e-9),
      r.p50_ms, r.p99_ms, r.max_ms);
}

int Main(int argc, char** argv) {
  CLI::App app{"utmload: load generator for utmd's strategic coordination"};
  Options o;
  app.add_option("--mode", o.mode,
                 "file: time filings; query: file --preload untimed, then time "
                 "--filings conflict queries for volumes already filed")
      ->check(CLI::IsMember({"file", "query"}))
      ->capture_default_str();
  app.add_option("--target", o.target,
                 "utmd address, or the addresses of several replicas "
                 "(comma-separated; loopback only)")
      ->required();
  app.add_option("--token", o.token, "Bearer token (operator role)");
  app.add_option("--clients", o.clients, "Concurrent client threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--channels", o.channels, "gRPC connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--preload", o.preload, "Intents filed before timing")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}))
      ->capture_default_str();
  app.add_option("--filings", o.filings, "Timed filings")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  app.add_option("--area-km2", o.area_km2, "Size of the busy area")
      ->check(CLI::Range(0.1, 2500.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (absl::string_view t : absl::StrSplit(o.target, ',')) {
    if (!IsLoopback(std::string(t))) {
      std::cerr << "utmload: --target must be loopback addresses; not "
                << t << "\n";
      return 64;
    }
  }
  const Workload w(o.area_km2);
  if (o.preload + o.filings > w.capacity()) {
    std::cerr << "utmload: the area holds at most " << w.capacity()
              << " non-conflicting intents in 30 days\n";
    return 64;
  }

  // Baseline first, on an idle machine state.
  NoopService noop;
  ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(server_options, {&noop});
  if (!server.ok()) {
    std::cerr << "utmload: " << server.status() << "\n";
    return 1;
  }
  const bool query = o.mode == "query";
  if (query && o.filings > o.preload) {
    std::cerr << "utmload: --mode query asks about filed volumes: --filings "
                 "must not exceed --preload\n";
    return 64;
  }
  const Result baseline = Run(o, absl::StrCat("127.0.0.1:", (*server)->port()),
                              w, 0, o.filings, query);
  (*server)->Shutdown(absl::Seconds(1));

  const Result preload = Run(o, o.target, w, 0, o.preload);
  const Result measured =
      query ? Run(o, o.target, w, 0, o.filings, /*query=*/true)
            : Run(o, o.target, w, o.preload, o.filings);
  if (measured.failed > 0 || preload.failed > 0) {
    std::cerr << "utmload: failures, first: " << measured.first_error
              << preload.first_error << "\n";
  }
  const double ratio = (measured.ok / std::max(measured.seconds, 1e-9)) /
                       (baseline.ok / std::max(baseline.seconds, 1e-9));
  std::cout
      << "{" << Json("noop", baseline) << ", " << Json("preload", preload)
      << ", " << Json("utmd", measured)
      << absl::StrFormat(
             R"(, "mode": "%s", "throughput_ratio_to_noop": %.3f, "clients": %d, "channels": %d, "live_before": %d, "area_km2": %.1f})",
             o.mode, ratio, o.clients, o.channels, o.preload, o.area_km2)
      << "\n";
  return measured.failed > 0 || preload.failed > 0 ? 1 : 0;
}

}  // namespace
}  // namespace utm::sim

int main(int argc, char** argv) { return utm::sim::Main(argc, argv); }
