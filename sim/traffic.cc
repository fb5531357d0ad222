#include "sim/traffic.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace utm::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180;

// Layout constants (docs/utmsim.md explains them).
constexpr double kMinCircuitRadiusM = 50, kMaxCircuitRadiusM = 150;
constexpr double kIntentMarginM = 30;   // footprint beyond the path
constexpr double kBandHalfM = 15;       // intent band around the layer
constexpr double kMaxEncounterDzM = 5;  // B's altitude offset in a pair
constexpr double kLowestLayerAglM = 60;
constexpr double kLayerGapM = 20;       // layer spacing is H + this
constexpr double kCellMarginM = 50;     // extra spacing between cells
constexpr double kApproachExtraS = 15;  // moving for T + this before loss
constexpr double kDepartS = 20;         // moving this long after CPA
constexpr double kStrayOutM = 150;      // how far beyond the boundary
// Stated accuracy of generated reports, metres (95 %): well inside the
// intent margin and the band, so only strays leave their intents.
constexpr double kHorizontalAccuracyM = 3, kVerticalAccuracyM = 5;
// A report is nonconforming only when its accuracy circle misses the
// intent, so a stray counts as out once it is this far beyond its circle
// (accuracy, plus a metre so that no rounding decides).
constexpr double kStrayClearM = kHorizontalAccuracyM + 1;

// Longest a stray can take from leaving its circuit to being kStrayClearM
// beyond its circle: it heads straight out from the centre, starting at
// least r cos(pi/k) from it (the middle of an edge of its k-gon).
double StrayLeaveS(double circuit_radius_m, int legs, double speed_mps) {
  return (circuit_radius_m + kIntentMarginM -
          circuit_radius_m * std::cos(kPi / legs) + kStrayClearM) /
         speed_mps;
}

geo::Vec2 Add(geo::Vec2 a, geo::Vec2 b) { return {a.x + b.x, a.y + b.y}; }
geo::Vec2 Sub(geo::Vec2 a, geo::Vec2 b) { return {a.x - b.x, a.y - b.y}; }
geo::Vec2 Scale(geo::Vec2 a, double s) { return {a.x * s, a.y * s}; }
double Norm(geo::Vec2 a) { return std::hypot(a.x, a.y); }
// Unit vector (east, north) of a heading, radians clockwise from north.
geo::Vec2 Heading(double rad) { return {std::sin(rad), std::cos(rad)}; }

Scenario::Cell MakeCell(const geo::LatLng& centre) {
  Scenario::Cell c;
  c.centre = centre;
  c.origin_ecef = geo::ToEcef(centre);
  const double phi = centre.lat_deg * kDeg, lam = centre.lng_deg * kDeg;
  c.east = {-std::sin(lam), std::cos(lam), 0};
  c.north = {-std::sin(phi) * std::cos(lam), -std::sin(phi) * std::sin(lam),
             std::cos(phi)};
  return c;
}

geo::LatLng ToLatLng(const Scenario::Cell& c, geo::Vec2 p) {
  return geo::FromEcef({c.origin_ecef.x + p.x * c.east.x + p.y * c.north.x,
                        c.origin_ecef.y + p.x * c.east.y + p.y * c.north.y,
                        c.origin_ecef.z + p.x * c.east.z + p.y * c.north.z});
}

// Grid offsets (i, j) ordered by distance from the centre, then angle: the
// first n are the n innermost cells.
std::vector<std::pair<int, int>> Spiral(int n) {
  const int m = static_cast<int>(std::ceil(std::sqrt(n / kPi))) + 2;
  std::vector<std::pair<int, int>> all;
  for (int i = -m; i <= m; ++i) {
    for (int j = -m; j <= m; ++j) all.emplace_back(i, j);
  }
  std::sort(all.begin(), all.end(), [](auto a, auto b) {
    const int da = a.first * a.first + a.second * a.second;
    const int db = b.first * b.first + b.second * b.second;
    if (da != db) return da < db;
    return std::atan2(a.second, a.first) < std::atan2(b.second, b.first);
  });
  all.resize(static_cast<size_t>(n));
  return all;
}

