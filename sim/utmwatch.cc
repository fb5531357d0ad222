// utmwatch: publish -> delivered fan-out benchmark for utmd's
// ConstraintService.
//
// It opens --watchers WatchConstraints streams over --channels gRPC
// connections (callback API: no thread per stream), waits for every
// snapshot_end, then --publishers threads publish --publishes constraints
// (as fast as possible, or at --rate per second in total) into the watched
// area. Every live upsert a watcher receives is matched to its publish
// through a marker in `source.original_id` (the constraint id is only known
// once the publish has answered, often after the watchers have the event),
// and timed from just before the publisher's RPC was sent to the watcher's
// receipt (one process, steady clock). Missing and duplicate deliveries are
// counted; any makes the exit status 1.
//
// Baselines from the same run:
//  - the same publishes into an area nobody watches, before the watchers
//    connect and after they are gone ("publish throughput without
//    watchers", same server);
//  - with --noop (default on), the whole benchmark first against a no-op
//    ConstraintService (this binary with --serve-noop, a child process, so
//    that it does not share gRPC's threads with the client), which fans
//    every publish out to its streams without any core: the gRPC ceiling of
//    this machine for the same client.
//
// --spread N splits the area into N disjoint tiles; watcher w watches tile
// w mod N and publish k lands in tile k mod N, so each publish reaches 1/N
// of the watchers (N = 1: every publish reaches every watcher).
//
// JSON summary on stdout, a human summary on stderr. Loopback only:
// --target must be a 127.0.0.0/8, localhost or [::1] address.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "geo/geodesy.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "sim/load_common.h"
#include "utm/v1/constraint.grpc.pb.h"

namespace utm::sim {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target;
  std::string token;        // regulator: publishes
  std::string watch_token;  // watchers; DEFAULT: --token
  int watchers = 10000;
  int channels = 16;
  int publishes = 200;
  int publishers = 1;
  double rate = 0;  // publishes/s in total; 0: as fast as possible
  int spread = 1;
  bool noop = true;
  double open_timeout_s = 300;
  double drain_timeout_s = 300;
  int server_pid = 0;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// CPU seconds (user + system) of a process, from /proc; -1 if unreadable.

// ---------------------------------------------------------------------------
// Geometry: N disjoint 2 km tiles on a 2.5 km grid. Watchers watch a whole
// tile; publishes are 300 m circles or 600 m squares near a tile's centre,
// so each meets exactly its own tile.

constexpr double kTileSideM = 2000, kTilePitchM = 2500;

geo::LatLng Offset(const geo::LatLng& origin, double east_m, double north_m) {
  return geo::GeodesicDestination(geo::GeodesicDestination(origin, 90, east_m),
                                  0, north_m);
}

// A square of `side_m` centred on `centre`, vertices counter-clockwise.
geo::Polygon Square(const geo::LatLng& centre, double side_m) {
  const double h = side_m / 2;
  return geo::Polygon{{Offset(centre, -h, -h), Offset(centre, h, -h),
                       Offset(centre, h, h), Offset(centre, -h, h)}};
}

class Layout {
 public:
  Layout(geo::LatLng anchor, int tiles)
      : anchor_(anchor),
        tiles_(tiles),
        cols_(static_cast<int>(std::ceil(std::sqrt(tiles)))) {}

  geo::LatLng Centre(int tile) const {
    return Offset(anchor_, (tile % cols_) * kTilePitchM,
                  (tile / cols_) * kTilePitchM);
  }
  int TileOfWatcher(int w) const { return w % tiles_; }
  int TileOfPublish(int k) const { return k % tiles_; }

  // The watch area of a tile: its square, all altitudes, all times.
  v1::Volume4D WatchArea(int tile) const {
    v1::Volume4D area;
    v1::Polygon* p = area.mutable_volume()->mutable_outline_polygon();
    for (const geo::LatLng& v : Square(Centre(tile), kTileSideM).vertices) {
      v1::LatLng* out = p->add_vertices();
      out->set_lat_deg(v.lat_deg);
      out->set_lng_deg(v.lng_deg);
    }
    return area;
  }

