// Constraints as national data sets hold them, for the constraint core's
// tests and benchmarks (header-only, never part of the product): circles,
// polygons of a dozen vertices and, every `large_every`-th, polygons of
// `large_vertices` vertices; all-day, weekday or no weekly schedules.
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_TESTING_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_TESTING_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "services/common/volume_convert.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint::test_util {

struct MixOptions {
  int large_every = 100;      // 0: none
  int large_vertices = 2000;  // the constraint service's limit
};

// Constraint k of a deterministic national-style mix on a 100 x 100 grid,
// 1 km apart, east and north of Zurich.
inline v1::Constraint NationalMix(int64_t k, const MixOptions& o = {}) {
  const geo::LatLng centre = geo::GeodesicDestination(
      geo::GeodesicDestination(geo::test_util::kZurich, 90,
                               static_cast<double>(k % 100) * 1000.0),
      0, static_cast<double>((k / 100) % 100) * 1000.0);
  geo::Volume4D v;
  v.time = {absl::InfinitePast(), absl::InfiniteFuture()};
  v.volume.altitude = {400, 700 + static_cast<double>(k % 7) * 100};
  if (o.large_every > 0 && k % o.large_every == o.large_every - 1) {
    v.volume.footprint =
        geo::test_util::RegularPolygon(centre, 6000, o.large_vertices);
  } else if (k % 3 == 0) {
    v.volume.footprint =
        geo::Circle{centre, 150 + static_cast<double>(k % 5) * 70};
  } else {
    v.volume.footprint = geo::test_util::RegularPolygon(
        centre, 300, 6 + static_cast<int>(k % 12));
  }
  v1::Constraint c;
  c.set_type(k % 4 == 0 ? v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION
                        : v1::CONSTRAINT_TYPE_PROHIBITED);
  *c.add_volumes() = VolumeToProto(v);
  c.set_reason(absl::StrCat("zone ", k));
  c.mutable_source()->set_format(v1::SOURCE_FORMAT_ED318);
  c.mutable_source()->set_original_id(absl::StrCat("Z", k));
  switch (k % 3) {
    case 0: {  // all day, every day, in UTC+1
      v1::WeeklyWindow* w = c.mutable_schedule()->add_weekly();
      for (int d = 1; d <= 7; ++d) w->add_days(v1::DayOfWeek(d));
      w->set_start_second_of_day(0);
      w->set_end_second_of_day(86400);
      c.mutable_schedule()->set_time_zone("Etc/GMT-1");
      break;
    }
    case 1: {  // weekdays 08:00-18:00 in Zurich
      v1::WeeklyWindow* w = c.mutable_schedule()->add_weekly();
      for (int d = 1; d <= 5; ++d) w->add_days(v1::DayOfWeek(d));
      w->set_start_second_of_day(8 * 3600);
      w->set_end_second_of_day(18 * 3600);
      c.mutable_schedule()->set_time_zone("Europe/Zurich");
      break;
    }
    default:
      break;  // permanent
  }
  return c;
}

}  // namespace utm::constraint::test_util

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_TESTING_H_