// Radius a grid of n cells at `pitch` covers (to a cell's outer edge).
double Covered(const std::vector<std::pair<int, int>>& grid, double pitch) {
  double r = 0;
  for (auto [i, j] : grid) r = std::max(r, std::hypot(i, j) * pitch);
  return grid.empty() ? 0 : r + pitch * std::sqrt(0.5);
}

// The pitch for n cells: at least `min_pitch`; with a radius, spread over it.
absl::StatusOr<double> Pitch(int n, double min_pitch, double radius_m,
                             const char* what) {
  if (n == 0 || radius_m <= 0) return min_pitch;
  const std::vector<std::pair<int, int>> grid = Spiral(n);
  double pitch = std::max(min_pitch, radius_m / (std::sqrt(n / kPi) + 1));
  while (Covered(grid, pitch) > radius_m && pitch > min_pitch) {
    pitch = std::max(min_pitch, pitch * 0.97);
  }
  if (Covered(grid, pitch) > radius_m) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "radius_m: %d %s cells %.0f m apart need a radius of %.0f m, more "
        "than %.0f m (use a larger radius, or 0 for the smallest)",
        n, what, min_pitch, Covered(grid, min_pitch), radius_m));
  }
  return pitch;
}

geo::LatLng GridCentre(const geo::LatLng& centre, std::pair<int, int> ij,
                       double pitch) {
  return geo::GeodesicDestination(
      geo::GeodesicDestination(centre, 90, ij.first * pitch), 0,
      ij.second * pitch);
}

// A regular polygon of k vertices at radius r, first vertex at heading
// `rotation` (radians), counter-clockwise if `ccw`.
std::vector<geo::Vec2> RegularPolygon(int k, double r, double rotation,
                                      bool ccw) {
  std::vector<geo::Vec2> out;
  for (int j = 0; j < k; ++j) {
    const double a = rotation + (ccw ? -1 : 1) * 2 * kPi * j / k;
    out.push_back(Scale(Heading(a), r));
  }
  return out;
}

void SetCircuit(Scenario::Path* path, std::vector<geo::Vec2> vertices,
                double speed, double phase_fraction) {
  path->circuit = std::move(vertices);
  path->circuit_cum_m.assign(1, 0);
  const size_t k = path->circuit.size();
  for (size_t j = 0; j < k; ++j) {
    path->circuit_cum_m.push_back(
        path->circuit_cum_m.back() +
        Norm(Sub(path->circuit[(j + 1) % k], path->circuit[j])));
  }
  path->circuit_speed_mps = speed;
  path->circuit_phase_m = phase_fraction * path->circuit_cum_m.back();
}

absl::Status CheckOptions(const TrafficOptions& o) {
  auto bad = [](const char* field, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  if (o.drones < 1 || o.drones > 10000000) {
    return bad("drones", "must be in [1, 10,000,000]");
  }
  if (!(o.duration_s > 0) || o.duration_s > 86400) {
    return bad("duration_s", "must be in (0, 86400]");
  }
  if (!(o.report_rate_hz > 0) || o.report_rate_hz > 100) {
    return bad("report_rate_hz", "must be in (0, 100]");
  }
  if (!(o.min_speed_mps > 0) || !(o.max_speed_mps >= o.min_speed_mps) ||
      o.max_speed_mps > 60) {
    return bad("min_speed_mps",
               "need 0 < min_speed_mps <= max_speed_mps <= 60");
  }
  if (!(o.horizontal_separation_m > 0) || !(o.vertical_separation_m > 0) ||
      !(o.lookahead_s >= 0)) {
    return bad("horizontal_separation_m",
               "separation minima must be > 0 and the look-ahead >= 0");
  }
  if (o.max_random_layers < 1 || o.max_random_layers > 100) {
    return bad("max_random_layers", "must be in [1, 100]");
  }
  if (!(o.radius_m >= 0)) return bad("radius_m", "must be >= 0");
  if (o.head_on_pairs < -1 || o.crossing_pairs < -1 || o.strays < -1) {
    return bad("head_on_pairs", "counts must be >= 0 (or -1: automatic)");
  }
  if (std::abs(o.centre.lat_deg) > 80 || std::abs(o.centre.lng_deg) > 180) {
    return bad("centre",
               "latitude must be in [-80, 80], longitude in "
               "[-180, 180]");
  }
  return absl::OkStatus();
}

}  // namespace

