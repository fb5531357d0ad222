#include "services/remoteid/network_flights.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "geo/status_macros.h"
#include "nlohmann/json.hpp"
#include "services/common/input_limits.h"
#include "services/common/volume_convert.h"

namespace utm::remoteid {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxJsonBytes = 16 << 20;
constexpr size_t kMaxFlights = 1000;
constexpr size_t kMaxStates = 100000;

struct Category {
  absl::string_view name;
  double value;
};

// F3411-22a HorizontalAccuracy, VerticalAccuracy and SpeedAccuracy: the
// 95 % bound of each category (NM = 1852 m).
constexpr Category kHorizontal[] = {
    {"HAUnknown", 0},  {"HA10NMPlus", 18520}, {"HA10NM", 18520},
    {"HA4NM", 7408},   {"HA2NM", 3704},       {"HA1NM", 1852},
    {"HA05NM", 926},   {"HA03NM", 555.6},     {"HA01NM", 185.2},
    {"HA005NM", 92.6}, {"HA30m", 30},         {"HA10m", 10},
    {"HA3m", 3},       {"HA1m", 1},
};
constexpr Category kVertical[] = {
    {"VAUnknown", 0}, {"VA150mPlus", 150}, {"VA150m", 150}, {"VA45m", 45},
    {"VA25m", 25},    {"VA10m", 10},       {"VA3m", 3},     {"VA1m", 1},
};
constexpr Category kSpeed[] = {
    {"SAUnknown", 0}, {"SA10mpsPlus", 10}, {"SA10mps", 10},
    {"SA3mps", 3},    {"SA1mps", 1},       {"SA03mps", 0.3},
};

template <size_t N>
absl::StatusOr<double> FromCategory(const Category (&table)[N],
                                    absl::string_view name) {
  for (const Category& c : table) {
    if (c.name == name) return c.value;
  }
  std::vector<absl::string_view> names;
  for (const Category& c : table) names.push_back(c.name);
  return absl::InvalidArgumentError(absl::StrCat(
      QuoteForError(name), " is not one of ", absl::StrJoin(names, ", ")));
}

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::StatusOr<const json*> Member(const json& object, const char* key,
                                   const std::string& path) {
  if (!object.is_object()) return Invalid(path, "not an object");
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return Invalid(absl::StrCat(path, ".", key), "required");
  }
  return &*it;
}

absl::StatusOr<double> Number(const json& object, const char* key,
                              const std::string& path) {
  UTM_ASSIGN_OR_RETURN(const json* v, Member(object, key, path));
  if (!v->is_number()) {
    return Invalid(absl::StrCat(path, ".", key), "not a number");
  }
  return v->get<double>();
}

absl::StatusOr<std::string> String(const json& object, const char* key,
                                   const std::string& path) {
  UTM_ASSIGN_OR_RETURN(const json* v, Member(object, key, path));
  if (!v->is_string()) {
    return Invalid(absl::StrCat(path, ".", key), "not a string");
  }
  return v->get<std::string>();
}

// An enum given by name, from `names` (index = proto value).
template <typename Enum, size_t N>
absl::StatusOr<Enum> Named(const json& object, const char* key,
                           const std::string& path,
                           const absl::string_view (&names)[N]) {
  UTM_ASSIGN_OR_RETURN(std::string name, String(object, key, path));
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return Invalid(absl::StrCat(path, ".", key),
                 absl::StrCat(QuoteForError(name), " is not one of ",
                              absl::StrJoin(names, ", ")));
}

// F3411-22a RIDOperationalStatus, in v1::RidOperationalStatus order.
constexpr absl::string_view kStatuses[] = {
    "Undeclared", "Ground", "Airborne", "Emergency", "RemoteIDSystemFailure"};
// RIDHeight.reference, in v1::HeightReference order (0 unused).
constexpr absl::string_view kHeightReferences[] = {"", "TakeoffLocation",
                                                   "GroundLevel"};
