// Benchmarks of the exact footprint test (geo/intersect.h): FootprintsIntersect
// per pair type (polygon x polygon, polygon x circle, circle x circle) and per
// relation (intersecting; near but disjoint, so the exact path runs; far, so
// the bounding caps reject the pair), plus PrepareFootprint, the unprepared
// Intersect(), and the geodesic primitives the exact path is built from.
//
// BM_GeodesicDistance (one GeographicLib inverse solution) is the in-run
// baseline: the machines are shared, so docs/benchmarks.md states every cost
// also as a multiple of it, measured in the same run.
//
// Every input is generated once, outside the timing loop, from a fixed seed,
// and the loop cycles through a pool of inputs so that branch predictors and
// caches see a realistic mix rather than one pair repeated.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/latlng.h"
#include "geo/volume.h"

namespace utm::geo {
namespace {

constexpr LatLng kZurich{47.4, 8.5};
constexpr uint64_t kSeed = 0x75746d6462656e63;  // "utmdbenc"
constexpr double kDegToRad = M_PI / 180.0;

// Pools: large enough to defeat a predictor learning one pair, small enough
// to stay in L2 (and to keep set-up, which bisects every pair, to seconds).
constexpr size_t kSmallPool = 256;
constexpr size_t kLargePool = 32;

using test_util::Uniform;
using test_util::UniformInt;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "intersect_benchmark: %s\n", what.c_str());
  std::abort();
}

enum class ShapeKind {
  kPolygon,     // 4-12 vertices, 200 m - 5 km across, half of them concave.
  kPolygon64,   // 64 vertices, 1-5 km across, a wavy outline.
  kPolygon256,  // 256 vertices, 1-5 km across, a wavy outline.
  kCircle,      // radius 50 m - 2.5 km.
};

enum class Relation { kIntersecting, kNear, kFar };

// One polygon vertex relative to the shape's centre.
struct PolarVertex {
  double azimuth_deg;
  double distance_m;
};

// A footprint described around its own centre, so that the same shape can
// be placed anywhere: the pair generator slides one shape towards another.
struct ShapeSpec {
  double circle_radius_m = 0;  // > 0 for a circle, else `polar` is used.
  std::vector<PolarVertex> polar;
  double reach_m = 0;  // No point of the shape is farther from its centre.
};

// Star-shaped around the centre (one vertex per angular sector, every gap
// under 180°), hence simple, and the centre lies inside. An elliptical
// stretch gives the elongated outlines of corridor-like flights.
ShapeSpec RandomPolygonSpec(ShapeKind kind, std::mt19937_64& rng) {
  const bool large = kind != ShapeKind::kPolygon;
  const int n = kind == ShapeKind::kPolygon64    ? 64
                : kind == ShapeKind::kPolygon256 ? 256
                                                 : UniformInt(rng, 4, 12);
  const double radius_m =
      large ? Uniform(rng, 500, 2500) : Uniform(rng, 100, 2500);
  const double aspect = large ? Uniform(rng, 1, 2) : Uniform(rng, 1, 3);
  const double orientation_deg = Uniform(rng, 0, 180);
  const bool concave = UniformInt(rng, 0, 1) == 1;
  const int waves = UniformInt(rng, 3, 6);
  const double wave_phase = Uniform(rng, 0, 2 * M_PI);
  const double step_deg = 360.0 / n;
  ShapeSpec spec;
  spec.reach_m = radius_m;
  for (int i = 0; i < n; ++i) {
    const double theta_deg = (i + Uniform(rng, -0.3, 0.3)) * step_deg;
    const double phi = theta_deg * kDegToRad;
    // 1 along the major axis, 1/aspect across it.
    const double ellipse =
        1 / std::sqrt(std::cos(phi) * std::cos(phi) +
                      aspect * aspect * std::sin(phi) * std::sin(phi));
    double scale;
    if (large) {
      scale = 0.82 + 0.15 * std::sin(waves * phi + wave_phase) +
              Uniform(rng, -0.03, 0.03);
    } else if (concave && i % 2 == 1 && UniformInt(rng, 0, 9) < 7) {
      scale = Uniform(rng, 0.4, 0.7);
    } else {
      scale = Uniform(rng, 0.9, 1.0);
    }
    spec.polar.push_back(
        {orientation_deg + theta_deg, radius_m * ellipse * scale});
  }
  return spec;
}

ShapeSpec RandomSpec(ShapeKind kind, std::mt19937_64& rng) {
  if (kind != ShapeKind::kCircle) return RandomPolygonSpec(kind, rng);
  ShapeSpec spec;
  spec.circle_radius_m = Uniform(rng, 50, 2500);
  spec.reach_m = spec.circle_radius_m;
  return spec;
}