const char* RoleName(DroneRole role) {
  switch (role) {
    case DroneRole::kRandom:
      return "random";
    case DroneRole::kHeadOn:
      return "head_on";
    case DroneRole::kCrossing:
      return "crossing";
    case DroneRole::kStray:
      return "stray";
  }
  return "?";
}

absl::StatusOr<Scenario> Scenario::Generate(const TrafficOptions& o) {
  if (absl::Status s = CheckOptions(o); !s.ok()) return s;
  const int automatic = o.drones >= 5 ? std::max(1, o.drones / 100) : 0;
  const int head_on = o.head_on_pairs >= 0 ? o.head_on_pairs : automatic;
  const int crossing = o.crossing_pairs >= 0 ? o.crossing_pairs : automatic;
  // A stray must be clearly out (kStrayClearM beyond its circle) by the
  // second-to-last report, so that a run sees it out whatever the draw:
  // the slowest, widest triangle needs the longest.
  const int ticks = std::max(
      1, static_cast<int>(std::ceil(o.duration_s * o.report_rate_hz - 1e-9)));
  const double stray_out_by_s = (ticks - 2) / o.report_rate_hz;
  const double stray_worst_s =
      StrayLeaveS(kMaxCircuitRadiusM, 3, o.min_speed_mps);
  const bool strays_fit = stray_out_by_s >= stray_worst_s;
  if (o.strays > 0 && !strays_fit) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "strays: a stray may need %.1f s to get %.0f m beyond its intent "
        "(its stated accuracy plus 1 m), two reports before the end: "
        "duration_s must be at least %.1f s at %g Hz (or strays 0)",
        stray_worst_s, kStrayClearM,
        (std::ceil(stray_worst_s * o.report_rate_hz - 1e-9) + 2) /
            o.report_rate_hz,
        o.report_rate_hz));
  }
  const int strays = o.strays >= 0 ? o.strays : strays_fit ? automatic : 0;
  const int64_t events = 2LL * head_on + 2LL * crossing + strays;
  if (events > o.drones) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "drones: %d head-on pairs, %d crossing pairs and %d strays need %d "
        "drones, more than %d",
        head_on, crossing, strays, events, o.drones));
  }
  const int randoms = o.drones - static_cast<int>(events);
  const double d = o.horizontal_separation_m, h = o.vertical_separation_m;
  const double vmin = o.min_speed_mps, vmax = o.max_speed_mps;
  const double extrapolation = 2 * vmax * o.lookahead_s;

  // Cell spacing: two drones of different cells, each anywhere it flies and
  // extrapolated by up to vmax * T, stay more than D + margin apart.
  const double random_reach = kMaxCircuitRadiusM;
  const double approach_s = o.lookahead_s + kApproachExtraS;
  // Closing speed of a pair is at least vmin (head-on: 2 vmin; crossing at
  // 60-120 degrees: |w|^2 >= (vA^2 + vB^2) / 2 >= vmin^2).
  const double encounter_reach =
      vmax * std::max(approach_s + d / vmin, kDepartS + d / vmin) + d;
  const double stray_reach = kMaxCircuitRadiusM + kIntentMarginM + kStrayOutM;
  const double event_reach = std::max(encounter_reach, stray_reach);
  const double random_min_pitch =
      std::max(2 * random_reach + extrapolation + d + kCellMarginM,
               2 * (random_reach + 2 * kIntentMarginM) + kCellMarginM);
  const double event_min_pitch =
      2 * event_reach + extrapolation + d + kCellMarginM;

  const int layers = std::max(1, std::min(o.max_random_layers, randoms));
  const int random_cells = randoms == 0 ? 0 : (randoms + layers - 1) / layers;
  const int event_cells = head_on + crossing + strays;

  Scenario s;
  s.duration_s_ = o.duration_s;
  s.rate_hz_ = o.report_rate_hz;
  absl::StatusOr<double> rp =
      Pitch(random_cells, random_min_pitch, o.radius_m, "random-drone");
  if (!rp.ok()) return rp.status();
  absl::StatusOr<double> ep =
      Pitch(event_cells, event_min_pitch, o.radius_m, "encounter/stray");
  if (!ep.ok()) return ep.status();
  s.random_pitch_m_ = *rp;
  s.event_pitch_m_ = *ep;
  const std::vector<std::pair<int, int>> random_grid = Spiral(random_cells);
  const std::vector<std::pair<int, int>> event_grid = Spiral(event_cells);
  s.radius_m_ = std::max(Covered(random_grid, s.random_pitch_m_),
                         Covered(event_grid, s.event_pitch_m_));
  for (auto ij : event_grid) {
    s.cells_.push_back(MakeCell(GridCentre(o.centre, ij, s.event_pitch_m_)));
  }
  for (auto ij : random_grid) {
    s.cells_.push_back(MakeCell(GridCentre(o.centre, ij, s.random_pitch_m_)));
  }

  const double layer_spacing = h + kLayerGapM;
  const double event_altitude = o.ground_altitude_m + kLowestLayerAglM;
  std::mt19937_64 rng(o.seed);
  auto uniform = [&rng](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto circle_intent = [&s](int cell, double radius, double altitude) {
    geo::Volume3D v;
    v.footprint = geo::Circle{s.cells_[cell].centre, radius};
    v.altitude = {altitude - kBandHalfM, altitude + kBandHalfM};
    return v;
  };
  auto add = [&](DroneRole role, Path path, geo::Volume3D intent,
                 int32_t priority) {
    Drone drone;
    drone.aircraft_id =
        absl::StrCat("sim", o.seed, "-", o.run_id, o.run_id.empty() ? "" : "-",
                     RoleName(role), "-", s.drones_.size());
    drone.role = role;
    drone.intent = std::move(intent);
    drone.priority = priority;
    drone.first_s = 0;
    // The last tick's report, phase included, comes before ticks / rate
    // (which is at or after duration_s).
    drone.last_s = std::max(o.duration_s, ticks / o.report_rate_hz);
    s.drones_.push_back(std::move(drone));
    s.paths_.push_back(std::move(path));
  };

  int cell = 0;
  // Encounters: both drones pass the cell centre region; loss at loss_s.
  for (int e = 0; e < head_on + crossing; ++e, ++cell) {
    const bool is_head_on = e < head_on;
    const double psi = uniform(0, 2 * kPi);
    const double va = uniform(vmin, vmax), vb = uniform(vmin, vmax);
    const double dz = uniform(-kMaxEncounterDzM, kMaxEncounterDzM);
    const geo::Vec2 ua = Heading(psi);
    geo::Vec2 a0{0, 0}, b0{0, 0}, vel_a = Scale(ua, va), vel_b;
    double miss = 0;
    if (is_head_on) {
      miss = uniform(0, 0.4 * d);
      const geo::Vec2 n{ua.y, -ua.x};
      a0 = Scale(n, -miss / 2);
      b0 = Scale(n, miss / 2);
      vel_b = Scale(ua, -vb);
    } else {
      const double theta =
          uniform(60, 120) * kDeg * (uniform(0, 1) < 0.5 ? -1 : 1);
      vel_b = Scale(Heading(psi + theta), vb);
    }
    const double closing = Norm(Sub(vel_a, vel_b));
    const double half = std::sqrt(d * d - miss * miss) / closing;
    const double loss_s = uniform(0.4, 0.7) * o.duration_s;
    const double cpa_s = loss_s + half;
    const double t0 = loss_s - approach_s, t1 = cpa_s + kDepartS;
    auto at = [&](geo::Vec2 p0, geo::Vec2 v, double t) {
      return Add(p0, Scale(v, t - cpa_s));
    };
    const int a = static_cast<int>(s.drones_.size());
    for (int which = 0; which < 2; ++which) {
      const geo::Vec2 p0 = which == 0 ? a0 : b0;
      const geo::Vec2 v = which == 0 ? vel_a : vel_b;
      const double altitude = event_altitude + (which == 0 ? 0 : dz);
      Path path;
      path.cell = cell;
      path.altitude_m = altitude;
      path.legs = {{t0, at(p0, v, t0)}, {t1, at(p0, v, t1)}};
      // Intent: a corridor around the whole leg, kIntentMarginM wide.
      const geo::Vec2 u = Scale(v, 1 / Norm(v));
      const geo::Vec2 n{u.y, -u.x};
      const geo::Vec2 p = Sub(path.legs[0].p, Scale(u, kIntentMarginM));
      const geo::Vec2 q = Add(path.legs[1].p, Scale(u, kIntentMarginM));
      geo::Polygon corridor;
      for (geo::Vec2 corner :
           {Add(p, Scale(n, kIntentMarginM)), Add(q, Scale(n, kIntentMarginM)),
            Sub(q, Scale(n, kIntentMarginM)),
            Sub(p, Scale(n, kIntentMarginM))}) {
        corridor.vertices.push_back(ToLatLng(s.cells_[cell], corner));
      }
      geo::Volume3D intent;
      intent.footprint = std::move(corridor);
      intent.altitude = {altitude - kBandHalfM, altitude + kBandHalfM};
      // The second of a pair files at a higher priority: F3548 lets it
      // overlap the first's intent, so both are accepted.
      add(is_head_on ? DroneRole::kHeadOn : DroneRole::kCrossing,
          std::move(path), std::move(intent), which);
    }
    Conflict c;
    c.a = a;
    c.b = a + 1;
    c.kind = is_head_on ? DroneRole::kHeadOn : DroneRole::kCrossing;
    c.loss_s = loss_s;
    c.cpa_s = cpa_s;
    c.end_s = cpa_s + half;
    c.miss_m = miss;
    c.vertical_m = std::abs(dz);
    c.closing_mps = closing;
    s.conflicts_.push_back(c);
  }

  auto random_circuit = [&](Path* path) {
    const int k = 3 + static_cast<int>(uniform(0, 4));  // 3-6 legs
    const double r = uniform(kMinCircuitRadiusM, kMaxCircuitRadiusM);
    const double rotation = uniform(0, 2 * kPi);
    const bool ccw = uniform(0, 1) < 0.5;
    SetCircuit(path, RegularPolygon(std::min(k, 6), r, rotation, ccw),
               uniform(vmin, vmax), uniform(0, 1));
    return std::make_pair(std::min(k, 6), r);
  };

  // Strays: a circuit inside a circle, then straight out of it.
  for (int e = 0; e < strays; ++e, ++cell) {
    Path path;
    path.cell = cell;
    path.altitude_m = event_altitude;
    const auto [k, r] = random_circuit(&path);
    const double intent_radius = r + kIntentMarginM;
    const double v = path.circuit_speed_mps;
    // Departs in 30-60 % of the run, or earlier if it would not be clearly
    // out two reports before the end (strays_fit: never before 0).
    const double depart_s = std::min(uniform(0.3, 0.6) * o.duration_s,
                                     stray_out_by_s - StrayLeaveS(r, k, v));
    const geo::Vec2 pd = PlaneAtCircuit(path, depart_s, nullptr);
    const double from_centre = Norm(pd);
    const geo::Vec2 dir = Scale(pd, 1 / from_centre);
    const double out = intent_radius - from_centre + kStrayOutM;
    path.circuit_until_s = depart_s;
    path.legs = {{depart_s, pd},
                 {depart_s + out / v, Add(pd, Scale(dir, out))}};
    const int drone = static_cast<int>(s.drones_.size());
    add(DroneRole::kStray, std::move(path),
        circle_intent(cell, intent_radius, event_altitude), 0);
    const double exit_s = depart_s + (intent_radius - from_centre) / v;
    s.strays_.push_back(Stray{drone, exit_s, exit_s + kStrayClearM / v});
  }

  // Random drones: circuits inside circles or polygons, one per cell and
  // layer.
  for (int j = 0; j < randoms; ++j) {
    Path path;
    path.cell = cell + j / layers;
    path.altitude_m = event_altitude + layer_spacing * (1 + j % layers);
    const auto [k, r] = random_circuit(&path);
    geo::Volume3D intent;
    if (j % 2 == 0) {
      intent = circle_intent(path.cell, r + kIntentMarginM, path.altitude_m);
    } else {
      // The circuit scaled about the centre: every edge moves out by the
      // margin.
      const double scale = 1 + kIntentMarginM / (r * std::cos(kPi / k));
      geo::Polygon polygon;
      for (geo::Vec2 p : path.circuit) {
        polygon.vertices.push_back(
            ToLatLng(s.cells_[path.cell], Scale(p, scale)));
      }
      intent.footprint = std::move(polygon);
      intent.altitude = {path.altitude_m - kBandHalfM,
                         path.altitude_m + kBandHalfM};
    }
    add(DroneRole::kRandom, std::move(path), std::move(intent), 0);
  }
  if (o.phase == ReportPhase::kSpread) {
    // A stream of its own, so that phases leave the traffic as it was.
    std::mt19937_64 phase_rng(o.seed ^ 0x5eed0f9a5e5eed01ULL);
    std::uniform_real_distribution<double> phase(0, 1 / o.report_rate_hz);
    const double below_interval = std::nextafter(1 / o.report_rate_hz, 0.0);
    for (Drone& d : s.drones_) {
      // libstdc++ may round up to the bound itself.
      d.phase_s = std::min(phase(phase_rng), below_interval);
    }
  }
  return s;
}

