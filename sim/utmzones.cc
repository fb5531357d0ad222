// utmzones: writes a seeded national-scale ED-318 geozone set (sim/zone_set.h)
// for import and restart tests and measurements, and optionally its
// manifest: one JSON object per zone and line, {"id", "shape", "vertices",
// "schedule", "agl", "defect"}.
//
//   utmzones --zones 1200 --seed 1 --manifest manifest.jsonl > zones.json
//   utmzones --large 12 --large-min 1500 --large-max 2000 > zones.json
#include <fstream>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "sim/zone_set.h"

namespace {

const char* ShapeName(utm::sim::ZoneShape s) {
  switch (s) {
    case utm::sim::ZoneShape::kCircle:
      return "circle";
    case utm::sim::ZoneShape::kPolygon:
      return "polygon";
    case utm::sim::ZoneShape::kLargePolygon:
      return "large_polygon";
  }
  return "?";
}

const char* ScheduleName(utm::sim::ZoneSchedule s) {
  switch (s) {
    case utm::sim::ZoneSchedule::kPermanent:
      return "permanent";
    case utm::sim::ZoneSchedule::kAllDay:
      return "all_day";
    case utm::sim::ZoneSchedule::kWeekdays:
      return "weekdays";
    case utm::sim::ZoneSchedule::kDated:
      return "dated";
  }
  return "?";
}

const char* DefectName(utm::sim::ZoneDefect d) {
  switch (d) {
    case utm::sim::ZoneDefect::kNone:
      return "none";
    case utm::sim::ZoneDefect::kCrossingEdges:
      return "crossing_edges";
    case utm::sim::ZoneDefect::kSunrise:
      return "sunrise";
    case utm::sim::ZoneDefect::kHole:
      return "hole";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Writes a seeded national-scale ED-318 geozone set to stdout."};
  utm::sim::ZoneSetOptions o;
  std::string manifest;
  app.add_option("--zones", o.zones, "zones in the file")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--seed", o.seed, "random seed");
  app.add_option("--large", o.large_polygons,
                 "polygons of several thousand vertices")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--large-min", o.large_vertices_min,
                 "fewest vertices of a large polygon")
      ->check(CLI::Range(3, 1000000));
  app.add_option("--large-max", o.large_vertices_max,
                 "most vertices of a large polygon")
      ->check(CLI::Range(3, 1000000));
  app.add_option("--malformed", o.malformed, "zones with one deliberate defect")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--holes", o.polygons_with_holes, "polygons with one hole")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--manifest", manifest,
                 "also write the manifest (JSON lines) to this file");
  CLI11_PARSE(app, argc, argv);
  if (o.large_vertices_min > o.large_vertices_max) {
    std::cerr << "utmzones: --large-min exceeds --large-max\n";
    return 64;
  }
  if (o.large_polygons + o.malformed + o.polygons_with_holes > o.zones) {
    std::cerr << "utmzones: --large + --malformed + --holes exceed --zones\n";
    return 64;
  }
  const utm::sim::ZoneSet set = utm::sim::GenerateZoneSet(o);
  if (!manifest.empty()) {
    std::ofstream out(manifest);
    for (const utm::sim::GeneratedZone& z : set.manifest) {
      out << nlohmann::json{{"id", z.id},
                            {"shape", ShapeName(z.shape)},
                            {"vertices", z.vertices},
                            {"schedule", ScheduleName(z.schedule)},
                            {"agl", z.agl},
                            {"defect", DefectName(z.defect)}}
                 .dump()
          << "\n";
    }
    if (!out) {
      std::cerr << "utmzones: cannot write " << manifest << "\n";
      return 73;
    }
  }
  std::cout << set.json << "\n";
  return std::cout ? 0 : 74;
}
