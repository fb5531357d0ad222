#include "sim/zone_set.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace utm::sim {
namespace {

using Json = nlohmann::json;

constexpr double kPi = 3.14159265358979323846;
constexpr double kMetresPerDegree = 111320.0;
// Switzerland's bounding box, as in the national set's `bbox`.
constexpr double kSouth = 45.82, kNorth = 47.77, kWest = 5.97, kEast = 10.55;

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double Uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(engine_);
  }
  int Int(int lo, int hi) {  // inclusive
    return std::uniform_int_distribution<int>(lo, hi)(engine_);
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

double Round7(double degrees) { return std::round(degrees * 1e7) / 1e7; }

// [lng, lat] of the point `east_m`, `north_m` from (lat, lng), on a local
// equirectangular plane: exact enough for zone shapes, and a star-shaped
// ring stays star-shaped (hence simple).
Json Position(double lat, double lng, double east_m, double north_m) {
  const double lat2 = lat + north_m / kMetresPerDegree;
  const double lng2 =
      lng + east_m / (kMetresPerDegree * std::cos(lat * kPi / 180));
  return Json::array({Round7(lng2), Round7(lat2)});
}

// A closed ring of `n` vertices around (lat, lng) at radius r(θ), angles
// increasing (counter-clockwise). `wobble` shapes the outline.
Json Ring(double lat, double lng, int n, double radius_m, double phase1,
          double phase2, double scale = 1.0, bool reverse = false) {
  Json ring = Json::array();
  for (int k = 0; k < n; ++k) {
    const int i = reverse ? n - 1 - k : k;
    const double a = 2 * kPi * i / n;
    const double r =
        scale * radius_m *
        (1 + 0.2 * std::sin(3 * a + phase1) + 0.08 * std::sin(7 * a + phase2));
    ring.push_back(Position(lat, lng, r * std::cos(a), r * std::sin(a)));
  }
  ring.push_back(ring.front());
  return ring;
}

Json Text(const std::string& text) {
  return Json::array({Json{{"text", text}, {"lang", "en-GB"}}});
}

}  // namespace