Footprint Place(const ShapeSpec& spec, const LatLng& centre) {
  if (spec.circle_radius_m > 0) return Circle{centre, spec.circle_radius_m};
  Polygon polygon;
  polygon.vertices.reserve(spec.polar.size());
  for (const PolarVertex& v : spec.polar) {
    polygon.vertices.push_back(
        GeodesicDestination(centre, v.azimuth_deg, v.distance_m));
  }
  return polygon;
}

absl::Status ValidateFootprint(const Footprint& footprint) {
  if (const Circle* c = std::get_if<Circle>(&footprint)) {
    return ValidateCircle(*c, ValidationLimits(), "circle");
  }
  return ValidatePolygon(std::get<Polygon>(footprint), ValidationLimits(),
                         "polygon");
}

// The cap test at the top of FootprintsIntersect, repeated here so that the
// generator can check which path each pair takes.
bool CapsOverlap(const PreparedFootprint& a, const PreparedFootprint& b) {
  const Vec3& p = a.cap_center_ecef;
  const Vec3& q = b.cap_center_ecef;
  const double chord =
      std::sqrt((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y) +
                (p.z - q.z) * (p.z - q.z));
  return chord <= a.cap.radius_m + b.cap.radius_m + kContactToleranceM;
}

struct FootprintPair {
  PreparedFootprint a;
  PreparedFootprint b;
};

// Pairs of the given kinds in the given relation. Near pairs have a gap of
// 1-100 m along the direction of approach, except circle pairs: their caps
// are the circles plus 1 m each, so gaps over 2 m never reach the exact path,
// and their gaps are 1 cm - 1.9 m instead. Near pairs whose caps happen not
// to overlap are rejected, so every near pair runs the exact path.
std::vector<FootprintPair> MakePairs(ShapeKind kind_a, ShapeKind kind_b,
                                     Relation relation, size_t count) {
  // One stream per case, so a pool does not depend on which ran before.
  std::mt19937_64 rng(kSeed + 97 * static_cast<uint64_t>(kind_a) +
                      11 * static_cast<uint64_t>(kind_b) +
                      static_cast<uint64_t>(relation));
  const bool circles =
      kind_a == ShapeKind::kCircle && kind_b == ShapeKind::kCircle;
  std::vector<FootprintPair> pairs;
  size_t attempts = 0;
  while (pairs.size() < count) {
    if (++attempts > 100 * count) Die("too many rejected pairs");
    const ShapeSpec spec_a = RandomSpec(kind_a, rng);
    const ShapeSpec spec_b = RandomSpec(kind_b, rng);
    const LatLng centre_a = GeodesicDestination(kZurich, Uniform(rng, 0, 360),
                                                Uniform(rng, 0, 20e3));
    const double azimuth_deg = Uniform(rng, 0, 360);
    PreparedFootprint a = PrepareFootprint(Place(spec_a, centre_a));
    auto b_at = [&](double distance_m) {
      return PrepareFootprint(Place(
          spec_b, GeodesicDestination(centre_a, azimuth_deg, distance_m)));
    };
    double distance_m;
    if (relation == Relation::kFar) {
      // A cap may be centred up to one reach away from the shape's centre.
      distance_m =
          2 * (spec_a.reach_m + spec_b.reach_m) + Uniform(rng, 100, 20e3);
    } else {
      // Both shapes contain their centres, so they meet at distance 0 and
      // are apart beyond the sum of the reaches: bisect for first contact.
      double lo = 0;
      double hi = spec_a.reach_m + spec_b.reach_m + 10;
      for (int i = 0; i < 24; ++i) {
        const double mid = 0.5 * (lo + hi);
        (FootprintsIntersect(a, b_at(mid)) ? lo : hi) = mid;
      }
      if (relation == Relation::kIntersecting) {
        distance_m = lo * Uniform(rng, 0, 0.9);
      } else {
        distance_m =
            hi + (circles ? Uniform(rng, 0.01, 1.9) : Uniform(rng, 1, 100));
      }
    }
    PreparedFootprint b = b_at(distance_m);
    if (!ValidateFootprint(a.footprint).ok() ||
        !ValidateFootprint(b.footprint).ok()) {
      continue;
    }
    const bool hit = FootprintsIntersect(a, b);
    const bool caps = CapsOverlap(a, b);
    const bool wanted = relation == Relation::kIntersecting ? hit
                        : relation == Relation::kNear       ? !hit && caps
                                                            : !caps;
    if (!wanted) continue;
    pairs.push_back({std::move(a), std::move(b)});
  }
  return pairs;
}

