// S2 cell coverings of footprints, for sharding and storage keys.
//
// A covering is the set of S2 cells at one fixed level that together contain
// the whole footprint. It is conservative: it may include cells the footprint
// only nearly touches, never miss one it enters. Two footprints that
// intersect therefore always share at least one cell at the same level,
// which is what makes cells usable as keys for candidate lookup (as the
// InterUSS DSS does at level 13, cells of roughly 1 km on a side).
//
// S2 models edges as great circles on a sphere; ours are geodesics on the
// ellipsoid. The two differ by metres at most for footprints within the
// validation limits, so the covering is grown by kCoveringMarginM to stay
// conservative (docs/geometry.md).
//
// Typical usage:
//   std::vector<uint64_t> cells = CoverFootprint(volume.volume.footprint, 13);
#ifndef UTM_GEO_S2_COVERING_H_
#define UTM_GEO_S2_COVERING_H_

#include <cstdint>
#include <vector>

#include "geo/volume.h"

namespace utm::geo {

// Cell level used for storage keys by default: about 1 km² cells.
inline constexpr int kDefaultCellLevel = 13;
// How far, metres, a covering reaches beyond the footprint.
inline constexpr double kCoveringMarginM = 50.0;

// Finest level CoverFootprint accepts: cells of about 150 m. Finer cells are
// smaller than the 50 m margin's expansion step, and a covering would split
// into thousands of cells per footprint (65,536 for a 100 m square at level
// 22), which storage keys have no use for.
inline constexpr int kMaxCoveringLevel = 16;

// How many levels finer than the requested one a covering is computed at
// before its cells are lifted to that level.
inline constexpr int kDefaultRefineLevels = 4;

// Sorted, distinct S2 cell ids at exactly `level` that cover the footprint.
// The covering is computed with cells down to `refine_levels` levels finer
// (as far as S2 allows) and lifted: more levels give fewer cells at `level`
// (a tighter covering) and cost more, fewer are faster and cover a little
// more; every choice is conservative.
// REQUIRES: a validated footprint; 0 <= level <= kMaxCoveringLevel;
// refine_levels >= 0 (out-of-range values are clamped).
std::vector<uint64_t> CoverFootprint(const Footprint& footprint,
                                     int level = kDefaultCellLevel,
                                     int refine_levels = kDefaultRefineLevels);

// The S2 cell id at `level` (0 to 30) containing a point.
uint64_t CellIdAt(const LatLng& p, int level = kDefaultCellLevel);

// Whether every point within radius_m (geodesic) of p, grown by
// kCoveringMarginM, lies inside p's cell at `level`: then a covering of
// Circle{p, radius_m} at that level is p's cell alone. Conservative: it may
// answer false for a disc just inside, never true for one that leaves the
// cell. Far cheaper than CoverFootprint. REQUIRES: a validated position;
// 0 <= level <= 30; radius_m >= 0.
bool CellContainsDisc(const LatLng& p, double radius_m, int level);

}  // namespace utm::geo

#endif  // UTM_GEO_S2_COVERING_H_
