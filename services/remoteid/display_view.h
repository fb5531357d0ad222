// A Remote ID display's view and how much of it may be shown, per ASTM
// F3411-22a's display-provider rules (its Table of network Remote ID
// constants):
//   NetMaxDisplayAreaDiagonal         7 km: wider views are refused;
//   NetDetailsMaxDisplayAreaDiagonal  2 km: wider views get clusters only;
//   NetMinClusterSize                 15 % of the view's area per cluster;
//   NetMinObfuscationDistance         300 m: no aircraft in a cluster can
//                                     be placed closer than this.
//
// Clusters are cells of one fixed hierarchy of the sphere (S2 cells): the
// finest level whose every cell is at least 15 % of the view and at least
// 600 m (twice the obfuscation distance) across. A cluster is the cell of
// its aircraft, the same for every view of that scale and every moment,
// so neither panning nor waiting narrows where an aircraft is below the
// cell; and cells of different levels nest, so combining views of two
// scales narrows it to the smaller cell at best. Pure; thread-compatible.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(DisplayView view, DisplayView::FromProto(
//       request.view(), DisplayRules(), "view"));
//   if (view.shows_flights()) { ... view.Contains(p) ... }
//   else { std::vector<v1::RidCluster> c = view.Cluster(positions); }
#ifndef UTM_SERVICES_REMOTEID_DISPLAY_VIEW_H_
#define UTM_SERVICES_REMOTEID_DISPLAY_VIEW_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/latlng.h"
#include "utm/v1/remote_id.pb.h"

namespace utm::remoteid {

// The display rules. The defaults are F3411-22a's values; a jurisdiction
// may only tighten them (smaller diagonals, larger clusters).
struct DisplayRules {
  // NetMaxDisplayAreaDiagonal, metres.
  double max_diagonal_m = 7000;
  // NetDetailsMaxDisplayAreaDiagonal, metres.
  double details_diagonal_m = 2000;
  // NetMinClusterSize, as a fraction of the view's area.
  double min_cluster_fraction = 0.15;
  // NetMinObfuscationDistance, metres.
  double min_obfuscation_m = 300;
};

class DisplayView {
 public:
  // Checks a view: both corners set and in range, south_west no farther
  // north than north_east, and a diagonal (geodesic, corner to corner) of
  // at most rules.max_diagonal_m. INVALID_ARGUMENT naming `field`, e.g.
  // "view: diagonal 8.21 km exceeds 7 km (ASTM F3411-22a
  // NetMaxDisplayAreaDiagonal); zoom in".
  static absl::StatusOr<DisplayView> FromProto(const v1::LatLngRect& rect,
                                               const DisplayRules& rules,
                                               absl::string_view field);

  // Whether individual flights may be shown (diagonal within the details
  // diagonal); otherwise only clusters.
  bool shows_flights() const { return shows_flights_; }
  double diagonal_m() const { return diagonal_m_; }
  // Area of the view, square metres (on the authalic sphere).
  double area_m2() const { return area_m2_; }
  // The centre and a radius around it that holds the whole view, metres.
  const geo::LatLng& centre() const { return centre_; }
  double radius_m() const { return radius_m_; }

  // Whether `p` lies in the view (edges included; across the antimeridian
  // when the view is).
  bool Contains(const geo::LatLng& p) const;

  // The clusters holding `positions` (each inside the view): one per cell,
  // with its aircraft count, corners and area, ordered by cell.
  std::vector<v1::RidCluster> Cluster(
      const std::vector<geo::LatLng>& positions) const;

  // The square of side `side_m` around `centre` (its corners `side_m` / 2
  // north or south and east or west of the centre, along geodesics): how
  // clients and tools make a view around a point.
  static v1::LatLngRect SquareAround(const geo::LatLng& centre, double side_m);

  // The cell level clusters use (S2 level, 0..30); for tests.
  int cluster_level() const { return cluster_level_; }

 private:
  DisplayView() = default;

  double south_ = 0, west_ = 0, north_ = 0, east_ = 0;  // degrees
  bool shows_flights_ = false;
  double diagonal_m_ = 0;
  double area_m2_ = 0;
  geo::LatLng centre_;
  double radius_m_ = 0;
  int cluster_level_ = 0;
};

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_DISPLAY_VIEW_H_
