#include "services/telemetry/regions.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"
#include "geo/s2_covering.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "s2/s1chord_angle.h"
#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"

namespace utm::telemetry {
namespace {

using geo::LatLng;
using geo::test_util::Uniform;
using geo::test_util::UniformInt;
using ::testing::MatchesRegex;

uint64_t TestSeed(uint64_t fallback) {
  const char* env = std::getenv("UTM_TEST_SEED");
  uint64_t seed = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &seed)) return seed;
  return fallback;
}

const double kReachM = RegionReachM(50, Separation());

S2Point ToS2(const LatLng& p) {
  return S2LatLng::FromDegrees(p.lat_deg, p.lng_deg).ToPoint();
}

LatLng ToLatLng(const S2Point& p) {
  const S2LatLng ll(p);
  return {ll.lat().degrees(), ll.lng().degrees()};
}

// A position uniform by area between latitudes -lat_max and lat_max.
LatLng UniformPoint(std::mt19937_64& rng, double lat_max_deg) {
  const double s = std::sin(lat_max_deg * M_PI / 180);
  return {std::asin(Uniform(rng, -s, s)) * 180 / M_PI,
          Uniform(rng, -180, 180)};
}

// A position near where regions meet: within `within_m` of a corner of a
// random region, anywhere on Earth (poles and anti-meridian included).
LatLng NearRegionCorner(std::mt19937_64& rng, double within_m) {
  const S2CellId id(ToS2(UniformPoint(rng, 90)));
  const S2Cell region(id.parent(kRegionLevel));
  const LatLng corner = ToLatLng(region.GetVertex(UniformInt(rng, 0, 3)));
  return geo::GeodesicDestination(corner, Uniform(rng, 0, 360),
                                  Uniform(rng, 0, within_m));
}

TEST(Regions, ReachFromTheDetectorDefaults) {
  // 2·v_max·T + D with the 50 m/s speed limit, T = 30 s, D = 50 m.
  EXPECT_DOUBLE_EQ(RegionReachM(50, Separation()), 3050);
  Separation s;
  s.lookahead_s = 10;
  s.horizontal_m = 100;
  EXPECT_DOUBLE_EQ(RegionReachM(20, s), 500);
}

TEST(Regions, RegionOfIsTheLevelSevenCell) {
  const LatLng zurich = geo::test_util::kZurich;
  EXPECT_EQ(RegionOf(zurich), geo::CellIdAt(zurich, kRegionLevel));
  EXPECT_EQ(S2CellId(RegionOf(zurich)).level(), kRegionLevel);
}

// Every target within reach of a report lies in a region the report goes
// to, and every region it goes to comes within reach (+ the 50 m margin).
TEST(Regions, RegionsWithinCoverTheReachAndNoMore) {
  const uint64_t seed = TestSeed(0x726567696f6e);  // "region"
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  std::mt19937_64 rng(seed);
  int misses = 0, targets = 0;
  for (int i = 0; i < 4000; ++i) {
    const double reach = i % 4 == 0 ? Uniform(rng, 0, 20e3) : kReachM;
    const LatLng p = i % 2 == 0 ? NearRegionCorner(rng, 2 * reach)
                                : UniformPoint(rng, 90);
    const std::vector<uint64_t> regions = RegionsWithin(p, reach);
    ASSERT_FALSE(regions.empty());
    EXPECT_EQ(regions[0], RegionOf(p));
    EXPECT_TRUE(std::is_sorted(regions.begin() + 1, regions.end()));
    EXPECT_EQ(std::set<uint64_t>(regions.begin(), regions.end()).size(),
              regions.size());
    for (int t = 0; t < 25; ++t) {
      // Half on the rim of the reach, where a miss would show first.
      const double d = t % 2 == 0 ? reach : Uniform(rng, 0, reach);
      const LatLng q = geo::GeodesicDestination(p, Uniform(rng, 0, 360), d);
      ++targets;
      if (std::find(regions.begin(), regions.end(), RegionOf(q)) ==
          regions.end()) {
        ++misses;
        ADD_FAILURE() << absl::StrFormat(
            "seed=%d i=%d: (%.9f, %.9f) at %.3f m of (%.9f, %.9f), reach "
            "%.1f m: region not listed",
            seed, i, q.lat_deg, q.lng_deg, d, p.lat_deg, p.lng_deg, reach);
      }
    }
    // Tight: each region's cell comes within reach + 50 m of p, measured on
    // S2's sphere as CoverFootprint measures (the smallest radius of
    // curvature, which errs outwards).
    for (uint64_t r : regions) {
      const double angle =
          S2Cell(S2CellId(r)).GetDistance(ToS2(p)).ToAngle().radians();
      EXPECT_LE(angle * geo::kEarthMinCurvatureRadiusM,
                reach + geo::kCoveringMarginM + 1e-3)
          << "seed=" << seed << " i=" << i;
    }
  }
  std::cout << targets << " targets, " << misses << " misses\n";
  EXPECT_EQ(misses, 0);
}

