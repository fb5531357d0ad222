// The telemetry tier across replicas, in one process over a real
// redis-server on loopback (every replica on the same 2-core machine):
//
//   build/services/telemetry/cluster_benchmark
//
// BM_AlertLatency/<replicas>/<window ms>: a report that completes a
//   conflict sent → the alert seen by a watcher's sink. replicas 1 is the
//   baseline, one core holding everything (no Redis); replicas 3: a pair
//   across a region border, the west region owned by replica 0 (which
//   raises the alert), the east one by replica 1; the west aircraft reports
//   to replica 2, the east one to replica 1, and the watcher is replica 2.
//   The timed report (the east one's) takes the longest path: forwarded by
//   replica 1 to replica 0 (one batch window, one Pub/Sub hop), the alert
//   published to replica 2 (a second hop). p50 / p99 in the counters.
// BM_Feed/<replicas>: N drones uniform over a 500 km square, 1 Hz, each
//   report to a random replica; one iteration is one second of traffic
//   (ingested, forwarded, quiet again). Counters: forwarded copies per
//   report received, Pub/Sub messages per second of traffic, wall time per
//   second of traffic, CPU of the whole process (every replica's threads;
//   Redis aside) per report. replicas 1 is the in-run baseline (one core).
//   paced 0: as fast as it goes (throughput); paced 1: each second of
//   traffic spread over a real second (Pub/Sub messages per real second,
//   CPU cores busy at 10,000 drones).
// BM_RouteOnly: TelemetryCluster::Route per report (regions, owners, the
//   queue), the CPU a receiving replica spends on routing; BM_RegionsOnly
//   is RegionsWithin alone at the same reach, the part that is geometry.
#include <sys/resource.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "geo/geodesy.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/cluster.h"
#include "services/telemetry/regions.h"
#include "tests/testing/redis_server.h"

namespace utm::telemetry {
namespace {

const std::vector<std::string> kMembers = {"bench-0", "bench-1", "bench-2"};

// Every aircraft flies an activated intent of its operator ("intent-<op>")
// that covers the whole benchmark area: no alert but the conflicts, so a
// timed report is not flushed early by an alert about it.
class EmptyAirspace : public Airspace {
 public:
  EmptyAirspace() {
    for (const std::string op : {"op", "op-a", "op-b"}) {
      auto info = std::make_shared<IntentInfo>();
      info->owner = op;
      info->activated = true;
      geo::Volume4D v;
      v.volume.footprint = geo::Circle{{47.0, 8.0}, 600000};
      v.volume.altitude = {-1000, 50000};
      v.time = {absl::InfinitePast(), absl::InfiniteFuture()};
      info->volumes = {v};
      intents_[absl::StrCat("intent-", op)] = std::move(info);
    }
  }
  std::shared_ptr<const IntentInfo> Intent(
      const std::string& id) const override {
    auto it = intents_.find(id);
    return it == intents_.end() ? nullptr : it->second;
  }
  std::vector<std::string> BlockingConstraints(const std::string&,
                                               const geo::LatLng&, double,
                                               double, double,
                                               absl::Time) const override {
    return {};
  }
  void MarkNonconforming(const std::string&, const std::string&,
                         absl::Time) override {}