  // Publish k: alternately a circle and a square, jittered by up to 200 m
  // (inside its tile whatever the jitter), permanent, 0-150 m.
  v1::Constraint Constraint(int k, const std::string& marker) const {
    std::mt19937_64 rng(static_cast<uint64_t>(k) * 7919 + 17);
    std::uniform_real_distribution<double> jitter(-200, 200);
    const geo::LatLng c =
        Offset(Centre(TileOfPublish(k)), jitter(rng), jitter(rng));
    geo::Volume4D v;
    if (k % 2 == 0) {
      v.volume.footprint = geo::Circle{c, 300};
    } else {
      v.volume.footprint = Square(c, 600);
    }
    v.volume.altitude = {0, 150};
    v.time = {absl::InfinitePast(), absl::InfiniteFuture()};
    v1::Constraint out;
    out.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
    *out.add_volumes() = VolumeToProto(v);
    out.set_reason(marker);
    out.set_message_for_pilots("utmwatch benchmark zone");
    out.mutable_source()->set_format(v1::SOURCE_FORMAT_MANUAL);
    out.mutable_source()->set_original_id(marker);
    return out;
  }

 private:
  geo::LatLng anchor_;
  int tiles_, cols_;
};

// The marker of publish k in run `run`, and its inverse (-1: not ours).
std::string Marker(const std::string& run, int k) {
  return absl::StrCat("utmwatch-", run, "-", k);
}
int ParseMarker(const std::string& run, const std::string& marker) {
  const std::string prefix = absl::StrCat("utmwatch-", run, "-");
  int k = -1;
  if (!absl::StartsWith(marker, prefix) ||
      !absl::SimpleAtoi(absl::string_view(marker).substr(prefix.size()), &k)) {
    return -1;
  }
  return k;
}

// ---------------------------------------------------------------------------
// Watchers.

// State shared by every stream of one measured phase.
struct Shared {
  Shared(std::string run_id, int publishes, int tiles)
      : run(std::move(run_id)),
        spread(tiles),
        send_ns(publishes),
        first_ns(publishes),
        last_ns(publishes) {
    for (int k = 0; k < publishes; ++k) {
      send_ns[k] = 0;
      first_ns[k] = INT64_MAX;
      last_ns[k] = 0;
    }
  }
  const std::string run;
  const int spread;  // publish k meets tile k mod spread only
  // Per publish: when its RPC was sent, first and last receipt.
  std::vector<std::atomic<int64_t>> send_ns, first_ns, last_ns;
  std::atomic<int> ready{0};  // streams past their first snapshot_end
  std::atomic<int> done{0};   // streams whose OnDone ran
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> last_receipt_ns{0};
  std::atomic<int64_t> resyncs{0}, heartbeats{0}, foreign{0}, other{0};
};

void AtomicMax(std::atomic<int64_t>* a, int64_t v) {
  int64_t cur = a->load(std::memory_order_relaxed);
  while (v > cur && !a->compare_exchange_weak(cur, v)) {
  }
}
void AtomicMin(std::atomic<int64_t>* a, int64_t v) {
  int64_t cur = a->load(std::memory_order_relaxed);
  while (v < cur && !a->compare_exchange_weak(cur, v)) {
  }
}

// One WatchConstraints stream. gRPC runs its callbacks one at a time, so
// the per-stream fields need no lock; they are read after OnDone.
class WatchStream final : public grpc::ClientReadReactor<v1::ConstraintEvent> {
 public:
  WatchStream(Shared* shared, int tile, int publishes)
      : shared_(shared), tile_(tile), seen_(publishes, 0) {}

