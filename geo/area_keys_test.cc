#include "geo/area_keys.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/latlng.h"
#include "geo/s2_covering.h"
#include "geo/volume.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"
#include "s2/s2metrics.h"

namespace utm::geo {
namespace {

using test_util::RandomStar;
using test_util::RegularPolygon;
using test_util::Uniform;
using test_util::UniformInt;
using ::testing::ElementsAreArray;
using ::testing::IsSupersetOf;
using ::testing::Le;

// The largest radius of curvature of WGS84 (a²/b, at the poles): one radian
// on S2's unit sphere spans at most this many metres.
constexpr double kMaxCurvatureRadiusM = 6399593.6;

// The seed of a randomised test: UTM_TEST_SEED when set, else `fallback`.
uint64_t TestSeed(uint64_t fallback) {
  const char* env = std::getenv("UTM_TEST_SEED");
  uint64_t seed = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &seed)) return seed;
  return fallback;
}

// The widest limits keys are computed for: the constraint tier's
// (100,000 km², 120 km reach), which admit a Switzerland-sized zone.
ValidationLimits WideLimits() {
  ValidationLimits l;
  l.max_area_m2 = 100000e6;
  l.max_reach_m = 120e3;
  return l;
}

bool IsValid(const Footprint& f) {
  return ValidateVolume3D(Volume3D{f, {0, 100}}, WideLimits(), "volume").ok();
}

// Whether a write with `writes` invalidates a decision that read `reads`.
bool Meet(const std::vector<std::string>& reads,
          const std::vector<std::string>& writes) {
  std::vector<std::string> common;
  std::set_intersection(reads.begin(), reads.end(), writes.begin(),
                        writes.end(), std::back_inserter(common));
  return !common.empty();
}

bool SortedDistinct(const std::vector<std::string>& v) {
  return std::adjacent_find(v.begin(), v.end(),
                            [](const std::string& a, const std::string& b) {
                              return a >= b;
                            }) == v.end();
}

// Longest diagonal of a level-k cell, metres on the ellipsoid (an upper
// bound).
double MaxDiagM(int level) {
  return S2::kMaxDiag.GetValue(level) * kMaxCurvatureRadiusM;
}

LatLng ToLatLng(const S2Point& p) {
  const S2LatLng ll(p);
  return {ll.lat().degrees(), ll.lng().degrees()};
}

// Random footprints anywhere a footprint may be: at mid latitudes, on the
// corners of S2 cells of random level (where the cell hierarchy branches),
// across the anti-meridian and near the poles.
class PairGenerator {
 public:
  explicit PairGenerator(uint64_t seed) : rng_(seed) {}

  LatLng Anchor() {
    switch (UniformInt(rng_, 0, 5)) {
      case 0:
      case 1:
        return {Uniform(rng_, -60, 60), Uniform(rng_, -180, 180)};
      case 2:
      case 3: {
        // A corner of a random cell of level 2-13: up to four cells and all
        // their ancestors meet there.
        const S2CellId id(S2LatLng::FromDegrees(Uniform(rng_, -70, 70),
                                                Uniform(rng_, -180, 180)));
        const S2Cell cell(id.parent(UniformInt(rng_, 2, 13)));
        return ToLatLng(cell.GetVertex(UniformInt(rng_, 0, 3)));
      }
      case 4:
        return {Uniform(rng_, -50, 50),
                Uniform(rng_, 0, 1) < 0.5 ? 180.0 : -179.9999};
      default:
        return {Uniform(rng_, 0, 1) < 0.5 ? 89.5 : -89.7,
                Uniform(rng_, -180, 180)};
    }
  }

