// The geometry limits of constraint volumes, shared by the server
// (ConstraintOptions) and the zone-file importers, so that what an import
// accepts is what the server accepts.
#ifndef UTM_SERVICES_CONSTRAINT_LIMITS_H_
#define UTM_SERVICES_CONSTRAINT_LIMITS_H_

#include "geo/volume.h"
#include "services/common/volume_convert.h"

namespace utm::constraint {

// Larger than a flight's, for wide-area TFRs (a 30 NM VIP TFR reaches
// 55.6 km) and national geozone data sets (control zones of up to ~5,000
// vertices with aerodromes cut out as holes): 100,000 km² footprint, 120 km
// reach, 20,000 vertices (all rings together); altitudes as for flights.
// Prepared zones of many vertices carry an edge index (geo/intersect.h), so
// checks against them touch only nearby edges.
inline geo::ValidationLimits ConstraintLimits() {
  geo::ValidationLimits l;
  l.max_area_m2 = 100000e6;
  l.max_reach_m = 120e3;
  l.max_vertices = 20000;
  return l;
}

// How constraints this server wrote are read back from its own checksummed
// store (a restart): with the widest limits, since they were valid when
// written and the configuration may have changed since, and without checking
// the geometry again (VolumeConvertOptions::validate).
inline VolumeConvertOptions StoredConstraintConvertOptions() {
  VolumeConvertOptions trusted;
  trusted.limits.max_area_m2 = 1e15;
  trusted.limits.max_reach_m = 1e7;
  trusted.limits.max_vertices = 1 << 20;
  trusted.allow_open_start = true;
  trusted.allow_open_end = true;
  trusted.validate = false;
  return trusted;
}

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_LIMITS_H_
