// A national-scale UAS geozone data set in EUROCAE ED-318 GeoJSON, generated
// from a seed: what a national authority publishes (about 1,200 zones over a
// country the size of Switzerland), for import and restart tests and
// measurements, since the real national sets are not ours to redistribute.
//
// The mix follows the Swiss national set: circles (Point with a Circle
// extent) and polygons of a few to a few dozen vertices, a few polygons of
// several thousand vertices (lakes, cantons), limits AGL and AMSL in metres
// and feet, schedules all-day (`00:00`-`00:00`, every day, in UTC+1), weekly
// (weekdays 08:00-18:00Z), dated (an absolute window) or permanent, and every
// restriction type. A few zones are deliberately malformed, each with one
// stated defect (a self-crossing polygon, a sunrise-bound period), the way
// real sets carry zones an importer must refuse. Polygons are star-shaped
// around their centre with increasing angles, so every generated ring is
// simple and every edge longer than a metre.
//
// The manifest says, zone by zone, what the importer must make of it, so a
// test can account for every zone: imported, or refused for the stated
// reason.
//
// Typical usage:
//   ZoneSetOptions o;
//   o.zones = 1200;
//   const ZoneSet set = GenerateZoneSet(o);
//   ... ImportZones(set.json, ...) ...
//   for (const GeneratedZone& z : set.manifest) ... z.id, z.defect ...
//
// Pure and deterministic: the same options give the same bytes (with the
// same standard library). Thread-safe.
#ifndef UTM_SIM_ZONE_SET_H_
#define UTM_SIM_ZONE_SET_H_

#include <cstdint>
#include <string>
#include <vector>

namespace utm::sim {

struct ZoneSetOptions {
  // Zones in the file, malformed and large ones included. DEFAULT: 1,200.
  int zones = 1200;
  uint64_t seed = 1;
  // Polygons of `large_vertices_min`..`large_vertices_max` vertices among
  // them. DEFAULT: 6 of 2,500-4,700 (the Swiss set's largest has 4,700).
  int large_polygons = 6;
  int large_vertices_min = 2500;
  int large_vertices_max = 4700;
  // Deliberately malformed zones, alternately a self-crossing polygon and a
  // period bound to sunrise. DEFAULT: 8.
  int malformed = 8;
  // Polygons given one hole (an inner ring, as ED-318 allows), each with
  // the defect kHole in the manifest. DEFAULT: 0, since the importers read
  // outer rings only; raise it once they read holes.
  int polygons_with_holes = 0;
};

enum class ZoneShape { kCircle, kPolygon, kLargePolygon };
enum class ZoneSchedule { kPermanent, kAllDay, kWeekdays, kDated };
enum class ZoneDefect {
  kNone,
  kCrossingEdges,  // refused: "edges ... cross"
  kSunrise,        // refused: "daylight events ... are not supported"
  kHole,           // a polygon with a hole
};

struct GeneratedZone {
  std::string id;  // `identifier`, unique: "GEN0001", ...
  ZoneShape shape = ZoneShape::kCircle;
  int vertices = 0;  // polygons only (the outer ring, not closed)
  ZoneSchedule schedule = ZoneSchedule::kPermanent;
  bool agl = false;  // a limit is AGL (needs a ground height to import)
  ZoneDefect defect = ZoneDefect::kNone;
};

struct ZoneSet {
  std::string json;                     // the ED-318 FeatureCollection
  std::vector<GeneratedZone> manifest;  // in file order
};

// REQUIRES: 0 <= large_polygons, malformed, polygons_with_holes and their
// sum <= zones; 3 <= large_vertices_min <= large_vertices_max.
ZoneSet GenerateZoneSet(const ZoneSetOptions& options);

}  // namespace utm::sim

#endif  // UTM_SIM_ZONE_SET_H_
