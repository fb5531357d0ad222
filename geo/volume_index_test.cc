#include "geo/volume_index.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/distributions.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/latlng.h"
#include "geo/volume.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::geo {
namespace {

using test_util::LocalPolygon;
using test_util::RegularPolygon;
using test_util::SquareAround;

using Id = VolumeIndex::Id;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;

// 2024-06-01T12:00:00Z.
constexpr absl::Time kT0 = absl::FromUnixSeconds(1717243200);
constexpr LatLng kZurich{47.3769, 8.5417};
constexpr AltitudeBand kLowBand{0, 120};

// The seed of a randomised test: UTM_TEST_SEED when set, else `fallback`.
uint64_t TestSeed(uint64_t fallback) {
  const char* env = std::getenv("UTM_TEST_SEED");
  uint64_t seed = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &seed)) return seed;
  return fallback;
}

TimeWindow Window(absl::Time start, absl::Duration length) {
  return TimeWindow{start, start + length};
}

Volume4D MakeVolume(Footprint footprint, AltitudeBand altitude = kLowBand,
                    TimeWindow time = Window(kT0, absl::Hours(1))) {
  return Volume4D{Volume3D{std::move(footprint), altitude}, time};
}

// Every volume handed to the index must pass validation (a REQUIRES).
absl::Status Validate(const Volume4D& volume) {
  return ValidateVolume4D(volume, ValidationLimits(), "volume");
}

// Validates `volume` and inserts it under `id`.
absl::Status ValidateAndInsert(VolumeIndex& index, Id id,
                               const Volume4D& volume) {
  if (absl::Status s = Validate(volume); !s.ok()) return s;
  return index.Insert(id, volume);
}

TEST(VolumeIndex, StartsEmpty) {
  VolumeIndex index;
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Remove(1));
  EXPECT_THAT(index.Query(MakeVolume(Circle{kZurich, 100})), IsEmpty());
  EXPECT_THAT(index.QueryCandidates(MakeVolume(Circle{kZurich, 100})),
              IsEmpty());
}

TEST(VolumeIndex, QueryReturnsExactlyTheIntersectingIdsAscending) {
  constexpr Id kBig = (uint64_t{1} << 63) + 5;  // Sorts last as unsigned.
  VolumeIndex index;
  // Inserted out of order; the query circle is kZurich, r = 250 m.
  ASSERT_EQ(ValidateAndInsert(
                index, kBig,
                MakeVolume(Circle{GeodesicDestination(kZurich, 0, 400), 160})),
            absl::OkStatus());  // 10 m overlap to the north.
  ASSERT_EQ(ValidateAndInsert(index, 30, MakeVolume(Circle{kZurich, 200})),
            absl::OkStatus());  // Same centre.
  ASSERT_EQ(
      ValidateAndInsert(
          index, 20,
          MakeVolume(Circle{GeodesicDestination(kZurich, 180, 1000), 100})),
      absl::OkStatus());  // 650 m gap to the south.
  ASSERT_EQ(ValidateAndInsert(index, 10,
                              MakeVolume(SquareAround(
                                  GeodesicDestination(kZurich, 90, 300), 150))),
            absl::OkStatus());  // West side 150 m east of the centre.
  ASSERT_EQ(
      ValidateAndInsert(index, 7, MakeVolume(Circle{kZurich, 200}, {500, 600})),
      absl::OkStatus());  // Above the query.
  ASSERT_EQ(ValidateAndInsert(
                index, 99,
                MakeVolume(Circle{kZurich, 200}, kLowBand,
                           Window(kT0 + absl::Hours(24), absl::Hours(1)))),
            absl::OkStatus());  // A day later.
  EXPECT_EQ(index.size(), 6u);

  const Volume4D query = MakeVolume(Circle{kZurich, 250});
  ASSERT_EQ(Validate(query), absl::OkStatus());
  EXPECT_THAT(index.Query(query), ElementsAre(10, 30, kBig));

  const Volume4D far_away =
      MakeVolume(Circle{GeodesicDestination(kZurich, 270, 5000), 250});
  EXPECT_THAT(index.Query(far_away), IsEmpty());
}

