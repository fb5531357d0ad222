#include "services/constraint/import/height_grid.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/geodesy.h"

namespace utm::elevation {
namespace {

constexpr double kDegToRad = M_PI / 180;

std::string Where(const geo::LatLng& p) {
  return absl::StrFormat("(%.6f, %.6f)", p.lat_deg, p.lng_deg);
}

// Grid position of a boundary sample, with x unwrapped along the boundary on
// a wrapping grid.
struct GridPoint {
  double x;
  double y;
};

}  // namespace

HeightGrid::HeightGrid(std::string name, GridGeometry geometry,
                       std::vector<float> heights, std::optional<float> nodata)
    : name_(std::move(name)),
      geometry_(geometry),
      heights_(std::move(heights)),
      nodata_(nodata) {}

absl::Status HeightGrid::ToGrid(const geo::LatLng& p, double* x,
                                double* y) const {
  const GridGeometry& g = geometry_;
  *x = (p.lng_deg - g.lng0_deg) / g.dlng_deg;
  *y = (p.lat_deg - g.lat0_deg) / g.dlat_deg;
  if (g.wraps_longitude) {
    *x = std::fmod(*x, g.cols);
    if (*x < 0) *x += g.cols;
  }
  const bool x_in = g.wraps_longitude || (*x >= -0.5 && *x <= g.cols - 0.5);
  const bool y_in = *y >= -0.5 && *y <= g.rows - 0.5;
  if (x_in && y_in && std::isfinite(*x) && std::isfinite(*y)) {
    return absl::OkStatus();
  }
  const double lat_a = g.lat0_deg - 0.5 * g.dlat_deg;
  const double lat_b = g.lat0_deg + (g.rows - 0.5) * g.dlat_deg;
  const double lng_a = g.lng0_deg - 0.5 * g.dlng_deg;
  const double lng_b = g.lng0_deg + (g.cols - 0.5) * g.dlng_deg;
  return absl::OutOfRangeError(absl::StrFormat(
      "%s is outside %s (latitudes %.6f to %.6f, longitudes %.6f to %.6f)",
      Where(p), name_, std::min(lat_a, lat_b), std::max(lat_a, lat_b), lng_a,
      lng_b));
}

geo::LatLng HeightGrid::NodePosition(long col, long row) const {
  return {geometry_.lat0_deg + row * geometry_.dlat_deg,
          geometry_.lng0_deg + col * geometry_.dlng_deg};
}

absl::StatusOr<double> HeightGrid::Node(long col, long row) const {
  const GridGeometry& g = geometry_;
  long c = col;
  if (g.wraps_longitude) {
    c %= g.cols;
    if (c < 0) c += g.cols;
  }
  const float v = heights_[static_cast<size_t>(row) * g.cols + c];
  if (std::isnan(v) || (nodata_ && v == *nodata_)) {
    return absl::NotFoundError(
        absl::StrFormat("%s has no height at %s (a hole: no data)", name_,
                        Where(NodePosition(col, row))));
  }
  return v;
}

double HeightGrid::CellSideM(double lat_deg) const {
  // The smallest radius of curvature makes the side an under-estimate, so
  // the boundary is sampled at least as densely as intended.
  const double r = geo::kEarthMinCurvatureRadiusM;
  const double ns = r * std::abs(geometry_.dlat_deg) * kDegToRad;
  const double ew = r * geometry_.dlng_deg * kDegToRad *
                    std::cos(std::min(std::abs(lat_deg), 89.999) * kDegToRad);
  return std::max(std::min(ns, ew), 0.01);
}

absl::StatusOr<double> HeightGrid::HeightM(const geo::LatLng& p) const {
  double x, y;
  if (absl::Status s = ToGrid(p, &x, &y); !s.ok()) return s;
  absl::StatusOr<double> h = Bilinear(x, y);
  if (!h.ok()) {
    return absl::NotFoundError(absl::StrCat(name_, " has no height at ",
                                            Where(p), " (",
                                            h.status().message(), ")"));
  }
  return h;
}

absl::StatusOr<double> HeightGrid::Bilinear(double x, double y) const {
  const GridGeometry& g = geometry_;
  // Inside the outer half cell of a DEM the edge node is the nearest.
  const double yc = std::clamp(y, 0.0, g.rows - 1.0);
  const long y0 = static_cast<long>(std::floor(yc));
  const long y1 = std::min<long>(y0 + 1, g.rows - 1);
  const double fy = yc - y0;
  double xc = x;
  long x0, x1;
  if (g.wraps_longitude) {
    x0 = static_cast<long>(std::floor(xc));
    x1 = x0 + 1;
  } else {
    xc = std::clamp(x, 0.0, g.cols - 1.0);
    x0 = static_cast<long>(std::floor(xc));
    x1 = std::min<long>(x0 + 1, g.cols - 1);
  }
  const double fx = xc - x0;
  double h[2][2];
  for (int j = 0; j < 2; ++j) {
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<double> v = Node(i == 0 ? x0 : x1, j == 0 ? y0 : y1);
      if (!v.ok()) {
        return absl::NotFoundError(absl::StrCat(
            "a hole next to it, at ",
            Where(NodePosition(i == 0 ? x0 : x1, j == 0 ? y0 : y1))));
      }
      h[j][i] = *v;
    }
  }
  return (1 - fy) * ((1 - fx) * h[0][0] + fx * h[0][1]) +
         fy * ((1 - fx) * h[1][0] + fx * h[1][1]);
}

