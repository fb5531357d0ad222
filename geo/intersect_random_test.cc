// Seeded randomised comparison of FootprintsIntersect() against a
// brute-force reference that shares none of its geometry code.
//
// The reference densifies every geodesic edge into points spaced at most a
// few metres apart (GeographicLib's direct solution), lays them on a plain
// equirectangular plane and asks Boost.Geometry; circles are judged by the
// true geodesic distance from their centre, minimised along each edge by
// golden-section search. Where the reference cannot be sure (the shapes
// come within its error band of touching) the pair is counted as ambiguous
// and skipped; the test requires that such pairs stay rare.
//
// Set UTM_TEST_SEED to reproduce a run; UTM_RANDOM_PAIRS to change the count.
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/linestring.hpp>
#include <boost/geometry/geometries/multi_linestring.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

namespace bg = boost::geometry;
using RPoint = bg::model::d2::point_xy<double>;
using RPolygon = bg::model::polygon<RPoint, /*ClockWise=*/false>;
using RLine = bg::model::linestring<RPoint>;

constexpr double kDegToRad = M_PI / 180.0;

// The reference's uncertainty, metres: sagitta of the densified chords on
// the equirectangular plane (under 0.2 mm at the spacing used) plus the
// contact tolerance of the implementation under test, rounded up.
constexpr double kBandM = 5e-3;

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("UTM_TEST_SEED")) return std::stoull(s);
  return 20261121;
}

int PairsFromEnv() {
  if (const char* s = std::getenv("UTM_RANDOM_PAIRS")) return std::stoi(s);
  return 112'000;  // about 106,000 decided, after skips
}

// A plain equirectangular plane about `origin`, longitudes unwrapped across
// the anti-meridian.
struct Plane {
  LatLng origin;
  RPoint operator()(const LatLng& p) const {
    double dlng = p.lng_deg - origin.lng_deg;
    if (dlng > 180) dlng -= 360;
    if (dlng < -180) dlng += 360;
    return RPoint(kEarthMeanRadiusM * std::cos(origin.lat_deg * kDegToRad) *
                      dlng * kDegToRad,
                  kEarthMeanRadiusM * (p.lat_deg - origin.lat_deg) * kDegToRad);
  }
};

// Points along every edge of the ring, at most `spacing_m` apart.
std::vector<LatLng> Densify(const std::vector<LatLng>& ring, double spacing_m) {
  std::vector<LatLng> out;
  const size_t n = ring.size();
  for (size_t i = 0; i < n; ++i) {
    const LatLng& a = ring[i];
    const LatLng& b = ring[(i + 1) % n];
    const double length = GeodesicDistance(a, b);
    const int steps =
        std::max(1, static_cast<int>(std::ceil(length / spacing_m)));
    const double azimuth = GeodesicAzimuth(a, b);
    out.push_back(a);
    for (int k = 1; k < steps; ++k) {
      out.push_back(GeodesicDestination(a, azimuth, length * k / steps));
    }
  }
  return out;
}

// Every ring densified, holes as interior rings.
RPolygon ToPlane(const Polygon& p, double spacing_m, const Plane& plane) {
  RPolygon poly;
  for (const LatLng& v : Densify(p.vertices, spacing_m)) {
    poly.outer().push_back(plane(v));
  }
  for (const std::vector<LatLng>& hole : p.holes) {
    poly.inners().emplace_back();
    for (const LatLng& v : Densify(hole, spacing_m)) {
      poly.inners().back().push_back(plane(v));
    }
  }
  bg::correct(poly);  // closes the rings and fixes their winding
  return poly;
}

using RMultiLine = bg::model::multi_linestring<RLine>;

// Every ring's boundary.
RMultiLine Boundary(const RPolygon& poly) {
  RMultiLine out;
  out.emplace_back(poly.outer().begin(), poly.outer().end());
  for (const auto& inner : poly.inners()) {
    out.emplace_back(inner.begin(), inner.end());
  }
  return out;
}