TEST(VolumeIndex, DuplicateIdIsAlreadyExistsAndKeepsTheFirstVolume) {
  VolumeIndex index;
  const Volume4D first = MakeVolume(Circle{kZurich, 100});
  const Volume4D second =
      MakeVolume(Circle{GeodesicDestination(kZurich, 90, 2000), 100});
  ASSERT_EQ(ValidateAndInsert(index, 42, first), absl::OkStatus());

  const absl::Status status = ValidateAndInsert(index, 42, second);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("42"));
  EXPECT_THAT(status.message(), HasSubstr("already"));

  EXPECT_EQ(index.size(), 1u);
  EXPECT_THAT(index.Query(first), ElementsAre(42));
  EXPECT_THAT(index.Query(second), IsEmpty());
  EXPECT_THAT(index.QueryCandidates(second), IsEmpty());
}

TEST(VolumeIndex, RemoveDropsOnlyThatIdAndAllowsReinsert) {
  VolumeIndex index;
  const Volume4D here = MakeVolume(Circle{kZurich, 100});
  const Volume4D there =
      MakeVolume(Circle{GeodesicDestination(kZurich, 45, 3000), 100});
  // Three identical volumes: identical boxes must not confuse Remove.
  for (Id id : {1, 2, 3}) {
    ASSERT_EQ(ValidateAndInsert(index, id, here), absl::OkStatus());
  }
  EXPECT_EQ(index.size(), 3u);
  EXPECT_THAT(index.Query(here), ElementsAre(1, 2, 3));

  EXPECT_TRUE(index.Remove(2));
  EXPECT_EQ(index.size(), 2u);
  EXPECT_THAT(index.Query(here), ElementsAre(1, 3));
  EXPECT_THAT(index.QueryCandidates(here), ElementsAre(1, 3));
  EXPECT_FALSE(index.Remove(2));
  EXPECT_FALSE(index.Remove(4));
  EXPECT_EQ(index.size(), 2u);

  // The id is free again, and now names the new volume only.
  ASSERT_EQ(ValidateAndInsert(index, 2, there), absl::OkStatus());
  EXPECT_EQ(index.size(), 3u);
  EXPECT_THAT(index.Query(here), ElementsAre(1, 3));
  EXPECT_THAT(index.Query(there), ElementsAre(2));

  for (Id id : {1, 2, 3}) EXPECT_TRUE(index.Remove(id));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_THAT(index.Query(here), IsEmpty());
  EXPECT_THAT(index.QueryCandidates(there), IsEmpty());
}

TEST(VolumeIndex, MovedIndexKeepsItsVolumes) {
  VolumeIndex index;
  const Volume4D v = MakeVolume(Circle{kZurich, 100});
  ASSERT_EQ(ValidateAndInsert(index, 5, v), absl::OkStatus());
  VolumeIndex moved(std::move(index));
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_THAT(moved.Query(v), ElementsAre(5));
  VolumeIndex assigned;
  assigned = std::move(moved);
  EXPECT_THAT(assigned.Query(v), ElementsAre(5));
}