absl::StatusOr<HeightRange> HeightGrid::RangeM(
    const geo::Footprint& footprint) const {
  const GridGeometry& g = geometry_;
  // 1. The boundary, densified so that consecutive samples are at most half
  // a cell apart.
  std::vector<geo::LatLng> ring;
  double max_abs_lat = 0;
  if (const auto* circle = std::get_if<geo::Circle>(&footprint)) {
    max_abs_lat = std::abs(circle->center.lat_deg) +
                  circle->radius_m / geo::kEarthMinCurvatureRadiusM / kDegToRad;
  } else {
    for (const geo::LatLng& v : std::get<geo::Polygon>(footprint).vertices) {
      max_abs_lat = std::max(max_abs_lat, std::abs(v.lat_deg));
    }
  }
  const double spacing_m = 0.5 * CellSideM(max_abs_lat);
  constexpr double kMaxSamples = 5e6;
  auto too_large = [&](double n) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the footprint spans about %.0f cells of %s, more than the %.0f this "
        "importer reads per footprint; use a coarser grid or split the zone",
        n, name_, kMaxCells));
  };
  if (const auto* circle = std::get_if<geo::Circle>(&footprint)) {
    const double n = std::ceil(2 * M_PI * circle->radius_m / spacing_m);
    if (n > kMaxSamples) return too_large(n * n / 10);
    const int count = std::max(16, static_cast<int>(n));
    // A circumscribed polygon, so the ring contains the whole circle: its
    // chords would cut off slivers of it.
    const double reach = circle->radius_m / std::cos(M_PI / count);
    for (int i = 0; i < count; ++i) {
      ring.push_back(
          geo::GeodesicDestination(circle->center, 360.0 * i / count, reach));
    }
  } else {
    const std::vector<geo::LatLng>& v =
        std::get<geo::Polygon>(footprint).vertices;
    for (size_t i = 0; i < v.size(); ++i) {
      const geo::LatLng& a = v[i];
      const geo::LatLng& b = v[(i + 1) % v.size()];
      const double d = geo::GeodesicDistance(a, b);
      const double n = std::ceil(d / spacing_m);
      if (ring.size() + n > kMaxSamples) return too_large(n * n / 10);
      const int count = std::max(1, static_cast<int>(n));
      ring.push_back(a);
      for (int k = 1; k < count; ++k) {
        ring.push_back(geo::GeodesicInterpolate(a, b, d * k / count));
      }
    }
  }
  if (ring.empty()) {
    return absl::InvalidArgumentError("the footprint has no vertices");
  }

  // 2. The number of nodes under the footprint's bounding box, before any
  // is read.
  {
    double lat_min = 90, lat_max = -90, lng_min = 1e9, lng_max = -1e9;
    double prev = ring.front().lng_deg;
    for (const geo::LatLng& p : ring) {
      const double lng = p.lng_deg + 360 * std::round((prev - p.lng_deg) / 360);
      prev = lng;
      lat_min = std::min(lat_min, p.lat_deg);
      lat_max = std::max(lat_max, p.lat_deg);
      lng_min = std::min(lng_min, lng);
      lng_max = std::max(lng_max, lng);
    }
    const double cells = ((lng_max - lng_min) / g.dlng_deg + 4) *
                         ((lat_max - lat_min) / std::abs(g.dlat_deg) + 4);
    if (cells > kMaxCells) return too_large(cells);
  }

  // 3. Grid positions; on a wrapping grid x runs on across the seam.
  std::vector<GridPoint> points;
  points.reserve(ring.size());
  double ymin = std::numeric_limits<double>::infinity(), ymax = -ymin;
  for (const geo::LatLng& p : ring) {
    GridPoint q;
    if (absl::Status s = ToGrid(p, &q.x, &q.y); !s.ok()) return s;
    if (g.wraps_longitude && !points.empty()) {
      const double prev = points.back().x;
      q.x += g.cols * std::round((prev - q.x) / g.cols);
    }
    points.push_back(q);
    ymin = std::min(ymin, q.y);
    ymax = std::max(ymax, q.y);
  }
  HeightRange range{std::numeric_limits<double>::infinity(),
                    -std::numeric_limits<double>::infinity()};
  auto include = [&](long col, long row) -> absl::Status {
    absl::StatusOr<double> v = Node(col, row);
    if (!v.ok()) return v.status();
    range.min_m = std::min(range.min_m, *v);
    range.max_m = std::max(range.max_m, *v);
    return absl::OkStatus();
  };
  auto clamp_col = [&](long c) {
    return g.wraps_longitude ? c : std::clamp<long>(c, 0, g.cols - 1);
  };
  auto clamp_row = [&](long r) { return std::clamp<long>(r, 0, g.rows - 1); };

  // 4. The exact range of the bilinear surface along the boundary: each
  // segment between samples, cut where it crosses a grid line, is a
  // quadratic within one cell, so its ends and its vertex are its extremes.
  // (The densified ring's segments are half a cell long at most; the
  // geodesic between two samples departs from their chord by far less than
  // a millimetre of height.)
  auto at = [&](const GridPoint& a, const GridPoint& b,
                double t) -> absl::StatusOr<double> {
    const double x = a.x + t * (b.x - a.x), y = a.y + t * (b.y - a.y);
    absl::StatusOr<double> h = Bilinear(x, y);
    if (!h.ok()) {
      const GridGeometry& gg = geometry_;
      return absl::NotFoundError(absl::StrCat(
          name_, " has no height at ",
          Where({gg.lat0_deg + y * gg.dlat_deg, gg.lng0_deg + x * gg.dlng_deg}),
          " (", h.status().message(), ")"));
    }
    return h;
  };
  auto add = [&](double h) {
    range.min_m = std::min(range.min_m, h);
    range.max_m = std::max(range.max_m, h);
  };
  std::vector<double> cuts;
  for (size_t i = 0; i < points.size(); ++i) {
    const GridPoint& a = points[i];
    const GridPoint& b = points[(i + 1) % points.size()];
    cuts.assign({0.0, 1.0});
    for (auto [from, to] : {std::pair{a.x, b.x}, std::pair{a.y, b.y}}) {
      for (double line = std::ceil(std::min(from, to));
           line <= std::floor(std::max(from, to)); line += 1) {
        if (from != to) cuts.push_back((line - from) / (to - from));
      }
    }
    std::sort(cuts.begin(), cuts.end());
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      const double t0 = cuts[k], t1 = cuts[k + 1];
      absl::StatusOr<double> f0 = at(a, b, t0);
      if (!f0.ok()) return f0.status();
      add(*f0);
      if (t1 - t0 < 1e-12) continue;
      absl::StatusOr<double> fm = at(a, b, 0.5 * (t0 + t1));
      absl::StatusOr<double> f1 = at(a, b, t1);
      if (!fm.ok()) return fm.status();
      if (!f1.ok()) return f1.status();
      add(*f1);
      // f(u) = f0 + B u + A u^2 on u in [0, 1], through f0, fm, f1.
      const double qa = 2 * *f0 + 2 * *f1 - 4 * *fm;
      const double qb = 4 * *fm - 3 * *f0 - *f1;
      if (qa != 0) {
        const double u = -qb / (2 * qa);
        if (u > 0 && u < 1) add(*f0 + qb * u + qa * u * u);
      }
    }
  }

  // 5. Every node inside the densified ring, row by row (even-odd rule):
  // inside a cell the bilinear surface has no extremum of its own, and along
  // a grid line it is linear, so inside the footprint its extremes are nodes.
  std::vector<double> crossings;
  for (long row = static_cast<long>(std::ceil(ymin));
       row <= static_cast<long>(std::floor(ymax)); ++row) {
    crossings.clear();
    const double y = row;
    for (size_t i = 0; i < points.size(); ++i) {
      const GridPoint& a = points[i];
      const GridPoint& b = points[(i + 1) % points.size()];
      if ((a.y <= y) != (b.y <= y)) {
        crossings.push_back(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
      }
    }
    std::sort(crossings.begin(), crossings.end());
    for (size_t i = 0; i + 1 < crossings.size(); i += 2) {
      for (long col = static_cast<long>(std::ceil(crossings[i]));
           col <= static_cast<long>(std::floor(crossings[i + 1])); ++col) {
        if (absl::Status s = include(clamp_col(col), clamp_row(row)); !s.ok()) {
          return s;
        }
      }
    }
  }
  return range;
}

}  // namespace utm::elevation
