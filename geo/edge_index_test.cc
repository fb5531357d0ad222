// EdgeIndex against plain scans: box queries, point-in-region, and the
// indexed intersection tests against the unindexed ones.
#include "geo/edge_index.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/planar.h"
#include "geo/volume.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::kZurich;
using test_util::Uniform;
using test_util::UniformInt;

uint64_t Seed() {
  if (const char* s = std::getenv("UTM_TEST_SEED")) return std::stoull(s);
  return 20261206;
}

// A ring of n vertices at jittered, increasing angles around `centre`, at
// 0.8-1.0 of `radius_m` (simple, and with short edges: a "national" border).
std::vector<LatLng> Wiggly(std::mt19937_64& rng, const LatLng& centre,
                           double radius_m, int n) {
  std::vector<LatLng> ring;
  for (int i = 0; i < n; ++i) {
    const double azimuth = (i + Uniform(rng, -0.3, 0.3)) * 360.0 / n;
    ring.push_back(GeodesicDestination(centre, azimuth,
                                       radius_m * Uniform(rng, 0.8, 1.0)));
  }
  return ring;
}

// A zone of about n vertices with two holes, 20 km across.
Polygon Zone(std::mt19937_64& rng, int n) {
  Polygon p;
  p.vertices = Wiggly(rng, kZurich, 10e3, n - 2 * (n / 8));
  p.holes.push_back(
      Wiggly(rng, GeodesicDestination(kZurich, 90, 3e3), 2e3, n / 8));
  p.holes.push_back(
      Wiggly(rng, GeodesicDestination(kZurich, 270, 3e3), 2e3, n / 8));
  return p;
}

PreparedFootprint Unindexed(const Footprint& f) {
  PrepareOptions options;
  options.edge_index_min_vertices = INT_MAX;
  options.index_holes = false;
  return PrepareFootprint(f, options);
}

TEST(EdgeIndex, BuiltForLargePolygonsOnly) {
  std::mt19937_64 rng(Seed());
  EXPECT_EQ(PrepareFootprint(test_util::SquareAround(kZurich, 100)).edge_index,
            nullptr);
  const Polygon zone = Zone(rng, kEdgeIndexMinVertices);
  ValidationLimits limits;
  limits.max_vertices = 100000;
  ASSERT_TRUE(ValidatePolygon(zone, limits, "z").ok())
      << ValidatePolygon(zone, limits, "z");
  const PreparedFootprint p = PrepareFootprint(zone);
  ASSERT_NE(p.edge_index, nullptr);
  EXPECT_EQ(p.edge_index->edge_count(), VertexCount(zone));
  EXPECT_EQ(p.edge_index->ring_starts().size(), 3u);
  EXPECT_EQ(Unindexed(zone).edge_index, nullptr);
  // Every polygon with holes gets one, however small.
  EXPECT_NE(PrepareFootprint(Zone(rng, 48)).edge_index, nullptr);
}

TEST(EdgeIndex, BoxQueriesFindEveryEdgeWhoseBoxMeetsTheQuery) {
  std::mt19937_64 rng(Seed());
  const Polygon zone = Zone(rng, 2000);
  const EdgeIndex index(zone, ComputeBoundingCap(zone).center);
  std::vector<int> near;
  for (int q = 0; q < 500; ++q) {
    const Vec2 c{Uniform(rng, -12e3, 12e3), Uniform(rng, -12e3, 12e3)};
    const double h = std::exp(Uniform(rng, std::log(0.01), std::log(3e3)));
    const Vec2 lo{c.x - h, c.y - h}, hi{c.x + h, c.y + h};
    index.EdgesNear(lo, hi, &near);
    ASSERT_TRUE(std::is_sorted(near.begin(), near.end()));
    for (int e = 0; e < static_cast<int>(index.edge_count()); ++e) {
      const Vec2& a = index.xy(e);
      const Vec2& b = index.xy(index.next(e));
      const bool meets =
          std::max(a.x, b.x) >= lo.x && std::min(a.x, b.x) <= hi.x &&
          std::max(a.y, b.y) >= lo.y && std::min(a.y, b.y) <= hi.y;
      if (meets) {
        ASSERT_TRUE(std::binary_search(near.begin(), near.end(), e))
            << "query " << q << " misses edge " << e;
      }
    }
    // And far fewer than all edges for a small box.
    if (h < 100) {
      EXPECT_LT(near.size(), index.edge_count() / 10);
    }
  }
}