  void Start(v1::ConstraintService::Stub* stub, const v1::Volume4D& area,
             const std::string& token) {
    *request_.mutable_area() = area;
    request_.mutable_heartbeat_interval()->set_seconds(60);
    if (!token.empty()) {
      context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    stub->async()->WatchConstraints(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const int64_t now = NowNs();
    switch (event_.event_case()) {
      case v1::ConstraintEvent::kSnapshotBegin:
        in_snapshot_ = true;
        break;
      case v1::ConstraintEvent::kSnapshotEnd:
        in_snapshot_ = false;
        if (!ready_) {
          ready_ = true;
          shared_->ready.fetch_add(1);
        }
        break;
      case v1::ConstraintEvent::kUpsert: {
        const int k =
            ParseMarker(shared_->run, event_.upsert().source().original_id());
        if (k < 0 || k >= static_cast<int>(seen_.size())) {
          shared_->foreign.fetch_add(1, std::memory_order_relaxed);
          break;
        }
        if (in_snapshot_) {
          ++snapshot_upserts_;  // after a resync: not a live delivery
          break;
        }
        if (k % shared_->spread != tile_) {
          ++misrouted_;
          break;
        }
        if (seen_[k]++ > 0) {
          ++duplicates_;
          break;
        }
        const int64_t sent = shared_->send_ns[k].load();
        if (sent == 0) {
          ++unmatched_;
          break;
        }
        latency_us_.push_back(static_cast<float>(now - sent) / 1e3f);
        AtomicMin(&shared_->first_ns[k], now);
        AtomicMax(&shared_->last_ns[k], now);
        AtomicMax(&shared_->last_receipt_ns, now);
        shared_->delivered.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      case v1::ConstraintEvent::kResyncRequired:
        shared_->resyncs.fetch_add(1);
        break;
      case v1::ConstraintEvent::kHeartbeat:
        shared_->heartbeats.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        shared_->other.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& status) override {
    status_ = status;
    shared_->done.fetch_add(1);
  }

  int tile() const { return tile_; }
  bool ready() const { return ready_; }
  const grpc::Status& status() const { return status_; }
  const std::vector<uint8_t>& seen() const { return seen_; }
  const std::vector<float>& latency_us() const { return latency_us_; }
  int64_t duplicates() const { return duplicates_; }
  int64_t unmatched() const { return unmatched_; }
  int64_t misrouted() const { return misrouted_; }
  int64_t snapshot_upserts() const { return snapshot_upserts_; }

 private:
  Shared* const shared_;
  const int tile_;
  grpc::ClientContext context_;
  v1::WatchConstraintsRequest request_;
  v1::ConstraintEvent event_;
  bool in_snapshot_ = false, ready_ = false;
  std::vector<uint8_t> seen_;
  std::vector<float> latency_us_;
  int64_t duplicates_ = 0, unmatched_ = 0, misrouted_ = 0,
          snapshot_upserts_ = 0;
  grpc::Status status_;
};

// ---------------------------------------------------------------------------
// Publishing.

struct PublishResult {
  int ok = 0, failed = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
};

// Publishes `count` constraints of `layout` with markers of `run` from
// o.publishers threads; records each send time in send_ns (if given).
PublishResult Publish(
    const Options& o,
    const std::vector<std::unique_ptr<v1::ConstraintService::Stub>>& stubs,
    const Layout& layout, const std::string& run, int count,
    std::vector<std::atomic<int64_t>>* send_ns) {
  std::atomic<int> next{0};
  std::vector<std::vector<double>> latencies(o.publishers);
  std::vector<PublishResult> partial(o.publishers);
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.publishers; ++t) {
    threads.emplace_back([&, t] {
      v1::ConstraintService::Stub* stub = stubs[t % stubs.size()].get();
      for (int k = next++; k < count; k = next++) {
        v1::PublishConstraintRequest request;
        const std::string marker = Marker(run, k);
        request.set_request_id(marker);
        *request.mutable_constraint() = layout.Constraint(k, marker);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(60));
        context.AddMetadata("authorization", absl::StrCat("Bearer ", o.token));
        if (o.rate > 0) {
          std::this_thread::sleep_until(
              t0 + std::chrono::nanoseconds(static_cast<int64_t>(
                       1e9 * static_cast<double>(k) / o.rate)));
        }
        v1::PublishConstraintResponse response;
        const auto s = Clock::now();
        if (send_ns != nullptr) (*send_ns)[k] = NowNs();
        const grpc::Status status =
            stub->PublishConstraint(&context, request, &response);
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - s)
                .count());
        if (status.ok() && response.has_constraint()) {
          ++partial[t].ok;
        } else {
          ++partial[t].failed;
          if (partial[t].first_error.empty()) {
            partial[t].first_error =
                absl::StrCat(status.error_code(), " ", status.error_message());
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  PublishResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (int t = 0; t < o.publishers; ++t) {
    r.ok += partial[t].ok;
    r.failed += partial[t].failed;
    if (r.first_error.empty()) r.first_error = partial[t].first_error;
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
  }
  r.p50_ms = Percentile(all, 0.5);
  r.p99_ms = Percentile(all, 0.99);
  r.max_ms = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  return r;
}

std::string Json(const PublishResult& r) {
  return absl::StrFormat(
      R"({"publishes": %d, "failed": %d, "seconds": %.3f, "per_second": %.1f, "rpc_p50_ms": %.3f, "rpc_p99_ms": %.3f, "rpc_max_ms": %.3f})",
      r.ok, r.failed, r.seconds, r.ok / std::max(r.seconds, 1e-9), r.p50_ms,
      r.p99_ms, r.max_ms);
}

// ---------------------------------------------------------------------------
// A reader's view: CheckPosition every 10 ms in the unwatched area, timed.
// It shows how long other constraint-service calls wait while a fan-out is
// in progress.

struct ProbeResult {
  int calls = 0, failed = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

class Prober {
 public:
  Prober(v1::ConstraintService::Stub* stub, const std::string& token,
         const geo::LatLng& where)
      : thread_([this, stub, token, where] {
          std::vector<double> latencies;
          int failed = 0;
          while (!stop_.load()) {
            v1::CheckPositionRequest request;
            request.mutable_position()->set_lat_deg(where.lat_deg);
            request.mutable_position()->set_lng_deg(where.lng_deg);
            request.set_radius_m(1000);
            v1::CheckPositionResponse response;
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() +
                                 std::chrono::seconds(60));
            context.AddMetadata("authorization",
                                absl::StrCat("Bearer ", token));
            const auto s = Clock::now();
            if (!stub->CheckPosition(&context, request, &response).ok()) {
              ++failed;
            }
            latencies.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - s)
                    .count());
            ++calls_;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          result_.calls = static_cast<int>(latencies.size());
          result_.failed = failed;
          result_.p50_ms = Percentile(latencies, 0.5);
          result_.p99_ms = Percentile(latencies, 0.99);
          result_.max_ms =
              latencies.empty()
                  ? 0
                  : *std::max_element(latencies.begin(), latencies.end());
        }) {}
  // Stops after at least 20 calls, so that short phases are sampled too.
  ProbeResult Stop() {
    while (calls_.load() < 20) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop_ = true;
    thread_.join();
    return result_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  ProbeResult result_;
  std::thread thread_;
};

std::string Json(const ProbeResult& r) {
  return absl::StrFormat(
      R"({"calls": %d, "failed": %d, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f})",
      r.calls, r.failed, r.p50_ms, r.p99_ms, r.max_ms);
}

// Waits until `pid` has used under 10 % of a core for 200 ms (at most
// 15 s): the server has finished tearing down the streams.
void WaitForQuiet(int pid) {
  if (pid <= 0) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  double cpu = CpuSeconds(pid);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double now = CpuSeconds(pid);
    if (now - cpu < 0.02) return;
    cpu = now;
  }
}

// ---------------------------------------------------------------------------
// One target, start to end.

struct FanoutResult {
  std::string name;
  PublishResult before, with_watchers, after;
  ProbeResult probe_idle, probe_fanout;
  int streams = 0, ready = 0, open_failed = 0;
  std::string open_error;
  double open_seconds = 0;
  int64_t expected = 0, delivered = 0, missing = 0, duplicates = 0,
          unmatched = 0, misrouted = 0, resyncs = 0, snapshot_upserts = 0,
          heartbeats = 0, foreign = 0, other = 0;
  double delivery_seconds = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  // Per publish: first and last watcher's receipt after the send.
  double first_p50_ms = 0, complete_p50_ms = 0, complete_p99_ms = 0,
         complete_max_ms = 0;
  double server_cpu_s = -1, self_cpu_s = 0;
  bool ok() const {
    return ready == streams && missing == 0 && duplicates == 0 &&
           unmatched == 0 && misrouted == 0 && before.failed == 0 &&
           with_watchers.failed == 0 && after.failed == 0;
  }
};

std::shared_ptr<grpc::Channel> Connect(const std::string& target, int id) {
  grpc::ChannelArguments args;
  args.SetInt("grpc.channel_id", id);  // distinct connections
  args.SetMaxReceiveMessageSize(16 << 20);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args);
  channel->WaitForConnected(std::chrono::system_clock::now() +
                            std::chrono::seconds(10));
  return channel;
}

FanoutResult RunTarget(const Options& o, const std::string& name,
                       const std::string& target, int server_pid) {
  FanoutResult r;
  r.name = name;
  const std::string run =
      absl::StrFormat("%x%x", static_cast<uint32_t>(getpid()),
                      static_cast<uint32_t>(NowNs() & 0xffffffff));
  // Watched tiles at Zurich; the unwatched baseline area 60 km south.
  const geo::LatLng zurich{47.3769, 8.5417};
  const Layout watched(zurich, o.spread);
  const Layout unwatched(Offset(zurich, 0, -60000), o.spread);

  std::vector<std::unique_ptr<v1::ConstraintService::Stub>> publish_stubs;
  for (int p = 0; p < o.publishers; ++p) {
    publish_stubs.push_back(
        v1::ConstraintService::NewStub(Connect(target, 1000 + p)));
  }
  std::vector<std::unique_ptr<v1::ConstraintService::Stub>> watch_stubs;
  for (int c = 0; c < o.channels; ++c) {
    watch_stubs.push_back(v1::ConstraintService::NewStub(Connect(target, c)));
  }

  std::unique_ptr<v1::ConstraintService::Stub> probe_stub =
      v1::ConstraintService::NewStub(Connect(target, 2000));

  // Baseline: nobody watches the area.
  {
    Prober probe(probe_stub.get(), o.watch_token, unwatched.Centre(0));
    r.before =
        Publish(o, publish_stubs, unwatched, run + "b", o.publishes, nullptr);
    r.probe_idle = probe.Stop();
  }

  // Open every stream; wait for every snapshot.
  Shared shared(run, o.publishes, o.spread);
  std::vector<std::unique_ptr<WatchStream>> streams;
  std::vector<v1::Volume4D> areas;
  for (int t = 0; t < o.spread; ++t) areas.push_back(watched.WatchArea(t));
  const auto open_start = Clock::now();
  for (int w = 0; w < o.watchers; ++w) {
    const int tile = watched.TileOfWatcher(w);
    streams.push_back(
        std::make_unique<WatchStream>(&shared, tile, o.publishes));
    streams.back()->Start(watch_stubs[w % watch_stubs.size()].get(),
                          areas[tile], o.watch_token);
  }
  r.streams = o.watchers;
  const auto open_deadline =
      open_start +
      std::chrono::milliseconds(static_cast<int64_t>(o.open_timeout_s * 1000));
  while (shared.ready.load() + shared.done.load() < o.watchers &&
         Clock::now() < open_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.open_seconds =
      std::chrono::duration<double>(Clock::now() - open_start).count();
  r.ready = shared.ready.load();

  const double server_cpu0 = server_pid > 0 ? CpuSeconds(server_pid) : -1;
  const double self_cpu0 = SelfCpuSeconds();
  int64_t publish_start_ns = 0;
  if (r.ready == o.watchers) {
    // Measured: publishes into the watched tiles.
    Prober probe(probe_stub.get(), o.watch_token, unwatched.Centre(0));
    publish_start_ns = NowNs();
    r.with_watchers =
        Publish(o, publish_stubs, watched, run, o.publishes, &shared.send_ns);
    for (int w = 0; w < o.watchers; ++w) {
      for (int k = 0; k < o.publishes; ++k) {
        if (watched.TileOfPublish(k) == streams[w]->tile()) ++r.expected;
      }
    }
    // Wait for every delivery, or for the drain timeout, or for 30 s
    // without progress.
    const auto drain_deadline =
        Clock::now() + std::chrono::milliseconds(
                           static_cast<int64_t>(o.drain_timeout_s * 1000));
    int64_t last_count = -1;
    auto last_progress = Clock::now();
    while (shared.delivered.load() < r.expected &&
           Clock::now() < drain_deadline &&
           Clock::now() - last_progress < std::chrono::seconds(30)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const int64_t n = shared.delivered.load();
      if (n != last_count) {
        last_count = n;
        last_progress = Clock::now();
      }
    }
    r.probe_fanout = probe.Stop();
  }
  if (server_pid > 0) r.server_cpu_s = CpuSeconds(server_pid) - server_cpu0;
  r.self_cpu_s = SelfCpuSeconds() - self_cpu0;

  // Close every stream and wait for gRPC to let go of them.
  for (auto& s : streams) s->Cancel();
  const auto close_deadline = Clock::now() + std::chrono::seconds(60);
  while (shared.done.load() < o.watchers && Clock::now() < close_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (shared.done.load() < o.watchers) {
    std::cerr << "utmwatch: " << o.watchers - shared.done.load()
              << " streams did not close; exiting without cleanup\n";
    std::cerr.flush();
    _exit(1);
  }
  for (const auto& s : streams) {
    if (!s->ready()) {
      ++r.open_failed;
      if (r.open_error.empty() && !s->status().ok()) {
        r.open_error = absl::StrCat(s->status().error_code(), " ",
                                    s->status().error_message());
      }
    }
  }

  // Baseline again, the watchers gone and the server idle again.
  WaitForQuiet(server_pid);
  r.after =
      Publish(o, publish_stubs, unwatched, run + "a", o.publishes, nullptr);

  if (r.ready != o.watchers) return r;
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(shared.delivered.load()));
  for (const auto& s : streams) {
    r.duplicates += s->duplicates();
    r.unmatched += s->unmatched();
    r.misrouted += s->misrouted();
    r.snapshot_upserts += s->snapshot_upserts();
    for (int k = 0; k < o.publishes; ++k) {
      if (watched.TileOfPublish(k) == s->tile() && s->seen()[k] == 0) {
        ++r.missing;
      }
    }
    for (float us : s->latency_us()) latencies.push_back(us / 1e3);
  }
  r.delivered = static_cast<int64_t>(latencies.size());
  r.resyncs = shared.resyncs.load();
  r.heartbeats = shared.heartbeats.load();
  r.foreign = shared.foreign.load();
  r.other = shared.other.load();
  r.delivery_seconds = r.delivered > 0
                           ? static_cast<double>(shared.last_receipt_ns.load() -
                                                 publish_start_ns) /
                                 1e9
                           : 0;
  r.p50_ms = Percentile(latencies, 0.5);
  r.p90_ms = Percentile(latencies, 0.9);
  r.p99_ms = Percentile(latencies, 0.99);
  r.max_ms = latencies.empty()
                 ? 0
                 : *std::max_element(latencies.begin(), latencies.end());
  std::vector<double> first, complete;
  for (int k = 0; k < o.publishes; ++k) {
    const int64_t sent = shared.send_ns[k].load();
    if (sent == 0 || shared.last_ns[k].load() == 0) continue;
    first.push_back(static_cast<double>(shared.first_ns[k].load() - sent) /
                    1e6);
    complete.push_back(static_cast<double>(shared.last_ns[k].load() - sent) /
                       1e6);
  }
  r.first_p50_ms = Percentile(first, 0.5);
  r.complete_p50_ms = Percentile(complete, 0.5);
  r.complete_p99_ms = Percentile(complete, 0.99);
  r.complete_max_ms = complete.empty()
                          ? 0
                          : *std::max_element(complete.begin(), complete.end());
  return r;
}

std::string Json(const FanoutResult& r) {
  const double dps =
      static_cast<double>(r.delivered) / std::max(r.delivery_seconds, 1e-9);
  const double base = 0.5 * (r.before.ok / std::max(r.before.seconds, 1e-9) +
                             r.after.ok / std::max(r.after.seconds, 1e-9));
  const double with =
      r.with_watchers.ok / std::max(r.with_watchers.seconds, 1e-9);
  std::string cpu = "null";
  if (r.server_cpu_s >= 0) {
    cpu = absl::StrFormat(
        R"({"server_seconds": %.3f, "server_us_per_delivery": %.3f, "client_seconds": %.3f, "client_us_per_delivery": %.3f})",
        r.server_cpu_s,
        1e6 * r.server_cpu_s /
            static_cast<double>(std::max<int64_t>(r.delivered, 1)),
        r.self_cpu_s,
        1e6 * r.self_cpu_s /
            static_cast<double>(std::max<int64_t>(r.delivered, 1)));
  } else {
    cpu = absl::StrFormat(
        R"({"process_seconds": %.3f, "process_us_per_delivery": %.3f})",
        r.self_cpu_s,
        1e6 * r.self_cpu_s /
            static_cast<double>(std::max<int64_t>(r.delivered, 1)));
  }
  return absl::StrFormat(
      R"("%s": {"open": {"streams": %d, "ready": %d, "failed": %d, "seconds": %.3f%s}, )"
      R"("publish_without_watchers_before": %s, "publish_with_watchers": %s, "publish_without_watchers_after": %s, )"
      R"("publish_ratio_to_without": %.3f, "check_position_probe": {"while_publishing_without_watchers": %s, "while_fanning_out": %s}, )"
      R"("delivery": {"expected": %d, "delivered": %d, "missing": %d, "duplicates": %d, "unmatched": %d, "misrouted": %d, "resync_required": %d, "snapshot_upserts_after_resync": %d, "heartbeats": %d, "foreign_upserts": %d, "other_events": %d, )"
      R"("seconds": %.3f, "per_second": %.0f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, )"
      R"("first_watcher_p50_ms": %.3f, "last_watcher_p50_ms": %.3f, "last_watcher_p99_ms": %.3f, "last_watcher_max_ms": %.3f}, "cpu": %s})",
      r.name, r.streams, r.ready, r.open_failed, r.open_seconds,
      r.open_error.empty()
          ? ""
          : absl::StrCat(R"(, "first_error": ")", r.open_error, "\""),
      Json(r.before), Json(r.with_watchers), Json(r.after),
      with / std::max(base, 1e-9), Json(r.probe_idle), Json(r.probe_fanout),
      r.expected, r.delivered, r.missing, r.duplicates, r.unmatched,
      r.misrouted, r.resyncs, r.snapshot_upserts, r.heartbeats, r.foreign,
      r.other, r.delivery_seconds, dps, r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms,
      r.first_p50_ms, r.complete_p50_ms, r.complete_p99_ms, r.complete_max_ms,
      cpu);
}

void Human(const FanoutResult& r) {
  std::cerr << absl::StrFormat(
      "%s: %d/%d streams ready in %.2f s; publishes/s without watchers "
      "%.0f (before) %.0f (after), with %.0f (rpc p50 %.2f ms, p99 %.2f ms)\n"
      "%s: %d of %d delivered (%d missing, %d duplicate, %d resync) in "
      "%.2f s = %.0f deliveries/s; latency p50 %.2f ms, p90 %.2f, p99 %.2f, "
      "max %.2f; per publish first watcher p50 %.2f ms, last watcher p50 "
      "%.2f ms\n",
      r.name, r.ready, r.streams, r.open_seconds,
      r.before.ok / std::max(r.before.seconds, 1e-9),
      r.after.ok / std::max(r.after.seconds, 1e-9),
      r.with_watchers.ok / std::max(r.with_watchers.seconds, 1e-9),
      r.with_watchers.p50_ms, r.with_watchers.p99_ms, r.name, r.delivered,
      r.expected, r.missing, r.duplicates, r.resyncs, r.delivery_seconds,
      static_cast<double>(r.delivered) / std::max(r.delivery_seconds, 1e-9),
      r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.first_p50_ms,
      r.complete_p50_ms);
  std::cerr << absl::StrFormat(
      "%s: CheckPosition every 10 ms: p50 %.2f ms, max %.2f ms while "
      "publishing without watchers; p50 %.2f ms, max %.2f ms during the "
      "fan-out\n",
      r.name, r.probe_idle.p50_ms, r.probe_idle.max_ms, r.probe_fanout.p50_ms,
      r.probe_fanout.max_ms);
  if (r.server_cpu_s >= 0) {
    std::cerr << absl::StrFormat(
        "%s: CPU during publish+delivery: server %.2f s (%.2f us/delivery), "
        "utmwatch %.2f s (%.2f us/delivery)\n",
        r.name, r.server_cpu_s,
        1e6 * r.server_cpu_s /
            static_cast<double>(std::max<int64_t>(r.delivered, 1)),
        r.self_cpu_s,
        1e6 * r.self_cpu_s /
            static_cast<double>(std::max<int64_t>(r.delivered, 1)));
  }
  if (r.ready != r.streams) {
    std::cerr << r.name << ": only " << r.ready << " of " << r.streams
              << " streams delivered their snapshot (" << r.open_failed
              << " not ready; first error: "
              << (r.open_error.empty() ? "none, still waiting" : r.open_error)
              << ")\n";
  }
  for (const PublishResult* p : {&r.before, &r.with_watchers, &r.after}) {
    if (p->failed > 0) {
      std::cerr << r.name << ": " << p->failed
                << " publishes failed, first: " << p->first_error << "\n";
    }
  }
}

// ---------------------------------------------------------------------------
// The no-op baseline: a ConstraintService with no core. PublishConstraint
// hands the request's constraint to every stream (one shared event, like
// utmd) and answers after queueing it everywhere, as utmd does.

class NoopFanout;

class NoopStream final : public grpc::ServerWriteReactor<v1::ConstraintEvent> {
 public:
  explicit NoopStream(NoopFanout* owner) : owner_(owner) {}
  void Push(std::shared_ptr<const v1::ConstraintEvent> event) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    queue_.push_back(std::move(event));
    if (!writing_) WriteNext();
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      Close();
      return;
    }
    if (!queue_.empty()) WriteNext();
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    Close();
  }
  void OnDone() override;

 private:
  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    current_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    StartWrite(current_.get());
  }
  void Close() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    Finish(grpc::Status::CANCELLED);
  }
  NoopFanout* const owner_;
  absl::Mutex mu_;
  std::deque<std::shared_ptr<const v1::ConstraintEvent>> queue_
      ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const v1::ConstraintEvent> current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class NoopFanout final : public v1::ConstraintService::CallbackService {
 public:
  grpc::ServerWriteReactor<v1::ConstraintEvent>* WatchConstraints(
      grpc::CallbackServerContext*,
      const v1::WatchConstraintsRequest*) override {
    auto* stream = new NoopStream(this);
    {
      absl::MutexLock lock(&mu_);
      streams_.push_back(stream);
    }
    v1::ConstraintEvent begin, end;
    begin.mutable_snapshot_begin();
    end.mutable_snapshot_end();
    stream->Push(std::make_shared<const v1::ConstraintEvent>(begin));
    stream->Push(std::make_shared<const v1::ConstraintEvent>(end));
    return stream;
  }
  grpc::ServerUnaryReactor* PublishConstraint(
      grpc::CallbackServerContext* context,
      const v1::PublishConstraintRequest* request,
      v1::PublishConstraintResponse* response) override {
    v1::ConstraintEvent event;
    *event.mutable_upsert() = request->constraint();
    event.mutable_upsert()->set_id(absl::StrCat("noop-", ++published_));
    event.mutable_upsert()->set_version(1);
    *response->mutable_constraint() = event.upsert();
    auto shared = std::make_shared<const v1::ConstraintEvent>(std::move(event));
    // Everything goes everywhere: the no-op server does not look at areas,
    // so it is only used without --spread.
    {
      absl::MutexLock lock(&mu_);
      for (NoopStream* s : streams_) s->Push(shared);
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* CheckPosition(grpc::CallbackServerContext* context,
                                          const v1::CheckPositionRequest*,
                                          v1::CheckPositionResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  void Remove(NoopStream* stream) {
    absl::MutexLock lock(&mu_);
    streams_.erase(std::find(streams_.begin(), streams_.end(), stream));
  }

 private:
  absl::Mutex mu_;
  std::vector<NoopStream*> streams_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> published_{0};
};

void NoopStream::OnDone() {
  owner_->Remove(this);
  delete this;
}

// --serve-noop: the no-op server as a child process, so that it does not
// share gRPC's threads with the client. Prints "port N", serves until its
// stdin closes.
int ServeNoop() {
  NoopFanout noop;
  return sim::ServeNoop(&noop, "utmwatch");
}

// A child running --serve-noop; stopped by closing its stdin.

// Forks and execs this binary with --serve-noop. Must run before this
// process uses gRPC.

int Main(int argc, char** argv) {
  CLI::App app{
      "utmwatch: publish -> delivered fan-out benchmark for utmd's "
      "WatchConstraints"};
  Options o;
  bool serve_noop = false;
  app.add_option("--target", o.target, "utmd address (loopback only)");
  app.add_option("--token", o.token, "Bearer token of a regulator (publishes)");
  app.add_option("--watch-token", o.watch_token,
                 "Bearer token of the watchers (DEFAULT: --token)");
  app.add_option("--watchers", o.watchers,
                 "Concurrent WatchConstraints streams")
      ->check(CLI::Range(1, 200000))
      ->capture_default_str();
  app.add_option("--channels", o.channels, "gRPC connections for the streams")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--publishes", o.publishes, "Timed publishes")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--publishers", o.publishers,
                 "Concurrent publisher threads, one connection each")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--rate", o.rate,
                 "Publishes per second in total; 0: as fast as possible")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--spread", o.spread,
                 "Disjoint tiles: each publish reaches 1/N of the watchers "
                 "(N > 1 skips the no-op baseline, which ignores areas)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_flag("--noop,!--no-noop", o.noop,
               "First measure a no-op fan-out server (a child process)")
      ->capture_default_str();
  app.add_option("--open-timeout", o.open_timeout_s,
                 "Seconds to wait for every stream's snapshot")
      ->capture_default_str();
  app.add_option("--drain-timeout", o.drain_timeout_s,
                 "Seconds to wait for every delivery")
      ->capture_default_str();
  app.add_option("--server-pid", o.server_pid,
                 "utmd's pid: report its CPU time per delivery");
  app.add_flag("--serve-noop", serve_noop,
               "Internal: run the no-op server and print its port");
  CLI11_PARSE(app, argc, argv);
  if (serve_noop) return ServeNoop();
  if (o.target.empty() || o.token.empty()) {
    std::cerr << "utmwatch: --target and --token are required\n";
    return 64;
  }
  if (!IsLoopback(o.target)) {
    std::cerr << "utmwatch: --target must be a loopback address\n";
    return 64;
  }
  if (o.watch_token.empty()) o.watch_token = o.token;
  if (o.spread > o.watchers) {
    std::cerr << "utmwatch: --spread must not exceed --watchers\n";
    return 64;
  }
  if (o.spread > 1) o.noop = false;
  {
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    if (nofile.rlim_cur < static_cast<rlim_t>(o.channels + o.publishers + 64)) {
      std::cerr << "utmwatch: ulimit -n is " << nofile.rlim_cur << "\n";
      return 64;
    }
  }

  std::string json = "{";
  bool ok = true;
  if (o.noop) {
    absl::StatusOr<NoopChild> child = SpawnNoop("utmwatch");
    if (!child.ok()) {
      std::cerr << "utmwatch: " << child.status() << "\n";
      return 1;
    }
    const FanoutResult r = RunTarget(
        o, "noop", absl::StrCat("127.0.0.1:", child->port), child->pid);
    StopNoop(*child);
    Human(r);
    ok = ok && r.ok();
    absl::StrAppend(&json, Json(r), ", ");
  }
  const FanoutResult r = RunTarget(o, "utmd", o.target, o.server_pid);
  Human(r);
  ok = ok && r.ok();
  absl::StrAppend(
      &json, Json(r),
      absl::StrFormat(
          R"(, "watchers": %d, "channels": %d, "publishes": %d, "publishers": %d, "rate": %.1f, "spread": %d, "ok": %s})",
          o.watchers, o.channels, o.publishes, o.publishers, o.rate, o.spread,
          ok ? "true" : "false"));
  std::cout << json << std::endl;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace utm::sim

int main(int argc, char** argv) { return utm::sim::Main(argc, argv); }
