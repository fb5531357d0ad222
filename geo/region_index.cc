#include "geo/region_index.h"

#include <GeographicLib/Geodesic.hpp>
#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <cmath>
#include <iterator>
#include <utility>

#include "geo/geodesy.h"

namespace utm::geo {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
// Plain degrees (longitude, latitude): the boxes never wrap, so cartesian
// box arithmetic is what we mean.
using CPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using CBox = bg::model::box<CPoint>;
using BoxValue = std::pair<CBox, uint32_t>;
using PointValue = std::pair<CPoint, uint32_t>;

constexpr double kDegToRad = M_PI / 180.0;

// An edge's extent before splitting at the antimeridian: longitudes may run
// past ±180 (by less than 180°); `everywhere` for edges over a pole.
struct Span {
  double lng_lo = -180, lng_hi = 180;
  double lat_lo = -90, lat_hi = 90;
  bool everywhere = false;
};

Span EdgeSpan(const LatLng& a, const LatLng& b) {
  Span span;
  // The shorter way round, as the geodesic goes: in [-180, 180].
  const double dlng = std::remainder(b.lng_deg - a.lng_deg, 360.0);
  if (std::abs(a.lat_deg) >= 90 || std::abs(b.lat_deg) >= 90 ||
      std::abs(dlng) >= 180 - 1e-9) {
    span.everywhere = true;
    return span;
  }
  span.lat_lo = std::min(a.lat_deg, b.lat_deg);
  span.lat_hi = std::max(a.lat_deg, b.lat_deg);
  // The geodesic's latitude is extreme inside the edge where its azimuth
  // passes east or west (cos(azimuth) changes sign); Clairaut's relation
  // gives that extreme latitude for the whole geodesic, so using it
  // whenever the sign may change only widens the box.
  const GeographicLib::Geodesic& wgs84 = GeographicLib::Geodesic::WGS84();
  double s12 = 0, azi1 = 0, azi2 = 0;
  wgs84.Inverse(a.lat_deg, a.lng_deg, b.lat_deg, b.lng_deg, s12, azi1, azi2);
  const double c1 = std::cos(azi1 * kDegToRad);
  const double c2 = std::cos(azi2 * kDegToRad);
  if (c1 * c2 <= 0) {
    const double f = wgs84.Flattening();
    const double beta1 = std::atan((1 - f) * std::tan(a.lat_deg * kDegToRad));
    const double sin_alpha0 =
        std::min(1.0, std::abs(std::sin(azi1 * kDegToRad) * std::cos(beta1)));
    const double beta_max = std::acos(sin_alpha0);
    const double lat_max = std::atan(std::tan(beta_max) / (1 - f)) / kDegToRad;
    if (c1 >= 0 && c2 <= 0) span.lat_hi = std::max(span.lat_hi, lat_max);
    if (c1 <= 0 && c2 >= 0) span.lat_lo = std::min(span.lat_lo, -lat_max);
  }
  span.lat_lo = std::max(-90.0, span.lat_lo - kEdgeBoxLatMarginDeg);
  span.lat_hi = std::min(90.0, span.lat_hi + kEdgeBoxLatMarginDeg);
  // Longitude runs monotonically along a geodesic that does not pass over
  // a pole.
  span.lng_lo = std::min(a.lng_deg, a.lng_deg + dlng) - kEdgeBoxLngMarginDeg;
  span.lng_hi = std::max(a.lng_deg, a.lng_deg + dlng) + kEdgeBoxLngMarginDeg;
  return span;
}

// As EdgeSpan, for a short edge, looser and without solving the geodesic:
// every point of the edge lies within half its length (bounded from its
// chord) of one end, and latitude changes by at most a metre per smallest
// meridional radius of curvature.
Span ShortEdgeSpan(const LatLng& a, const LatLng& b) {
  const double chord_m = ChordLength(ToEcef(a), ToEcef(b));
  // The chord bound holds for short chords only.
  if (chord_m > 200e3) return EdgeSpan(a, b);
  Span span;
  const double dlng = std::remainder(b.lng_deg - a.lng_deg, 360.0);
  if (std::abs(a.lat_deg) >= 90 || std::abs(b.lat_deg) >= 90 ||
      std::abs(dlng) >= 180 - 1e-9) {
    span.everywhere = true;
    return span;
  }
  const double reach_deg = GeodesicUpperBoundFromChord(chord_m) / 2 /
                               kEarthMinCurvatureRadiusM / kDegToRad +
                           kEdgeBoxLatMarginDeg;
  span.lat_lo = std::max(-90.0, std::min(a.lat_deg, b.lat_deg) - reach_deg);
  span.lat_hi = std::min(90.0, std::max(a.lat_deg, b.lat_deg) + reach_deg);
  span.lng_lo = std::min(a.lng_deg, a.lng_deg + dlng) - kEdgeBoxLngMarginDeg;
  span.lng_hi = std::max(a.lng_deg, a.lng_deg + dlng) + kEdgeBoxLngMarginDeg;
  return span;
}

int SplitSpan(const Span& span, LngLatBox out[2]) {
  if (span.everywhere) {
    out[0] = {-180, 180, -90, 90};
    return 1;
  }
  if (span.lng_lo < -180) {
    out[0] = {-180, span.lng_hi, span.lat_lo, span.lat_hi};
    out[1] = {span.lng_lo + 360, 180, span.lat_lo, span.lat_hi};
    return 2;
  }
  if (span.lng_hi > 180) {
    out[0] = {span.lng_lo, 180, span.lat_lo, span.lat_hi};
    out[1] = {-180, span.lng_hi - 360, span.lat_lo, span.lat_hi};
    return 2;
  }
  out[0] = {span.lng_lo, span.lng_hi, span.lat_lo, span.lat_hi};
  return 1;
}

CBox ToCBox(const LngLatBox& b) {
  return CBox(CPoint(b.lng_lo, b.lat_lo), CPoint(b.lng_hi, b.lat_hi));
}

}  // namespace

