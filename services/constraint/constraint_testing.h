// For the constraint core's tests and benchmarks (header-only, never part
// of the product, no test framework): the fixture pieces the tests share
// (a fixed Monday, callers, zones and areas east of Zurich, a store
// directory for restarts), and constraints as national data sets hold them:
// circles, polygons of a dozen vertices and, every `large_every`-th,
// polygons of `large_vertices` vertices; all-day, weekday or no weekly
// schedules.
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_TESTING_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_TESTING_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint::test_util {

// Monday 2027-03-01 10:00 UTC.
inline const absl::Time kMonday10Utc = absl::FromUnixSeconds(1803895200);

inline const Caller kAuthority{"ch-foca", /*authority=*/true,
                               /*admin=*/false};
inline const Caller kPilot{"op-1", false, false};

// `metres` east of Zurich.
inline geo::LatLng East(double metres) {
  return geo::GeodesicDestination(geo::test_util::kZurich, 90, metres);
}

// A vertical cylinder `east_m` east of Zurich.
inline geo::Volume4D Cylinder(double east_m, double radius_m, absl::Time start,
                              absl::Time end, double lower = 400,
                              double upper = 600) {
  return geo::Volume4D{
      geo::Volume3D{geo::Circle{East(east_m), radius_m}, {lower, upper}},
      {start, end}};
}

// A permanent zone (no time bounds), 0-1,000 m, around `east_m`.
inline v1::Constraint Zone(v1::ConstraintType type, double east_m,
                           double radius_m = 500) {
  v1::Constraint c;
  c.set_type(type);
  geo::Volume4D v = Cylinder(east_m, radius_m, absl::InfinitePast(),
                             absl::InfiniteFuture(), 0, 1000);
  *c.add_volumes() = VolumeToProto(v);
  c.set_reason("test zone");
  c.set_message_for_pilots("keep out");
  return c;
}

// A circular area (no altitude or time bounds) for queries and watches.
inline v1::Volume4D AreaAround(const geo::LatLng& centre, double radius_m) {
  v1::Volume4D area;
  v1::Circle* c = area.mutable_volume()->mutable_outline_circle();
  c->mutable_center()->set_lat_deg(centre.lat_deg);
  c->mutable_center()->set_lng_deg(centre.lng_deg);
  c->set_radius_m(radius_m);
  return area;
}
inline v1::Volume4D Area(double east_m, double radius_m) {
  return AreaAround(East(east_m), radius_m);
}

// A directory for a store that outlives one core (restart tests): emptied
// when made and removed when destroyed. Open() opens the embedded store
// there, without fsync (a restart here is a clean close and reopen).
class TempStore {
 public:
  explicit TempStore(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ~TempStore() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;

  absl::StatusOr<std::unique_ptr<store::Store>> Open() const {
    store::StoreOptions o;
    o.dir = dir_.string();
    o.sync = false;
    return store::OpenStore(o);
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

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