int Scenario::ticks() const {
  return std::max(1,
                  static_cast<int>(std::ceil(duration_s_ * rate_hz_ - 1e-9)));
}

bool Scenario::Active(int i, double t_s) const {
  const Drone& d = drones_[i];
  return t_s >= d.first_s - 1e-9 && t_s <= d.last_s + 1e-9;
}

geo::Vec2 Scenario::PlaneAtCircuit(const Path& path, double t_s,
                                   geo::Vec2* velocity) {
  const double perimeter = path.circuit_cum_m.back();
  double at =
      std::fmod(path.circuit_phase_m + path.circuit_speed_mps * t_s, perimeter);
  if (at < 0) at += perimeter;
  const size_t k = path.circuit.size();
  size_t j = 0;
  while (j + 1 < k && path.circuit_cum_m[j + 1] <= at) ++j;
  const geo::Vec2 a = path.circuit[j], b = path.circuit[(j + 1) % k];
  const double len = path.circuit_cum_m[j + 1] - path.circuit_cum_m[j];
  const geo::Vec2 u = Scale(Sub(b, a), 1 / len);
  if (velocity != nullptr) *velocity = Scale(u, path.circuit_speed_mps);
  return Add(a, Scale(u, at - path.circuit_cum_m[j]));
}

geo::Vec2 Scenario::PlaneAt(const Path& path, double t_s, geo::Vec2* velocity) {
  if (!path.circuit.empty() && t_s < path.circuit_until_s) {
    return PlaneAtCircuit(path, t_s, velocity);
  }
  if (velocity != nullptr) *velocity = {0, 0};
  const std::vector<Waypoint>& legs = path.legs;
  if (t_s < legs.front().t_s) return legs.front().p;
  for (size_t j = 0; j + 1 < legs.size(); ++j) {
    if (t_s < legs[j + 1].t_s) {
      const double span = legs[j + 1].t_s - legs[j].t_s;
      const geo::Vec2 v = Scale(Sub(legs[j + 1].p, legs[j].p), 1 / span);
      if (velocity != nullptr) *velocity = v;
      return Add(legs[j].p, Scale(v, t_s - legs[j].t_s));
    }
  }
  return legs.back().p;
}

