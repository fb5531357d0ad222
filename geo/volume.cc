#include "geo/volume.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/geodesy.h"
#include "geo/planar.h"
#include "geo/status_macros.h"

namespace utm::geo {
namespace {

// Two vertices closer than this are the same point.
constexpr double kSamePointM = 1e-3;
// Margin added to a bounding cap's radius. A geodesic edge between two points
// within r of the centre strays outside r by at most a few centimetres at the
// largest reach we accept; one metre covers that with room to spare.
constexpr double kCapMarginM = 1.0;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

std::string FormatKm2(double m2) {
  return absl::StrFormat("%.3f km²", m2 / 1e6);
}

std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

absl::Status CheckFinite(double v, absl::string_view field) {
  if (!std::isfinite(v)) {
    return Invalid(field, absl::StrCat(v, " is not a finite number"));
  }
  return absl::OkStatus();
}

// The bounding cap without the margin: the cap centre is the surface point
// under the mean of the vertices, the radius an upper bound on the geodesic
// distance to the farthest vertex (from chords, so no geodesic solutions).
BoundingCap CapFromEcef(const std::vector<Vec3>& ecef) {
  Vec3 sum{0, 0, 0};
  for (const Vec3& e : ecef) {
    sum.x += e.x;
    sum.y += e.y;
    sum.z += e.z;
  }
  // The mean lies just inside the Earth; its nearest surface point is the
  // centre.
  const double n = static_cast<double>(ecef.size());
  BoundingCap cap;
  cap.center = FromEcef({sum.x / n, sum.y / n, sum.z / n});
  const Vec3 c = ToEcef(cap.center);
  double chord = 0;
  for (const Vec3& e : ecef) chord = std::max(chord, ChordLength(e, c));
  cap.radius_m = GeodesicUpperBoundFromChord(chord);
  return cap;
}

BoundingCap PolygonCap(const std::vector<LatLng>& vertices) {
  std::vector<Vec3> ecef;
  ecef.reserve(vertices.size());
  for (const LatLng& v : vertices) ecef.push_back(ToEcef(v));
  return CapFromEcef(ecef);
}

}  // namespace

absl::Status ValidateLatLng(const LatLng& p, absl::string_view field) {
  const std::string lat_field = absl::StrCat(field, ".lat_deg");
  const std::string lng_field = absl::StrCat(field, ".lng_deg");
  UTM_RETURN_IF_ERROR(CheckFinite(p.lat_deg, lat_field));
  UTM_RETURN_IF_ERROR(CheckFinite(p.lng_deg, lng_field));
  if (p.lat_deg < -90 || p.lat_deg > 90) {
    return Invalid(lat_field, absl::StrCat(p.lat_deg, " is outside [-90, 90]"));
  }
  if (p.lng_deg < -180 || p.lng_deg > 180) {
    return Invalid(lng_field,
                   absl::StrCat(p.lng_deg, " is outside [-180, 180]"));
  }
  return absl::OkStatus();
}

size_t VertexCount(const Polygon& polygon) {
  size_t n = polygon.vertices.size();
  for (const std::vector<LatLng>& hole : polygon.holes) n += hole.size();
  return n;
}

double PolygonArea(const Polygon& polygon) {
  double area = std::fabs(GeodesicPolygonArea(polygon.vertices));
  for (const std::vector<LatLng>& hole : polygon.holes) {
    area -= std::fabs(GeodesicPolygonArea(hole));
  }
  return area;
}

namespace {

// The checks every ring passes on its own before any planar test: enough
// vertices, valid coordinates, no repeated consecutive vertex. `field` names
// the ring ("...outline_polygon" or "...outline_polygon.holes[2]").
absl::Status ValidateRingPoints(const std::vector<LatLng>& v,
                                absl::string_view field) {
  const size_t n = v.size();
  if (n < 3) {
    return Invalid(
        field, absl::StrCat("has ", n, " vertices; a ring needs at least 3"));
  }
  for (size_t i = 0; i < n; ++i) {
    UTM_RETURN_IF_ERROR(
        ValidateLatLng(v[i], absl::StrCat(field, ".vertices[", i, "]")));
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i + 1) % n;
    const double d = GeodesicDistance(v[i], v[j]);
    if (d < kSamePointM) {
      const size_t lo = std::min(i, j), hi = std::max(i, j);
      std::string what = absl::StrFormat(
          "vertices[%d] and vertices[%d] are the same point (%.4f m apart)", lo,
          hi, d);
      if (j == 0) {
        absl::StrAppend(&what,
                        "; the ring closes itself, so do not repeat the first "
                        "vertex at the end");
      }
      return Invalid(field, what);
    }
  }
  return absl::OkStatus();
}

absl::Status RingDefectError(const EdgeDefect& defect,
                             absl::string_view field) {
  switch (defect.kind) {
    case EdgeDefect::kCross:
      return Invalid(field, absl::StrCat("edges ", defect.edge_a, " and ",
                                         defect.edge_b, " cross"));
    case EdgeDefect::kTouch:
      return Invalid(field, absl::StrCat("edges ", defect.edge_a, " and ",
                                         defect.edge_b, " touch"));
    case EdgeDefect::kOverlap:
      break;
  }
  return Invalid(field,
                 absl::StrCat("edges ", defect.edge_a, " and ", defect.edge_b,
                              " overlap (the ring doubles back on itself)"));
}

// Holes: each a simple ring strictly inside the outer ring (projected as
// `outer` by `proj`, whose cap is `cap`), apart from the others.
absl::Status ValidateHoles(const Polygon& polygon, const BoundingCap& cap,
                           const GnomonicProjection& proj,
                           const std::vector<Vec2>& outer,
                           const ValidationLimits& limits,
                           absl::string_view field) {
  const Vec3 cap_centre = ToEcef(cap.center);
  std::vector<std::vector<Vec2>> holes;
  holes.reserve(polygon.holes.size());
  for (size_t h = 0; h < polygon.holes.size(); ++h) {
    const std::vector<LatLng>& v = polygon.holes[h];
    const std::string hole_field = absl::StrCat(field, ".holes[", h, "]");
    UTM_RETURN_IF_ERROR(ValidateRingPoints(v, hole_field));
    // The outer ring lies within its cap, so a vertex beyond it is outside
    // (a chord is never longer than the geodesic); checked before projecting
    // so that the projection is only asked about nearby points.
    for (size_t i = 0; i < v.size(); ++i) {
      if (ChordLength(ToEcef(v[i]), cap_centre) > cap.radius_m + kCapMarginM) {
        return Invalid(hole_field, absl::StrCat("vertices[", i,
                                                "] lies outside the outer "
                                                "ring"));
      }
    }
    std::vector<Vec2> p(v.size());
    for (size_t i = 0; i < v.size(); ++i) p[i] = proj.Forward(v[i]);
    if (const std::optional<EdgeDefect> defect =
            FindRingDefect(p, kSamePointM)) {
      return RingDefectError(*defect, hole_field);
    }
    if (const std::optional<EdgePair> near =
            FindNearEdgePair(p, outer, kSamePointM)) {
      return Invalid(hole_field,
                     absl::StrCat("edge ", near->edge_a,
                                  near->cross ? " crosses" : " touches",
                                  " the outer ring at edge ", near->edge_b));
    }
    if (!RingContains(outer, p[0])) {
      return Invalid(hole_field, "lies outside the outer ring");
    }
    for (size_t k = 0; k < holes.size(); ++k) {
      if (const std::optional<EdgePair> near =
              FindNearEdgePair(p, holes[k], kSamePointM)) {
        return Invalid(hole_field,
                       absl::StrCat("edge ", near->edge_a,
                                    near->cross ? " crosses" : " touches",
                                    " holes[", k, "] at edge ", near->edge_b));
      }
      if (RingContains(holes[k], p[0])) {
        return Invalid(hole_field, absl::StrCat("lies inside holes[", k, "]"));
      }
      if (RingContains(p, holes[k][0])) {
        return Invalid(hole_field, absl::StrCat("contains holes[", k, "]"));
      }
    }
    const double area = std::fabs(GeodesicPolygonArea(v));
    if (area < limits.min_area_m2) {
      return Invalid(hole_field,
                     absl::StrFormat("encloses %.6g m²; at least %.6g m² is "
                                     "required",
                                     area, limits.min_area_m2));
    }
    holes.push_back(std::move(p));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePolygon(const Polygon& polygon,
                             const ValidationLimits& limits,
                             absl::string_view field) {
  const std::vector<LatLng>& v = polygon.vertices;
  const size_t n = v.size();
  if (n < 3) {
    return Invalid(
        field,
        absl::StrCat("has ", n, " vertices; a polygon needs at least 3"));
  }
  const size_t total = VertexCount(polygon);
  if (total > static_cast<size_t>(limits.max_vertices)) {
    return Invalid(
        field,
        absl::StrCat("has ", total, " vertices",
                     polygon.holes.empty() ? "" : " (all rings together)",
                     "; at most ", limits.max_vertices, " are allowed"));
  }
  UTM_RETURN_IF_ERROR(ValidateRingPoints(v, field));
  const BoundingCap cap = PolygonCap(v);
  if (cap.radius_m > limits.max_reach_m) {
    return Invalid(
        field, absl::StrFormat("reaches %.3f km from its centre (%.6f, "
                               "%.6f); at most %.3f km is allowed",
                               cap.radius_m / 1e3, cap.center.lat_deg,
                               cap.center.lng_deg, limits.max_reach_m / 1e3));
  }
  // Within the reach limit, the gnomonic projection centred on the cap keeps
  // every edge straight to within 0.1 mm, so planar tests decide simplicity.
  const GnomonicProjection proj(cap.center);
  std::vector<Vec2> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = proj.Forward(v[i]);
  if (const std::optional<EdgeDefect> defect = FindRingDefect(p, kSamePointM)) {
    return RingDefectError(*defect, field);
  }
  UTM_RETURN_IF_ERROR(ValidateHoles(polygon, cap, proj, p, limits, field));
  const double area = PolygonArea(polygon);
  if (area < limits.min_area_m2) {
    return Invalid(field,
                   absl::StrFormat("encloses %.6g m²; at least %.6g m² is "
                                   "required",
                                   area, limits.min_area_m2));
  }
  if (area > limits.max_area_m2) {
    return Invalid(field,
                   absl::StrCat("encloses ", FormatKm2(area), "; at most ",
                                FormatKm2(limits.max_area_m2), " is allowed"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCircle(const Circle& circle,
                            const ValidationLimits& limits,
                            absl::string_view field) {
  UTM_RETURN_IF_ERROR(
      ValidateLatLng(circle.center, absl::StrCat(field, ".center")));
  const std::string radius_field = absl::StrCat(field, ".radius_m");
  UTM_RETURN_IF_ERROR(CheckFinite(circle.radius_m, radius_field));
  if (circle.radius_m <= 0) {
    return Invalid(radius_field,
                   absl::StrCat("must be positive, got ", circle.radius_m));
  }
  if (circle.radius_m > limits.max_reach_m) {
    return Invalid(
        radius_field,
        absl::StrFormat("%.3f km exceeds the %.3f km limit",
                        circle.radius_m / 1e3, limits.max_reach_m / 1e3));
  }
  const double area = M_PI * circle.radius_m * circle.radius_m;
  if (area > limits.max_area_m2) {
    return Invalid(radius_field,
                   absl::StrCat(circle.radius_m, " m encloses ",
                                FormatKm2(area), "; at most ",
                                FormatKm2(limits.max_area_m2), " is allowed"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAltitudeBand(const AltitudeBand& band,
                                  const ValidationLimits& limits,
                                  absl::string_view field) {
  const std::string prefix = field.empty() ? "" : absl::StrCat(field, ".");
  const std::string lower = absl::StrCat(prefix, "altitude_lower");
  const std::string upper = absl::StrCat(prefix, "altitude_upper");
  UTM_RETURN_IF_ERROR(CheckFinite(band.lower_m, lower));
  UTM_RETURN_IF_ERROR(CheckFinite(band.upper_m, upper));
  for (const auto& [value, name] :
       {std::pair{band.lower_m, &lower}, std::pair{band.upper_m, &upper}}) {
    if (value < limits.min_altitude_m || value > limits.max_altitude_m) {
      return Invalid(
          *name,
          absl::StrCat(value, " m is outside [", limits.min_altitude_m, ", ",
                       limits.max_altitude_m, "] m above the WGS84 ellipsoid"));
    }
  }
  if (band.lower_m >= band.upper_m) {
    return Invalid(lower, absl::StrCat("(", band.lower_m,
                                       " m) must be below altitude_upper (",
                                       band.upper_m, " m)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTimeWindow(const TimeWindow& window,
                                absl::string_view field) {
  const std::string prefix = field.empty() ? "" : absl::StrCat(field, ".");
  if (window.start == absl::InfiniteFuture()) {
    return Invalid(absl::StrCat(prefix, "time_start"), "must not be infinite");
  }
  if (window.end <= window.start) {
    return Invalid(absl::StrCat(prefix, "time_end"),
                   absl::StrCat("(", FormatRfc3339(window.end),
                                ") must be after time_start (",
                                FormatRfc3339(window.start), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateVolume3D(const Volume3D& volume,
                              const ValidationLimits& limits,
                              absl::string_view field) {
  const std::string prefix = field.empty() ? "" : absl::StrCat(field, ".");
  if (const Polygon* polygon = std::get_if<Polygon>(&volume.footprint)) {
    UTM_RETURN_IF_ERROR(ValidatePolygon(
        *polygon, limits, absl::StrCat(prefix, "outline_polygon")));
  } else {
    UTM_RETURN_IF_ERROR(ValidateCircle(std::get<Circle>(volume.footprint),
                                       limits,
                                       absl::StrCat(prefix, "outline_circle")));
  }
  return ValidateAltitudeBand(volume.altitude, limits, field);
}

absl::Status ValidateVolume4D(const Volume4D& volume,
                              const ValidationLimits& limits,
                              absl::string_view field) {
  const std::string prefix = field.empty() ? "" : absl::StrCat(field, ".");
  UTM_RETURN_IF_ERROR(
      ValidateVolume3D(volume.volume, limits, absl::StrCat(prefix, "volume")));
  return ValidateTimeWindow(volume.time, field);
}

BoundingCap PolygonBoundingCap(const std::vector<Vec3>& vertices_ecef) {
  BoundingCap cap = CapFromEcef(vertices_ecef);
  cap.radius_m += kCapMarginM;
  return cap;
}

BoundingCap ComputeBoundingCap(const Footprint& footprint) {
  BoundingCap cap;
  if (const Circle* circle = std::get_if<Circle>(&footprint)) {
    cap.center = circle->center;
    cap.radius_m = circle->radius_m;
  } else {
    cap = PolygonCap(std::get<Polygon>(footprint).vertices);
  }
  cap.radius_m += kCapMarginM;
  return cap;
}

std::string DebugString(const Footprint& footprint) {
  if (const Circle* c = std::get_if<Circle>(&footprint)) {
    return absl::StrFormat("circle(%.9f, %.9f, r=%.4f m)", c->center.lat_deg,
                           c->center.lng_deg, c->radius_m);
  }
  std::string out = "polygon(";
  const Polygon& polygon = std::get<Polygon>(footprint);
  for (const LatLng& v : polygon.vertices) {
    absl::StrAppendFormat(&out, "(%.9f, %.9f) ", v.lat_deg, v.lng_deg);
  }
  for (const std::vector<LatLng>& hole : polygon.holes) {
    out += "hole(";
    for (const LatLng& v : hole) {
      absl::StrAppendFormat(&out, "(%.9f, %.9f) ", v.lat_deg, v.lng_deg);
    }
    out.back() = ')';
    out += ' ';
  }
  out.back() = ')';
  return out;
}

}  // namespace utm::geo
