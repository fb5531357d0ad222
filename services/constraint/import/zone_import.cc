#include "services/constraint/import/zone_import.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import_internal.h"
#include "services/constraint/limits.h"
#include "services/constraint/schedule.h"

namespace utm::zones {
namespace internal {

constexpr double kFootM = 0.3048;

const Json* Member(const Json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<double> Number(const Json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_number()) return value->get<double>();
  if (value->is_string()) {
    double d;
    if (absl::SimpleAtod(value->get_ref<const std::string&>(), &d) &&
        std::isfinite(d)) {
      return d;
    }
  }
  return std::nullopt;
}

std::optional<std::string> String(const Json* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

std::optional<std::string> Text(const Json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_string()) return value->get<std::string>();
  if (!value->is_array()) return std::nullopt;
  // ED-318 localised texts: the first English one, else the first.
  const Json* chosen = nullptr;
  std::vector<std::string> plain;
  for (const Json& item : *value) {
    if (item.is_string()) {
      plain.push_back(item.get<std::string>());
    } else if (const std::optional<std::string> text =
                   String(Member(item, "text"))) {
      const std::optional<std::string> lang = String(Member(item, "lang"));
      if (chosen == nullptr ||
          (lang && absl::StartsWithIgnoreCase(*lang, "en") &&
           !absl::StartsWithIgnoreCase(
               String(Member(*chosen, "lang")).value_or(""), "en"))) {
        chosen = &item;
      }
    }
  }
  if (chosen != nullptr) {
    return std::string(absl::StripAsciiWhitespace(
        chosen->at("text").get_ref<const std::string&>()));
  }
  if (!plain.empty()) return absl::StrJoin(plain, "; ");
  return std::nullopt;
}

const char* TypeName(const Json& value) { return value.type_name(); }

std::optional<Unit> ParseUnit(absl::string_view text) {
  const std::string u = absl::AsciiStrToUpper(text);
  if (u == "M") return Unit::kMetre;
  if (u == "FT") return Unit::kFoot;
  if (u == "FL") return Unit::kFlightLevel;
  return std::nullopt;
}

std::optional<VerticalReference> ParseReference(absl::string_view text) {
  const std::string r = absl::AsciiStrToUpper(text);
  if (r == "AGL") return VerticalReference::kAgl;
  if (r == "AMSL" || r == "MSL") return VerticalReference::kAmsl;
  if (r == "WGS84" || r == "W84") return VerticalReference::kWgs84;
  return std::nullopt;
}

const char* UnitName(Unit unit) {
  switch (unit) {
    case Unit::kMetre:
      return "M";
    case Unit::kFoot:
      return "FT";
    case Unit::kFlightLevel:
      return "FL";
  }
  return "?";
}

const char* ReferenceName(VerticalReference reference) {
  switch (reference) {
    case VerticalReference::kWgs84:
      return "WGS84";
    case VerticalReference::kAmsl:
      return "AMSL";
    case VerticalReference::kAgl:
      return "AGL";
  }
  return "?";
}

std::string Describe(const Limit& limit) {
  return limit.original.empty() ? "(none)" : limit.original;
}

std::optional<absl::Time> ParseDateTime(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return std::nullopt;
  }
  // RFC 3339 parses years past 9999, which neither the wire's Timestamp
  // (nor its JSON form, in the export) nor the server accept.
  if (!TimeFromProto(TimeToProto(t), "").ok()) return std::nullopt;
  return t;
}

std::optional<TimeOfDay> ParseTimeOfDay(absl::string_view text) {
  // HH:MM[:SS[.fff]] then Z, +hh:mm, -hh:mm or nothing.
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > text.size()) return std::nullopt;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!absl::ascii_isdigit(text[i])) return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const std::optional<int> h = digits(0, 2), m = digits(3, 2);
  if (!h || !m || text.size() < 5 || text[2] != ':' || *h > 24 || *m > 59) {
    return std::nullopt;
  }
  size_t at = 5;
  int s = 0;
  if (at < text.size() && text[at] == ':') {
    const std::optional<int> sec = digits(at + 1, 2);
    if (!sec || *sec > 59) return std::nullopt;
    s = *sec;
    at += 3;
    if (at < text.size() && text[at] == '.') {
      ++at;  // fractions of a second are dropped
      while (at < text.size() && absl::ascii_isdigit(text[at])) ++at;
    }
  }
  TimeOfDay out;
  out.second_of_day = *h * 3600 + *m * 60 + s;
  if (out.second_of_day > 86400) return std::nullopt;
  const absl::string_view zone = text.substr(at);
  if (zone.empty() || zone == "Z" || zone == "z") return out;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
      zone[3] != ':') {
    return std::nullopt;
  }
  const std::optional<int> oh = digits(at + 1, 2), om = digits(at + 4, 2);
  if (!oh || !om || *oh > 14 || *om > 59) return std::nullopt;
  out.utc_offset_s = (zone[0] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
  return out;
}