// UAType, in v1::UaType order.
constexpr absl::string_view kUaTypes[] = {
    "NotDeclared",    "Aeroplane",
    "Helicopter",     "Gyroplane",
    "HybridLift",     "Ornithopter",
    "Glider",         "Kite",
    "FreeBalloon",    "CaptiveBalloon",
    "Airship",        "FreeFallParachute",
    "Rocket",         "TetheredPoweredAircraft",
    "GroundObstacle", "Other"};

absl::StatusOr<absl::Time> Time(const json& object, const char* key,
                                const std::string& path) {
  UTM_ASSIGN_OR_RETURN(const json* v, Member(object, key, path));
  const std::string p = absl::StrCat(path, ".", key);
  std::string text;
  if (v->is_string()) {
    text = v->get<std::string>();
  } else if (v->is_object()) {  // {"value": ..., "format": "RFC3339"}
    UTM_ASSIGN_OR_RETURN(text, String(*v, "value", p));
  } else {
    return Invalid(p, "not an RFC 3339 time");
  }
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return Invalid(
        p, absl::StrCat(QuoteForError(text), " is not an RFC 3339 time"));
  }
  return t;
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// A RIDHeight: both members required.
absl::Status ReadHeight(const json& height, const std::string& path,
                        v1::PublishedState* out) {
  UTM_ASSIGN_OR_RETURN(double distance, Number(height, "distance", path));
  UTM_ASSIGN_OR_RETURN(v1::HeightReference ref,
                       (Named<v1::HeightReference>(height, "reference", path,
                                                   kHeightReferences)));
  if (ref == v1::HEIGHT_REFERENCE_UNSPECIFIED) {
    return Invalid(path + ".reference", "\"\" is not a height reference");
  }
  out->set_height_m(distance);
  out->set_height_reference(ref);
  return absl::OkStatus();
}

absl::StatusOr<v1::PublishedState> ReadState(const json& s,
                                             const std::string& path) {
  v1::PublishedState out;
  UTM_ASSIGN_OR_RETURN(absl::Time t, Time(s, "timestamp", path));
  *out.mutable_time() = TimeToProto(t);
  UTM_ASSIGN_OR_RETURN(double ta, Number(s, "timestamp_accuracy", path));
  out.set_time_accuracy_s(ta);
  UTM_ASSIGN_OR_RETURN(v1::RidOperationalStatus status,
                       (Named<v1::RidOperationalStatus>(s, "operational_status",
                                                        path, kStatuses)));
  out.set_status(status);
  UTM_ASSIGN_OR_RETURN(const json* pos, Member(s, "position", path));
  const std::string pp = path + ".position";
  UTM_ASSIGN_OR_RETURN(double lat, Number(*pos, "lat", pp));
  UTM_ASSIGN_OR_RETURN(double lng, Number(*pos, "lng", pp));
  UTM_ASSIGN_OR_RETURN(double alt, Number(*pos, "alt", pp));
  out.mutable_position()->set_lat_deg(lat);
  out.mutable_position()->set_lng_deg(lng);
  out.mutable_altitude()->set_value_m(alt);
  out.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  UTM_ASSIGN_OR_RETURN(std::string ha, String(*pos, "accuracy_h", pp));
  absl::StatusOr<double> h = HorizontalAccuracyMetres(ha);
  if (!h.ok()) return Invalid(pp + ".accuracy_h", h.status().message());
  out.set_horizontal_accuracy_m(*h);
  UTM_ASSIGN_OR_RETURN(std::string va, String(*pos, "accuracy_v", pp));
  absl::StatusOr<double> v = VerticalAccuracyMetres(va);
  if (!v.ok()) return Invalid(pp + ".accuracy_v", v.status().message());
  out.set_vertical_accuracy_m(*v);
  // The height may be given in the position (F3411-22a) and in the state
  // (the injection API's earlier form): each one given must be whole, and
  // the position's wins.
  if (auto it = pos->find("height"); it != pos->end() && !it->is_null()) {
    UTM_RETURN_IF_ERROR(ReadHeight(*it, pp + ".height", &out));
  }
  if (auto it = s.find("height"); it != s.end() && !it->is_null()) {
    v1::PublishedState other;
    UTM_RETURN_IF_ERROR(ReadHeight(*it, path + ".height", &other));
    if (out.height_reference() == v1::HEIGHT_REFERENCE_UNSPECIFIED) {
      out.set_height_m(other.height_m());
      out.set_height_reference(other.height_reference());
    }
  }
  UTM_ASSIGN_OR_RETURN(double track, Number(s, "track", path));
  out.set_track_deg(track);
  UTM_ASSIGN_OR_RETURN(double speed, Number(s, "speed", path));
  out.set_speed_mps(speed);
  UTM_ASSIGN_OR_RETURN(std::string sa, String(s, "speed_accuracy", path));
  absl::StatusOr<double> sam = SpeedAccuracyMps(sa);
  if (!sam.ok()) {
    return Invalid(path + ".speed_accuracy", sam.status().message());
  }
  out.set_speed_accuracy_mps(*sam);
  UTM_ASSIGN_OR_RETURN(double vs, Number(s, "vertical_speed", path));
  out.set_vertical_speed_mps(vs);
  return out;
}