TEST(EdgeIndex, ContainsAgreesWithTheFullScan) {
  const uint64_t seed = Seed();
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  std::mt19937_64 rng(seed);
  for (const int n : {kEdgeIndexMinVertices, 2000, 20000}) {
    SCOPED_TRACE(n);
    const Polygon zone = Zone(rng, n);
    const EdgeIndex index(zone, ComputeBoundingCap(zone).center);
    std::vector<std::vector<Vec2>> rings;
    for (int r = 0; r < static_cast<int>(index.ring_starts().size()); ++r) {
      std::vector<Vec2>& ring = rings.emplace_back();
      const int start = index.ring_starts()[r];
      int v = start;
      do {
        ring.push_back(index.xy(v));
        v = index.next(v);
      } while (v != start);
    }
    // Fewer points for the largest zone: the full scan is the slow part.
    const int queries = n >= 20000 ? 4000 : 20000;
    int inside = 0;
    for (int q = 0; q < queries; ++q) {
      Vec2 p{Uniform(rng, -11e3, 11e3), Uniform(rng, -11e3, 11e3)};
      if (q % 4 == 0) {
        // On or next to a vertex or an edge.
        const int e = UniformInt(rng, 0, static_cast<int>(n) - 1) %
                      static_cast<int>(index.edge_count());
        const Vec2& a = index.xy(e);
        const Vec2& b = index.xy(index.next(e));
        const double t = q % 8 == 0 ? 0.0 : Uniform(rng, 0, 1);
        p = {a.x + t * (b.x - a.x) + Uniform(rng, -0.01, 0.01),
             a.y + t * (b.y - a.y) + Uniform(rng, -0.01, 0.01)};
      }
      const bool want = RingsContain(rings, p);
      inside += want;
      ASSERT_EQ(index.Contains(p), want) << "point " << q;
    }
    EXPECT_GT(inside, queries / 10);
    EXPECT_LT(inside, queries * 9 / 10);
  }
}

// The indexed decisions against the plain ones: small polygons and circles
// anywhere over the zone, points in and out of it and its holes, and shapes
// within centimetres of its edges.
TEST(EdgeIndex, IndexedIntersectionAgreesWithTheUnindexedPath) {
  const uint64_t seed = Seed();
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  std::mt19937_64 rng(seed);
  for (const int n : {kEdgeIndexMinVertices, 3000}) {
    SCOPED_TRACE(n);
    const Polygon zone = Zone(rng, n);
    const PreparedFootprint indexed = PrepareFootprint(zone);
    const EdgeIndex& index = *indexed.edge_index;
    const PreparedFootprint plain = Unindexed(zone);
    ASSERT_NE(indexed.edge_index, nullptr);
    int hits = 0, total = 0;
    for (int q = 0; q < 1500; ++q) {
      LatLng c = GeodesicDestination(kZurich, Uniform(rng, 0, 360),
                                     Uniform(rng, 0, 11e3));
      if (q % 2 == 0) {
        // A point 1.1 cm to 5 m either side of a random edge.
        const std::vector<LatLng>& ring =
            q % 4 == 0 ? zone.vertices : zone.holes[q % 3 == 0 ? 0 : 1];
        const size_t e = static_cast<size_t>(
            UniformInt(rng, 0, static_cast<int>(ring.size()) - 1));
        const LatLng& a = ring[e];
        const LatLng& b = ring[(e + 1) % ring.size()];
        const LatLng on =
            GeodesicDestination(a, GeodesicAzimuth(a, b),
                                Uniform(rng, 0, 1) * GeodesicDistance(a, b));
        c = GeodesicDestination(
            on, GeodesicAzimuth(on, b) + (q % 3 == 0 ? 90 : -90),
            std::exp(Uniform(rng, std::log(0.011), std::log(5.0))));
      }
      const double size =
          std::exp(Uniform(rng, std::log(0.001), std::log(500.0)));
      Footprint other;
      if (q % 3 == 0) {
        other = Circle{c, size};
      } else {
        other = test_util::RandomStar(rng, c, std::max(size, 1.0), q % 5 == 0);
        if (!ValidatePolygon(std::get<Polygon>(other), {}, "b").ok()) continue;
      }
      const PreparedFootprint o = PrepareFootprint(other);
      const bool want = FootprintsIntersect(plain, o);
      ++total;
      hits += want;
      // The index itself, whatever FootprintsIntersect() picks.
      const Circle* circle = std::get_if<Circle>(&other);
      ASSERT_EQ(circle != nullptr
                    ? IndexedIntersectsCircle(index, *circle)
                    : IndexedIntersectsPolygon(index, std::get<Polygon>(other)),
                want)
          << "case " << q << "\n b=" << DebugString(other);
      ASSERT_EQ(FootprintsIntersect(indexed, o), want)
          << "case " << q << "\n b=" << DebugString(other);
      ASSERT_EQ(FootprintsIntersect(o, indexed), want) << "case " << q;
    }
    EXPECT_GT(hits, total / 10);
    EXPECT_LT(hits, total * 9 / 10);
  }
}

TEST(EdgeIndex, FootprintsBeyondTheCapUseThePlainPath) {
  std::mt19937_64 rng(Seed());
  const Polygon zone = Zone(rng, 1000);
  const PreparedFootprint indexed = PrepareFootprint(zone);
  // A 30 km circle reaching over the zone from 25 km away: beyond the cap,
  // decided without the index, and still right.
  const Circle big{GeodesicDestination(kZurich, 0, 25e3), 30e3};
  EXPECT_TRUE(FootprintsIntersect(indexed, PrepareFootprint(big)));
  EXPECT_EQ(FootprintsIntersect(indexed, PrepareFootprint(big)),
            FootprintsIntersect(Unindexed(zone), PrepareFootprint(big)));
  const Circle apart{GeodesicDestination(kZurich, 0, 45e3), 30e3};
  EXPECT_FALSE(FootprintsIntersect(indexed, PrepareFootprint(apart)));
}

}  // namespace
}  // namespace utm::geo
