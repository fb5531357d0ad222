// The server's path of a PublishFlights request, without gRPC: the check,
// the display core taking the states (RemoteIdCore::Publish), their
// conversion into intruder reports (ToIntruderReports) and tactical
// deconfliction taking them (TelemetryCore::IngestIntruders), for a request
// of 100 flights with one state each out of 10,000 and 100,000 live
// published flights. Baseline from the same run: copying the request (the
// least any server does with it once parsed). Items are states.
// With in_region:1, the same on a deployment serving one region (a square
// around the field, data residency), each state's position checked against
// its boundary.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "geo/geodesy.h"
#include "geo/region.h"
#include "services/common/clock.h"
#include "services/common/region.h"
#include "services/remoteid/intruder_feed.h"
#include "services/remoteid/remoteid_core.h"
#include "services/telemetry/telemetry_core.h"
#include "tests/telemetry_test_util.h"

namespace utm::remoteid {
namespace {

const geo::LatLng kCentre{47.3769, 8.5417};
constexpr double kSideM = 30000;
constexpr int kFlightsPerRequest = 100;

// `aircraft` published flights, live, in requests of 100 (as sim/utmrid
// sends them); each round of requests is a second later than the previous.
struct Fixture {
  explicit Fixture(int aircraft, bool in_region = false)
      : clock(absl::FromUnixSeconds(1800000000)) {
    RemoteIdOptions o;
    o.session_key = "0123456789abcdef0123456789abcdef";
    if (in_region) {
      // A square 0.2 degrees wider than the field on every side.
      const double lat = kCentre.lat_deg, lng = kCentre.lng_deg, d = 0.4;
      absl::StatusOr<geo::Region> boundary =
          geo::Region::Create({geo::Polygon{{{lat - d, lng - d},
                                             {lat - d, lng + d},
                                             {lat + d, lng + d},
                                             {lat + d, lng - d}}}},
                              {}, "benchmark boundary");
      if (!boundary.ok()) std::abort();
      policy = std::make_unique<region::RegionPolicy>(
          "EU-CH", *std::move(boundary), false);
      o.region = policy.get();
    }
    core = std::make_unique<RemoteIdCore>(o, &clock);
    telemetry = std::make_unique<telemetry::TelemetryCore>(
        telemetry::TelemetryOptions(), &clock, &airspace);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(-kSideM / 2, kSideM / 2);
    for (int r = 0; r * kFlightsPerRequest < aircraft; ++r) {
      v1::PublishFlightsRequest& request = requests.emplace_back();
      for (int i = r * kFlightsPerRequest;
           i < std::min(aircraft, (r + 1) * kFlightsPerRequest); ++i) {
        v1::PublishedFlight* f = request.add_flights();
        f->set_uas_id(absl::StrFormat("UTMS8%08d", i));
        f->set_uas_id_type(v1::UAS_ID_TYPE_SERIAL_NUMBER);
        v1::PublishedState* s = f->add_states();
        const geo::LatLng p = geo::GeodesicDestination(
            geo::GeodesicDestination(kCentre, 0, u(rng)), 90, u(rng));
        s->mutable_position()->set_lat_deg(p.lat_deg);
        s->mutable_position()->set_lng_deg(p.lng_deg);
        s->mutable_altitude()->set_value_m(500);
        s->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
        s->set_track_deg(90);
        s->set_speed_mps(3.5);
      }
    }
    // One round so that every flight exists (the steady state).
    for (size_t r = 0; r < requests.size(); ++r) Publish(r);
  }

  // Sends request `r` stamped now; a new round a second later.
  int Publish(size_t r) {
    if (r == 0) clock.Advance(absl::Seconds(1));
    v1::PublishFlightsRequest& request = requests[r];
    const int64_t now_s = absl::ToUnixSeconds(clock.Now());
    for (v1::PublishedFlight& f : *request.mutable_flights()) {
      f.mutable_states(0)->mutable_time()->set_seconds(now_s);
    }
    absl::StatusOr<RemoteIdCore::Published> published =
        core->Publish("provider", request);
    if (!published.ok()) std::abort();
    telemetry->IngestIntruders(ToIntruderReports(published->heard));
    return published->states_accepted;
  }

  SimulatedClock clock;
  std::unique_ptr<region::RegionPolicy> policy;  // null: no region
  test_util::EmptyAirspace airspace;  // published flights: intruders only
  std::unique_ptr<RemoteIdCore> core;
  std::unique_ptr<telemetry::TelemetryCore> telemetry;
  std::vector<v1::PublishFlightsRequest> requests;
};

// Arguments: live flights; 1 on a deployment serving one region (every
// state's position checked against its boundary), 0 without.
void BM_PublishPath(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)),
            /*in_region=*/state.range(1) != 0);
  size_t r = 0;
  int64_t accepted = 0;
  for (auto _ : state) {
    accepted += f.Publish(r);
    r = (r + 1) % f.requests.size();
  }
  state.SetItemsProcessed(accepted);
}
BENCHMARK(BM_PublishPath)
    ->ArgNames({"flights", "in_region"})
    ->Args({10000, 0})
    ->Args({100000, 0})
    ->Args({10000, 1})
    ->Args({100000, 1})
    ->Unit(benchmark::kMicrosecond);

void BM_CopyRequestBaseline(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  size_t r = 0;
  int64_t states = 0;
  for (auto _ : state) {
    v1::PublishFlightsRequest copy = f.requests[r];
    benchmark::DoNotOptimize(copy);
    states += copy.flights_size();
    r = (r + 1) % f.requests.size();
  }
  state.SetItemsProcessed(states);
}
BENCHMARK(BM_CopyRequestBaseline)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace utm::remoteid
