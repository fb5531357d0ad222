// CellContainsDisc (geo/s2_covering.h) against CoverFootprint, its reference:
// whenever it answers true, the covering of the disc is the one cell.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/latlng.h"
#include "geo/s2_covering.h"
#include "geo/volume.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::Uniform;
using test_util::UniformInt;

uint64_t TestSeed(uint64_t fallback) {
  const char* env = std::getenv("UTM_TEST_SEED");
  uint64_t seed = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &seed)) return seed;
  return fallback;
}

TEST(CellContainsDisc, TrueOnlyWhenTheCoveringIsTheOneCell) {
  const uint64_t seed = TestSeed(0x6469736b);  // "disk"
  std::cout << "seed=" << seed << " (set UTM_TEST_SEED to reproduce)\n";
  std::mt19937_64 rng(seed);
  int inside = 0, outside_single = 0, outside = 0;
  for (int i = 0; i < 20000; ++i) {
    const int level = UniformInt(rng, 4, kMaxCoveringLevel);
    // Radii from a tiny fraction of the cell to about its width.
    const double cell_m = 9e6 / std::ldexp(1.0, level);
    const double radius_m =
        std::exp(Uniform(rng, std::log(1.0), std::log(cell_m)));
    const LatLng p{std::asin(Uniform(rng, -1, 1)) * 180 / M_PI,
                   Uniform(rng, -180, 180)};
    const std::vector<uint64_t> cover = CoverFootprint(Circle{p, radius_m}, level);
    if (CellContainsDisc(p, radius_m, level)) {
      ++inside;
      EXPECT_EQ(cover, std::vector<uint64_t>{CellIdAt(p, level)})
          << absl::StrFormat("seed=%d i=%d (%.9f, %.9f) r=%.3f level %d",
                             seed, i, p.lat_deg, p.lng_deg, radius_m, level);
    } else {
      ++outside;
      outside_single += cover.size() == 1;
    }
  }
  std::cout << absl::StrFormat(
      "%d discs inside their cell; %d not, of which %d still covered by one "
      "cell\n",
      inside, outside, outside_single);
  // Neither answer is vacuous, and "false" is rarely wrong by much.
  EXPECT_GT(inside, 2000);
  EXPECT_GT(outside, 2000);
  EXPECT_LT(outside_single, outside / 4);
}

}  // namespace
}  // namespace utm::geo
