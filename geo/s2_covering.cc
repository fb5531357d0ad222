#include "geo/s2_covering.h"

#include <algorithm>
#include <memory>

#include "geo/geodesy.h"
#include "s2/s1angle.h"
#include "s2/s1chord_angle.h"
#include "s2/s2cap.h"
#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2cell_union.h"
#include "s2/s2latlng.h"
#include "s2/s2loop.h"
#include "s2/s2region_coverer.h"

namespace utm::geo {
namespace {

S2Point ToS2Point(const LatLng& p) {
  return S2LatLng::FromDegrees(p.lat_deg, p.lng_deg).ToPoint();
}

// S2 places a point at the same latitude and longitude on the unit sphere.
// A surface distance s on the ellipsoid then spans an angle of at most
// s / (smallest radius of curvature), which over-estimates it everywhere.
S1Angle SurfaceDistanceToAngle(double s) {
  return S1Angle::Radians(s / kEarthMinCurvatureRadiusM);
}

}  // namespace

std::vector<uint64_t> CoverFootprint(const Footprint& footprint, int level,
                                     int refine_levels) {
  // Out-of-range levels are a programming error; clamp rather than allocate
  // without bound.
  level = std::clamp(level, 0, kMaxCoveringLevel);
  S2RegionCoverer::Options options;
  // Finer cells first keep the covering tight; they are lifted to `level`
  // below. refine_levels finer than `level`, as far as S2 allows.
  const int fine_level = std::min(
      level + std::clamp(refine_levels, 0, S2CellId::kMaxLevel),
      S2CellId::kMaxLevel);
  options.set_min_level(level);
  options.set_max_level(fine_level);
  options.set_max_cells(256);
  S2RegionCoverer coverer(options);
  S2CellUnion covering;
  if (const Circle* circle = std::get_if<Circle>(&footprint)) {
    const S2Cap cap(
        ToS2Point(circle->center),
        SurfaceDistanceToAngle(circle->radius_m + kCoveringMarginM));
    covering = coverer.GetCovering(cap);
  } else {
    // The outer ring only: ignoring holes keeps the covering conservative.
    std::vector<S2Point> points;
    for (const LatLng& v : std::get<Polygon>(footprint).vertices) {
      points.push_back(ToS2Point(v));
    }
    S2Loop loop(points, S2Debug::DISABLE);
    // Either winding is valid input; S2 wants the smaller side inside.
    loop.Normalize();
    covering = coverer.GetCovering(loop);
    covering.Expand(SurfaceDistanceToAngle(kCoveringMarginM),
                    /*max_level_diff=*/fine_level - level);
  }
  std::vector<uint64_t> cells;
  cells.reserve(covering.size());
  for (const S2CellId& id : covering) {
    if (id.level() >= level) {
      cells.push_back(id.parent(level).id());
    } else {
      // Expand() may have used a coarser cell: list its descendants.
      for (S2CellId c = id.child_begin(level); c != id.child_end(level);
           c = c.next()) {
        cells.push_back(c.id());
      }
    }
  }
  std::sort(cells.begin(), cells.end());
  cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
  return cells;
}

uint64_t CellIdAt(const LatLng& p, int level) {
  return S2CellId(S2LatLng::FromDegrees(p.lat_deg, p.lng_deg))
      .parent(level)
      .id();
}

bool CellContainsDisc(const LatLng& p, double radius_m, int level) {
  const S2Point point = ToS2Point(p);
  const S2Cell cell(S2CellId(point).parent(level));
  // As CoverFootprint measures a cap: on the sphere, with the distance
  // converted by the smallest radius of curvature (an over-estimate).
  return cell.GetBoundaryDistance(point) >
         S1ChordAngle(SurfaceDistanceToAngle(radius_m + kCoveringMarginM));
}

}  // namespace utm::geo