struct PairCase {
  const char* name;
  ShapeKind a;
  ShapeKind b;
  Relation relation;
  size_t pool;
};

constexpr PairCase kPairCases[] = {
    {"poly_poly/intersecting", ShapeKind::kPolygon, ShapeKind::kPolygon,
     Relation::kIntersecting, kSmallPool},
    {"poly_poly/near", ShapeKind::kPolygon, ShapeKind::kPolygon,
     Relation::kNear, kSmallPool},
    {"poly_poly/far", ShapeKind::kPolygon, ShapeKind::kPolygon, Relation::kFar,
     kSmallPool},
    {"poly_circle/intersecting", ShapeKind::kPolygon, ShapeKind::kCircle,
     Relation::kIntersecting, kSmallPool},
    {"poly_circle/near", ShapeKind::kPolygon, ShapeKind::kCircle,
     Relation::kNear, kSmallPool},
    {"poly_circle/far", ShapeKind::kPolygon, ShapeKind::kCircle, Relation::kFar,
     kSmallPool},
    {"circle_circle/intersecting", ShapeKind::kCircle, ShapeKind::kCircle,
     Relation::kIntersecting, kSmallPool},
    {"circle_circle/near", ShapeKind::kCircle, ShapeKind::kCircle,
     Relation::kNear, kSmallPool},
    {"circle_circle/far", ShapeKind::kCircle, ShapeKind::kCircle,
     Relation::kFar, kSmallPool},
    {"poly64_poly64/intersecting", ShapeKind::kPolygon64, ShapeKind::kPolygon64,
     Relation::kIntersecting, kLargePool},
    {"poly64_poly64/near", ShapeKind::kPolygon64, ShapeKind::kPolygon64,
     Relation::kNear, kLargePool},
    {"poly256_poly256/intersecting", ShapeKind::kPolygon256,
     ShapeKind::kPolygon256, Relation::kIntersecting, kLargePool},
    {"poly256_poly256/near", ShapeKind::kPolygon256, ShapeKind::kPolygon256,
     Relation::kNear, kLargePool},
    {"poly256_circle/intersecting", ShapeKind::kPolygon256, ShapeKind::kCircle,
     Relation::kIntersecting, kLargePool},
    {"poly256_circle/near", ShapeKind::kPolygon256, ShapeKind::kCircle,
     Relation::kNear, kLargePool},
};

// Built on first use: a filtered run pays only for the pools it needs, and
// the repeated runs Google Benchmark makes of one benchmark share a pool.
const std::vector<FootprintPair>& Pairs(const PairCase& c) {
  static auto* const cache =
      new std::map<std::string, std::vector<FootprintPair>>();
  auto it = cache->find(c.name);
  if (it == cache->end()) {
    it = cache->emplace(c.name, MakePairs(c.a, c.b, c.relation, c.pool)).first;
  }
  return it->second;
}