int GeodesicEdgeBoxes(const LatLng& a, const LatLng& b, LngLatBox out[2]) {
  return SplitSpan(EdgeSpan(a, b), out);
}

int ShortGeodesicEdgeBoxes(const LatLng& a, const LatLng& b, LngLatBox out[2]) {
  return SplitSpan(ShortEdgeSpan(a, b), out);
}

int SmallRingBoxes(const std::vector<LatLng>& ring, LngLatBox out[2]) {
  if (ring.empty()) return 0;
  const double ref = ring[0].lng_deg;
  Span all;
  all.lng_lo = all.lat_lo = 1e9;
  all.lng_hi = all.lat_hi = -1e9;
  for (size_t i = 0; i < ring.size(); ++i) {
    const Span s = ShortEdgeSpan(ring[i], ring[(i + 1) % ring.size()]);
    if (s.everywhere) return 0;
    // Place the edge's span next to the first vertex's longitude.
    const double lo = ref + std::remainder(s.lng_lo - ref, 360.0);
    all.lng_lo = std::min(all.lng_lo, lo);
    all.lng_hi = std::max(all.lng_hi, lo + (s.lng_hi - s.lng_lo));
    all.lat_lo = std::min(all.lat_lo, s.lat_lo);
    all.lat_hi = std::max(all.lat_hi, s.lat_hi);
  }
  if (all.lng_hi - all.lng_lo > 90 || all.lat_lo <= -90 || all.lat_hi >= 90) {
    return 0;
  }
  return SplitSpan(all, out);
}

std::vector<std::pair<uint32_t, uint32_t>> MeetingBoxPairs(
    const std::vector<ItemBox>& boxes) {
  std::vector<BoxValue> values;
  values.reserve(boxes.size());
  for (const ItemBox& b : boxes) values.emplace_back(ToCBox(b.box), b.item);
  const bgi::rtree<BoxValue, bgi::quadratic<16>> tree(values.begin(),
                                                      values.end());
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  for (const BoxValue& v : values) {
    for (auto it = tree.qbegin(bgi::intersects(v.first)); it != tree.qend();
         ++it) {
      // Each meeting pair of boxes is seen from both ends: keep it once.
      if (it->second > v.second) pairs.emplace_back(v.second, it->second);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

struct RegionEdgeIndex::Trees {
  bgi::rtree<BoxValue, bgi::quadratic<16>> edges;
  bgi::rtree<PointValue, bgi::quadratic<16>> holes;
};

RegionEdgeIndex::RegionEdgeIndex(const std::vector<Ring>& rings)
    : trees_(std::make_unique<Trees>()) {
  std::vector<BoxValue> boxes;
  std::vector<PointValue> holes;
  for (const Ring& ring : rings) {
    const size_t n = ring.vertices.size();
    if (ring.ring > 0) {
      holes.emplace_back(
          CPoint(ring.vertices[0].lng_deg, ring.vertices[0].lat_deg),
          static_cast<uint32_t>(edges_.size()));
    }
    for (size_t k = 0; k < n; ++k) {
      const uint32_t id = static_cast<uint32_t>(edges_.size());
      edges_.push_back({ring.polygon, ring.ring, static_cast<uint32_t>(k)});
      LngLatBox b[2];
      const int count =
          GeodesicEdgeBoxes(ring.vertices[k], ring.vertices[(k + 1) % n], b);
      for (int i = 0; i < count; ++i) boxes.emplace_back(ToCBox(b[i]), id);
    }
  }
  // The range constructors pack the trees (bulk loading): built in
  // O(n log n), queried in O(log n + k).
  trees_->edges = decltype(trees_->edges)(boxes.begin(), boxes.end());
  trees_->holes = decltype(trees_->holes)(holes.begin(), holes.end());
}

RegionEdgeIndex::~RegionEdgeIndex() = default;

void RegionEdgeIndex::EdgesAtLongitude(double lng_deg,
                                       std::vector<uint32_t>* out) const {
  EdgesInBox({lng_deg, lng_deg, -90, 90}, out);
  if (lng_deg >= 180) EdgesInBox({-180, -180, -90, 90}, out);
  if (lng_deg <= -180) EdgesInBox({180, 180, -90, 90}, out);
}

void RegionEdgeIndex::EdgesInBox(const LngLatBox& box,
                                 std::vector<uint32_t>* out) const {
  for (auto it = trees_->edges.qbegin(bgi::intersects(ToCBox(box)));
       it != trees_->edges.qend(); ++it) {
    out->push_back(it->second);
  }
}

void RegionEdgeIndex::HolesInBox(const LngLatBox& box,
                                 std::vector<uint32_t>* out) const {
  for (auto it = trees_->holes.qbegin(bgi::intersects(ToCBox(box)));
       it != trees_->holes.qend(); ++it) {
    out->push_back(it->second);
  }
}

}  // namespace utm::geo