TEST(VolumeIndex, TimeWindowsAreClosedIntervals) {
  constexpr absl::Duration kUs = absl::Microseconds(1);
  const absl::Time kT1 = kT0 + absl::Hours(1);
  // About the year 5138: time keys held as double seconds are 15 µs apart
  // there, so a 1 µs gap is visible only to the exact test.
  const absl::Time kFar = absl::FromUnixSeconds(100'000'000'000);
  struct Case {
    std::string name;
    TimeWindow stored;
    TimeWindow query;
    bool hit;
  };
  const TimeWindow kHour{kT0, kT1};
  const std::vector<Case> cases = {
      {"inside",
       kHour,
       {kT0 + absl::Minutes(10), kT0 + absl::Minutes(20)},
       true},
      {"encloses", kHour, {kT0 - absl::Hours(24), kT1 + absl::Hours(24)}, true},
      {"touches end", kHour, {kT1, kT1 + absl::Hours(1)}, true},
      {"touches start", kHour, {kT0 - absl::Hours(1), kT0}, true},
      {"1 us after end", kHour, {kT1 + kUs, kT1 + absl::Hours(1)}, false},
      {"1 us before start", kHour, {kT0 - absl::Hours(1), kT0 - kUs}, false},
      {"from infinite past to start", kHour, {absl::InfinitePast(), kT0}, true},
      {"from infinite past to 1 us before",
       kHour,
       {absl::InfinitePast(), kT0 - kUs},
       false},
      {"1 us after end to infinite future",
       kHour,
       {kT1 + kUs, absl::InfiniteFuture()},
       false},
      {"stored from infinite past, touching",
       {absl::InfinitePast(), kT0},
       {kT0, kT1},
       true},
      {"stored from infinite past, 1 us later",
       {absl::InfinitePast(), kT0},
       {kT0 + kUs, kT1},
       false},
      {"far future, touching",
       {kFar, kFar + absl::Seconds(1)},
       {kFar + absl::Seconds(1), kFar + absl::Seconds(2)},
       true},
      {"far future, 1 us apart",
       {kFar, kFar + absl::Seconds(1)},
       {kFar + absl::Seconds(1) + kUs, kFar + absl::Seconds(2)},
       false},
      {"far future, 1 us before",
       {kFar, kFar + absl::Seconds(1)},
       {kFar - absl::Seconds(1), kFar - kUs},
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    VolumeIndex index;
    ASSERT_EQ(
        ValidateAndInsert(index, 1,
                          MakeVolume(Circle{kZurich, 100}, kLowBand, c.stored)),
        absl::OkStatus());
    const Volume4D query = MakeVolume(Circle{kZurich, 100}, kLowBand, c.query);
    ASSERT_EQ(Validate(query), absl::OkStatus());
    if (c.hit) {
      EXPECT_THAT(index.Query(query), ElementsAre(1));
    } else {
      EXPECT_THAT(index.Query(query), IsEmpty());
    }
  }
}

TEST(VolumeIndex, PermanentVolumeIsFoundFarInTheFuture) {
  VolumeIndex index;
  ASSERT_EQ(ValidateAndInsert(index, 1,
                              MakeVolume(Circle{kZurich, 100}, kLowBand,
                                         {kT0, absl::InfiniteFuture()})),
            absl::OkStatus());
  const auto query_at = [](absl::Time start) {
    return MakeVolume(Circle{kZurich, 100}, kLowBand,
                      Window(start, absl::Hours(1)));
  };
  // 1,000 years on.
  EXPECT_THAT(index.Query(query_at(kT0 + absl::Hours(24 * 365 * 1000))),
              ElementsAre(1));
  // Beyond the ±3e12 s to which the index clamps its time keys.
  EXPECT_THAT(index.Query(query_at(absl::FromUnixSeconds(4'000'000'000'000))),
              ElementsAre(1));
  // Open-ended on both sides.
  EXPECT_THAT(
      index.Query(MakeVolume(Circle{kZurich, 100}, kLowBand,
                             {kT0 + absl::Hours(5), absl::InfiniteFuture()})),
      ElementsAre(1));
  // Still closed at its start.
  EXPECT_THAT(index.Query(query_at(kT0 - absl::Hours(1))), ElementsAre(1));
  EXPECT_THAT(
      index.Query(query_at(kT0 - absl::Hours(1) - absl::Microseconds(1))),
      IsEmpty());
}

TEST(VolumeIndex, AltitudeBandsAreClosedIntervals) {
  const double kAbove200 = std::nextafter(200.0, 1e9);
  const double kBelow100 = std::nextafter(100.0, -1e9);
  struct Case {
    std::string name;
    AltitudeBand query;
    bool hit;
  };
  const std::vector<Case> cases = {
      {"same", {100, 200}, true},
      {"inside", {150, 160}, true},
      {"encloses", {-1000, 50000}, true},
      {"touches top", {200, 300}, true},
      {"touches bottom", {0, 100}, true},
      {"just above", {kAbove200, 300}, false},
      {"just below", {0, kBelow100}, false},
      {"far above", {1000, 2000}, false},
  };
  VolumeIndex index;
  ASSERT_EQ(
      ValidateAndInsert(index, 1, MakeVolume(Circle{kZurich, 100}, {100, 200})),
      absl::OkStatus());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // Same footprint and time: only the altitude decides.
    const Volume4D query = MakeVolume(Circle{kZurich, 100}, c.query);
    ASSERT_EQ(Validate(query), absl::OkStatus());
    if (c.hit) {
      EXPECT_THAT(index.Query(query), ElementsAre(1));
    } else {
      EXPECT_THAT(index.Query(query), IsEmpty());
    }
  }
}

// Pairs whose bounding boxes overlap wherever the footprints are `gap_m`
// apart (negative: overlapping).
struct RefinementCase {
  std::string name;
  Footprint stored;
  Footprint query;
};

std::vector<RefinementCase> RefinementCases(double gap_m) {
  std::vector<RefinementCase> cases;
  // Circles diagonal to each other: their boxes overlap in every axis.
  cases.push_back(
      {"circle and circle on a diagonal", Circle{kZurich, 1000},
       Circle{GeodesicDestination(kZurich, 45, 2000 + gap_m), 1000}});
  // A circle beyond a square's corner, on the square's diagonal.
  const Polygon square = SquareAround(kZurich, 1000);
  const LatLng corner = square.vertices[0];  // North-east.
  cases.push_back({"circle beyond a square's corner", square,
                   Circle{GeodesicInterpolate(
                              kZurich, corner,
                              GeodesicDistance(kZurich, corner) + 500 + gap_m),
                          500}});
  // Two right triangles whose hypotenuses face each other.
  const double s = gap_m / std::sqrt(2.0);
  cases.push_back(
      {"triangles facing across their hypotenuses",
       LocalPolygon(kZurich, {{-1000, -1000}, {1000, -1000}, {-1000, 1000}}),
       LocalPolygon(kZurich, {{1000 + s, -1000 + s},
                              {1000 + s, 1000 + s},
                              {-1000 + s, 1000 + s}})});
  return cases;
}

TEST(VolumeIndex, ExactRefinementDropsCandidatesWhoseFootprintsMiss) {
  for (const RefinementCase& c : RefinementCases(/*gap_m=*/5)) {
    SCOPED_TRACE(c.name);
    VolumeIndex index;
    ASSERT_EQ(ValidateAndInsert(index, 1, MakeVolume(c.stored)),
              absl::OkStatus());
    const Volume4D query = MakeVolume(c.query);
    ASSERT_EQ(Validate(query), absl::OkStatus());
    ASSERT_FALSE(Intersect(MakeVolume(c.stored), query).has_value());
    EXPECT_THAT(index.QueryCandidates(query), ElementsAre(1));
    EXPECT_THAT(index.Query(query), IsEmpty());
  }
}

TEST(VolumeIndex, TouchingAndOverlappingFootprintsAreFound) {
  for (double gap_m : {0.0, -5.0}) {
    for (const RefinementCase& c : RefinementCases(gap_m)) {
      SCOPED_TRACE(absl::StrCat(c.name, ", gap ", gap_m, " m"));
      VolumeIndex index;
      ASSERT_EQ(ValidateAndInsert(index, 1, MakeVolume(c.stored)),
                absl::OkStatus());
      const Volume4D query = MakeVolume(c.query);
      ASSERT_EQ(Validate(query), absl::OkStatus());
      EXPECT_THAT(index.Query(query), ElementsAre(1));
    }
  }
}

TEST(VolumeIndex, FindsVolumesAcrossTheAntimeridian) {
  VolumeIndex index;
  // Reaches across lng 180 (0.001° of longitude is 110 m here).
  ASSERT_EQ(ValidateAndInsert(index, 1, MakeVolume(Circle{{10, 179.999}, 500})),
            absl::OkStatus());
  // Centred on lng 180 itself, with vertices on both sides.
  ASSERT_EQ(
      ValidateAndInsert(index, 2, MakeVolume(SquareAround({-35, 180}, 800))),
      absl::OkStatus());
  // West of the line only, 5.5 km from id 1.
  ASSERT_EQ(ValidateAndInsert(index, 3, MakeVolume(Circle{{10, -179.95}, 300})),
            absl::OkStatus());
  // The same latitude on the prime meridian: ECEF keeps it far away.
  ASSERT_EQ(ValidateAndInsert(index, 4, MakeVolume(Circle{{10, 0.001}, 500})),
            absl::OkStatus());

  struct Case {
    std::string name;
    Footprint query;
    std::vector<Id> expected;
  };
  const std::vector<Case> cases = {
      {"circle just west of the line", Circle{{10, -179.999}, 500}, {1}},
      {"circle 2 km west of the line", Circle{{10, -179.98}, 500}, {}},
      {"square west of the line, meeting id 1's western part",
       SquareAround({10, -179.97}, 3000),
       {1, 3}},
      {"square spanning the line", SquareAround({10, -179.985}, 4000), {1, 3}},
      {"square spanning the line, south of id 1",
       SquareAround(GeodesicDestination({10, 180}, 180, 1000), 400),
       {}},
      {"square east of the line", SquareAround({-35, 179.99}, 200), {2}},
      {"circle west of the line", Circle{{-35, -179.995}, 100}, {2}},
      {"circle on the line", Circle{{-35, 180}, 10}, {2}},
      {"circle on the line as -180", Circle{{-35, -180}, 10}, {2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Volume4D query = MakeVolume(c.query);
    ASSERT_EQ(Validate(query), absl::OkStatus());
    EXPECT_EQ(index.Query(query), c.expected);
  }
}

TEST(VolumeIndex, FindsVolumesAroundThePoles) {
  VolumeIndex index;
  ASSERT_EQ(ValidateAndInsert(index, 1, MakeVolume(Circle{{90, 0}, 2000})),
            absl::OkStatus());
  // The pole again, under another longitude.
  ASSERT_EQ(ValidateAndInsert(index, 2, MakeVolume(Circle{{90, 137}, 500})),
            absl::OkStatus());
  // A triangle enclosing the South Pole, its vertices 1.1 km from it.
  ASSERT_EQ(
      ValidateAndInsert(
          index, 3,
          MakeVolume(Polygon{{{-89.99, 0}, {-89.99, 120}, {-89.99, -120}}})),
      absl::OkStatus());
  // 11 km from the North Pole.
  ASSERT_EQ(ValidateAndInsert(index, 4, MakeVolume(Circle{{89.9, 0}, 100})),
            absl::OkStatus());

  struct Case {
    std::string name;
    Footprint query;
    std::vector<Id> expected;
  };
  const std::vector<Case> cases = {
      // Its nearest point is about 1.37 km from the pole.
      {"square 1.7 km from the pole", SquareAround({89.985, 45}, 300), {1}},
      {"triangle enclosing the pole",
       Polygon{{{89.995, 10}, {89.995, 130}, {89.995, -110}}},
       {1, 2}},
      {"square 5.6 km from the pole", SquareAround({89.95, -60}, 300), {}},
      {"circle on the South Pole", Circle{{-90, 0}, 10}, {3}},
      {"circle near the South Pole", Circle{{-89.9995, 77}, 1}, {3}},
      {"circle around id 4", Circle{{89.9, 0}, 50}, {4}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Volume4D query = MakeVolume(c.query);
    ASSERT_EQ(Validate(query), absl::OkStatus());
    EXPECT_EQ(index.Query(query), c.expected);
  }
}

// Random volumes in a region. Times sit on a 15-minute grid and altitudes on
// a 30 m grid, with occasional 1 µs jitter, so that touching and
// nearly-touching intervals are common.
class RandomVolumes {
 public:
  RandomVolumes(uint64_t seed, LatLng region_centre, double region_radius_m)
      : rng_(seed),
        region_centre_(region_centre),
        region_radius_m_(region_radius_m) {}

  std::mt19937_64& rng() { return rng_; }

  Volume4D Next() {
    for (int attempt = 0; attempt < 100; ++attempt) {
      Volume4D v{Volume3D{RandomFootprint(), RandomBand()}, RandomWindow()};
      if (Validate(v).ok()) return v;
      ++rejected_;
    }
    ADD_FAILURE() << "could not make a valid random volume";
    return MakeVolume(Circle{region_centre_, 10});
  }

  int rejected() const { return rejected_; }

 private:
  Footprint RandomFootprint() {
    const LatLng centre = GeodesicDestination(
        region_centre_, absl::Uniform(rng_, 0.0, 360.0),
        region_radius_m_ * std::sqrt(absl::Uniform(rng_, 0.0, 1.0)));
    const double size_m =
        std::exp(absl::Uniform(rng_, std::log(10.0), std::log(5000.0)));
    switch (absl::Uniform(rng_, 0, 3)) {
      case 0:
        return Circle{centre, size_m};
      case 1:
        return test_util::RandomStar(rng_, centre, size_m, /*convex=*/true);
      default:
        return test_util::RandomStar(rng_, centre, size_m, /*convex=*/false);
    }
  }

  AltitudeBand RandomBand() {
    const double lower =
        30.0 * absl::Uniform(absl::IntervalClosed, rng_, 0, 10);
    const double upper =
        lower + 30.0 * absl::Uniform(absl::IntervalClosed, rng_, 1, 4);
    return {lower, upper};
  }

  absl::Duration Jitter() {
    return absl::Bernoulli(rng_, 0.3) ? absl::Microseconds(absl::Uniform(
                                            absl::IntervalClosed, rng_, -1, 1))
                                      : absl::ZeroDuration();
  }

  TimeWindow RandomWindow() {
    const absl::Time start_slot =
        kT0 + absl::Minutes(15) * absl::Uniform(rng_, 0, 96);
    const absl::Time start = start_slot + Jitter();
    if (absl::Bernoulli(rng_, 0.1)) return {start, absl::InfiniteFuture()};
    const absl::Time end =
        start_slot +
        absl::Minutes(15) * absl::Uniform(absl::IntervalClosed, rng_, 1, 8) +
        Jitter();
    return {start, end};
  }

  std::mt19937_64 rng_;
  LatLng region_centre_;
  double region_radius_m_;
  int rejected_ = 0;
};

struct RandomRegion {
  std::string name;
  LatLng centre;
  int volumes;
  int queries;
};

// Compares Query() with a brute-force scan over `stored` for each query, and
// checks that QueryCandidates() is a superset. Returns the total hit count.
int64_t ExpectMatchesBruteForce(const VolumeIndex& index,
                                const std::map<Id, Volume4D>& stored,
                                const std::vector<Volume4D>& queries,
                                int64_t* refined_away) {
  int64_t hits = 0;
  int failures = 0;
  for (size_t i = 0; i < queries.size() && failures < 5; ++i) {
    const Volume4D& q = queries[i];
    std::vector<Id> expected;
    for (const auto& [id, v] : stored) {
      if (Intersect(q, v).has_value()) expected.push_back(id);
    }
    const std::vector<Id> got = index.Query(q);
    const std::vector<Id> candidates = index.QueryCandidates(q);
    hits += static_cast<int64_t>(expected.size());
    *refined_away += static_cast<int64_t>(candidates.size() - got.size());
    EXPECT_THAT(candidates, IsSupersetOf(got)) << "query " << i;
    if (got != expected) {
      ++failures;
      ADD_FAILURE() << "query " << i << ": " << DebugString(q.volume.footprint)
                    << " altitude [" << q.volume.altitude.lower_m << ", "
                    << q.volume.altitude.upper_m << "] time [" << q.time.start
                    << ", " << q.time.end << "]\n  got "
                    << ::testing::PrintToString(got) << "\n  expected "
                    << ::testing::PrintToString(expected);
    }
  }
  return hits;
}

TEST(VolumeIndex, MatchesBruteForceOnRandomVolumes) {
  const uint64_t seed = TestSeed(20240601);
  std::cout << "[   SEED   ] UTM_TEST_SEED=" << seed << std::endl;
  SCOPED_TRACE(absl::StrCat("UTM_TEST_SEED=", seed));

  // Regions of 20 km across. The first is the main one; the others put the
  // anti-meridian and the North Pole inside the region.
  const std::vector<RandomRegion> regions = {
      {"Zurich", kZurich, 2000, 300},
      {"anti-meridian", {-16.8, 180}, 1000, 150},
      {"North Pole", {89.96, 30}, 1000, 150},
  };
  for (size_t r = 0; r < regions.size(); ++r) {
    const RandomRegion& region = regions[r];
    SCOPED_TRACE(region.name);
    RandomVolumes gen(seed + r, region.centre, 10e3);
    VolumeIndex index;
    std::map<Id, Volume4D> stored;
    while (static_cast<int>(stored.size()) < region.volumes) {
      // Spread over the whole id range, high bit included.
      const Id id = gen.rng()();
      if (stored.count(id)) continue;
      const Volume4D v = gen.Next();
      ASSERT_EQ(index.Insert(id, v), absl::OkStatus());
      stored.emplace(id, v);
    }
    ASSERT_EQ(index.size(), stored.size());
    std::vector<Volume4D> queries;
    for (int i = 0; i < region.queries; ++i) queries.push_back(gen.Next());
    // Generation should rarely need a second try.
    EXPECT_LT(gen.rejected(), (region.volumes + region.queries) / 10);

    int64_t refined_away = 0;
    const int64_t hits =
        ExpectMatchesBruteForce(index, stored, queries, &refined_away);
    std::cout << "[   INFO   ] " << region.name << ": " << hits << " hits, "
              << refined_away << " candidates removed by the exact test"
              << std::endl;
    // The test means something only if both outcomes occur often (a few
    // hits per query on average).
    EXPECT_GT(hits, region.queries / 2);
    EXPECT_GT(refined_away, region.queries / 10);

    // Remove a random half, then compare again.
    std::vector<Id> ids;
    for (const auto& [id, v] : stored) ids.push_back(id);
    std::shuffle(ids.begin(), ids.end(), gen.rng());
    ids.resize(ids.size() / 2);
    for (Id id : ids) {
      ASSERT_TRUE(index.Remove(id)) << id;
      stored.erase(id);
    }
    for (Id id : ids) EXPECT_FALSE(index.Remove(id)) << id;
    ASSERT_EQ(index.size(), stored.size());
    refined_away = 0;
    const int64_t hits_after =
        ExpectMatchesBruteForce(index, stored, queries, &refined_away);
    EXPECT_GT(hits_after, region.queries / 4);
  }
}

TEST(VolumeIndex, QueryOverlapsReportsWhereEachHitMeets) {
  VolumeIndex index;
  ASSERT_TRUE(index
                  .Insert(7, MakeVolume(Circle{kZurich, 200}, {100, 300},
                                        Window(kT0, absl::Hours(2))))
                  .ok());
  ASSERT_TRUE(index
                  .Insert(3, MakeVolume(SquareAround(kZurich, 50), {250, 400},
                                        Window(kT0 + absl::Minutes(30),
                                               absl::Hours(3))))
                  .ok());
  ASSERT_TRUE(index  // same place, disjoint band: no hit
                  .Insert(9, MakeVolume(Circle{kZurich, 200}, {500, 600},
                                        Window(kT0, absl::Hours(2))))
                  .ok());
  const std::vector<VolumeIndex::Hit> hits = index.QueryOverlaps(
      MakeVolume(Circle{kZurich, 10}, {280, 450},
                 Window(kT0 + absl::Minutes(45), absl::Hours(1))));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 3u);
  EXPECT_EQ(hits[0].overlap.altitude.lower_m, 280);
  EXPECT_EQ(hits[0].overlap.altitude.upper_m, 400);
  EXPECT_EQ(hits[0].overlap.time.start, kT0 + absl::Minutes(45));
  EXPECT_EQ(hits[0].overlap.time.end, kT0 + absl::Minutes(105));
  EXPECT_EQ(hits[1].id, 7u);
  EXPECT_EQ(hits[1].overlap.altitude.upper_m, 300);
  EXPECT_EQ(hits[1].overlap.time.end, kT0 + absl::Minutes(105));
}

TEST(VolumeIndex, InsertAllPacksAnEmptyIndexAndMatchesInsert) {
  std::mt19937_64 rng(5);
  std::vector<std::pair<Id, Volume4D>> volumes;
  for (Id id = 0; id < 3000; ++id) {
    const LatLng centre =
        GeodesicDestination(kZurich, test_util::Uniform(rng, 0, 360),
                            test_util::Uniform(rng, 0, 20000));
    volumes.emplace_back(
        id, MakeVolume(Circle{centre, test_util::Uniform(rng, 20, 500)}));
  }
  VolumeIndex packed, one_by_one;
  ASSERT_TRUE(packed.InsertAll(volumes).ok());
  for (const auto& [id, v] : volumes)
    ASSERT_TRUE(one_by_one.Insert(id, v).ok());
  EXPECT_EQ(packed.size(), 3000u);
  for (int q = 0; q < 200; ++q) {
    const Volume4D query = MakeVolume(
        Circle{GeodesicDestination(kZurich, test_util::Uniform(rng, 0, 360),
                                   test_util::Uniform(rng, 0, 20000)),
               test_util::Uniform(rng, 10, 2000)});
    EXPECT_EQ(packed.Query(query), one_by_one.Query(query)) << q;
  }
  // Into a non-empty index, and refusing duplicates without adding any.
  ASSERT_TRUE(packed
                  .InsertAll({{5000, MakeVolume(Circle{kZurich, 10})},
                              {5001, MakeVolume(Circle{kZurich, 20})}})
                  .ok());
  EXPECT_EQ(packed.size(), 3002u);
  const absl::Status dup =
      packed.InsertAll({{6000, MakeVolume(Circle{kZurich, 10})},
                        {7, MakeVolume(Circle{kZurich, 10})}});
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(packed.size(), 3002u);
  EXPECT_TRUE(packed.Remove(5000));
  EXPECT_TRUE(packed.Remove(17));
  EXPECT_EQ(packed.size(), 3000u);
}

}  // namespace
}  // namespace utm::geo
