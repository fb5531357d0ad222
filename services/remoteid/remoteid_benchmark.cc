// The Remote ID display core's kernels: a 2 km view (flights) and a 6 km
// view (clusters) over 10,000 and 100,000 live aircraft spread over a
// 30 km square, and ingesting a report, each next to a baseline from the
// same run (copying the same number of flights' positions out of a plain
// vector: the least a display could do).
#include <cmath>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "geo/geodesy.h"
#include "services/common/clock.h"
#include "services/remoteid/remoteid_core.h"

namespace utm::remoteid {
namespace {

const geo::LatLng kCentre{47.3769, 8.5417};
constexpr double kSideM = 30000;

geo::LatLng RandomPoint(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-kSideM / 2, kSideM / 2);
  return geo::GeodesicDestination(geo::GeodesicDestination(kCentre, 0, u(rng)),
                                  90, u(rng));
}

v1::PositionReport Report(int i, absl::Time t, const geo::LatLng& p) {
  v1::PositionReport r;
  r.set_aircraft_id(absl::StrCat("d", i));
  r.set_intent_id(absl::StrCat("i", i));
  r.mutable_time()->set_seconds(absl::ToUnixSeconds(t));
  r.mutable_position()->set_lat_deg(p.lat_deg);
  r.mutable_position()->set_lng_deg(p.lng_deg);
  r.mutable_altitude()->set_value_m(500);
  r.mutable_velocity()->set_east_mps(10);
  return r;
}

struct Fixture {
  explicit Fixture(int aircraft) : clock(absl::FromUnixSeconds(1800000000)) {
    RemoteIdOptions o;
    o.session_key = "0123456789abcdef0123456789abcdef";
    core = std::make_unique<RemoteIdCore>(o, &clock);
    std::mt19937_64 rng(7);
    // Two fixes each, so that every flight has a track.
    for (int k = 0; k < 2; ++k) {
      for (int i = 0; i < aircraft; ++i) {
        core->AddNetworkReport("op", Report(i, clock.Now(), RandomPoint(rng)));
      }
      clock.Advance(absl::Seconds(1));
    }
    for (int i = 0; i < 256; ++i) views.push_back(RandomPoint(rng));
  }
  SimulatedClock clock;
  std::unique_ptr<RemoteIdCore> core;
  std::vector<geo::LatLng> views;
};

void BM_SearchView(benchmark::State& state) {
  const int aircraft = static_cast<int>(state.range(0));
  const double side = static_cast<double>(state.range(1));
  Fixture f(aircraft);
  std::vector<v1::LatLngRect> views;
  for (const geo::LatLng& c : f.views)
    views.push_back(DisplayView::SquareAround(c, side));
  size_t i = 0;
  int64_t shown = 0;
  for (auto _ : state) {
    absl::StatusOr<v1::SearchFlightsResponse> r =
        f.core->Search(views[i++ % views.size()]);
    shown += r->flights_size();
    for (const v1::RidCluster& c : r->clusters()) shown += c.aircraft_count();
    benchmark::DoNotOptimize(r);
  }
  state.counters["aircraft_per_view"] =
      static_cast<double>(shown) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
// A 1.4 km square (diagonal 2 km: flights) and a 4.9 km one (6.9 km:
// clusters), over 10k and 100k aircraft.
BENCHMARK(BM_SearchView)
    ->Args({10000, 1400})
    ->Args({100000, 1400})
    ->Args({10000, 4900})
    ->Args({100000, 4900})
    ->Unit(benchmark::kMicrosecond);

// Baseline: copying as many flights' positions as a 2 km view shows out of
// a plain vector into a response.
void BM_CopyFlightsBaseline(benchmark::State& state) {
  const int per_view = static_cast<int>(state.range(0));
  std::vector<geo::LatLng> points(per_view, kCentre);
  for (auto _ : state) {
    v1::SearchFlightsResponse r;
    for (const geo::LatLng& p : points) {
      v1::RidFlight* f = r.add_flights();
      f->set_id("utm-0123456789abcdef");
      f->mutable_position()->set_lat_deg(p.lat_deg);
      f->mutable_position()->set_lng_deg(p.lng_deg);
      v1::RidPosition* q = f->add_recent_positions();
      q->mutable_position()->set_lat_deg(p.lat_deg);
      q = f->add_recent_positions();
      q->mutable_position()->set_lat_deg(p.lat_deg);
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CopyFlightsBaseline)
    ->Arg(22)
    ->Arg(218)
    ->Unit(benchmark::kMicrosecond);

// A report of an aircraft already shown (the common case): its session is
// found, its track and grid cell updated.
void BM_AddNetworkReport(benchmark::State& state) {
  const int aircraft = static_cast<int>(state.range(0));
  Fixture f(aircraft);
  std::mt19937_64 rng(9);
  std::vector<v1::PositionReport> reports;
  for (int i = 0; i < 4096; ++i) {
    reports.push_back(Report(static_cast<int>(rng() % aircraft), f.clock.Now(),
                             RandomPoint(rng)));
  }
  size_t i = 0;
  int64_t second = 0;
  for (auto _ : state) {
    v1::PositionReport& r = reports[i++ % reports.size()];
    // Each pass over the reports is a second later, so every one is new.
    if (i % reports.size() == 0) ++second;
    r.mutable_time()->set_seconds(absl::ToUnixSeconds(f.clock.Now()) + second);
    f.core->AddNetworkReport("op", r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddNetworkReport)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace utm::remoteid