  // A valid footprint around `centre` of reach 5 m to 120 km
  // (log-uniform), or as close to it as validation allows.
  Footprint Next(const LatLng& centre) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      const double reach_m =
          std::exp(Uniform(rng_, std::log(5.0), std::log(119e3)));
      Footprint f;
      switch (UniformInt(rng_, 0, 3)) {
        case 0:
          f = Circle{centre, reach_m};
          break;
        case 1:
          f = RandomStar(rng_, centre, reach_m, /*convex=*/true);
          break;
        case 2:
          f = RandomStar(rng_, centre, reach_m, /*convex=*/false);
          break;
        default:
          f = RegularPolygon(centre, reach_m, UniformInt(rng_, 3, 40),
                             Uniform(rng_, 0, 360));
      }
      if (IsValid(f)) return f;
    }
    return Circle{centre, 10};
  }

  // The second footprint of a pair: near the first (about half of these
  // intersect it), touching it (then *touching is set), or well apart.
  Footprint Partner(const Footprint& first, const BoundingCap& cap,
                    bool* touching) {
    const int mode = UniformInt(rng_, 0, 9);
    *touching = mode >= 5 && mode < 7;
    if (mode < 5) {
      Footprint probe = Next(cap.center);
      const double reach = ComputeBoundingCap(probe).radius_m;
      const double d = Uniform(rng_, 0, 1.2 * (cap.radius_m + reach));
      return Next(GeodesicDestination(cap.center, Uniform(rng_, 0, 360), d));
    }
    if (mode < 7) {
      // A small circle on the rim or a vertex of `first`, reaching just to
      // it or just short of it (1 mm contact tolerance).
      LatLng on_edge;
      if (const Circle* c = std::get_if<Circle>(&first)) {
        on_edge = GeodesicDestination(c->center, Uniform(rng_, 0, 360),
                                      c->radius_m);
      } else {
        const auto& v = std::get<Polygon>(first).vertices;
        on_edge = v[UniformInt(rng_, 0, static_cast<int>(v.size()) - 1)];
      }
      const double r = std::exp(Uniform(rng_, std::log(1.0), std::log(5e3)));
      const double offset = r + Uniform(rng_, -2e-3, 2e-3);
      return Circle{GeodesicDestination(on_edge, Uniform(rng_, 0, 360),
                                        std::max(offset, 0.0)),
                    r};
    }
    const double gap = std::exp(Uniform(rng_, std::log(10.0), std::log(300e3)));
    Footprint f = Next(cap.center);  // only for its size
    const double reach = ComputeBoundingCap(f).radius_m;
    return Next(GeodesicDestination(cap.center, Uniform(rng_, 0, 360),
                                    cap.radius_m + gap + reach));
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// Writes without the below() keys: the keys of a scheme that is broken on
// purpose, to show the property test detects a broken scheme.
std::vector<std::string> ExactWritesOnly(const AreaKeys& keys) {
  std::vector<std::string> out;
  for (const std::string& k : keys.writes) {
    if (absl::StartsWith(k, "e:")) out.push_back(k);
  }
  return out;
}

TEST(AreaKeys, IntersectingFootprintsAlwaysMeetAndFarOnesNever) {
  const uint64_t seed = TestSeed(0x6172656173);  // "areas"
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  PairGenerator gen(seed);
  constexpr int kPairs = 20000;

  // False positives among disjoint pairs, by the gap between the pairs'
  // bounding caps (a lower bound on the gap between the footprints), for all
  // pairs and for pairs of footprints of at most 2,500 km² (a flight's
  // limit).
  const std::array<double, 3> kBucketEndM = {2e3, 20e3, 1e300};
  const std::array<const char*, 3> kBucketName = {"0-2 km", "2-20 km",
                                                  ">20 km"};
  std::array<int, 3> disjoint{}, false_pos{}, small_disjoint{},
      small_false_pos{};
  // Disjoint pairs built to touch (within 2 mm): nearly all share a key, as
  // they should; kept out of the buckets so these measure pairs apart.
  int touching_disjoint = 0, touching_false_pos = 0;
  int intersecting = 0, misses = 0, mutant_misses = 0;
  for (int i = 0; i < kPairs; ++i) {
    const Footprint a = gen.Next(gen.Anchor());
    const BoundingCap cap_a = ComputeBoundingCap(a);
    bool touching = false;
    const Footprint b = gen.Partner(a, cap_a, &touching);
    const BoundingCap cap_b = ComputeBoundingCap(b);
    const AreaCover cover_a = ChooseAreaCover(a);
    const AreaCover cover_b = ChooseAreaCover(b);
    const AreaKeys ka = AreaKeysForCovers({cover_a});
    const AreaKeys kb = AreaKeysForCovers({cover_b});
    const bool a_sees_b = Meet(ka.reads, kb.writes);
    const bool b_sees_a = Meet(kb.reads, ka.writes);

    if (FootprintsIntersect(a, b)) {
      ++intersecting;
      if (!a_sees_b || !b_sees_a) ++misses;
      EXPECT_TRUE(a_sees_b && b_sees_a)
          << "pair " << i << " seed=" << seed << " levels " << cover_a.level
          << "/" << cover_b.level << "\n a=" << DebugString(a)
          << "\n b=" << DebugString(b);
      if (!Meet(ka.reads, ExactWritesOnly(kb)) ||
          !Meet(kb.reads, ExactWritesOnly(ka))) {
        ++mutant_misses;
      }
      continue;
    }
    const double cap_gap_m = GeodesicDistance(cap_a.center, cap_b.center) -
                             cap_a.radius_m - cap_b.radius_m;
    const int bucket = static_cast<int>(
        std::lower_bound(kBucketEndM.begin(), kBucketEndM.end(), cap_gap_m) -
        kBucketEndM.begin());
    const bool small = cap_a.radius_m <= 28.3e3 && cap_b.radius_m <= 28.3e3;
    const bool meet = a_sees_b || b_sees_a;
    if (touching) {
      ++touching_disjoint;
      touching_false_pos += meet;
    } else {
      ++disjoint[bucket];
      false_pos[bucket] += meet;
      small_disjoint[bucket] += small;
      small_false_pos[bucket] += small && meet;
    }
    if (meet) {
      // Keys meet only through nested covering cells sharing a point, and
      // every covering cell lies within the 50 m margin and its own
      // diagonal (twice, for the lift from finer cells) of its footprint.
      const double bound_m = 1.01 * (2 * kCoveringMarginM +
                                     2 * MaxDiagM(cover_a.level) +
                                     2 * MaxDiagM(cover_b.level));
      EXPECT_LE(cap_gap_m, bound_m)
          << "pair " << i << " seed=" << seed << " levels " << cover_a.level
          << "/" << cover_b.level;
    }
  }
  EXPECT_EQ(misses, 0);
  std::cout << absl::StrFormat(
      "%d pairs, %d intersecting: %d misses; without below() writes: %d "
      "misses\n",
      kPairs, intersecting, misses, mutant_misses);
  std::cout << absl::StrFormat(
      "disjoint, built to touch (gap under 2 mm): %5d pairs, %5.1f%% share "
      "a key\n",
      touching_disjoint,
      100.0 * touching_false_pos / std::max(touching_disjoint, 1));
  for (int k = 0; k < 3; ++k) {
    std::cout << absl::StrFormat(
        "disjoint, caps %-7s apart: %5d pairs, %5.1f%% share a key; "
        "both <= 2,500 km²: %5d pairs, %5.1f%%\n",
        kBucketName[k], disjoint[k],
        100.0 * false_pos[k] / std::max(disjoint[k], 1), small_disjoint[k],
        100.0 * small_false_pos[k] / std::max(small_disjoint[k], 1));
  }
  // Enough of each kind for the figures to mean something.
  EXPECT_GE(intersecting, 8000);
  for (int k = 0; k < 3; ++k) EXPECT_GE(disjoint[k], 1000) << kBucketName[k];
  // The broken scheme is caught: intersecting pairs at different levels
  // where the finer one is inside the coarser one's cell need below().
  EXPECT_GT(mutant_misses, 100);
}

TEST(AreaKeys, KeysAreSortedDistinctAndFollowTheScheme) {
  const Footprint f = Circle{{47.3769, 8.5417}, 100};
  const AreaCover cover = ChooseAreaCover(f);
  ASSERT_EQ(cover.level, kDefaultCellLevel);
  ASSERT_EQ(cover.cells, CoverFootprint(f, kDefaultCellLevel,
                                        AreaKeyOptions().refine_levels));
  const AreaKeys keys = AreaKeysFor({f});
  EXPECT_TRUE(SortedDistinct(keys.reads));
  EXPECT_TRUE(SortedDistinct(keys.writes));

  std::vector<std::string> reads, writes;
  for (uint64_t c : cover.cells) {
    writes.push_back("e:" + S2CellId(c).ToToken());
    reads.push_back("b:" + S2CellId(c).ToToken());
    for (int level = 0; level <= cover.level; ++level) {
      const std::string token = S2CellId(c).parent(level).ToToken();
      writes.push_back("b:" + token);
      reads.push_back("e:" + token);
    }
  }
  for (auto* v : {&reads, &writes}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  EXPECT_THAT(keys.reads, ElementsAreArray(reads));
  EXPECT_THAT(keys.writes, ElementsAreArray(writes));
  // The face cell's token.
  EXPECT_EQ(CellToken(0x1000000000000000), "1");
  EXPECT_EQ(CellLevel(cover.cells[0]), kDefaultCellLevel);
  EXPECT_EQ(CellParent(cover.cells[0], 0),
            S2CellId(cover.cells[0]).parent(0).id());
}

TEST(AreaKeys, SeveralFootprintsGetTheUnionOfTheirKeys) {
  const Footprint a = Circle{{47.3769, 8.5417}, 100};
  const Footprint b = RegularPolygon({46.2, 6.14}, 20e3, 12);
  const AreaKeys both = AreaKeysFor({a, b});
  const AreaKeys ka = AreaKeysFor({a});
  const AreaKeys kb = AreaKeysFor({b});
  std::vector<std::string> reads, writes;
  std::set_union(ka.reads.begin(), ka.reads.end(), kb.reads.begin(),
                 kb.reads.end(), std::back_inserter(reads));
  std::set_union(ka.writes.begin(), ka.writes.end(), kb.writes.begin(),
                 kb.writes.end(), std::back_inserter(writes));
  EXPECT_EQ(both.reads, reads);
  EXPECT_EQ(both.writes, writes);
  EXPECT_TRUE(AreaKeysFor({}).reads.empty());
  EXPECT_TRUE(AreaKeysFor({}).writes.empty());
}

TEST(AreaKeys, LevelIsTheFinestWithinMaxCells) {
  const uint64_t seed = TestSeed(0x6c6576656c);
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  PairGenerator gen(seed);
  for (int max_cells : {1, 8, 64}) {
    AreaKeyOptions options;
    options.max_cells = max_cells;
    for (int i = 0; i < 300; ++i) {
      const Footprint f = gen.Next(gen.Anchor());
      const AreaCover cover = ChooseAreaCover(f, options);
      SCOPED_TRACE(absl::StrFormat("seed=%d i=%d max_cells=%d level=%d %s",
                                   seed, i, max_cells, cover.level,
                                   DebugString(f)));
      ASSERT_GE(cover.level, options.min_level);
      ASSERT_LE(cover.level, options.max_level);
      EXPECT_EQ(cover.cells,
                CoverFootprint(f, cover.level, options.refine_levels));
      if (cover.level > options.min_level) {
        EXPECT_THAT(cover.cells.size(), Le(static_cast<size_t>(max_cells)));
      }
      if (cover.level < options.max_level) {
        EXPECT_GT(
            CoverFootprint(f, cover.level + 1, options.refine_levels).size(),
                  static_cast<size_t>(max_cells));
      }
    }
  }
}

// Coverings refined fewer levels than CoverFootprint's default stay
// conservative: every point of the footprint, and every point up to the
// 50 m margin beyond a vertex or the rim, lies in a covering cell.
TEST(AreaKeys, CoarserRefinementStillCovers) {
  const uint64_t seed = TestSeed(0x726566696e65);  // "refine"
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  PairGenerator gen(seed);
  for (int i = 0; i < 300; ++i) {
    const Footprint f = gen.Next(gen.Anchor());
    const BoundingCap cap = ComputeBoundingCap(f);
    // Fine levels, where 50 m often crosses into another cell.
    const int level = UniformInt(gen.rng(), 11, 13);
    std::vector<LatLng> probes;
    if (const Circle* c = std::get_if<Circle>(&f)) {
      probes.push_back(c->center);
      for (int k = 0; k < 16; ++k) {
        probes.push_back(GeodesicDestination(
            c->center, Uniform(gen.rng(), 0, 360),
            c->radius_m + Uniform(gen.rng(), 25, kCoveringMarginM)));
      }
    } else {
      for (const LatLng& v : std::get<Polygon>(f).vertices) {
        probes.push_back(GeodesicDestination(v, Uniform(gen.rng(), 0, 360),
                                             Uniform(gen.rng(), 25,
                                                     kCoveringMarginM)));
      }
    }
    for (int refine : {0, 1, 2}) {
      const std::vector<uint64_t> cells = CoverFootprint(f, level, refine);
      for (const LatLng& p : probes) {
        EXPECT_TRUE(std::binary_search(cells.begin(), cells.end(),
                                       CellIdAt(p, level)))
            << absl::StrFormat("seed=%d i=%d level %d refine %d (%.9f, "
                               "%.9f) cap r=%.1f m",
                               seed, i, level, refine, p.lat_deg, p.lng_deg,
                               cap.radius_m);
      }
    }
  }
}

TEST(AreaKeys, OptionsOutOfRangeAreClamped) {
  const Footprint f = Circle{{47.3769, 8.5417}, 100};
  AreaKeyOptions options;
  options.min_level = -5;
  options.max_level = 99;
  options.max_cells = 0;
  const AreaCover cover = ChooseAreaCover(f, options);
  EXPECT_GE(cover.level, 0);
  EXPECT_LE(cover.level, kMaxCoveringLevel);
  EXPECT_EQ(cover.cells.size(), 1u);
  options.min_level = 20;  // above kMaxCoveringLevel
  EXPECT_EQ(ChooseAreaCover(f, options).level, kMaxCoveringLevel);
}

TEST(AreaKeys, KeysComputedWithDifferentOptionsStillMeet) {
  // A rolling configuration change: one replica keys at min_level 2, the
  // other at 5 and fewer cells.
  const Footprint big = RegularPolygon({46.8, 8.2}, 114e3, 64);
  const Footprint small = Circle{{46.8, 8.2}, 50};
  AreaKeyOptions other;
  other.min_level = 5;
  other.max_cells = 8;
  const AreaKeys kb = AreaKeysFor({big});
  const AreaKeys ks = AreaKeysFor({small}, other);
  EXPECT_TRUE(Meet(kb.reads, ks.writes));
  EXPECT_TRUE(Meet(ks.reads, kb.writes));
}

// Keys per footprint for the sizes docs/geometry.md quotes.
TEST(AreaKeys, SizesPerFootprint) {
  const LatLng bern{46.8, 8.2};
  struct Case {
    const char* name;
    Footprint footprint;
    int expected_level_at_least;
    int expected_level_at_most;
  };
  const std::vector<Case> cases = {
      {"100 m circle", Circle{bern, 100}, 13, 13},
      {"5 km polygon (12 vertices, 2.5 km radius)",
       RegularPolygon(bern, 2.5e3, 12), 11, 13},
      {"50 km polygon (12 vertices, 25 km radius)",
       RegularPolygon(bern, 25e3, 12), 8, 10},
      {"2,500 km² polygon (32 vertices)", RegularPolygon(bern, 28.3e3, 32), 8,
       10},
      {"41,000 km² polygon (64 vertices, Switzerland-sized)",
       RegularPolygon(bern, 114.5e3, 64), 6, 8},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(IsValid(c.footprint)) << c.name;
    const AreaCover cover = ChooseAreaCover(c.footprint);
    const AreaKeys keys = AreaKeysFor({c.footprint});
    std::cout << absl::StrFormat(
        "%-52s level %2d, %2d cells (%6zu at level 13): %3zu reads, %3zu "
        "writes\n",
        c.name, cover.level, cover.cells.size(),
        CoverFootprint(c.footprint, 13).size(), keys.reads.size(),
        keys.writes.size());
    EXPECT_GE(cover.level, c.expected_level_at_least) << c.name;
    EXPECT_LE(cover.level, c.expected_level_at_most) << c.name;
    EXPECT_LE(cover.cells.size(), 64u) << c.name;
    // Each cell adds itself and at most its ancestors not yet listed.
    EXPECT_LE(keys.writes.size(), cover.cells.size() * (cover.level + 2))
        << c.name;
    EXPECT_EQ(keys.reads.size(), keys.writes.size()) << c.name;
    // A footprint reads the exact keys of its own cells.
    EXPECT_THAT(keys.reads, IsSupersetOf(std::vector<std::string>{
                                "e:" + CellToken(cover.cells[0])}));
  }
}

}  // namespace
}  // namespace utm::geo