std::optional<geo::Vec2> Scenario::LocalAt(int i, double t_s) const {
  if (paths_.empty()) return std::nullopt;
  return PlaneAt(paths_[i], t_s, nullptr);
}

DroneState Scenario::StateAt(int i, double t_s) const {
  DroneState st;
  if (!samples_.empty()) {
    const std::vector<Sample>& v = samples_[i];
    auto it =
        std::lower_bound(v.begin(), v.end(), t_s,
                         [](const Sample& s, double t) { return s.t_s < t; });
    if (it == v.begin()) return v.front().state;
    if (it == v.end()) return v.back().state;
    const Sample& b = *it;
    const Sample& a = *(it - 1);
    const double f = (t_s - a.t_s) / (b.t_s - a.t_s);
    auto mix = [f](double x, double y) { return x + f * (y - x); };
    st.position = {mix(a.state.position.lat_deg, b.state.position.lat_deg),
                   mix(a.state.position.lng_deg, b.state.position.lng_deg)};
    st.altitude_m = mix(a.state.altitude_m, b.state.altitude_m);
    st.north_mps = mix(a.state.north_mps, b.state.north_mps);
    st.east_mps = mix(a.state.east_mps, b.state.east_mps);
    st.up_mps = mix(a.state.up_mps, b.state.up_mps);
    st.horizontal_accuracy_m =
        std::max(a.state.horizontal_accuracy_m, b.state.horizontal_accuracy_m);
    st.vertical_accuracy_m =
        std::max(a.state.vertical_accuracy_m, b.state.vertical_accuracy_m);
    return st;
  }
  const Path& path = paths_[i];
  geo::Vec2 v;
  const geo::Vec2 p = PlaneAt(path, t_s, &v);
  st.position = ToLatLng(cells_[path.cell], p);
  st.altitude_m = path.altitude_m;
  st.east_mps = v.x;
  st.north_mps = v.y;
  st.horizontal_accuracy_m = kHorizontalAccuracyM;
  st.vertical_accuracy_m = kVerticalAccuracyM;
  return st;
}

