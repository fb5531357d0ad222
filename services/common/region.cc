#include "services/common/region.h"

#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "nlohmann/json.hpp"

namespace utm::region {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view file, absl::string_view path,
                     absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", path, ": ", what));
}

// An RFC 7946 position: [lng, lat] or [lng, lat, alt].
absl::StatusOr<geo::LatLng> Position(const json& j, absl::string_view file,
                                     const std::string& path) {
  if (!j.is_array() || j.size() < 2 || j.size() > 3) {
    return Invalid(file, path,
                   "a position is [longitude, latitude] or [longitude, "
                   "latitude, altitude]");
  }
  for (const json& n : j) {
    if (!n.is_number()) {
      return Invalid(file, path, "a position holds numbers only");
    }
  }
  return geo::LatLng{j[1].get<double>(), j[0].get<double>()};
}

// A linear ring: closed (its last position repeats its first), at least 4
// positions. Returned open, as geo/ keeps rings.
absl::StatusOr<std::vector<geo::LatLng>> Ring(const json& j,
                                              absl::string_view file,
                                              const std::string& path) {
  if (!j.is_array()) return Invalid(file, path, "a ring is an array");
  if (j.size() < 4) {
    return Invalid(file, path,
                   absl::StrCat(j.size(),
                                " positions; a ring needs at least 4 (3 "
                                "vertices and the first repeated)"));
  }
  std::vector<geo::LatLng> ring;
  ring.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    UTM_ASSIGN_OR_RETURN(geo::LatLng p,
                         Position(j[i], file, absl::StrCat(path, "[", i, "]")));
    ring.push_back(p);
  }
  if (ring.front() != ring.back()) {
    return Invalid(file, path,
                   "the ring does not close (its last position must repeat "
                   "its first)");
  }
  ring.pop_back();
  return ring;
}

absl::StatusOr<geo::Polygon> PolygonCoordinates(const json& j,
                                                absl::string_view file,
                                                const std::string& path) {
  if (!j.is_array() || j.empty()) {
    return Invalid(file, path, "a polygon is a non-empty array of rings");
  }
  geo::Polygon polygon;
  for (size_t r = 0; r < j.size(); ++r) {
    UTM_ASSIGN_OR_RETURN(std::vector<geo::LatLng> ring,
                         Ring(j[r], file, absl::StrCat(path, "[", r, "]")));
    if (r == 0) {
      polygon.vertices = std::move(ring);
    } else {
      polygon.holes.push_back(std::move(ring));
    }
  }
  return polygon;
}

absl::Status Geometry(const json& j, absl::string_view file,
                      const std::string& path, std::vector<geo::Polygon>* out) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Invalid(file, path, "expected a GeoJSON object with a type");
  }
  const std::string type = j["type"].get<std::string>();
  if (type == "FeatureCollection") {
    if (!j.contains("features") || !j["features"].is_array()) {
      return Invalid(file, path, "a FeatureCollection needs features");
    }
    const json& features = j["features"];
    for (size_t i = 0; i < features.size(); ++i) {
      const std::string at =
          absl::StrCat(path.empty() ? "" : path + ".", "features[", i, "]");
      if (!features[i].is_object() ||
          features[i].value("type", json()) != "Feature") {
        return Invalid(file, at, "expected a Feature");
      }
      UTM_RETURN_IF_ERROR(Geometry(features[i], file, at, out));
    }
    return absl::OkStatus();
  }
  if (type == "Feature") {
    if (!j.contains("geometry")) {
      return Invalid(file, path, "a Feature needs a geometry");
    }
    return Geometry(j["geometry"], file,
                    absl::StrCat(path.empty() ? "" : path + ".", "geometry"),
                    out);
  }
  const std::string coords =
      absl::StrCat(path.empty() ? "" : path + ".", "coordinates");
  if (!j.contains("coordinates")) {
    return Invalid(file, path, absl::StrCat("a ", type, " needs coordinates"));
  }
  if (type == "Polygon") {
    UTM_ASSIGN_OR_RETURN(geo::Polygon p,
                         PolygonCoordinates(j["coordinates"], file, coords));
    out->push_back(std::move(p));
    return absl::OkStatus();
  }
  if (type == "MultiPolygon") {
    const json& polygons = j["coordinates"];
    if (!polygons.is_array()) {
      return Invalid(file, coords, "a MultiPolygon is an array of polygons");
    }
    for (size_t i = 0; i < polygons.size(); ++i) {
      UTM_ASSIGN_OR_RETURN(
          geo::Polygon p,
          PolygonCoordinates(polygons[i], file,
                             absl::StrCat(coords, "[", i, "]")));
      out->push_back(std::move(p));
    }
    return absl::OkStatus();
  }
  return Invalid(
      file, path.empty() ? "type" : path + ".type",
      absl::StrCat("\"", type.substr(0, 40),
                   "\": a boundary is a Polygon, a MultiPolygon, or a "
                   "Feature or FeatureCollection of them"));
}

}  // namespace