 private:
  std::map<std::string, std::shared_ptr<const IntentInfo>> intents_;
};

utm::testing::RedisServer* Redis() {
  static utm::testing::RedisServer* server = [] {
    auto s = utm::testing::RedisServer::Start({});
    if (!s.ok()) {
      fprintf(stderr, "redis-server: %s\n", s.status().ToString().c_str());
      std::abort();
    }
    return s->release();  // lives until exit (killed with this thread)
  }();
  return server;
}

TelemetryOptions CoreOptions() {
  TelemetryOptions o;
  o.separation.horizontal_m = 50;
  o.separation.vertical_m = 15;
  o.separation.lookahead_s = 30;
  o.max_report_age = absl::Hours(1);  // the feed's clock runs ahead
  o.max_report_lead = absl::Hours(1);
  return o;
}

struct Replica {
  Replica(const std::string& member, const Clock* clock,
          absl::Duration window, absl::Mutex* mu,
          std::vector<std::pair<std::string, absl::Time>>* seen)
      : core(CoreOptions(), clock, &airspace) {
    ClusterOptions o;
    o.redis.addr = Redis()->addr();
    o.member_id = member;
    o.batch_window = window;
    o.members_key = "{tele}:bench-members";
    cluster = std::make_unique<TelemetryCluster>(o, &core, clock);
    if (seen != nullptr) {
      cluster->SetAlertSink([mu, seen](const std::vector<AlertChange>& c) {
        const absl::Time now = absl::Now();
        absl::MutexLock lock(mu);
        for (const AlertChange& a : c) {
          if (a.alert.state() == v1::ALERT_STATE_RAISED &&
              a.alert.aircraft_ids_size() == 2) {
            seen->emplace_back(a.alert.aircraft_ids(0), now);
          }
        }
      });
    }
  }
  EmptyAirspace airspace;
  TelemetryCore core;
  std::unique_ptr<TelemetryCluster> cluster;
};

// Starts replicas and waits until each sees all of them.
std::vector<std::unique_ptr<Replica>> StartReplicas(
    int n, const Clock* clock, absl::Duration window, absl::Mutex* mu,
    std::vector<std::pair<std::string, absl::Time>>* seen, int watcher) {
  std::vector<std::unique_ptr<Replica>> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(std::make_unique<Replica>(kMembers[i], clock, window, mu,
                                            i == watcher ? seen : nullptr));
  }
  for (auto& r : out) {
    if (!r->cluster->Start().ok()) std::abort();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (auto& r : out) {
    while (r->cluster->members().size() != static_cast<size_t>(n) &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  return out;
}

void Quiesce(const std::vector<std::unique_ptr<Replica>>& replicas) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    size_t pending = 0;
    int64_t delivered = 0, ingested = 0, out = 0, in = 0;
    for (const auto& r : replicas) {
      const TelemetryCluster::Stats s = r->cluster->stats();
      pending += r->cluster->pending();
      delivered += s.reports_delivered;
      ingested += s.forwarded_ingested;
      out += s.alerts_delivered;
      in += s.alerts_received;
    }
    if (pending == 0 && delivered == ingested && out == in) return;
    absl::SleepFor(absl::Microseconds(200));
  }
}

// A border point whose two regions have different owners.
geo::LatLng FindBorder(uint64_t* west_region) {
  geo::LatLng p{47.0, 7.0};
  for (int step = 0; step < 100000; ++step) {
    const geo::LatLng q = geo::GeodesicDestination(p, 90, 100);
    // The west region (where the alert is raised) owned by replica 0, the
    // east one by replica 1.
    if (RegionOf(p) != RegionOf(q) &&
        OwnerOf(RegionOf(p), kMembers) == kMembers[0] &&
        OwnerOf(RegionOf(q), kMembers) == kMembers[1]) {
      *west_region = RegionOf(p);
      geo::LatLng lo = p, hi = q;
      for (int i = 0; i < 20; ++i) {
        const geo::LatLng mid{(lo.lat_deg + hi.lat_deg) / 2,
                              (lo.lng_deg + hi.lng_deg) / 2};
        (RegionOf(mid) == *west_region ? lo : hi) = mid;
      }
      return lo;
    }
    p = q;
  }
  std::abort();
}

v1::PositionReport Report(const std::string& op, const std::string& id,
                          const geo::LatLng& p, double alt, double east_mps,
                          absl::Time t) {
  v1::PositionReport r;
  r.set_aircraft_id(id);
  r.set_intent_id(absl::StrCat("intent-", op));
  r.mutable_position()->set_lat_deg(p.lat_deg);
  r.mutable_position()->set_lng_deg(p.lng_deg);
  r.mutable_altitude()->set_value_m(alt);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_east_mps(east_mps);
  *r.mutable_time() = TimeToProto(t);
  return r;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

void BM_AlertLatency(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const absl::Duration window = absl::Milliseconds(state.range(1));
  absl::Mutex mu;
  std::vector<std::pair<std::string, absl::Time>> seen;
  uint64_t west = 0;
  const geo::LatLng border = FindBorder(&west);
  // a<i> 15 m west of the border, b<i> 15 m east of it, closing: in
  // conflict as soon as both are known. Each pair at its own altitude.
  const geo::LatLng w = geo::GeodesicDestination(border, 270, 15);
  const geo::LatLng e = geo::GeodesicDestination(border, 90, 15);
  if (RegionOf(w) != west || RegionOf(e) == west) std::abort();
  std::vector<double> latencies_ms;
  if (n == 1) {
    EmptyAirspace airspace;
    TelemetryCore core(CoreOptions(), RealClock::Get(), &airspace);
    int i = 0;
    for (auto _ : state) {
      const absl::Time now = absl::Now();
      google::protobuf::RepeatedPtrField<v1::PositionReport> a, b;
      *a.Add() = Report("op-a", absl::StrCat("a", i), w, 100 + 40 * i, 5, now);
      *b.Add() = Report("op-b", absl::StrCat("b", i), e, 100 + 40 * i, -5, now);
      core.Ingest("op-a", a);
      const absl::Time sent = absl::Now();
      TelemetryCore::Result r = core.Ingest("op-b", b);
      bool raised = false;
      for (const AlertChange& c : r.alerts) {
        raised |= c.alert.aircraft_ids_size() == 2;
      }
      if (!raised) state.SkipWithError("no conflict alert");
      latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
      ++i;
    }
  } else {
    std::vector<std::unique_ptr<Replica>> replicas =
        StartReplicas(n, RealClock::Get(), window, &mu, &seen, /*watcher=*/2);
    int i = 0;
    for (auto _ : state) {
      const absl::Time now = absl::Now();
      const std::string a_id = absl::StrCat("a", i);
      google::protobuf::RepeatedPtrField<v1::PositionReport> a, b;
      *a.Add() = Report("op-a", a_id, w, 100 + 40 * i, 5, now);
      *b.Add() = Report("op-b", absl::StrCat("b", i), e, 100 + 40 * i, -5, now);
      replicas[2]->cluster->Emit(replicas[2]->core.Ingest("op-a", a).alerts);
      Quiesce(replicas);
      const absl::Time sent = absl::Now();
      replicas[1]->cluster->Emit(replicas[1]->core.Ingest("op-b", b).alerts);
      absl::Time got = absl::InfiniteFuture();
      const absl::Time deadline = sent + absl::Seconds(5);
      while (got == absl::InfiniteFuture() && absl::Now() < deadline) {
        {
          absl::MutexLock lock(&mu);
          for (const auto& [id, at] : seen) {
            if (id == a_id) got = at;
          }
        }
        if (got == absl::InfiniteFuture()) absl::SleepFor(absl::Microseconds(50));
      }
      if (got == absl::InfiniteFuture()) {
        state.SkipWithError("alert not seen by the watcher");
        break;
      }
      latencies_ms.push_back(absl::ToDoubleMilliseconds(got - sent));
      Quiesce(replicas);
      ++i;
    }
    for (auto& r : replicas) r->cluster->Stop();
  }
  state.counters["p50_ms"] = Percentile(latencies_ms, 0.5);
  state.counters["p99_ms"] = Percentile(latencies_ms, 0.99);
}
BENCHMARK(BM_AlertLatency)
    ->ArgNames({"replicas", "window_ms"})
    ->Args({1, 0})
    ->Args({3, 20})
    ->Args({3, 2})
    ->Iterations(200)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Feed(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int drones = static_cast<int>(state.range(1));
  const bool paced = state.range(2) != 0;
  SimulatedClock clock(absl::FromUnixSeconds(1'800'000'000));
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0, 1);
  // Uniform over a 500 km square centred on 47° N, 8° E.
  const geo::LatLng sw = geo::GeodesicDestination(
      geo::GeodesicDestination({47.0, 8.0}, 180, 250000), 270, 250000);
  std::vector<geo::LatLng> pos(drones);
  std::vector<double> ve(drones), vn(drones);
  std::vector<int> receiver(drones);
  for (int i = 0; i < drones; ++i) {
    pos[i] = geo::GeodesicDestination(
        geo::GeodesicDestination(sw, 0, 500000 * unit(rng)), 90,
        500000 * unit(rng));
    const double speed = 5 + 15 * unit(rng), dir = 2 * M_PI * unit(rng);
    ve[i] = speed * std::sin(dir);
    vn[i] = speed * std::cos(dir);
    receiver[i] = static_cast<int>(rng() % n);
  }
  std::vector<std::unique_ptr<Replica>> replicas;
  EmptyAirspace airspace;
  std::unique_ptr<TelemetryCore> single;
  if (n == 1) {
    single = std::make_unique<TelemetryCore>(CoreOptions(), &clock, &airspace);
  } else {
    replicas = StartReplicas(n, &clock, absl::Milliseconds(20), nullptr,
                             nullptr, -1);
  }
  int64_t seconds = 0;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const absl::Time wall_start = absl::Now();
  for (auto _ : state) {
    const absl::Time now = clock.Now();
    const absl::Time second_start = absl::Now();
    // Batches of up to 100 reports per (replica, operator), as streams.
    std::vector<google::protobuf::RepeatedPtrField<v1::PositionReport>> batch(n);
    auto flush = [&](int r) {
      if (batch[r].empty()) return;
      if (single) {
        single->Ingest("op", batch[r]);
      } else {
        replicas[r]->cluster->Emit(replicas[r]->core.Ingest("op", batch[r]).alerts);
      }
      batch[r].Clear();
    };
    for (int i = 0; i < drones; ++i) {
      pos[i] = geo::GeodesicDestination(
          pos[i], std::atan2(ve[i], vn[i]) * 180 / M_PI, std::hypot(ve[i], vn[i]));
      v1::PositionReport rep;
      rep.set_aircraft_id(absl::StrCat("d", i));
      rep.set_intent_id("intent-op");
      rep.mutable_position()->set_lat_deg(pos[i].lat_deg);
      rep.mutable_position()->set_lng_deg(pos[i].lng_deg);
      rep.mutable_altitude()->set_value_m(100);
      rep.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      rep.mutable_velocity()->set_east_mps(ve[i]);
      rep.mutable_velocity()->set_north_mps(vn[i]);
      *rep.mutable_time() = TimeToProto(now);
      *batch[receiver[i]].Add() = std::move(rep);
      if (batch[receiver[i]].size() == 100) flush(receiver[i]);
      // Paced: the second's reports spread over a real second, 100 slices.
      if (paced && (i + 1) % (drones / 100) == 0) {
        absl::SleepFor(second_start +
                       absl::Milliseconds(10) * ((i + 1) / (drones / 100)) -
                       absl::Now());
      }
    }
    for (int r = 0; r < n; ++r) flush(r);
    if (!single && !paced) Quiesce(replicas);
    clock.Advance(absl::Seconds(1));
    ++seconds;
  }
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  auto cpu_s = [](const rusage& u) {
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
           (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double wall_s = absl::ToDoubleSeconds(absl::Now() - wall_start);
  if (!single) Quiesce(replicas);
  // Every thread of the process (cores, publishers, subscribers), Redis
  // aside: CPU seconds per second of wall time.
  state.counters["cpu_cores"] = (cpu_s(after) - cpu_s(before)) / wall_s;
  state.counters["cpu_us_per_report"] =
      (cpu_s(after) - cpu_s(before)) * 1e6 / (static_cast<double>(drones) * seconds);
  if (!single) {
    int64_t routed = 0, forwarded = 0, messages = 0, dropped = 0;
    for (auto& r : replicas) {
      const TelemetryCluster::Stats s = r->cluster->stats();
      routed += s.reports_routed;
      forwarded += s.reports_forwarded;
      messages += s.messages_published;
      dropped += s.reports_dropped + s.publish_failures;
      r->cluster->Stop();
    }
    state.counters["fwd_per_report"] =
        routed == 0 ? 0 : static_cast<double>(forwarded) / routed;
    // Per second of traffic: with `paced`, per real second at 1 Hz.
    state.counters["msgs_per_s"] = static_cast<double>(messages) / seconds;
    state.counters["lost"] = static_cast<double>(dropped);
  }
  state.counters["reports_per_s"] = benchmark::Counter(
      static_cast<double>(drones) * seconds, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Feed)
    ->ArgNames({"replicas", "drones", "paced"})
    ->Args({1, 10000, 0})
    ->Args({3, 10000, 0})
    ->Args({1, 10000, 1})
    ->Args({3, 10000, 1})
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Positions uniform by area over the 500 km square, for the routing cost.
std::vector<geo::LatLng> SquarePositions(int n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  const geo::LatLng sw = geo::GeodesicDestination(
      geo::GeodesicDestination({47.0, 8.0}, 180, 250000), 270, 250000);
  std::vector<geo::LatLng> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(geo::GeodesicDestination(
        geo::GeodesicDestination(sw, 0, 500000 * unit(rng)), 90,
        500000 * unit(rng)));
  }
  return out;
}

void BM_RouteOnly(benchmark::State& state) {
  SimulatedClock clock(absl::FromUnixSeconds(1'800'000'000));
  std::vector<std::unique_ptr<Replica>> replicas =
      StartReplicas(3, &clock, absl::Milliseconds(20), nullptr, nullptr, -1);
  const std::vector<geo::LatLng> pos = SquarePositions(4096);
  v1::PositionReport r =
      Report("op", "d", pos[0], 100, 10, clock.Now());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(replicas[0]->cluster->Route(
        "op", r, pos[i++ & 4095], clock.Now()));
  }
  for (auto& rep : replicas) rep->cluster->Stop();
}
BENCHMARK(BM_RouteOnly);

void BM_RegionsOnly(benchmark::State& state) {
  const std::vector<geo::LatLng> pos = SquarePositions(4096);
  const double reach = RegionReachM(50, Separation{}) + 50 * 2;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(RegionsWithin(pos[i++ & 4095], reach));
  }
}
BENCHMARK(BM_RegionsOnly);

}  // namespace
}  // namespace utm::telemetry