geo::Volume4D Scenario::IntentVolume(int i, absl::Time start,
                                     absl::Time end) const {
  return geo::Volume4D{drones_[i].intent, {start, end}};
}

double F3411AccuracyM(const std::string& value) {
  absl::string_view v = value;
  if (!absl::ConsumePrefix(&v, "HA") && !absl::ConsumePrefix(&v, "VA")) {
    return 0;
  }
  absl::ConsumeSuffix(&v, "Plus");
  double scale = 1;
  if (absl::ConsumeSuffix(&v, "NM")) {
    scale = 1852;
  } else if (!absl::ConsumeSuffix(&v, "m")) {
    return 0;
  }
  double x = 0;
  if (!absl::SimpleAtod(v, &x)) return 0;
  // "05NM", "03NM", "01NM", "005NM": a leading zero is a decimal point.
  if (scale > 1 && v.size() > 1 && v[0] == '0') {
    x /= std::pow(10, static_cast<double>(v.size() - 1));
  }
  return x * scale;
}

absl::StatusOr<Scenario> LoadRemoteIdReplay(const std::string& content,
                                            const std::string& name,
                                            const std::string& run_id) {
  nlohmann::json doc = nlohmann::json::parse(content, nullptr, false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON"));
  }
  if (!doc.is_object() || !doc.contains("flights") ||
      !doc["flights"].is_array() || doc["flights"].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": flights: missing or empty"));
  }
  struct Parsed {
    std::string id;
    std::vector<std::pair<absl::Time, DroneState>> states;
  };
  std::vector<Parsed> flights;
  absl::Time earliest = absl::InfiniteFuture();
  try {
    for (size_t f = 0; f < doc["flights"].size(); ++f) {
      const nlohmann::json& flight = doc["flights"][f];
      const std::string field = absl::StrCat(name, ": flights[", f, "]");
      Parsed p;
      const nlohmann::json details =
          flight.value("flight_details", nlohmann::json::object());
      p.id = details.value("serial_number", details.value("id", ""));
      if (p.id.empty()) p.id = absl::StrCat("replay-", f);
      if (!run_id.empty()) p.id = absl::StrCat(run_id, "-", p.id);
      if (!flight.contains("states") || !flight["states"].is_array() ||
          flight["states"].empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".states: missing or empty"));
      }
      for (size_t k = 0; k < flight["states"].size(); ++k) {
        const nlohmann::json& state = flight["states"][k];
        const std::string sf = absl::StrCat(field, ".states[", k, "]");
        {
          absl::Time t;
          std::string error;
          if (!absl::ParseTime(absl::RFC3339_full,
                               state.at("timestamp").get<std::string>(), &t,
                               &error)) {
            return absl::InvalidArgumentError(
                absl::StrCat(sf, ".timestamp: ", error));
          }
          const nlohmann::json& pos = state.at("position");
          DroneState st;
          st.position = {pos.at("lat").get<double>(),
                         pos.at("lng").get<double>()};
          if (std::abs(st.position.lat_deg) > 90 ||
              std::abs(st.position.lng_deg) > 180) {
            return absl::InvalidArgumentError(
                absl::StrCat(sf, ".position: out of range"));
          }
          st.altitude_m = pos.at("alt").get<double>();
          const double track = state.value("track", 0.0) * kDeg;
          const double speed = state.value("speed", 0.0);
          st.north_mps = speed * std::cos(track);
          st.east_mps = speed * std::sin(track);
          st.up_mps = state.value("vertical_speed", 0.0);
          st.horizontal_accuracy_m =
              F3411AccuracyM(pos.value("accuracy_h", std::string()));
          st.vertical_accuracy_m =
              F3411AccuracyM(pos.value("accuracy_v", std::string()));
          if (!p.states.empty() && t <= p.states.back().first) {
            return absl::InvalidArgumentError(
                absl::StrCat(sf, ".timestamp: not after the previous state"));
          }
          p.states.emplace_back(t, st);
          earliest = std::min(earliest, t);
        }
      }
      flights.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    // Wrong types or missing members; nlohmann names the member.
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": flights[", flights.size(), "]: ", e.what()));
  }
  Scenario s;
  s.rate_hz_ = 1;
  for (size_t f = 0; f < flights.size(); ++f) {
    const Parsed& p = flights[f];
    std::vector<Scenario::Sample> samples;
    double lat = 0, lng = 0, lo = 1e300, hi = -1e300;
    for (const auto& [t, st] : p.states) {
      samples.push_back({absl::ToDoubleSeconds(t - earliest), st});
      lat += st.position.lat_deg;
      lng += st.position.lng_deg;
      lo = std::min(lo, st.altitude_m);
      hi = std::max(hi, st.altitude_m);
    }
    const geo::LatLng centre{lat / static_cast<double>(samples.size()),
                             lng / static_cast<double>(samples.size())};
    double reach = 0;
    for (const Scenario::Sample& x : samples) {
      reach = std::max(reach, geo::GeodesicDistance(centre, x.state.position));
    }
    Drone drone;
    drone.aircraft_id = p.id;
    drone.intent.footprint = geo::Circle{centre, reach + 50};
    drone.intent.altitude = {lo - 30, hi + 30};
    drone.priority = static_cast<int32_t>(f);
    drone.first_s = samples.front().t_s;
    drone.last_s = samples.back().t_s;
    s.duration_s_ = std::max(s.duration_s_, drone.last_s + 1e-3);
    s.drones_.push_back(std::move(drone));
    s.samples_.push_back(std::move(samples));
  }
  return s;
}

}  // namespace utm::sim