void BM_FootprintsIntersect(benchmark::State& state, const PairCase& c) {
  const std::vector<FootprintPair>& pairs = Pairs(c);
  size_t i = 0;
  for (auto _ : state) {
    bool hit = FootprintsIntersect(pairs[i].a, pairs[i].b);
    benchmark::DoNotOptimize(hit);
    if (++i == pairs.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Intersect() on raw volumes prepares both footprints on every call. The
// windows and bands overlap, so the footprint test decides every pair.
void BM_IntersectUnprepared(benchmark::State& state, const PairCase& c) {
  const absl::Time start = absl::FromUnixSeconds(1795219200);  // 2026-11-21.
  std::vector<std::pair<Volume4D, Volume4D>> volumes;
  for (const FootprintPair& p : Pairs(c)) {
    Volume4D a{{p.a.footprint, {500, 600}}, {start, start + absl::Minutes(30)}};
    Volume4D b{{p.b.footprint, {550, 650}},
               {start + absl::Minutes(20), start + absl::Minutes(60)}};
    volumes.emplace_back(std::move(a), std::move(b));
  }
  size_t i = 0;
  for (auto _ : state) {
    std::optional<Overlap4D> overlap =
        Intersect(volumes[i].first, volumes[i].second);
    benchmark::DoNotOptimize(overlap);
    if (++i == volumes.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// PrepareFootprint takes its argument by value, so the copy a caller makes
// (VolumeIndex::Insert does) is part of the measured cost.
void BM_PrepareFootprint(benchmark::State& state, ShapeKind kind) {
  std::mt19937_64 rng(kSeed + 1000 + static_cast<uint64_t>(kind));
  std::vector<Footprint> footprints;
  while (footprints.size() < kSmallPool) {
    Footprint f = Place(RandomSpec(kind, rng),
                        GeodesicDestination(kZurich, Uniform(rng, 0, 360),
                                            Uniform(rng, 0, 20e3)));
    if (ValidateFootprint(f).ok()) footprints.push_back(std::move(f));
  }
  size_t i = 0;
  for (auto _ : state) {
    PreparedFootprint p = PrepareFootprint(footprints[i]);
    benchmark::DoNotOptimize(p);
    if (++i == footprints.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Point pairs 100 m - 5 km apart near Zurich: the distances the exact path
// works at.
std::vector<std::pair<LatLng, LatLng>> PointPairs(uint64_t salt) {
  std::mt19937_64 rng(kSeed + salt);
  std::vector<std::pair<LatLng, LatLng>> pairs;
  for (size_t i = 0; i < kSmallPool; ++i) {
    const LatLng a = GeodesicDestination(kZurich, Uniform(rng, 0, 360),
                                         Uniform(rng, 0, 20e3));
    const LatLng b =
        GeodesicDestination(a, Uniform(rng, 0, 360), Uniform(rng, 100, 5e3));
    pairs.emplace_back(a, b);
  }
  return pairs;
}

// The baseline.
void BM_GeodesicDistance(benchmark::State& state) {
  const std::vector<std::pair<LatLng, LatLng>> pairs = PointPairs(2000);
  size_t i = 0;
  for (auto _ : state) {
    double d = GeodesicDistance(pairs[i].first, pairs[i].second);
    benchmark::DoNotOptimize(d);
    if (++i == pairs.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Polygon paths project every vertex of both footprints on every call.
void BM_GnomonicForward(benchmark::State& state) {
  const std::vector<std::pair<LatLng, LatLng>> pairs = PointPairs(3000);
  size_t i = 0;
  for (auto _ : state) {
    Vec2 v = GnomonicProjection(pairs[i].first).Forward(pairs[i].second);
    benchmark::DoNotOptimize(v);
    if (++i == pairs.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// The polygon x circle path calls this for every edge within reach of the
// circle's centre.
void BM_DistanceToGeodesicSegment(benchmark::State& state) {
  std::mt19937_64 rng(kSeed + 4000);
  struct Query {
    LatLng p, a, b;
  };
  std::vector<Query> queries;
  for (size_t i = 0; i < kSmallPool; ++i) {
    const LatLng a = GeodesicDestination(kZurich, Uniform(rng, 0, 360),
                                         Uniform(rng, 0, 20e3));
    const LatLng b =
        GeodesicDestination(a, Uniform(rng, 0, 360), Uniform(rng, 100, 2e3));
    const LatLng p =
        GeodesicDestination(a, Uniform(rng, 0, 360), Uniform(rng, 0, 2e3));
    queries.push_back({p, a, b});
  }
  size_t i = 0;
  for (auto _ : state) {
    double d =
        DistanceToGeodesicSegment(queries[i].p, queries[i].a, queries[i].b);
    benchmark::DoNotOptimize(d);
    if (++i == queries.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_GeodesicDistance);
BENCHMARK(BM_GnomonicForward);
BENCHMARK(BM_DistanceToGeodesicSegment);
BENCHMARK_CAPTURE(BM_PrepareFootprint, polygon, ShapeKind::kPolygon);
BENCHMARK_CAPTURE(BM_PrepareFootprint, polygon256, ShapeKind::kPolygon256);
BENCHMARK_CAPTURE(BM_PrepareFootprint, circle, ShapeKind::kCircle);

[[maybe_unused]] const bool kRegistered = [] {
  for (const PairCase& c : kPairCases) {
    benchmark::RegisterBenchmark(
        (std::string("BM_FootprintsIntersect/") + c.name).c_str(),
        [&c](benchmark::State& state) { BM_FootprintsIntersect(state, c); });
  }
  // One representative pair type, both outcomes of the exact path.
  for (const PairCase& c : kPairCases) {
    const std::string name = c.name;
    if (name != "poly_poly/intersecting" && name != "poly_poly/near") continue;
    benchmark::RegisterBenchmark(
        ("BM_IntersectUnprepared/" + name).c_str(),
        [&c](benchmark::State& state) { BM_IntersectUnprepared(state, c); });
  }
  return true;
}();

}  // namespace
}  // namespace utm::geo