TEST(Regions, BadReachIsBounded) {
  const LatLng p = geo::test_util::kZurich;
  EXPECT_EQ(RegionsWithin(p, -5), std::vector<uint64_t>{RegionOf(p)});
  EXPECT_EQ(RegionsWithin(p, std::nan("")), std::vector<uint64_t>{RegionOf(p)});
  // Capped at 1,000 km: a few hundred regions, not the whole Earth.
  const size_t huge = RegionsWithin(p, 1e12).size();
  EXPECT_EQ(huge, RegionsWithin(p, 1e6).size());
  EXPECT_LT(huge, 2000u);
}

// The halo's overhead: regions per report at the default reach, uniform
// positions between 60° S and 60° N. docs/tactical.md quotes these.
TEST(Regions, HaloOverheadAtTheDefaultReach) {
  const uint64_t seed = TestSeed(0x68616c6f);  // "halo"
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  std::mt19937_64 rng(seed);
  constexpr int kReports = 20000;
  int64_t regions = 0, multi = 0;
  for (int i = 0; i < kReports; ++i) {
    const size_t n = RegionsWithin(UniformPoint(rng, 60), kReachM).size();
    regions += static_cast<int64_t>(n);
    multi += n > 1;
  }
  const double mean = static_cast<double>(regions) / kReports;
  const double frac = static_cast<double>(multi) / kReports;
  std::cout << absl::StrFormat(
      "reach %.0f m: %.4f regions per report, %.2f%% of reports to more "
      "than one region\n",
      kReachM, mean, 100 * frac);
  // A strip of width ~reach along each edge of a ~70 km cell: about
  // 4·3 km/70 km of reports see a neighbour, a few of them two or three.
  EXPECT_GT(frac, 0.05);
  EXPECT_LT(frac, 0.30);
  EXPECT_LT(mean, 1.4);
}

std::vector<std::string> Members(int n) {
  std::vector<std::string> m;
  for (int i = 0; i < n; ++i) m.push_back(absl::StrCat("utmd-", i));
  return m;
}

// 10,000 distinct regions drawn from the whole Earth.
std::vector<uint64_t> SomeRegions(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<uint64_t> regions;
  while (regions.size() < 10000) regions.insert(RegionOf(UniformPoint(rng, 90)));
  return {regions.begin(), regions.end()};
}

TEST(Regions, OwnerIsDeterministicAndFixed) {
  const std::vector<std::string> members = Members(5);
  const uint64_t region = RegionOf(geo::test_util::kZurich);
  const std::string owner = OwnerOf(region, members);
  EXPECT_EQ(OwnerOf(region, members), owner);
  std::vector<std::string> reversed(members.rbegin(), members.rend());
  EXPECT_EQ(OwnerOf(region, reversed), owner);
  EXPECT_EQ(OwnerOf(region, {}), "");
  EXPECT_EQ(OwnerOf(region, {"only"}), "only");
  // Golden values, computed independently (FNV-1a 64 + fmix64 in Python):
  // a change here moves regions between replicas running different builds.
  EXPECT_EQ(RegionWeight("utmd-0", 0x478c000000000000), 0x330defdad54f6857u);
  EXPECT_EQ(RegionWeight("", 0), 0x7bd3144f29c0cc9eu);
}