std::optional<v1::ConstraintType> RestrictionType(absl::string_view text,
                                                  bool ed318) {
  if (text == "PROHIBITED") return v1::CONSTRAINT_TYPE_PROHIBITED;
  if (text == (ed318 ? "REQ_AUTHORIZATION" : "REQ_AUTHORISATION")) {
    return v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION;
  }
  if (text == "CONDITIONAL") return v1::CONSTRAINT_TYPE_CONDITIONAL;
  if (text == "NO_RESTRICTION") return v1::CONSTRAINT_TYPE_ADVISORY;
  // ED-318 U-space airspace: flight under U-space services, a condition.
  if (ed318 && text == "USPACE") return v1::CONSTRAINT_TYPE_CONDITIONAL;
  return std::nullopt;
}

std::string Position(absl::string_view content, size_t offset) {
  offset = std::min(offset, content.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (content[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::StrCat("line ", line, ", column ", column);
}

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
                                           const geo::LatLng& at) {
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
  if (kind == Limit::Kind::kSurface) {
    uses_ground_ = uses_geoid_ = true;
    return elevation.GroundAmslM(at) + elevation.GeoidUndulationM(at);
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
    case VerticalReference::kAmsl:
      uses_geoid_ = true;
      m += elevation.GeoidUndulationM(at);
      break;
    case VerticalReference::kAgl:
      uses_ground_ = uses_geoid_ = true;
      m += elevation.GroundAmslM(at) + elevation.GeoidUndulationM(at);
      break;
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
  geo::LatLng at;
  v1::Volume4D* volume = constraint_.add_volumes();
  v1::Volume3D* v3 = volume->mutable_volume();
  if (const auto* circle = std::get_if<geo::Circle>(&footprint)) {
    at = circle->center;
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
    if (!polygon.vertices.empty()) at = polygon.vertices.front();
    if (absl::Status s =
            geo::ValidatePolygon(polygon, options.limits, footprint_field);
        !s.ok()) {
      Error(s);
    }
    v1::Polygon* p = v3->mutable_outline_polygon();
    for (const geo::LatLng& v : polygon.vertices) {
      v1::LatLng* out = p->add_vertices();
      out->set_lat_deg(v.lat_deg);
      out->set_lng_deg(v.lng_deg);
    }
  }
  lower_texts_.push_back(Describe(lower));
  upper_texts_.push_back(Describe(upper));
  const std::optional<double> lo = ToWgs84(lower, /*upper=*/false, at);
  const std::optional<double> hi = ToWgs84(upper, /*upper=*/true, at);
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
  if (!list.is_array()) {
    Error(field, absl::StrCat("expected an array, got ", TypeName(list)));
    return;
  }
  std::vector<Period> periods;
  bool ok = true;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = absl::StrCat(field, "[", i, "]");
    const Json& entry = list[i];
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
    const char* daily_name = "schedule";
    const Json* daily = Member(entry, daily_name);
    if (daily == nullptr) {
      daily_name = "dailyPeriod";
      daily = Member(entry, daily_name);
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
          w.set_end_second_of_day(t->second_of_day);
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

using internal::Json;

std::string ConstantElevation::Describe() const {
  return absl::StrFormat(
      "ground %g m above mean sea level and geoid undulation %g m, the same "
      "everywhere",
      ground_amsl_m_, geoid_m_);
}

geo::ValidationLimits ConstraintValidationLimits() {
  return constraint::ConstraintLimits();
}

absl::StatusOr<ZoneFormat> ParseZoneFormat(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "auto") return ZoneFormat::kAuto;
  if (n == "ed269" || n == "ed-269") return ZoneFormat::kEd269;
  if (n == "ed318" || n == "ed-318") return ZoneFormat::kEd318;
  if (n == "geojson") return ZoneFormat::kGeoJson;
  if (n == "xnotam") return ZoneFormat::kXnotam;
  return absl::InvalidArgumentError(absl::StrCat(
      "format \"", name, "\": expected auto, ed269, ed318, geojson or xnotam"));
}

const char* ZoneFormatName(ZoneFormat format) {
  switch (format) {
    case ZoneFormat::kAuto:
      return "auto";
    case ZoneFormat::kEd269:
      return "ed269";
    case ZoneFormat::kEd318:
      return "ed318";
    case ZoneFormat::kGeoJson:
      return "geojson";
    case ZoneFormat::kXnotam:
      return "xnotam";
  }
  return "?";
}

v1::SourceFormat ToSourceFormat(ZoneFormat format) {
  switch (format) {
    case ZoneFormat::kAuto:
      return v1::SOURCE_FORMAT_UNSPECIFIED;
    case ZoneFormat::kEd269:
      return v1::SOURCE_FORMAT_ED269;
    case ZoneFormat::kEd318:
      return v1::SOURCE_FORMAT_ED318;
    case ZoneFormat::kGeoJson:
      return v1::SOURCE_FORMAT_GEOJSON;
    case ZoneFormat::kXnotam:
      return v1::SOURCE_FORMAT_XNOTAM;
  }
  return v1::SOURCE_FORMAT_UNSPECIFIED;
}

std::string ToString(const ZoneError& error) {
  return absl::StrCat("zone ", error.zone_id, ": ", error.field, ": ",
                      error.message);
}

namespace {

bool LooksLikeXml(absl::string_view content) {
  if (absl::StartsWith(content, "\xEF\xBB\xBF")) content.remove_prefix(3);
  content = absl::StripLeadingAsciiWhitespace(content);
  return absl::StartsWith(content, "<");
}

absl::StatusOr<Json> ParseJson(absl::string_view content) {
  try {
    return Json::parse(content.begin(), content.end());
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based: the byte after which the error was found.
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON at ",
                     internal::Position(content, e.byte > 0 ? e.byte - 1 : 0),
                     ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", e.what()));
  }
}

bool IsEd269Zone(const Json& zone) {
  return zone.is_object() &&
         (zone.contains("restriction") ||
          (zone.contains("geometry") && zone["geometry"].is_array()) ||
          zone.contains("applicability"));
}

bool IsEd318Feature(const Json& feature) {
  const Json* properties = internal::Member(feature, "properties");
  if (properties != nullptr && properties->is_object() &&
      (properties->contains("zoneAuthority") ||
       properties->contains("limitedApplicability") ||
       (properties->contains("identifier") &&
        properties->contains("variant")))) {
    return true;
  }
  const Json* geometry = internal::Member(feature, "geometry");
  if (geometry == nullptr) return false;
  if (geometry->contains("layer") || geometry->contains("extent")) return true;
  const Json* parts = internal::Member(*geometry, "geometries");
  if (parts != nullptr && parts->is_array()) {
    for (const Json& g : *parts) {
      if (g.is_object() && g.contains("layer")) return true;
    }
  }
  return false;
}

absl::StatusOr<ZoneFormat> DetectJson(const Json& root) {
  if (root.is_array()) {
    if (!root.empty() && IsEd269Zone(root[0])) return ZoneFormat::kEd269;
    return absl::InvalidArgumentError(
        "a JSON array that is not a list of ED-269 zones");
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a JSON ", root.type_name(), ", not a zone file"));
  }
  if (root.contains("UASZoneList")) return ZoneFormat::kEd269;
  const std::string type =
      internal::String(internal::Member(root, "type")).value_or("");
  const Json* features = internal::Member(root, "features");
  if (type == "Feature") {
    return IsEd318Feature(root) ? ZoneFormat::kEd318 : ZoneFormat::kGeoJson;
  }
  if (features != nullptr && features->is_array()) {
    if (type != "FeatureCollection") {
      for (const Json& f : *features) {
        if (IsEd269Zone(f)) return ZoneFormat::kEd269;
      }
    }
    for (const Json& f : *features) {
      if (IsEd318Feature(f)) return ZoneFormat::kEd318;
    }
    if (type == "FeatureCollection") return ZoneFormat::kGeoJson;
  }
  static const char* const kGeometries[] = {"Polygon", "MultiPolygon", "Point",
                                            "GeometryCollection"};
  for (const char* g : kGeometries) {
    if (type == g) return ZoneFormat::kGeoJson;
  }
  return absl::InvalidArgumentError(
      "not a zone file: expected ED-269 (UASZoneList or features of zones), "
      "ED-318 or GeoJSON (a FeatureCollection or Feature), or XNOTAM XML");
}

}  // namespace

absl::StatusOr<ZoneFormat> DetectZoneFormat(absl::string_view content) {
  if (LooksLikeXml(content)) return ZoneFormat::kXnotam;
  absl::StatusOr<Json> root = ParseJson(content);
  if (!root.ok()) return root.status();
  return DetectJson(*root);
}

absl::StatusOr<ImportResult> ImportZones(absl::string_view content,
                                         const ImportOptions& options) {
  const ConstantElevation flat(0, 0);
  internal::FileContext context;
  context.options = &options;
  context.elevation = options.elevation != nullptr ? options.elevation : &flat;
  ImportResult result;
  context.result = &result;
  try {
    ZoneFormat format = options.format;
    absl::Status status;
    if (format == ZoneFormat::kXnotam ||
        (format == ZoneFormat::kAuto && LooksLikeXml(content))) {
      context.format = result.format = ZoneFormat::kXnotam;
      status = internal::ReadXnotam(content, &context);
    } else {
      absl::StatusOr<Json> root = ParseJson(content);
      if (!root.ok()) return root.status();
      if (format == ZoneFormat::kAuto) {
        absl::StatusOr<ZoneFormat> detected = DetectJson(*root);
        if (!detected.ok()) return detected.status();
        format = *detected;
      }
      context.format = result.format = format;
      switch (format) {
        case ZoneFormat::kEd269:
          status = internal::ReadEd269(*root, &context);
          break;
        case ZoneFormat::kEd318:
          status = internal::ReadEd318(*root, &context);
          break;
        default:
          status = internal::ReadGeoJson(*root, &context);
          break;
      }
    }
    if (!status.ok()) return status;
  } catch (const std::exception& e) {
    // The readers check types before every access; this is a safety net so
    // that no exception leaves the library.
    return absl::InternalError(absl::StrCat("zone import failed: ", e.what()));
  }
  const ElevationModel& elevation = *context.elevation;
  if (result.zones_using_ground > 0) {
    result.warnings.push_back(absl::StrCat(
        result.zones_using_ground,
        " zone(s) have AGL or SFC limits, converted with the ground height "
        "of the elevation model: ",
        elevation.Describe()));
  }
  if (result.zones_using_geoid > 0) {
    result.warnings.push_back(absl::StrCat(
        result.zones_using_geoid,
        " zone(s) have AMSL, AGL, SFC or FL limits, converted with the geoid "
        "undulation of the elevation model: ",
        elevation.Describe()));
  }
  return result;
}

}  // namespace utm::zones