// The UAS id of flight_details: flat (serial_number, registration_id,
// utm_id) or in a `uas_id` object, as the injection API's versions give it.
absl::Status ReadUasId(const json& details, const std::string& path,
                       v1::PublishedFlight* out) {
  const json* where = &details;
  std::string p = path;
  if (auto it = details.find("uas_id");
      it != details.end() && it->is_object()) {
    where = &*it;
    p = path + ".uas_id";
  }
  struct Kind {
    const char* key;
    v1::UasIdType type;
  };
  for (const Kind& k :
       {Kind{"serial_number", v1::UAS_ID_TYPE_SERIAL_NUMBER},
        Kind{"registration_id", v1::UAS_ID_TYPE_REGISTRATION},
        Kind{"utm_id", v1::UAS_ID_TYPE_UTM_ID},
        Kind{"specific_session_id", v1::UAS_ID_TYPE_SESSION_ID}}) {
    auto it = where->find(k.key);
    if (it == where->end() || it->is_null()) continue;
    if (!it->is_string()) {
      return Invalid(absl::StrCat(p, ".", k.key), "not a string");
    }
    out->set_uas_id(it->get<std::string>());
    out->set_uas_id_type(k.type);
    return absl::OkStatus();
  }
  return Invalid(p,
                 "no UAS id: one of serial_number, registration_id, "
                 "utm_id or specific_session_id is required");
}

absl::StatusOr<NetworkTestFlight> ReadFlight(const json& f,
                                             const std::string& path) {
  NetworkTestFlight out;
  UTM_ASSIGN_OR_RETURN(const json* details, Member(f, "flight_details", path));
  const std::string dp = path + ".flight_details";
  if (!details->is_object()) return Invalid(dp, "not an object");
  UTM_RETURN_IF_ERROR(ReadUasId(*details, dp, &out.flight));
  if (auto it = details->find("operator_id");
      it != details->end() && !it->is_null()) {
    if (!it->is_string()) return Invalid(dp + ".operator_id", "not a string");
    out.flight.set_operator_id(it->get<std::string>());
  }
  if (auto it = details->find("operation_description");
      it != details->end() && !it->is_null()) {
    if (!it->is_string()) {
      return Invalid(dp + ".operation_description", "not a string");
    }
    out.flight.set_description(it->get<std::string>());
  }
  if (auto it = details->find("operator_location");
      it != details->end() && !it->is_null()) {
    const std::string lp = dp + ".operator_location";
    // F3411-22a nests the point in `position`; the earlier form is flat.
    const json* point = &*it;
    std::string pp = lp;
    if (auto p = it->find("position"); p != it->end() && p->is_object()) {
      point = &*p;
      pp = lp + ".position";
    }
    UTM_ASSIGN_OR_RETURN(double lat, Number(*point, "lat", pp));
    UTM_ASSIGN_OR_RETURN(double lng, Number(*point, "lng", pp));
    out.flight.mutable_operator_location()->set_lat_deg(lat);
    out.flight.mutable_operator_location()->set_lng_deg(lng);
  }
  if (auto it = f.find("aircraft_type"); it != f.end() && !it->is_null()) {
    UTM_ASSIGN_OR_RETURN(v1::UaType type, (Named<v1::UaType>(f, "aircraft_type",
                                                             path, kUaTypes)));
    out.flight.set_ua_type(type);
  }
  UTM_ASSIGN_OR_RETURN(const json* states, Member(f, "states", path));
  if (!states->is_array()) return Invalid(path + ".states", "not an array");
  if (states->size() > kMaxStates) {
    return Invalid(
        path + ".states",
        absl::StrCat(states->size(), " states, at most ", kMaxStates));
  }
  for (size_t i = 0; i < states->size(); ++i) {
    UTM_ASSIGN_OR_RETURN(
        v1::PublishedState s,
        ReadState((*states)[i], absl::StrCat(path, ".states[", i, "]")));
    out.states.push_back(std::move(s));
  }
  std::stable_sort(
      out.states.begin(), out.states.end(),
      [](const v1::PublishedState& a, const v1::PublishedState& b) {
        return FromProto(a.time()) < FromProto(b.time());
      });
  return out;
}

}  // namespace