absl::StatusOr<std::vector<geo::Polygon>> ParseBoundaryGeoJson(
    absl::string_view text, absl::string_view file) {
  const json doc = json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                               /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": not JSON (expected GeoJSON)"));
  }
  std::vector<geo::Polygon> polygons;
  UTM_RETURN_IF_ERROR(Geometry(doc, file, "", &polygons));
  return polygons;
}

absl::StatusOr<RegionPolicy> RegionPolicy::Load(
    const std::string& code, const std::string& boundary_file,
    bool require_home_region) {
  UTM_RETURN_IF_ERROR(auth::ValidateRegionCode(code, "--region"));
  std::ifstream in(boundary_file, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("--region-boundary: cannot read ", boundary_file));
  }
  // Read in chunks up to one byte past the limit: a file that is too large
  // is refused without reading it all.
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= kMaxBoundaryFileBytes &&
         in.read(chunk, sizeof(chunk)).gcount() > 0) {
    text.append(chunk, static_cast<size_t>(in.gcount()));
  }
  if (text.size() > kMaxBoundaryFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        boundary_file, ": larger than ", kMaxBoundaryFileBytes >> 20, " MiB"));
  }
  UTM_ASSIGN_OR_RETURN(std::vector<geo::Polygon> polygons,
                       ParseBoundaryGeoJson(text, boundary_file));
  UTM_ASSIGN_OR_RETURN(
      geo::Region region,
      geo::Region::Create(std::move(polygons), {}, boundary_file));
  return RegionPolicy(code, std::move(region), require_home_region);
}

RegionPolicy::RegionPolicy(std::string code, geo::Region boundary,
                           bool require_home_region)
    : code_(std::move(code)),
      boundary_(std::move(boundary)),
      require_home_region_(require_home_region) {}

absl::Status RegionPolicy::CheckCaller(const auth::Principal& caller) const {
  if (caller.home_region.empty()) {
    if (!require_home_region_) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "this deployment serves region ", code_,
        " and requires tokens naming their home region (home_region claim); "
        "the token for ",
        caller.subject, " names none"));
  }
  if (caller.home_region == code_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("operator home region ", caller.home_region,
                   " differs from this deployment's region ", code_,
                   "; use the ", caller.home_region, " region's endpoint"));
}

absl::Status RegionPolicy::CheckVolumes(
    const std::vector<geo::Volume4D>& volumes, absl::string_view field) const {
  for (size_t i = 0; i < volumes.size(); ++i) {
    UTM_RETURN_IF_ERROR(CheckFootprint(volumes[i].volume.footprint,
                                       absl::StrCat(field, "[", i, "]")));
  }
  return absl::OkStatus();
}

absl::Status RegionPolicy::CheckFootprint(const geo::Footprint& footprint,
                                          absl::string_view field) const {
  if (boundary_.Contains(footprint)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      field, " lies outside region ", code_, " (deployment boundary)"));
}

absl::Status RegionPolicy::CheckPosition(const geo::LatLng& position,
                                         absl::string_view field) const {
  if (boundary_.Contains(position)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      field, " lies outside region ", code_, " (deployment boundary)"));
}

}  // namespace utm::region
