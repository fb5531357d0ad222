#include "services/telemetry/detector.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "geo/geodesy.h"
#include "gtest/gtest.h"

namespace utm::telemetry {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Relative state from the two aircraft, as the hand computations use them.
State Rel(State own, State intruder) { return Relative(own, intruder); }

Separation Sep(double d, double h, double t) {
  Separation s;
  s.horizontal_m = d;
  s.vertical_m = h;
  s.lookahead_s = t;
  return s;
}

void ExpectNoConflict(const Detection& d) {
  EXPECT_FALSE(d.conflict);
  EXPECT_EQ(d.time_in_s, kInf);
  EXPECT_EQ(d.time_out_s, -kInf);
}

TEST(Separation, Defaults) {
  const Separation s;
  EXPECT_EQ(s.horizontal_m, 50);
  EXPECT_EQ(s.vertical_m, 30);
  EXPECT_EQ(s.lookahead_s, 30);
}

// Defaults below: D = 50 m, H = 30 m, T = 30 s unless the test says.

TEST(Detect, HeadOn) {
  // Ownship at x = 0 east-bound at 10 m/s, intruder 1 km east west-bound at
  // 10 m/s, same altitude. s = (-1000, 0), v = (20, 0):
  // |-1000 + 20t| < 50  <=>  t in (47.5, 52.5); tcpa = 20000/400 = 50 s,
  // where they meet (0 m).
  const State rel = Rel({0, 0, 100, 10, 0, 0}, {1000, 0, 100, -10, 0, 0});
  const Detection far = Detect(rel, Separation());  // T = 30 < 47.5
  ExpectNoConflict(far);
  EXPECT_DOUBLE_EQ(far.tcpa_s, 50);
  EXPECT_DOUBLE_EQ(far.horizontal_at_cpa_m, 0);
  EXPECT_DOUBLE_EQ(far.vertical_at_cpa_m, 0);

  const Detection d = Detect(rel, Sep(50, 30, 60));
  EXPECT_TRUE(d.conflict);
  EXPECT_DOUBLE_EQ(d.time_in_s, 47.5);
  EXPECT_DOUBLE_EQ(d.time_out_s, 52.5);
  EXPECT_DOUBLE_EQ(d.tcpa_s, 50);
}

TEST(Detect, CrossingAtRightAngles) {
  // Ownship 600 m west of the crossing point east-bound at 20 m/s; intruder
  // 450 m south of it north-bound at 15 m/s: both arrive at t = 30 s.
  // s = (-600, 450), v = (20, -15): s = -30 v, so |s + tv| = 25 |30 - t|
  // < 50  <=>  t in (28, 32), clipped to T: (28, 30].
  const State rel = Rel({-600, 0, 80, 20, 0, 0}, {0, -450, 80, 0, 15, 0});
  const Detection d = Detect(rel, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_DOUBLE_EQ(d.time_in_s, 28);
  EXPECT_DOUBLE_EQ(d.time_out_s, 30);
  EXPECT_DOUBLE_EQ(d.tcpa_s, 30);
  EXPECT_NEAR(d.horizontal_at_cpa_m, 0, 1e-12);

  // The intruder 40 m further north: s = (-600, 410), s×v = 9000 - 8200 =
  // 800, miss distance 800/25 = 32 m; tcpa = (12000 + 6150)/625 = 29.04 s;
  // the loss lasts ±sqrt(50² - 32²)/25 = ±sqrt(1476)/25 s around it.
  const State miss = Rel({-600, 0, 80, 20, 0, 0}, {0, -410, 80, 0, 15, 0});
  const Detection m = Detect(miss, Separation());
  EXPECT_TRUE(m.conflict);
  EXPECT_NEAR(m.tcpa_s, 29.04, 1e-12);
  EXPECT_NEAR(m.horizontal_at_cpa_m, 32, 1e-9);
  EXPECT_NEAR(m.time_in_s, 29.04 - std::sqrt(1476.0) / 25, 1e-12);
  EXPECT_DOUBLE_EQ(m.time_out_s, 30);  // 29.04 + 1.54 > T
}

TEST(Detect, CrossingWhileClimbing) {
  // The right-angle crossing above (horizontal loss (28, 32)) with the
  // ownship 100 m below, climbing 4 m/s faster: |-100 + 4t| < 30 <=> t in
  // (17.5, 32.5). Overlap with [0, 30]: (28, 30).
  State own{-600, 0, 0, 20, 0, 4};
  const Detection d = Detect(own, {0, -450, 100, 0, 15, 0}, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_DOUBLE_EQ(d.time_in_s, 28);
  EXPECT_DOUBLE_EQ(d.time_out_s, 30);
  EXPECT_DOUBLE_EQ(d.vertical_at_cpa_m, 20);  // |-100 + 30·4|

  // Vertically apart by the time they meet: same altitude now, ownship
  // climbing 5 m/s: |5t| < 30 <=> t in (-6, 6), before (28, 32).
  own = {-600, 0, 0, 20, 0, 5};
  ExpectNoConflict(Detect(own, {0, -450, 0, 0, 15, 0}, Separation()));
}

TEST(Detect, Overtaking) {
  // Same track 10 m apart laterally: the ownship at 25 m/s, 300 m behind an
  // intruder at 15 m/s. s = (-300, -10), v = (10, 0):
  // (10t - 300)² + 100 < 2500  <=>  |10t - 300| < sqrt(2400)
  // <=> t in (30 - sqrt(24), 30 + sqrt(24)) = (25.101, 34.899); tcpa = 30 s
  // at 10 m.
  const State rel = Rel({0, 0, 60, 25, 0, 0}, {300, 10, 60, 15, 0, 0});
  const Detection d = Detect(rel, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_NEAR(d.time_in_s, 30 - std::sqrt(24.0), 1e-12);
  EXPECT_DOUBLE_EQ(d.time_out_s, 30);
  EXPECT_DOUBLE_EQ(d.tcpa_s, 30);
  EXPECT_NEAR(d.horizontal_at_cpa_m, 10, 1e-12);
}

TEST(Detect, VerticalOnlyStacked) {
  // Hovering one above the other: v = 0 and |s| = 0 < D, so the horizontal
  // loss lasts for ever; vz = 0, so it is all down to |sz| < H.
  const State below{100, 200, 50, 0, 0, 0};
  const Detection d = Detect({100, 200, 70, 0, 0, 0}, below, Separation());
  EXPECT_TRUE(d.conflict);  // 20 m < 30 m
  EXPECT_EQ(d.time_in_s, 0);
  EXPECT_EQ(d.time_out_s, 30);
  EXPECT_EQ(d.tcpa_s, 0);
  EXPECT_EQ(d.horizontal_at_cpa_m, 0);
  EXPECT_EQ(d.vertical_at_cpa_m, 20);
  // Exactly H apart is separated (strict <); more is too.
  ExpectNoConflict(Detect({100, 200, 80, 0, 0, 0}, below, Separation()));
  ExpectNoConflict(Detect({100, 200, 90, 0, 0, 0}, below, Separation()));
}

TEST(Detect, VerticalOnlyClimbingIntoEachOther) {
  // Same horizontal position, ownship 100 m below climbing at 3 m/s, the
  // intruder descending at 2 m/s: sz = -100, vz = 5:
  // |-100 + 5t| < 30  <=>  t in (14, 26).
  const Detection d =
      Detect({0, 0, 0, 0, 0, 3}, {0, 0, 100, 0, 0, -2}, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_DOUBLE_EQ(d.time_in_s, 14);
  EXPECT_DOUBLE_EQ(d.time_out_s, 26);
  EXPECT_EQ(d.tcpa_s, 0);  // no relative horizontal motion
  EXPECT_EQ(d.vertical_at_cpa_m, 100);
}

TEST(Detect, ParallelNeverConverge) {
  // Same velocity: the relative state never changes. Loss iff already in.
  const State v{0, 0, 0, 12, 5, 1};
  State own = v, intruder = v;
  own.z = intruder.z = 50;
  intruder.x = 30;  // 30 m apart: lost now, for the whole look-ahead
  Detection d = Detect(own, intruder, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_EQ(d.time_in_s, 0);
  EXPECT_EQ(d.time_out_s, 30);
  EXPECT_EQ(d.horizontal_at_cpa_m, 30);
  intruder.x = 60;  // 60 m apart: never
  d = Detect(own, intruder, Separation());
  ExpectNoConflict(d);
  EXPECT_EQ(d.tcpa_s, 0);
  EXPECT_EQ(d.horizontal_at_cpa_m, 60);
}

TEST(Detect, StationaryIntruder) {
  // The intruder hovers at (500, 40), 10 m below the ownship, which flies
  // east at 10 m/s from the origin. s = (-500, -40), v = (10, 0):
  // (10t - 500)² + 1600 < 2500  <=>  |10t - 500| < 30  <=>  t in (47, 53);
  // tcpa = 50 s at 40 m.
  const State hover{500, 40, 0, 0, 0, 0};
  const State own{0, 0, 10, 10, 0, 0};
  const Detection soon = Detect(own, hover, Separation());
  ExpectNoConflict(soon);  // beyond T = 30 s
  EXPECT_DOUBLE_EQ(soon.tcpa_s, 50);
  EXPECT_DOUBLE_EQ(soon.horizontal_at_cpa_m, 40);
  EXPECT_DOUBLE_EQ(soon.vertical_at_cpa_m, 10);
  const Detection d = Detect(own, hover, Sep(50, 30, 60));
  EXPECT_TRUE(d.conflict);
  EXPECT_DOUBLE_EQ(d.time_in_s, 47);
  EXPECT_DOUBLE_EQ(d.time_out_s, 53);
}

TEST(Detect, BothStationary) {
  const State a{0, 0, 100, 0, 0, 0};
  Detection d = Detect(a, {40, 0, 100, 0, 0, 0}, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_EQ(d.time_in_s, 0);
  EXPECT_EQ(d.time_out_s, 30);
  EXPECT_EQ(d.tcpa_s, 0);
  EXPECT_EQ(d.horizontal_at_cpa_m, 40);
  d = Detect(a, {80, 0, 100, 0, 0, 0}, Separation());
  ExpectNoConflict(d);
  EXPECT_EQ(d.horizontal_at_cpa_m, 80);
  // Exactly D apart is separated.
  ExpectNoConflict(Detect(a, {50, 0, 100, 0, 0, 0}, Separation()));
  // A relative speed under 1 nm/s counts as none.
  d = Detect(a, {40, 0, 100, 1e-12, 0, 0}, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_EQ(d.time_out_s, 30);
  EXPECT_EQ(d.tcpa_s, 0);
}

TEST(Detect, ExactTangentIsNoConflict) {
  // s = (-100, 50), v = (10, 0): the path passes exactly 50 m = D from the
  // intruder at tcpa = 1000/100 = 10 s. s×v = -500, and the discriminant
  // D²|v|² - (s×v)² = 2500·100 - 250000 = 0 exactly: no loss.
  const State rel{-100, 50, 0, 10, 0, 0};
  const Detection d = Detect(rel, Separation());
  ExpectNoConflict(d);
  EXPECT_EQ(d.tcpa_s, 10);
  EXPECT_EQ(d.horizontal_at_cpa_m, 50);
  // Just outside.
  ExpectNoConflict(Detect({-100, 50.001, 0, 10, 0, 0}, Separation()));
}

TEST(Detect, JustInsideTangentIsConflict) {
  // 1 mm inside: miss distance 49.999 m, the loss lasts
  // ±sqrt(50² - 49.999²)/10 = ±sqrt(0.099999)/10 s = ±31.6 ms around 10 s.
  const Detection d = Detect({-100, 49.999, 0, 10, 0, 0}, Separation());
  EXPECT_TRUE(d.conflict);
  const double half = std::sqrt(50.0 * 50 - 49.999 * 49.999) / 10;
  EXPECT_NEAR(d.time_in_s, 10 - half, 1e-9);
  EXPECT_NEAR(d.time_out_s, 10 + half, 1e-9);
  EXPECT_NEAR(d.horizontal_at_cpa_m, 49.999, 1e-12);
}

TEST(Detect, LossInProgress) {
  // s = (-20, 0), v = (10, 0), 5 m apart vertically:
  // |-20 + 10t| < 50  <=>  t in (-3, 7): lost now until 7 s; tcpa 2 s.
  const State rel{-20, 0, 5, 10, 0, 0};
  EXPECT_TRUE(LossNow(rel, Separation()));
  const Detection d = Detect(rel, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_EQ(d.time_in_s, 0);
  EXPECT_DOUBLE_EQ(d.time_out_s, 7);
  EXPECT_DOUBLE_EQ(d.tcpa_s, 2);
  EXPECT_DOUBLE_EQ(d.horizontal_at_cpa_m, 0);
}

TEST(Detect, ConflictStartingExactlyAtLookahead) {
  // The head-on encounter loses separation at 47.5 s. With T = 47.5 s the
  // loss begins exactly at the horizon: DAIDALUS's time_in = time_out = T,
  // not a conflict. A millisecond more and it is.
  const State rel{-1000, 0, 0, 20, 0, 0};
  ExpectNoConflict(Detect(rel, Sep(50, 30, 47.5)));
  ExpectNoConflict(Detect(rel, Sep(50, 30, 30)));  // beyond T
  const Detection d = Detect(rel, Sep(50, 30, 47.501));
  EXPECT_TRUE(d.conflict);
  EXPECT_DOUBLE_EQ(d.time_in_s, 47.5);
  EXPECT_DOUBLE_EQ(d.time_out_s, 47.501);
}

TEST(Detect, DivergingAfterClosestApproach) {
  // Moving apart: s·v > 0, so tcpa clamps to 0; the loss interval
  // |100 + 10t| < 50 <=> t in (-15, -5) lies in the past.
  Detection d = Detect({100, 0, 0, 10, 0, 0}, Separation());
  ExpectNoConflict(d);
  EXPECT_EQ(d.tcpa_s, 0);
  EXPECT_EQ(d.horizontal_at_cpa_m, 100);
  // Still inside but leaving: (-7, 3).
  d = Detect({20, 0, 0, 10, 0, 0}, Separation());
  EXPECT_TRUE(d.conflict);
  EXPECT_EQ(d.time_in_s, 0);
  EXPECT_DOUBLE_EQ(d.time_out_s, 3);
  EXPECT_EQ(d.tcpa_s, 0);
  // Leaving exactly now, (-10, 0): not a conflict (and not a loss now).
  EXPECT_FALSE(LossNow({50, 0, 0, 10, 0, 0}, Separation()));
  ExpectNoConflict(Detect({50, 0, 0, 10, 0, 0}, Separation()));
}

TEST(Detect, NonPositiveLookaheadFindsNothing) {
  ExpectNoConflict(Detect({0, 0, 0, 0, 0, 0}, Sep(50, 30, 0)));
  ExpectNoConflict(Detect({0, 0, 0, 0, 0, 0}, Sep(50, 30, -1)));
}

TEST(LossNow, IsStrict) {
  EXPECT_TRUE(LossNow({30, 39.9, 29.9, 5, 5, 5}, Separation()));
  EXPECT_FALSE(LossNow({30, 40, 0, 0, 0, 0}, Separation()));    // |s| = D
  EXPECT_FALSE(LossNow({0, 0, -30, 0, 0, 0}, Separation()));    // |sz| = H
  EXPECT_FALSE(LossNow({0, 0, 31, 0, 0, -100}, Separation()));  // not yet
}

// ---------------------------------------------------------------------------
// Randomised comparison against an independent reference.

// The reference works on the loss margin m(t) = max(|s + tv| - D,
// |sz + t·vz| - H), negative exactly when separation is lost. m is convex
// (a maximum of convex functions), so a golden-section search finds its
// minimum over [0, T] and bisection finds where it crosses zero on either
// side. Nothing is shared with the detector's closed form.
struct Reference {
  bool conflict;
  double time_in, time_out;
  double min_margin;  // min over [0, T] of m
  double tcpa, horizontal_at_cpa, vertical_at_cpa;
};

double Margin(const State& r, const Separation& sep, double t) {
  return std::max(std::hypot(r.x + t * r.vx, r.y + t * r.vy) - sep.horizontal_m,
                  std::fabs(r.z + t * r.vz) - sep.vertical_m);
}

Reference BruteForce(const State& r, const Separation& sep) {
  const double T = sep.lookahead_s;
  Reference ref{};
  // Golden section.
  const double g = (std::sqrt(5.0) - 1) / 2;
  double lo = 0, hi = T;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  double f1 = Margin(r, sep, x1), f2 = Margin(r, sep, x2);
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    if (f1 <= f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - g * (hi - lo), f1 = Margin(r, sep, x1);
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + g * (hi - lo), f2 = Margin(r, sep, x2);
    }
  }
  double t_min = (lo + hi) / 2, m_min = Margin(r, sep, t_min);
  const double m0 = Margin(r, sep, 0), mT = Margin(r, sep, T);
  if (m0 <= m_min) t_min = 0, m_min = m0;
  if (mT < m_min) t_min = T, m_min = mT;
  ref.min_margin = m_min;
  ref.conflict = m_min < 0;
  if (ref.conflict) {
    auto crossing = [&](double a, double b) {  // m(a) and m(b) differ in sign
      const bool a_neg = Margin(r, sep, a) < 0;
      for (int i = 0; i < 200 && b - a > 1e-13; ++i) {
        const double mid = (a + b) / 2;
        if ((Margin(r, sep, mid) < 0) == a_neg) {
          a = mid;
        } else {
          b = mid;
        }
      }
      return (a + b) / 2;
    };
    ref.time_in = m0 < 0 ? 0 : crossing(0, t_min);
    ref.time_out = mT < 0 ? T : crossing(t_min, T);
  }
  // Horizontal closest approach: where (s + tv)·v, increasing in t, turns
  // positive; 0 if it already is (or there is no relative motion).
  auto slope = [&](double t) {
    return (r.x + t * r.vx) * r.vx + (r.y + t * r.vy) * r.vy;
  };
  double tcpa = 0;
  if ((r.vx != 0 || r.vy != 0) && slope(0) < 0) {
    double a = 0, b = 1;
    while (slope(b) < 0) a = b, b *= 2;
    for (int i = 0; i < 200 && b - a > 1e-12 * b; ++i) {
      const double mid = (a + b) / 2;
      (slope(mid) < 0 ? a : b) = mid;
    }
    tcpa = (a + b) / 2;
  }
  ref.tcpa = tcpa;
  ref.horizontal_at_cpa = std::hypot(r.x + tcpa * r.vx, r.y + tcpa * r.vy);
  ref.vertical_at_cpa = std::fabs(r.z + tcpa * r.vz);
  return ref;
}

uint64_t SeedFromEnv(const char* name, uint64_t fallback) {
  const char* s = std::getenv(name);
  return s != nullptr && *s != '\0' ? std::strtoull(s, nullptr, 10) : fallback;
}

// A mixed bag of encounters: planned near misses (a chosen miss distance and
// time of closest approach, many of them within a hair of D), uniform random
// states, zero relative horizontal or vertical speed, and encounters already
// in loss. Half use the default separation, half random ones.
struct Encounter {
  State rel;
  Separation sep;
};

Encounter RandomEncounter(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  auto uni = [&](double lo, double hi) { return lo + (hi - lo) * u(rng); };
  Encounter e;
  if (u(rng) < 0.5) {
    e.sep = Sep(uni(5, 200), uni(3, 60), uni(5, 120));
  }
  const double D = e.sep.horizontal_m, H = e.sep.vertical_m,
               T = e.sep.lookahead_s;
  State& r = e.rel;
  const double kind = u(rng);
  if (kind < 0.45) {
    // Planned: relative speed, heading, miss distance, tcpa.
    const double speed = std::exp(uni(std::log(0.05), std::log(80.0)));
    const double heading = uni(0, 2 * M_PI);
    double miss = uni(0, 2.5 * D);
    if (u(rng) < 0.3) {  // within a hair of tangent
      const double scale = std::pow(10.0, -static_cast<int>(uni(3, 13)));
      miss = D * (1 + (u(rng) < 0.5 ? -1 : 1) * scale * uni(0.5, 1.5));
    }
    const double tcpa = uni(-20, 1.5 * T);
    const double ux = std::cos(heading), uy = std::sin(heading);
    r.vx = speed * ux, r.vy = speed * uy;
    r.x = -tcpa * r.vx - miss * uy;
    r.y = -tcpa * r.vy + miss * ux;
    r.z = uni(-4 * H, 4 * H);
    r.vz = u(rng) < 0.2 ? 0 : uni(-15, 15);
  } else if (kind < 0.75) {
    r = {uni(-2000, 2000), uni(-2000, 2000), uni(-200, 200),
         uni(-60, 60),     uni(-60, 60),     uni(-15, 15)};
  } else if (kind < 0.85) {  // no relative horizontal motion
    r = {uni(-2 * D, 2 * D),
         uni(-2 * D, 2 * D),
         uni(-300, 300),
         0,
         0,
         u(rng) < 0.3 ? 0 : uni(-15, 15)};
  } else if (kind < 0.95) {  // level relative to each other
    r = {uni(-1500, 1500), uni(-1500, 1500), uni(-2 * H, 2 * H),
         uni(-60, 60),     uni(-60, 60),     0};
  } else {  // already in loss
    r = {uni(-0.7 * D, 0.7 * D), uni(-0.7 * D, 0.7 * D), uni(-H, H),
         uni(-40, 40),           uni(-40, 40),           uni(-10, 10)};
  }
  return e;
}

// Encounters whose minimum margin is within this of zero touch the cylinder
// (tangent passes, losses beginning at T or ending at 0, vertical grazes):
// there the yes/no answer depends on the last bits of the arithmetic, and
// the two methods may disagree.
constexpr double kBoundaryBandM = 1e-6;

TEST(DetectRandomised, MatchesBruteForceReference) {
  const uint64_t seed = SeedFromEnv("UTM_DETECTOR_SEED", 20261121);
  std::printf("seed %llu (override with UTM_DETECTOR_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  constexpr int kEncounters = 200000;
  int conflicts = 0, in_band = 0, disagreements_in_band = 0;
  double worst_time = 0, worst_distance = 0, worst_tcpa = 0;
  for (int i = 0; i < kEncounters; ++i) {
    const Encounter e = RandomEncounter(rng);
    const Detection d = Detect(e.rel, e.sep);
    const Reference ref = BruteForce(e.rel, e.sep);
    const bool boundary = std::fabs(ref.min_margin) < kBoundaryBandM;
    in_band += boundary;
    const std::string where =
        "encounter " + std::to_string(i) + " of seed " + std::to_string(seed);
    if (d.conflict != ref.conflict) {
      ASSERT_TRUE(boundary)
          << where << ": detector " << d.conflict << ", reference "
          << ref.conflict << ", min margin " << ref.min_margin;
      ++disagreements_in_band;
    }
    if (d.conflict && ref.conflict && !boundary) {
      ++conflicts;
      ASSERT_NEAR(d.time_in_s, ref.time_in, 1e-3) << where;
      ASSERT_NEAR(d.time_out_s, ref.time_out, 1e-3) << where;
      worst_time = std::max({worst_time, std::fabs(d.time_in_s - ref.time_in),
                             std::fabs(d.time_out_s - ref.time_out)});
    }
    ASSERT_NEAR(d.tcpa_s, ref.tcpa, 1e-3) << where;
    ASSERT_NEAR(d.horizontal_at_cpa_m, ref.horizontal_at_cpa, 1e-3) << where;
    ASSERT_NEAR(d.vertical_at_cpa_m, ref.vertical_at_cpa, 1e-3) << where;
    worst_tcpa = std::max(worst_tcpa, std::fabs(d.tcpa_s - ref.tcpa));
    worst_distance =
        std::max({worst_distance,
                  std::fabs(d.horizontal_at_cpa_m - ref.horizontal_at_cpa),
                  std::fabs(d.vertical_at_cpa_m - ref.vertical_at_cpa)});
  }
  std::printf(
      "%d encounters, %d conflicts compared, %d within %.0e m of the "
      "boundary (%d of them disagreeing); worst differences: loss times "
      "%.2e s, tcpa %.2e s, distances %.2e m\n",
      kEncounters, conflicts, in_band, kBoundaryBandM, disagreements_in_band,
      worst_time, worst_tcpa, worst_distance);
  EXPECT_GT(conflicts, kEncounters / 10);  // the mix is not all misses
  EXPECT_GT(in_band, 100);                 // and it does probe the boundary
}

TEST(DetectRandomised, ReferenceAgreesWithMillisecondSampling) {
  // Cross-checks the reference (and so the detector) against the plainest
  // method there is: evaluate the loss predicate every millisecond.
  const uint64_t seed = SeedFromEnv("UTM_DETECTOR_SEED", 20261121) + 1;
  std::printf("seed %llu (override with UTM_DETECTOR_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    const Encounter e = RandomEncounter(rng);
    const Detection d = Detect(e.rel, e.sep);
    const State& r = e.rel;
    const double d2 = e.sep.horizontal_m * e.sep.horizontal_m;
    double first = kInf, last = -kInf;
    const int steps = static_cast<int>(e.sep.lookahead_s * 1000);
    for (int k = 0; k <= steps; ++k) {
      const double t = k * 1e-3;
      const double x = r.x + t * r.vx, y = r.y + t * r.vy;
      if (x * x + y * y < d2 && std::fabs(r.z + t * r.vz) < e.sep.vertical_m) {
        first = std::min(first, t);
        last = t;
      }
    }
    const std::string where = "encounter " + std::to_string(i);
    if (d.conflict && d.time_out_s - d.time_in_s > 2e-3) {
      ASSERT_GE(first, d.time_in_s - 1e-9) << where;
      ASSERT_LE(first, d.time_in_s + 1e-3) << where;
      ASSERT_LE(last, d.time_out_s + 1e-9) << where;
      ASSERT_GE(last, d.time_out_s - 1e-3 - 1e-9) << where;
    } else if (!d.conflict) {
      // Sampled losses the detector misses must hug the boundary.
      if (first != kInf) {
        ASSERT_LT(BruteForce(r, e.sep).min_margin, kBoundaryBandM) << where;
      }
    }
  }
}

TEST(DetectRandomised, SwappingAircraftGivesTheSameAnswer) {
  const uint64_t seed = SeedFromEnv("UTM_DETECTOR_SEED", 20261121) + 2;
  std::printf("seed %llu (override with UTM_DETECTOR_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1000, 1000);
  for (int i = 0; i < 20000; ++i) {
    const Encounter e = RandomEncounter(rng);
    const State own{u(rng),      u(rng),      u(rng) / 5,
                    u(rng) / 20, u(rng) / 20, u(rng) / 100};
    const State intruder = {own.x - e.rel.x,   own.y - e.rel.y,
                            own.z - e.rel.z,   own.vx - e.rel.vx,
                            own.vy - e.rel.vy, own.vz - e.rel.vz};
    const Detection a = Detect(own, intruder, e.sep);
    const Detection b = Detect(intruder, own, e.sep);
    ASSERT_EQ(a.conflict, b.conflict) << i;
    ASSERT_EQ(a.time_in_s, b.time_in_s) << i;
    ASSERT_EQ(a.time_out_s, b.time_out_s) << i;
    ASSERT_EQ(a.tcpa_s, b.tcpa_s) << i;
    ASSERT_EQ(a.horizontal_at_cpa_m, b.horizontal_at_cpa_m) << i;
    ASSERT_EQ(a.vertical_at_cpa_m, b.vertical_at_cpa_m) << i;
  }
}

// ---------------------------------------------------------------------------
// From geodetic states.

const geo::LatLng kZurich{47.3769, 8.5417};

GeodeticState At(const geo::LatLng& p, double altitude_m, double east_mps = 0,
                 double north_mps = 0, double up_mps = 0) {
  GeodeticState s;
  s.position = p;
  s.altitude_m = altitude_m;
  s.east_mps = east_mps;
  s.north_mps = north_mps;
  s.up_mps = up_mps;
  return s;
}

TEST(RelativeLocalState, FlatEarthErrorAtTenKilometres) {
  // Two aircraft 10 km apart at the same altitude, at three latitudes and
  // eight bearings. The horizontal distance in the tangent plane against the
  // geodesic distance and the ECEF chord between the points on the
  // ellipsoid, and the curvature drop a plain 3-D tangent frame would put
  // into the vertical separation.
  double worst_mid = 0, worst_own = 0, worst_chord = 0, drop = 0;
  for (const geo::LatLng& origin :
       {kZurich, geo::LatLng{0.5, -60}, geo::LatLng{69.6, 18.9}}) {
    for (int k = 0; k < 8; ++k) {
      const geo::LatLng q = geo::GeodesicDestination(origin, 45.0 * k, 10000);
      const double geodesic = geo::GeodesicDistance(origin, q);
      const double chord =
          geo::ChordLength(geo::ToEcef(origin), geo::ToEcef(q));
      for (TangentPoint tp :
           {TangentPoint::kMidpoint, TangentPoint::kOwnship}) {
        const State r = RelativeLocalState(At(origin, 120), At(q, 120), tp);
        const double plane = std::hypot(r.x, r.y);
        EXPECT_EQ(r.z, 0);
        (tp == TangentPoint::kMidpoint ? worst_mid : worst_own) =
            std::max(tp == TangentPoint::kMidpoint ? worst_mid : worst_own,
                     std::fabs(plane - geodesic));
        if (tp == TangentPoint::kMidpoint) {
          worst_chord = std::max(worst_chord, std::fabs(plane - chord));
        }
      }
      const geo::Vec3 naive =
          geo::LocalCartesianFrame(origin, 120).Forward(q, 120);
      drop = std::max(drop, -naive.z);
    }
  }
  std::printf(
      "10 km apart: |horizontal - geodesic| <= %.2f mm (midpoint tangent), "
      "%.2f mm (ownship tangent); |horizontal - ECEF chord| <= %.1e m "
      "(midpoint); a 3-D tangent frame at the ownship would put the intruder "
      "%.2f m lower\n",
      worst_mid * 1e3, worst_own * 1e3, worst_chord, drop);
  EXPECT_LT(worst_mid, 1.5e-3);
  EXPECT_LT(worst_own, 5e-3);
  EXPECT_LT(worst_chord, 1e-4);
  EXPECT_GT(drop, 7.7);
  EXPECT_LT(drop, 7.9);
}

TEST(RelativeLocalState, HeadOnAlongAGeodesicMeetsInTheMiddle) {
  // Two drones 10 km apart flying at each other at 20 m/s along the geodesic
  // between them, the ownship 10 m lower and climbing at 5 cm/s: they meet
  // after 10000/40 = 250 s, 0 m apart horizontally and -10 + 0.05·250 =
  // 2.5 m vertically, losing separation 50/40 = 1.25 s before.
  for (double azimuth : {0.0, 37.0, 90.0, 135.0, 270.0}) {
    const geo::LatLng a = kZurich;
    const geo::LatLng b = geo::GeodesicDestination(a, azimuth, 10000);
    const double az_a = geo::GeodesicAzimuth(a, b) * M_PI / 180;
    const double az_b = geo::GeodesicAzimuth(b, a) * M_PI / 180;
    const GeodeticState own =
        At(a, 100, 20 * std::sin(az_a), 20 * std::cos(az_a), 0.05);
    const GeodeticState intruder =
        At(b, 110, 20 * std::sin(az_b), 20 * std::cos(az_b), 0);
    for (TangentPoint tp : {TangentPoint::kMidpoint, TangentPoint::kOwnship}) {
      const State rel = RelativeLocalState(own, intruder, tp);
      EXPECT_DOUBLE_EQ(rel.z, -10);
      EXPECT_DOUBLE_EQ(rel.vz, 0.05);
      const Detection d = Detect(rel, Sep(50, 30, 300));
      EXPECT_TRUE(d.conflict);
      EXPECT_NEAR(d.tcpa_s, 250, 1e-3) << azimuth;
      EXPECT_NEAR(d.horizontal_at_cpa_m, 0, 1e-2) << azimuth;
      EXPECT_NEAR(d.vertical_at_cpa_m, 2.5, 1e-4) << azimuth;
      EXPECT_NEAR(d.time_in_s, 248.75, 1e-3) << azimuth;
    }
  }
}

}  // namespace
}  // namespace utm::telemetry