absl::StatusOr<double> HorizontalAccuracyMetres(absl::string_view name) {
  return FromCategory(kHorizontal, name);
}
absl::StatusOr<double> VerticalAccuracyMetres(absl::string_view name) {
  return FromCategory(kVertical, name);
}
absl::StatusOr<double> SpeedAccuracyMps(absl::string_view name) {
  return FromCategory(kSpeed, name);
}

absl::StatusOr<NetworkTestFlights> ParseNetworkTestFlights(
    absl::string_view text) {
  if (text.size() > kMaxJsonBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the file is ", text.size(), " bytes, at most ", kMaxJsonBytes));
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("not JSON");
  }
  UTM_ASSIGN_OR_RETURN(const json* flights, Member(doc, "flights", "(file)"));
  if (!flights->is_array() || flights->empty()) {
    return Invalid("flights", "not a non-empty array");
  }
  if (flights->size() > kMaxFlights) {
    return Invalid("flights", absl::StrCat(flights->size(),
                                           " flights, at most ", kMaxFlights));
  }
  NetworkTestFlights out;
  out.reference_time = absl::InfiniteFuture();
  for (size_t i = 0; i < flights->size(); ++i) {
    const std::string path = absl::StrCat("flights[", i, "]");
    const json& f = (*flights)[i];
    UTM_ASSIGN_OR_RETURN(absl::Time ref, Time(f, "reference_time", path));
    out.reference_time = std::min(out.reference_time, ref);
    UTM_ASSIGN_OR_RETURN(NetworkTestFlight flight, ReadFlight(f, path));
    out.flights.push_back(std::move(flight));
  }
  return out;
}

absl::Time NetworkTestFlights::end_time() const {
  absl::Time end = reference_time;
  for (const NetworkTestFlight& f : flights) {
    if (!f.states.empty())
      end = std::max(end, FromProto(f.states.back().time()));
  }
  return end;
}

v1::PublishFlightsRequest NetworkTestFlights::StatesBetween(
    absl::Time from, absl::Time to, absl::Duration shift) const {
  v1::PublishFlightsRequest request;
  for (const NetworkTestFlight& f : flights) {
    v1::PublishedFlight* out = nullptr;
    for (const v1::PublishedState& s : f.states) {
      const absl::Time t = FromProto(s.time());
      if (t <= from || t > to) continue;
      if (out == nullptr) {
        out = request.add_flights();
        *out = f.flight;
      }
      v1::PublishedState* state = out->add_states();
      *state = s;
      *state->mutable_time() = TimeToProto(t + shift);
    }
  }
  return request;
}

}  // namespace utm::remoteid