// Every vertex of every ring.
std::vector<RPoint> AllPoints(const RPolygon& poly) {
  std::vector<RPoint> out(poly.outer().begin(), poly.outer().end());
  for (const auto& inner : poly.inners()) {
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

// The first vertex of each ring.
std::vector<RPoint> RingStarts(const RPolygon& poly) {
  std::vector<RPoint> out{poly.outer()[0]};
  for (const auto& inner : poly.inners()) out.push_back(inner[0]);
  return out;
}

enum class Verdict { kIntersect, kDisjoint, kAmbiguous };

// Spacing of densified points: fine enough that a chord's sagitta on the
// plane stays below 0.2 mm at latitudes up to 75°.
double SpacingFor(const Polygon&) { return 50.0; }

Verdict ReferencePolygons(const Polygon& a, const Polygon& b) {
  const Plane plane{a.vertices[0]};
  const RPolygon pa = ToPlane(a, SpacingFor(a), plane);
  const RPolygon pb = ToPlane(b, SpacingFor(b), plane);
  const RMultiLine ba = Boundary(pa), bb = Boundary(pb);
  const double gap = bg::distance(ba, bb);
  if (gap > kBandM) {
    // The boundaries are clearly apart, so each ring lies wholly inside or
    // wholly outside the other region; the regions meet iff some ring of
    // one lies inside the other (a common part has a boundary, made of such
    // rings).
    for (const RPoint& p : RingStarts(pa)) {
      if (bg::within(p, pb)) return Verdict::kIntersect;
    }
    for (const RPoint& p : RingStarts(pb)) {
      if (bg::within(p, pa)) return Verdict::kIntersect;
    }
    return Verdict::kDisjoint;
  }
  // The boundaries meet or nearly do: sure only if some point of one lies
  // well inside the other.
  for (const RPoint& p : AllPoints(pa)) {
    if (bg::within(p, pb) && bg::distance(p, bb) > kBandM) {
      return Verdict::kIntersect;
    }
  }
  for (const RPoint& p : AllPoints(pb)) {
    if (bg::within(p, pa) && bg::distance(p, ba) > kBandM) {
      return Verdict::kIntersect;
    }
  }
  return Verdict::kAmbiguous;
}

// Least geodesic distance from c to the geodesic edge a-b, by golden-section
// search on the true distance along the edge.
double GoldenDistance(const LatLng& c, const LatLng& a, const LatLng& b) {
  const double length = GeodesicDistance(a, b);
  const double azimuth = GeodesicAzimuth(a, b);
  auto f = [&](double t) {
    return GeodesicDistance(c, GeodesicDestination(a, azimuth, t));
  };
  const double g = (std::sqrt(5.0) - 1) / 2;
  double lo = 0, hi = length;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  double f1 = f(x1), f2 = f(x2);
  for (int i = 0; i < 80 && hi - lo > 1e-7; ++i) {
    if (f1 < f2) {
      hi = x2, x2 = x1, f2 = f1, x1 = hi - g * (hi - lo), f1 = f(x1);
    } else {
      lo = x1, x1 = x2, f1 = f2, x2 = lo + g * (hi - lo), f2 = f(x2);
    }
  }
  return std::min({f1, f2, f(0), f(length)});
}

Verdict ReferencePolygonCircle(const Polygon& p, const Circle& c) {
  const Plane plane{c.center};
  const RPolygon pp = ToPlane(p, SpacingFor(p), plane);
  if (bg::covered_by(plane(c.center), pp)) return Verdict::kIntersect;
  double best = std::numeric_limits<double>::infinity();
  std::vector<const std::vector<LatLng>*> rings{&p.vertices};
  for (const std::vector<LatLng>& hole : p.holes) rings.push_back(&hole);
  for (const std::vector<LatLng>* ring : rings) {
    const size_t n = ring->size();
    for (size_t i = 0; i < n; ++i) {
      const LatLng& a = (*ring)[i];
      const LatLng& b = (*ring)[(i + 1) % n];
      // Every point of the edge is within half its length of an end.
      const double bound = std::min(GeodesicDistance(c.center, a),
                                    GeodesicDistance(c.center, b)) -
                           GeodesicDistance(a, b) / 2;
      if (bound > c.radius_m + 1) continue;
      best = std::min(best, GoldenDistance(c.center, a, b));
    }
  }
  if (best <= c.radius_m) return Verdict::kIntersect;
  if (best > c.radius_m + kBandM) return Verdict::kDisjoint;
  return Verdict::kAmbiguous;
}

Verdict ReferenceCircles(const Circle& a, const Circle& b) {
  const double d = GeodesicDistance(a.center, b.center);
  if (d <= a.radius_m + b.radius_m) return Verdict::kIntersect;
  if (d > a.radius_m + b.radius_m + kBandM) return Verdict::kDisjoint;
  return Verdict::kAmbiguous;
}

Verdict Reference(const Footprint& a, const Footprint& b) {
  const Circle* ca = std::get_if<Circle>(&a);
  const Circle* cb = std::get_if<Circle>(&b);
  if (ca && cb) return ReferenceCircles(*ca, *cb);
  if (ca) return ReferencePolygonCircle(std::get<Polygon>(b), *ca);
  if (cb) return ReferencePolygonCircle(std::get<Polygon>(a), *cb);
  return ReferencePolygons(std::get<Polygon>(a), std::get<Polygon>(b));
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  double Uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  double LogUniform(double lo, double hi) {
    return std::exp(Uniform(std::log(lo), std::log(hi)));
  }
  bool Chance(double p) { return Uniform(0, 1) < p; }

  LatLng Place() {
    // One pair in ten straddles the anti-meridian.
    const double lng =
        Chance(0.1) ? 180 - Uniform(0, 0.05) : Uniform(-180, 180);
    return {Uniform(-70, 70), lng};
  }

  // A star-shaped (hence simple) polygon of 3-9 vertices around `centre`,
  // counter-clockwise, reaching at most `size_m`; some vertices are cut deep
  // to make it concave. Directions between `from_deg` and `to_deg`
  // (azimuths) only, when given, to build a tip.
  Polygon Star(const LatLng& centre, double size_m) {
    const int n = 3 + static_cast<int>(Uniform(0, 7));
    std::vector<double> azimuths;
    for (int i = 0; i < n; ++i) azimuths.push_back(Uniform(0, 360));
    std::sort(azimuths.begin(), azimuths.end(), std::greater<double>());
    Polygon p;
    for (double az : azimuths) {
      p.vertices.push_back(
          GeodesicDestination(centre, az, size_m * Uniform(0.2, 1.0)));
    }
    return p;
  }

  Circle RandomCircle(const LatLng& centre, double size_m) {
    return Circle{centre, size_m * Uniform(0.2, 1.0)};
  }

  // A polygon with one vertex (the tip) at `tip` and the rest in a fan
  // opening in direction `azimuth_deg`.
  Polygon Fan(const LatLng& tip, double azimuth_deg, double size_m) {
    const int n = 2 + static_cast<int>(Uniform(0, 6));
    std::vector<double> azimuths;
    for (int i = 0; i < n; ++i)
      azimuths.push_back(azimuth_deg + Uniform(-70, 70));
    std::sort(azimuths.begin(), azimuths.end(), std::greater<double>());
    Polygon p{{tip}};
    for (double az : azimuths) {
      p.vertices.push_back(
          GeodesicDestination(tip, az, size_m * Uniform(0.3, 1.0)));
    }
    return p;
  }

  // A polygon with one or two holes around `centre`, reaching at most
  // `size_m`: an outer ring of 6-12 vertices at 0.6-1.0 of the size (whose
  // edges stay beyond half the size from the centre) and star-shaped holes
  // within 0.35 of the size, apart from each other. Either winding per ring.
  Polygon Holed(const LatLng& centre, double size_m) {
    const int n = 6 + static_cast<int>(Uniform(0, 7));
    const double rotation = Uniform(0, 360);
    Polygon p;
    for (int i = 0; i < n; ++i) {
      p.vertices.push_back(GeodesicDestination(
          centre, rotation - (i + Uniform(-0.3, 0.3)) * 360.0 / n,
          size_m * Uniform(0.6, 1.0)));
    }
    if (Chance(0.5)) std::reverse(p.vertices.begin(), p.vertices.end());
    if (Chance(0.6)) {
      p.holes.push_back(Star(centre, size_m * Uniform(0.1, 0.35)).vertices);
    } else {
      const double az = Uniform(0, 360);
      for (const double side : {0.0, 180.0}) {
        const LatLng c = GeodesicDestination(centre, az + side, 0.2 * size_m);
        p.holes.push_back(Star(c, size_m * Uniform(0.05, 0.15)).vertices);
      }
    }
    for (std::vector<LatLng>& hole : p.holes) {
      if (Chance(0.5)) std::reverse(hole.begin(), hole.end());
    }
    return p;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

TEST(FootprintsIntersectRandom, AgreesWithBruteForceReference) {
  const uint64_t seed = SeedFromEnv();
  const int pairs = PairsFromEnv();
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  Generator gen(seed);
  const ValidationLimits limits;
  int decided = 0, ambiguous = 0, intersecting = 0, near_contact = 0;
  int skipped = 0;
  for (int i = 0; i < pairs; ++i) {
    const LatLng centre = gen.Place();
    // Sizes from 10 m to 20 km, most of them drone-flight sized.
    const double size_a = gen.LogUniform(10, 20000);
    const double size_b = gen.LogUniform(10, 20000);
    Footprint a, b;
    const double kind = gen.Uniform(0, 1);
    if (kind < 0.25) {
      // Anywhere from overlapping to well apart.
      a = gen.Star(centre, size_a);
      b = gen.Star(GeodesicDestination(centre, gen.Uniform(0, 360),
                                       gen.Uniform(0, 1.5) * (size_a + size_b)),
                   size_b);
    } else if (kind < 0.5) {
      a = gen.Star(centre, size_a);
      b = gen.RandomCircle(
          GeodesicDestination(centre, gen.Uniform(0, 360),
                              gen.Uniform(0, 1.5) * (size_a + size_b)),
          size_b);
    } else if (kind < 0.6) {
      a = gen.RandomCircle(centre, size_a);
      b = gen.RandomCircle(
          GeodesicDestination(centre, gen.Uniform(0, 360),
                              gen.Uniform(0, 1.5) * (size_a + size_b)),
          size_b);
    } else {
      // Near contact: a tip or a rim 1.1 cm to 10 m inside or outside a
      // random point of a geodesic edge (F3548 asks for 1 cm precision).
      ++near_contact;
      const Polygon star = gen.Star(centre, size_a);
      const size_t e =
          static_cast<size_t>(gen.Uniform(0, star.vertices.size()));
      const LatLng& v0 = star.vertices[e];
      const LatLng& v1 = star.vertices[(e + 1) % star.vertices.size()];
      const LatLng on_edge =
          GeodesicDestination(v0, GeodesicAzimuth(v0, v1),
                              gen.Uniform(0, 1) * GeodesicDistance(v0, v1));
      const double outward = GeodesicAzimuth(on_edge, v1) + 90;
      const double offset =
          (gen.Chance(0.5) ? 1 : -1) * gen.LogUniform(0.011, 10);
      a = star;
      if (gen.Chance(0.5)) {
        b = gen.Fan(GeodesicDestination(on_edge, outward, offset), outward,
                    size_b);
      } else {
        const double r = size_b * gen.Uniform(0.2, 1.0);
        b = Circle{GeodesicDestination(on_edge, outward, r + offset), r};
      }
    }
    // Skip shapes the generator made invalid (self-touching fans, slivers).
    if (!ValidateVolume3D({a, {0, 1}}, limits, "a").ok() ||
        !ValidateVolume3D({b, {0, 1}}, limits, "b").ok()) {
      ++skipped;
      continue;
    }
    const Verdict want = Reference(a, b);
    if (want == Verdict::kAmbiguous) {
      ++ambiguous;
      continue;
    }
    ++decided;
    const bool expected = want == Verdict::kIntersect;
    intersecting += expected;
    const bool got = FootprintsIntersect(a, b);
    ASSERT_EQ(got, expected)
        << "pair " << i << " seed=" << seed << "\n a=" << DebugString(a)
        << "\n b=" << DebugString(b);
    ASSERT_EQ(FootprintsIntersect(b, a), expected)
        << "pair " << i << " (swapped)";
  }
  std::cout << "decided=" << decided << " intersecting=" << intersecting
            << " ambiguous=" << ambiguous << " near_contact=" << near_contact
            << " skipped_invalid=" << skipped << "\n";
  EXPECT_GE(decided, pairs * 0.9);
  if (std::getenv("UTM_RANDOM_PAIRS") == nullptr) {
    EXPECT_GE(decided, 100'000);  // the bar the geometry core must clear
  }
  EXPECT_LE(ambiguous, pairs / 100);
  EXPECT_GT(intersecting, decided / 5);
  EXPECT_LT(intersecting, decided * 4 / 5);
}

int HoledPairsFromEnv() {
  if (const char* s = std::getenv("UTM_RANDOM_HOLED_PAIRS")) {
    return std::stoi(s);
  }
  return 20'000;
}

// Polygons with holes against polygons, circles and each other: anywhere,
// inside or around a hole, and within centimetres of a hole's edge.
TEST(FootprintsIntersectRandom, HolesAgreeWithBruteForceReference) {
  const uint64_t seed = SeedFromEnv();
  const int pairs = HoledPairsFromEnv();
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  Generator gen(seed ^ 0x401e5);
  const ValidationLimits limits;
  int decided = 0, ambiguous = 0, intersecting = 0, skipped = 0;
  for (int i = 0; i < pairs; ++i) {
    const LatLng centre = gen.Place();
    const double size_a = gen.LogUniform(50, 20000);
    const Polygon holed = gen.Holed(centre, size_a);
    const std::vector<LatLng>& hole = holed.holes[0];
    Footprint b;
    const double kind = gen.Uniform(0, 1);
    if (kind < 0.2) {
      // Anywhere from overlapping to well apart.
      const double size_b = gen.LogUniform(10, 20000);
      const LatLng c = GeodesicDestination(
          centre, gen.Uniform(0, 360), gen.Uniform(0, 1.5) * (size_a + size_b));
      if (gen.Chance(0.5)) {
        b = gen.Star(c, size_b);
      } else {
        b = gen.RandomCircle(c, size_b);
      }
    } else if (kind < 0.5) {
      // Around the first hole: inside it, straddling its edge or over it.
      double hole_r = 0;
      for (const LatLng& v : hole) {
        hole_r = std::max(hole_r, GeodesicDistance(hole[0], v));
      }
      const double size_b = hole_r * gen.LogUniform(0.05, 1.0);
      const LatLng c = GeodesicDestination(hole[0], gen.Uniform(0, 360),
                                           gen.Uniform(0, 1) * hole_r);
      if (gen.Chance(0.5)) {
        b = gen.Star(c, size_b);
      } else {
        b = gen.RandomCircle(c, size_b);
      }
    } else if (kind < 0.85) {
      // A tip or a rim 1.1 cm to 10 m from a random point of a hole's edge,
      // on the hole's side or the region's.
      const std::vector<LatLng>& ring =
          holed.holes[static_cast<size_t>(gen.Uniform(0, holed.holes.size()))];
      const size_t e = static_cast<size_t>(gen.Uniform(0, ring.size()));
      const LatLng& v0 = ring[e];
      const LatLng& v1 = ring[(e + 1) % ring.size()];
      const LatLng on_edge =
          GeodesicDestination(v0, GeodesicAzimuth(v0, v1),
                              gen.Uniform(0, 1) * GeodesicDistance(v0, v1));
      const double side =
          GeodesicAzimuth(on_edge, v1) + (gen.Chance(0.5) ? 90 : -90);
      const double offset = gen.LogUniform(0.011, 10);
      const double size_b =
          gen.LogUniform(1, 0.5 * GeodesicDistance(v0, v1) + 1);
      if (gen.Chance(0.5)) {
        b = gen.Fan(GeodesicDestination(on_edge, side, offset), side, size_b);
      } else {
        const double r = size_b * gen.Uniform(0.2, 1.0);
        b = Circle{GeodesicDestination(on_edge, side, r + offset), r};
      }
    } else {
      // Holed against holed.
      const double size_b = gen.LogUniform(50, 20000);
      b = gen.Holed(
          GeodesicDestination(centre, gen.Uniform(0, 360),
                              gen.Uniform(0, 1.2) * (size_a + size_b)),
          size_b);
    }
    const Footprint a = holed;
    if (!ValidateVolume3D({a, {0, 1}}, limits, "a").ok() ||
        !ValidateVolume3D({b, {0, 1}}, limits, "b").ok()) {
      ++skipped;
      continue;
    }
    const Verdict want = Reference(a, b);
    if (want == Verdict::kAmbiguous) {
      ++ambiguous;
      continue;
    }
    ++decided;
    const bool expected = want == Verdict::kIntersect;
    intersecting += expected;
    ASSERT_EQ(FootprintsIntersect(a, b), expected)
        << "pair " << i << " seed=" << seed << "\n a=" << DebugString(a)
        << "\n b=" << DebugString(b);
    ASSERT_EQ(FootprintsIntersect(b, a), expected)
        << "pair " << i << " (swapped)";
  }
  std::cout << "decided=" << decided << " intersecting=" << intersecting
            << " ambiguous=" << ambiguous << " skipped_invalid=" << skipped
            << "\n";
  EXPECT_GE(decided, pairs * 0.7);
  EXPECT_LE(ambiguous, pairs / 100);
  EXPECT_GT(intersecting, decided / 5);
  EXPECT_LT(intersecting, decided * 4 / 5);
}

}  // namespace
}  // namespace utm::geo
