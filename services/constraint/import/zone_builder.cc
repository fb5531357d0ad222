// ZoneBuilder: one zone's constraint from its footprints, limits and
// schedule, or its errors (zone_import_internal.h). Altitude limits become
// heights above WGS84 here, through the ElevationModel.
#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import_internal.h"
#include "services/constraint/schedule.h"

namespace utm::zones {
namespace internal {

constexpr double kFootM = 0.3048;

// ---- ZoneBuilder
// -------------------------------------------------------------

ZoneBuilder::ZoneBuilder(FileContext* context, const std::string& id, int index,
                         std::string field)
    : context_(context), field_(std::move(field)) {
  zone_id_ = id.empty() ? absl::StrCat("#", index) : id;
  v1::ConstraintSource* source = constraint_.mutable_source();
  source->set_format(ToSourceFormat(context_->format));
  source->set_dataset(context_->options->dataset);
  if (!id.empty()) {
    // The server refuses a second constraint with the same format and
    // original_id, so a repeated id becomes "ID#2", "ID#3", ...
    const int n = ++context_->id_count[id];
    if (n > 1) {
      source->set_original_id(absl::StrCat(id, "#", n));
      Warn(absl::StrCat("the id is repeated in the file; imported as \"",
                        source->original_id(), "\""));
    } else {
      source->set_original_id(id);
    }
  } else {
    source->set_original_id(zone_id_);
  }
}

void ZoneBuilder::Error(std::string field, std::string message) {
  errors_.push_back({zone_id_, std::move(field), std::move(message)});
}

void ZoneBuilder::Error(const absl::Status& status) {
  const absl::string_view m = status.message();
  const size_t colon = m.find(": ");
  if (colon == absl::string_view::npos) {
    Error(field_, std::string(m));
  } else {
    Error(std::string(m.substr(0, colon)), std::string(m.substr(colon + 2)));
  }
}

std::optional<VerticalReference> ZoneBuilder::Reference(
    const Json& object, const char* name, const std::string& field) {
  const Json* ref = Member(object, name);
  const std::optional<VerticalReference> reference =
      ParseReference(String(ref).value_or(""));
  if (!reference) {
    Error(absl::StrCat(field, ".", name),
          ref == nullptr
              ? std::string("required: AGL, AMSL or WGS84")
              : absl::StrCat(ref->dump(), " is not AGL, AMSL or WGS84"));
  }
  return reference;
}

void ZoneBuilder::Warn(absl::string_view message) {
  context_->result->warnings.push_back(
      absl::StrCat("zone ", zone_id_, ": ", message));
}

std::optional<geo::Polygon> ZoneBuilder::Ring(const Json& ring,
                                              const std::string& field) {
  if (!ring.is_array()) {
    Error(field, absl::StrCat("expected an array of [longitude, latitude] "
                              "positions, got ",
                              TypeName(ring)));
    return std::nullopt;
  }
  std::vector<geo::LatLng> vertices;
  for (size_t i = 0; i < ring.size(); ++i) {
    const Json& p = ring[i];
    if (!p.is_array() || p.size() < 2 || !p[0].is_number() ||
        !p[1].is_number()) {
      Error(absl::StrCat(field, "[", i, "]"),
            "expected [longitude, latitude] in degrees");
      return std::nullopt;
    }
    vertices.push_back({p[1].get<double>(), p[0].get<double>()});
  }
  return Clean(std::move(vertices), field);
}

std::optional<geo::Polygon> ZoneBuilder::Rings(const Json& rings,
                                               const std::string& field) {
  if (!rings.is_array() || rings.empty()) {
    Error(field, "expected an array of rings");
    return std::nullopt;
  }
  std::optional<geo::Polygon> polygon = Ring(rings[0], field + "[0]");
  if (!polygon) return std::nullopt;
  for (size_t i = 1; i < rings.size(); ++i) {
    std::optional<geo::Polygon> hole =
        Ring(rings[i], absl::StrCat(field, "[", i, "]"));
    if (!hole) return std::nullopt;
    polygon->holes.push_back(std::move(hole->vertices));
  }
  return polygon;
}

geo::Polygon ZoneBuilder::Clean(std::vector<geo::LatLng> vertices,
                                const std::string& field) {
  geo::Polygon polygon;
  int repeated = 0;
  for (const geo::LatLng& v : vertices) {
    if (!polygon.vertices.empty() && polygon.vertices.back() == v) {
      ++repeated;
      continue;
    }
    polygon.vertices.push_back(v);
  }
  // GeoJSON and AIXM close the ring by repeating the first position.
  if (polygon.vertices.size() > 1 &&
      polygon.vertices.back() == polygon.vertices.front()) {
    polygon.vertices.pop_back();
  }
  if (repeated > 0) {
    Warn(absl::StrCat(field, ": dropped ", repeated,
                      " position(s) repeating the one before; later vertex "
                      "numbers in messages count without them"));
  }
  return polygon;
}

std::optional<double> ZoneBuilder::ToWgs84(const Limit& limit, bool upper,
                                           VolumeHeights* heights) {
  const ImportOptions& options = *context_->options;
  const ElevationModel& elevation = *context_->elevation;
  Limit::Kind kind = limit.kind;
  if (kind == Limit::Kind::kMissing) {
    kind = upper ? Limit::Kind::kUnlimited : Limit::Kind::kSurface;
  }
  if (kind == Limit::Kind::kUnlimited) {
    if (!upper) {
      Error(limit.field, "a lower limit cannot be unlimited");
      return std::nullopt;
    }
    return options.default_upper_m;
  }
  // The ground (or the geoid) under the whole footprint, looked up once per
  // volume; a failure is reported once, at the first limit that needs it.
  auto ground = [&](const char* what) -> std::optional<elevation::HeightRange> {
    if (!heights->ground) {
      heights->ground = elevation.GroundRangeM(heights->footprint);
      uses_ground_ = uses_geoid_ = true;
      if (!heights->ground->ok()) {
        Error(limit.field, absl::StrCat(what, " needs terrain: ",
                                        heights->ground->status().message()));
      }
    }
    if (!heights->ground->ok()) return std::nullopt;
    return **heights->ground;
  };
  auto geoid = [&](const char* what) -> std::optional<elevation::HeightRange> {
    if (!heights->geoid) {
      heights->geoid = elevation.GeoidRangeM(heights->footprint);
      uses_geoid_ = true;
      if (!heights->geoid->ok()) {
        Error(limit.field, absl::StrCat(what, " needs the geoid: ",
                                        heights->geoid->status().message()));
      }
    }
    if (!heights->geoid->ok()) return std::nullopt;
    return **heights->geoid;
  };
  // Floors go to the lowest, ceilings to the highest surface under the
  // footprint, so that the WGS84 band holds the stated one everywhere.
  auto pick = [upper](const elevation::HeightRange& r) {
    return upper ? r.max_m : r.min_m;
  };
  if (kind == Limit::Kind::kSurface) {
    const std::optional<elevation::HeightRange> g = ground("SFC");
    if (!g) return std::nullopt;
    return pick(*g);
  }
  if (!std::isfinite(limit.value)) {
    Error(limit.field, "not a finite number");
    return std::nullopt;
  }
  double m = limit.value;
  VerticalReference reference = limit.reference;
  switch (limit.unit) {
    case Unit::kMetre:
      break;
    case Unit::kFoot:
      m *= kFootM;
      break;
    case Unit::kFlightLevel:
      // Pressure altitude, taken as feet above mean sea level (ISA).
      m *= 100 * kFootM;
      reference = VerticalReference::kAmsl;
      break;
  }
  switch (reference) {
    case VerticalReference::kWgs84:
      break;
    case VerticalReference::kAmsl: {
      const std::optional<elevation::HeightRange> n =
          geoid(limit.unit == Unit::kFlightLevel ? "FL" : "AMSL");
      if (!n) return std::nullopt;
      m += pick(*n);
      break;
    }
    case VerticalReference::kAgl: {
      const std::optional<elevation::HeightRange> g = ground("AGL");
      if (!g) return std::nullopt;
      m += pick(*g);
      break;
    }
  }
  if (upper && m > options.default_upper_m) {
    Warn(absl::StrFormat(
        "%s: upper limit %s (%.1f m above WGS84) is above %.0f m; clamped to "
        "it",
        limit.field, Describe(limit), m, options.default_upper_m));
    m = options.default_upper_m;
  }
  return m;
}

void ZoneBuilder::AddVolume(const geo::Footprint& footprint,
                            const std::string& footprint_field,
                            const std::string& radius_field, const Limit& lower,
                            const Limit& upper) {
  const ImportOptions& options = *context_->options;
  const size_t errors_before = errors_.size();
  v1::Volume4D* volume = constraint_.add_volumes();
  v1::Volume3D* v3 = volume->mutable_volume();
  if (const auto* circle = std::get_if<geo::Circle>(&footprint)) {
    if (!radius_field.empty() && !(circle->radius_m > 0)) {
      Error(radius_field,
            absl::StrCat("must be positive, got ", circle->radius_m));
    } else if (absl::Status s = geo::ValidateCircle(*circle, options.limits,
                                                    footprint_field);
               !s.ok()) {
      Error(s);
    }
    v1::Circle* c = v3->mutable_outline_circle();
    c->mutable_center()->set_lat_deg(circle->center.lat_deg);
    c->mutable_center()->set_lng_deg(circle->center.lng_deg);
    c->set_radius_m(circle->radius_m);
  } else {
    const auto& polygon = std::get<geo::Polygon>(footprint);
    if (absl::Status s =
            geo::ValidatePolygon(polygon, options.limits, footprint_field);
        !s.ok()) {
      Error(s);
    }
    *v3->mutable_outline_polygon() = PolygonToProto(polygon);
  }
  lower_texts_.push_back(Describe(lower));
  upper_texts_.push_back(Describe(upper));
  // An invalid footprint has no ground under it to look up.
  if (errors_.size() != errors_before) return;
  VolumeHeights heights{footprint, std::nullopt, std::nullopt};
  const std::optional<double> lo = ToWgs84(lower, /*upper=*/false, &heights);
  const std::optional<double> hi = ToWgs84(upper, /*upper=*/true, &heights);
  if (!lo || !hi) return;
  if (*lo > *hi) {
    Error(lower.field,
          absl::StrFormat("lower limit %s (%.1f m above WGS84) is above the "
                          "upper limit %s (%.1f m)",
                          Describe(lower), *lo, Describe(upper), *hi));
    return;
  }
  if (errors_.size() == errors_before) {
    const geo::AltitudeBand band{*lo, *hi};
    if (absl::Status s = geo::ValidateAltitudeBand(
            band, options.limits,
            lower.field.empty() ? footprint_field : lower.field);
        !s.ok()) {
      Error(s);
    }
  }
  v3->mutable_altitude_lower()->set_value_m(*lo);
  v3->mutable_altitude_lower()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  v3->mutable_altitude_upper()->set_value_m(*hi);
  v3->mutable_altitude_upper()->set_reference(v1::ALTITUDE_REFERENCE_W84);
}

namespace {

struct Period {
  std::optional<absl::Time> start, end;
  std::vector<v1::WeeklyWindow> weekly;
  std::optional<int> utc_offset_s;  // of the weekly times
};

std::optional<std::vector<v1::DayOfWeek>> Days(const Json& list) {
  static const char* const kNames[] = {"MON", "TUE", "WED", "THU",
                                       "FRI", "SAT", "SUN"};
  std::vector<v1::DayOfWeek> days;
  for (const Json& d : list) {
    if (!d.is_string()) return std::nullopt;
    const std::string name = absl::AsciiStrToUpper(d.get<std::string>());
    if (name == "ANY") {
      days.clear();
      for (int i = 1; i <= 7; ++i) days.push_back(v1::DayOfWeek(i));
      return days;
    }
    const auto it = std::find(std::begin(kNames), std::end(kNames), name);
    if (it == std::end(kNames)) return std::nullopt;
    const v1::DayOfWeek day = v1::DayOfWeek(1 + (it - std::begin(kNames)));
    if (std::find(days.begin(), days.end(), day) == days.end()) {
      days.push_back(day);
    }
  }
  return days;
}

// An IANA name for a fixed UTC offset: whole hours only (Etc/GMT-2 is
// UTC+2: the sign is inverted by POSIX convention).
std::optional<std::string> ZoneForOffset(int offset_s) {
  if (offset_s == 0) return "UTC";
  if (offset_s % 3600 != 0) return std::nullopt;
  const int h = offset_s / 3600;
  return absl::StrCat("Etc/GMT", h > 0 ? "-" : "+", std::abs(h));
}

}  // namespace

void ZoneBuilder::Applicability(const Json& list, const std::string& field) {
  if (!list.is_array() && !list.is_object()) {
    Error(field,
          absl::StrCat("expected an array or an object, got ", TypeName(list)));
    return;
  }
  // The EUROCONTROL geofencing service gives one period object: it is the
  // only entry, and its members' paths have no index.
  const bool single = list.is_object();
  std::vector<Period> periods;
  bool ok = true;
  for (size_t i = 0; i < (single ? 1 : list.size()); ++i) {
    const std::string at = single ? field : absl::StrCat(field, "[", i, "]");
    const Json& entry = single ? list : list[i];
    if (!entry.is_object()) {
      Error(at, absl::StrCat("expected an object, got ", TypeName(entry)));
      ok = false;
      continue;
    }
    Period period;
    for (const char* bound : {"startDateTime", "endDateTime"}) {
      const Json* value = Member(entry, bound);
      if (value == nullptr) continue;
      const std::optional<std::string> text = String(value);
      const std::optional<absl::Time> t =
          text ? ParseDateTime(*text) : std::nullopt;
      if (!t) {
        Error(absl::StrCat(at, ".", bound),
              absl::StrCat(value->dump(), " is not an RFC 3339 date-time"));
        ok = false;
        continue;
      }
      (bound[0] == 's' ? period.start : period.end) = *t;
    }
    if (const Json* permanent = Member(entry, "permanent")) {
      const std::string p = String(permanent).value_or("");
      if (p != "YES" && p != "NO") {
        Error(at + ".permanent",
              absl::StrCat(permanent->dump(), " is neither YES nor NO"));
        ok = false;
      }
    }
    const char* daily_name = nullptr;
    const Json* daily = nullptr;
    // ED-318, ED-269, and the EUROCONTROL geofencing service's provisioning.
    for (const char* name : {"schedule", "dailyPeriod", "dailySchedule"}) {
      daily_name = name;
      daily = Member(entry, name);
      if (daily != nullptr) break;
    }
    if (daily != nullptr && !daily->is_array()) {
      Error(absl::StrCat(at, ".", daily_name),
            absl::StrCat("expected an array, got ", TypeName(*daily)));
      ok = false;
      daily = nullptr;
    }
    for (size_t j = 0; daily != nullptr && j < daily->size(); ++j) {
      const std::string dat = absl::StrCat(at, ".", daily_name, "[", j, "]");
      const Json& d = (*daily)[j];
      const Json* day_list = Member(d, "day");
      const Json* start = Member(d, "startTime");
      const Json* end = Member(d, "endTime");
      if (!d.is_object()) {
        Error(dat, absl::StrCat("expected an object, got ", TypeName(d)));
        ok = false;
        continue;
      }
      // Some producers write an empty period ({"day": [], "startTime":
      // null, ...}) for "no weekly restriction".
      if ((day_list == nullptr ||
           (day_list->is_array() && day_list->empty())) &&
          start == nullptr && end == nullptr) {
        continue;
      }
      for (const char* event : {"startEvent", "endEvent"}) {
        if (Member(d, event) != nullptr) {
          Error(absl::StrCat(dat, ".", event),
                "daylight events (sunrise, sunset, twilight) are not "
                "supported; give startTime/endTime");
          ok = false;
        }
      }
      std::optional<std::vector<v1::DayOfWeek>> days;
      if (day_list != nullptr && day_list->is_array()) days = Days(*day_list);
      // The EUROCONTROL geofencing service writes one day as a string.
      if (day_list != nullptr && day_list->is_string()) {
        days = Days(Json::array({*day_list}));
      }
      if (!days || days->empty()) {
        Error(dat + ".day",
              "expected a non-empty array of MON, TUE, WED, THU, FRI, SAT, "
              "SUN or ANY");
        ok = false;
        continue;
      }
      v1::WeeklyWindow w;
      for (v1::DayOfWeek day : *days) w.add_days(day);
      w.set_start_second_of_day(0);
      w.set_end_second_of_day(86400);
      for (const auto& [json, name] :
           {std::pair{start, "startTime"}, std::pair{end, "endTime"}}) {
        if (json == nullptr) continue;
        const std::optional<std::string> text = String(json);
        const std::optional<TimeOfDay> t =
            text ? ParseTimeOfDay(*text) : std::nullopt;
        if (!t) {
          Error(absl::StrCat(dat, ".", name),
                absl::StrCat(json->dump(),
                             " is not a time (HH:MM:SS, with Z "
                             "or an offset)"));
          ok = false;
          continue;
        }
        if (period.utc_offset_s && *period.utc_offset_s != t->utc_offset_s) {
          Error(absl::StrCat(dat, ".", name),
                "the times of one zone are in different UTC offsets");
          ok = false;
        }
        period.utc_offset_s = t->utc_offset_s;
        if (name[0] == 's') {
          w.set_start_second_of_day(t->second_of_day);
        } else {
          // An end at 00:00 is the midnight that ends the day (ED-269 and
          // ED-318 write a whole day "00:00"-"00:00"): 86400 on the wire.
          w.set_end_second_of_day(t->second_of_day == 0 ? 86400
                                                        : t->second_of_day);
        }
      }
      period.weekly.push_back(std::move(w));
    }
    periods.push_back(std::move(period));
  }
  if (!ok || periods.empty()) return;

  // One utm.v1.Schedule holds one absolute window and weekly windows. Several
  // periods fit when they share their dates (their weekly windows unite) .
  const Period& first = periods.front();
  std::optional<int> offset;
  bool every_week = false;  // a period without weekly windows: always on
  for (const Period& p : periods) {
    if (p.start != first.start || p.end != first.end) {
      Error(field,
            "periods with different date ranges cannot be expressed in one "
            "schedule; split the zone");
      return;
    }
    if (p.weekly.empty()) every_week = true;
    if (p.utc_offset_s) {
      if (offset && *offset != *p.utc_offset_s) {
        Error(field, "the times of one zone are in different UTC offsets");
        return;
      }
      offset = p.utc_offset_s;
    }
  }
  if (!first.start && !first.end && every_week) return;  // permanent
  v1::Schedule* schedule = constraint_.mutable_schedule();
  if (first.start) {
    *schedule->mutable_absolute()->mutable_start() = TimeToProto(*first.start);
  }
  if (first.end) {
    *schedule->mutable_absolute()->mutable_end() = TimeToProto(*first.end);
  }
  if (every_week) return;
  const std::optional<std::string> zone = ZoneForOffset(offset.value_or(0));
  if (!zone) {
    Error(field, absl::StrCat("UTC offset of ", *offset / 60,
                              " minutes is not a whole number of hours"));
    return;
  }
  schedule->set_time_zone(*zone);
  for (Period& p : periods) {
    for (v1::WeeklyWindow& w : p.weekly) {
      *schedule->add_weekly() = std::move(w);
    }
  }
}

void ZoneBuilder::Finish() {
  if (constraint_.volumes_size() == 0 && errors_.empty()) {
    Error(field_, "the zone has no geometry");
  }
  // The server's schedule rules (services/constraint/schedule.h).
  if (constraint_.has_schedule()) {
    const v1::Schedule& s = constraint_.schedule();
    geo::TimeWindow absolute{absl::InfinitePast(), absl::InfiniteFuture()};
    if (s.absolute().has_start()) {
      absolute.start = absl::FromUnixSeconds(s.absolute().start().seconds());
    }
    if (s.absolute().has_end()) {
      absolute.end = absl::FromUnixSeconds(s.absolute().end().seconds());
    }
    std::vector<constraint::WeeklyWindow> weekly;
    for (const v1::WeeklyWindow& w : s.weekly()) {
      constraint::WeeklyWindow out;
      for (int d : w.days()) {
        out.days.push_back(absl::Weekday(d - 1));  // absl: Monday is 0
      }
      out.start_second_of_day = w.start_second_of_day();
      out.end_second_of_day = w.end_second_of_day();
      weekly.push_back(std::move(out));
    }
    const absl::StatusOr<constraint::Schedule> checked =
        constraint::MakeSchedule(absolute, std::move(weekly), s.time_zone());
    if (!checked.ok()) {
      Error(field_, std::string(checked.status().message()));
    }
  }
  ImportResult& result = *context_->result;
  ++result.zones_in_file;
  if (!errors_.empty()) {
    for (ZoneError& e : errors_) result.errors.push_back(std::move(e));
    return;
  }
  auto join_unique = [](const std::vector<std::string>& texts) {
    std::vector<std::string> unique;
    for (const std::string& t : texts) {
      if (std::find(unique.begin(), unique.end(), t) == unique.end()) {
        unique.push_back(t);
      }
    }
    return absl::StrJoin(unique, "; ");
  };
  constraint_.mutable_source()->set_original_altitude_lower(
      join_unique(lower_texts_));
  constraint_.mutable_source()->set_original_altitude_upper(
      join_unique(upper_texts_));
  if (uses_ground_) ++result.zones_using_ground;
  if (uses_geoid_) ++result.zones_using_geoid;
  result.zones.push_back({std::move(constraint_), field_});
}

}  // namespace internal

}  // namespace utm::zones