ZoneSet GenerateZoneSet(const ZoneSetOptions& o) {
  Rng rng(o.seed);
  // Which zones are large, malformed or holed: a seeded shuffle.
  std::vector<int> order(std::max(o.zones, 0));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng.engine());
  std::vector<ZoneDefect> defect(order.size(), ZoneDefect::kNone);
  std::vector<bool> large(order.size(), false);
  size_t next = 0;
  for (int i = 0; i < o.large_polygons && next < order.size(); ++i) {
    large[order[next++]] = true;
  }
  for (int i = 0; i < o.malformed && next < order.size(); ++i) {
    defect[order[next++]] =
        i % 2 == 0 ? ZoneDefect::kCrossingEdges : ZoneDefect::kSunrise;
  }
  for (int i = 0; i < o.polygons_with_holes && next < order.size(); ++i) {
    defect[order[next++]] = ZoneDefect::kHole;
  }

  static const char* const kTypes[] = {"PROHIBITED", "REQ_AUTHORIZATION",
                                       "CONDITIONAL", "NO_RESTRICTION",
                                       "USPACE"};
  static const char* const kReasons[] = {"AIR_TRAFFIC", "SENSITIVE", "NATURE",
                                         "POPULATION", "PRIVACY"};
  ZoneSet set;
  Json features = Json::array();
  for (size_t index = 0; index < order.size(); ++index) {
    GeneratedZone z;
    z.id = absl::StrFormat("GEN%04d", index + 1);
    z.defect = defect[index];
    const double lat = rng.Uniform(kSouth + 0.2, kNorth - 0.2);
    const double lng = rng.Uniform(kWest + 0.3, kEast - 0.3);
    const double phase1 = rng.Uniform(0, 2 * kPi);
    const double phase2 = rng.Uniform(0, 2 * kPi);

    Json geometry;
    if (large[index]) {
      z.shape = ZoneShape::kLargePolygon;
      z.vertices = rng.Int(o.large_vertices_min, o.large_vertices_max);
      geometry = {{"type", "Polygon"},
                  {"coordinates", Json::array({Ring(lat, lng, z.vertices,
                                                    rng.Uniform(8000, 20000),
                                                    phase1, phase2)})}};
    } else if (z.defect == ZoneDefect::kCrossingEdges) {
      z.shape = ZoneShape::kPolygon;
      z.vertices = 4;
      // A bow tie: edges 0 and 2 cross.
      geometry = {
          {"type", "Polygon"},
          {"coordinates",
           Json::array({Json::array(
               {Position(lat, lng, -500, -500), Position(lat, lng, 500, 500),
                Position(lat, lng, 500, -500), Position(lat, lng, -500, 500),
                Position(lat, lng, -500, -500)})})}};
    } else if (z.defect == ZoneDefect::kHole || rng.Uniform(0, 1) < 0.6) {
      z.shape = ZoneShape::kPolygon;
      z.vertices = rng.Int(4, 40);
      const double radius = rng.Uniform(300, 4000);
      Json rings =
          Json::array({Ring(lat, lng, z.vertices, radius, phase1, phase2)});
      if (z.defect == ZoneDefect::kHole) {
        rings.push_back(Ring(lat, lng, z.vertices, radius, phase1, phase2,
                             /*scale=*/0.3, /*reverse=*/true));
      }
      geometry = {{"type", "Polygon"}, {"coordinates", std::move(rings)}};
    } else {
      z.shape = ZoneShape::kCircle;
      geometry = {{"type", "Point"},
                  {"coordinates", Position(lat, lng, 0, 0)},
                  {"extent",
                   {{"subType", "Circle"},
                    {"radius", std::round(rng.Uniform(100, 5000))}}}};
    }
    // Limits: AGL in metres, AGL in feet, AMSL in metres, or AGL up to an
    // AMSL ceiling.
    switch (rng.Int(0, 3)) {
      case 0:
        z.agl = true;
        geometry["layer"] = {{"lower", 0},
                             {"lowerReference", "AGL"},
                             {"upper", 120},
                             {"upperReference", "AGL"},
                             {"uom", "m"}};
        break;
      case 1:
        z.agl = true;
        geometry["layer"] = {{"lower", 0},
                             {"lowerReference", "AGL"},
                             {"upper", 500},
                             {"upperReference", "AGL"},
                             {"uom", "ft"}};
        break;
      case 2:
        geometry["layer"] = {{"lower", 1000},
                             {"lowerReference", "AMSL"},
                             {"upper", 3000},
                             {"upperReference", "AMSL"},
                             {"uom", "m"}};
        break;
      default:
        z.agl = true;
        geometry["layer"] = {{"lower", 0},
                             {"lowerReference", "AGL"},
                             {"upper", 2500},
                             {"upperReference", "AMSL"},
                             {"uom", "m"}};
        break;
    }

    Json properties = {
        {"identifier", z.id},
        {"country", "CHE"},
        {"name", Text(absl::StrFormat("Generated zone %d", index + 1))},
        {"type", kTypes[rng.Int(0, 4)]},
        {"variant", "COMMON"},
        {"reason", Json::array({kReasons[rng.Int(0, 4)]})},
        {"zoneAuthority",
         Json::array({{{"name", Text("Federal Office of Civil Aviation")},
                       {"phone", "+41 58 465 80 39"},
                       {"purpose", "AUTHORIZATION"}}})}};
    if (z.defect == ZoneDefect::kSunrise) {
      z.schedule = ZoneSchedule::kWeekdays;
      properties["limitedApplicability"] = Json::array(
          {{{"schedule", Json::array({{{"day", Json::array({"SAT", "SUN"})},
                                       {"startEvent", "BMCT"},
                                       {"endTime", "12:00:00Z"}}})}}});
    } else {
      const double pick = rng.Uniform(0, 1);
      if (pick < 0.3) {
        z.schedule = ZoneSchedule::kAllDay;  // the national set's habit
        properties["limitedApplicability"] = Json::array(
            {{{"schedule",
               Json::array({{{"day", Json::array({"ANY"})},
                             {"startTime", "00:00:00.00+01:00"},
                             {"endTime", "00:00:00.00+01:00"}}})}}});
      } else if (pick < 0.5) {
        z.schedule = ZoneSchedule::kWeekdays;
        properties["limitedApplicability"] = Json::array(
            {{{"schedule",
               Json::array(
                   {{{"day", Json::array({"MON", "TUE", "WED", "THU", "FRI"})},
                     {"startTime", "08:00:00Z"},
                     {"endTime", "18:00:00Z"}}})}}});
      } else if (pick < 0.6) {
        z.schedule = ZoneSchedule::kDated;
        properties["limitedApplicability"] =
            Json::array({{{"startDateTime", "2027-03-01T00:00:00+01:00"},
                          {"endDateTime", "2099-10-31T00:00:00+01:00"}}});
      }
    }
    features.push_back({{"type", "Feature"},
                        {"properties", std::move(properties)},
                        {"geometry", std::move(geometry)}});
    set.manifest.push_back(std::move(z));
  }
  const Json root = {
      {"type", "FeatureCollection"},
      {"name", "Generated national UAS geozone set"},
      {"description", absl::StrFormat("%d zones, seed %d", o.zones, o.seed)},
      {"features", std::move(features)}};
  set.json = root.dump();
  return set;
}

}  // namespace utm::sim
