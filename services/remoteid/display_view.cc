#include "services/remoteid/display_view.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/geodesy.h"
#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"
#include "s2/s2metrics.h"

namespace utm::remoteid {
namespace {

constexpr double kRad = M_PI / 180;
// Radius of the sphere with the WGS84 ellipsoid's area (the authalic
// radius), metres: areas on it equal the ellipsoid's within 0.3 % at any
// latitude, and both a view's area and its clusters' are measured on it.
constexpr double kAuthalicRadiusM = 6371007.2;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckCorner(const v1::LatLng& p, const std::string& field) {
  if (!std::isfinite(p.lat_deg()) || p.lat_deg() < -90 || p.lat_deg() > 90) {
    return Invalid(field + ".lat_deg",
                   absl::StrCat(p.lat_deg(), " is outside [-90, 90]"));
  }
  if (!std::isfinite(p.lng_deg()) || p.lng_deg() < -180 || p.lng_deg() > 180) {
    return Invalid(field + ".lng_deg",
                   absl::StrCat(p.lng_deg(), " is outside [-180, 180]"));
  }
  return absl::OkStatus();
}

std::string Km(double m) { return absl::StrFormat("%.3g km", m / 1000); }

}  // namespace

absl::StatusOr<DisplayView> DisplayView::FromProto(const v1::LatLngRect& rect,
                                                   const DisplayRules& rules,
                                                   absl::string_view field) {
  const std::string f(field);
  if (!rect.has_south_west()) return Invalid(f + ".south_west", "required");
  if (!rect.has_north_east()) return Invalid(f + ".north_east", "required");
  if (absl::Status s = CheckCorner(rect.south_west(), f + ".south_west");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckCorner(rect.north_east(), f + ".north_east");
      !s.ok()) {
    return s;
  }
  DisplayView view;
  view.south_ = rect.south_west().lat_deg();
  view.west_ = rect.south_west().lng_deg();
  view.north_ = rect.north_east().lat_deg();
  view.east_ = rect.north_east().lng_deg();
  if (view.south_ > view.north_) {
    return Invalid(
        f, absl::StrCat("south_west.lat_deg ", view.south_,
                        " is north of north_east.lat_deg ", view.north_));
  }
  // Longitude span eastwards from west to east, across the antimeridian
  // when east < west.
  double span = view.east_ - view.west_;
  if (span < 0) span += 360;
  const geo::LatLng sw{view.south_, view.west_}, ne{view.north_, view.east_};
  const geo::LatLng nw{view.north_, view.west_}, se{view.south_, view.east_};
  view.diagonal_m_ =
      std::max(geo::GeodesicDistance(sw, ne), geo::GeodesicDistance(nw, se));
  if (span > 180 || view.diagonal_m_ > rules.max_diagonal_m) {
    return Invalid(
        f,
        absl::StrCat("diagonal ",
                     span > 180 ? std::string("of half the globe or more")
                                : Km(view.diagonal_m_),
                     " exceeds ", Km(rules.max_diagonal_m),
                     " (ASTM F3411-22a NetMaxDisplayAreaDiagonal); zoom in"));
  }
  view.shows_flights_ = view.diagonal_m_ <= rules.details_diagonal_m;
  view.area_m2_ = kAuthalicRadiusM * kAuthalicRadiusM * span * kRad *
                  (std::sin(view.north_ * kRad) - std::sin(view.south_ * kRad));
  double mid_lng = view.west_ + span / 2;
  if (mid_lng > 180) mid_lng -= 360;
  view.centre_ = {(view.south_ + view.north_) / 2, mid_lng};
  double radius = 0;
  for (const geo::LatLng& corner : {sw, ne, nw, se}) {
    radius = std::max(radius, geo::GeodesicDistance(view.centre_, corner));
  }
  view.radius_m_ = radius * 1.01 + 1;
  // The finest S2 level whose every cell is big enough (S2's metrics bound
  // every cell of a level; on the unit sphere, scaled by the radius).
  const double min_area = rules.min_cluster_fraction * view.area_m2_ /
                          (kAuthalicRadiusM * kAuthalicRadiusM);
  const double min_width = 2 * rules.min_obfuscation_m / kAuthalicRadiusM;
  view.cluster_level_ = 0;
  for (int level = S2CellId::kMaxLevel; level >= 0; --level) {
    if (S2::kMinArea.GetValue(level) >= min_area &&
        S2::kMinWidth.GetValue(level) >= min_width) {
      view.cluster_level_ = level;
      break;
    }
  }
  return view;
}

v1::LatLngRect DisplayView::SquareAround(const geo::LatLng& centre,
                                         double side_m) {
  const double half = side_m / 2;
  const geo::LatLng sw = geo::GeodesicDestination(
      geo::GeodesicDestination(centre, 180, half), 270, half);
  const geo::LatLng ne = geo::GeodesicDestination(
      geo::GeodesicDestination(centre, 0, half), 90, half);
  v1::LatLngRect r;
  r.mutable_south_west()->set_lat_deg(sw.lat_deg);
  r.mutable_south_west()->set_lng_deg(sw.lng_deg);
  r.mutable_north_east()->set_lat_deg(ne.lat_deg);
  r.mutable_north_east()->set_lng_deg(ne.lng_deg);
  return r;
}

bool DisplayView::Contains(const geo::LatLng& p) const {
  if (p.lat_deg < south_ || p.lat_deg > north_) return false;
  if (west_ <= east_) return p.lng_deg >= west_ && p.lng_deg <= east_;
  return p.lng_deg >= west_ || p.lng_deg <= east_;
}

std::vector<v1::RidCluster> DisplayView::Cluster(
    const std::vector<geo::LatLng>& positions) const {
  std::map<uint64_t, int> counts;  // by cell id: ordered output
  for (const geo::LatLng& p : positions) {
    const S2CellId cell = S2CellId(S2LatLng::FromDegrees(p.lat_deg, p.lng_deg))
                              .parent(cluster_level_);
    ++counts[cell.id()];
  }
  std::vector<v1::RidCluster> out;
  out.reserve(counts.size());
  for (const auto& [id, count] : counts) {
    const S2Cell cell{S2CellId(id)};
    v1::RidCluster& c = out.emplace_back();
    for (int k = 0; k < 4; ++k) {  // S2 vertices are counter-clockwise
      const S2LatLng v(cell.GetVertex(k));
      v1::LatLng* corner = c.add_corners();
      corner->set_lat_deg(v.lat().degrees());
      corner->set_lng_deg(v.lng().degrees());
    }
    c.set_area_m2(cell.ExactArea() * kAuthalicRadiusM * kAuthalicRadiusM);
    c.set_aircraft_count(count);
  }
  return out;
}

}  // namespace utm::remoteid