TEST(Regions, OwnershipIsBalanced) {
  const std::vector<uint64_t> regions = SomeRegions(TestSeed(7));
  for (int n : {3, 5, 10}) {
    const std::vector<std::string> members = Members(n);
    std::map<std::string, int> count;
    for (uint64_t r : regions) ++count[OwnerOf(r, members)];
    ASSERT_EQ(count.size(), static_cast<size_t>(n));
    const double expected = static_cast<double>(regions.size()) / n;
    double chi2 = 0;
    for (const auto& [m, c] : count) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    // n − 1 degrees of freedom; these bounds are exceeded with probability
    // about 1e-4 by a uniform hash.
    const double bound = n == 3 ? 18.4 : n == 5 ? 23.5 : 33.7;
    std::cout << absl::StrFormat("%2d members: chi-square %.2f (bound %.1f)\n",
                                 n, chi2, bound);
    EXPECT_LT(chi2, bound) << n << " members";
  }
}

TEST(Regions, AJoiningOrLeavingMemberMovesOnlyItsOwnRegions) {
  const std::vector<uint64_t> regions = SomeRegions(TestSeed(11));
  for (int n : {3, 5, 10}) {
    const std::vector<std::string> before = Members(n);
    std::vector<std::string> after = before;
    after.push_back("utmd-new");
    int moved = 0;
    for (uint64_t r : regions) {
      const std::string a = OwnerOf(r, before), b = OwnerOf(r, after);
      if (a != b) {
        ++moved;
        EXPECT_EQ(b, "utmd-new") << "region " << r << " moved " << a << "->"
                                 << b;
      }
    }
    // About 1/(n+1) of the regions move, all to the newcomer.
    const double frac = static_cast<double>(moved) / regions.size();
    std::cout << absl::StrFormat("%d -> %d members: %.2f%% moved (1/%d = "
                                 "%.2f%%)\n",
                                 n, n + 1, 100 * frac, n + 1, 100.0 / (n + 1));
    EXPECT_NEAR(frac, 1.0 / (n + 1), 0.03);

    // utmd-1 leaves: only its regions move.
    std::vector<std::string> left = before;
    left.erase(left.begin() + 1);
    for (uint64_t r : regions) {
      const std::string a = OwnerOf(r, before), b = OwnerOf(r, left);
      if (a != "utmd-1") {
        EXPECT_EQ(a, b) << "region " << r;
      } else {
        EXPECT_NE(b, "utmd-1");
      }
    }
  }
}

TEST(Regions, AlertingRegionIsSymmetric) {
  EXPECT_EQ(AlertingRegion("a", 1, "b", 2), 1u);
  EXPECT_EQ(AlertingRegion("b", 2, "a", 1), 1u);
  EXPECT_EQ(AlertingRegion("b", 1, "a", 2), 2u);
  EXPECT_EQ(AlertingRegion("a", 2, "b", 1), 2u);
  EXPECT_EQ(AlertingRegion("x", 9, "x", 4), 4u);
  EXPECT_EQ(AlertingRegion("x", 4, "x", 9), 4u);
}

TEST(Regions, AlertIdIsSymmetricDistinctAndAVersion5Uuid) {
  const std::string id = AlertIdFor("drone-a", "drone-b", 1800000000000);
  EXPECT_EQ(id, AlertIdFor("drone-b", "drone-a", 1800000000000));
  // Golden: Python's uuid.uuid5 of the same name space and name.
  EXPECT_EQ(id, "e96611b7-01eb-5d48-9a31-c3af03c0d863");
  EXPECT_EQ(AlertIdFor("y", "x", -5), "34891050-e6cc-5fbf-a7fd-cbb0b6971c06");
  EXPECT_THAT(id, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-"
                               "[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_NE(id, AlertIdFor("drone-a", "drone-b", 1800000000001));
  EXPECT_NE(id, AlertIdFor("drone-a", "drone-c", 1800000000000));
  // Length prefixes: the same concatenation, different pairs.
  EXPECT_NE(AlertIdFor("ab", "c", 0), AlertIdFor("a", "bc", 0));
  EXPECT_NE(AlertIdFor("a,1:b", "c", 0), AlertIdFor("a", "b,1:c", 0));
}

}  // namespace
}  // namespace utm::telemetry
