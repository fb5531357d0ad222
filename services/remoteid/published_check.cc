#include "services/remoteid/published_check.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/remoteid/uas_id.h"

namespace utm::remoteid {
namespace {

// Field names are built only for an error: the checks below name fields
// relative to their message (`lat_deg`), and Within puts the path in front
// (`flights[0].states[2].position.lat_deg`). A valid request, the common
// case, costs no string.

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// `s` with "<prefix>." before its message (which starts with a field name).
absl::Status Within(absl::string_view prefix, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(prefix, ".", s.message()));
}

// `value` in [lo, hi] (or [lo, hi) when `open_high`).
absl::Status CheckRange(double value, double lo, double hi,
                        absl::string_view field, bool open_high = false) {
  if (!std::isfinite(value) || value < lo || value > hi ||
      (open_high && value >= hi)) {
    return Invalid(
        field,
        absl::StrCat(std::isfinite(value) ? absl::StrCat(value)
                                          : std::string("not finite"),
                     " is outside [", lo, ", ", hi, open_high ? ")" : "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckLatLng(const v1::LatLng& p) {
  UTM_RETURN_IF_ERROR(CheckRange(p.lat_deg(), -90, 90, "lat_deg"));
  return CheckRange(p.lng_deg(), -180, 180, "lng_deg");
}

absl::Status CheckAltitude(const v1::Altitude& a) {
  if (a.reference() != v1::ALTITUDE_REFERENCE_W84) {
    return Invalid("reference", "must be W84");
  }
  return CheckRange(a.value_m(), kMinAltitudeM, kMaxAltitudeM, "value_m");
}

// Printable ASCII or UTF-8 without control characters, at most `max` bytes.
absl::Status CheckLabel(absl::string_view value, absl::string_view field,
                        size_t max) {
  UTM_RETURN_IF_ERROR(CheckText(value, field, max));
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return Invalid(field, absl::StrCat(QuoteForError(value),
                                         " holds a control character"));
    }
  }
  return absl::OkStatus();
}

// A state; fields named relative to it.
absl::Status CheckState(const v1::PublishedState& s, absl::Time now,
                        const PublishLimits& limits) {
  if (!s.has_time()) return Invalid("time", "required");
  const absl::Time t = absl::FromUnixSeconds(s.time().seconds()) +
                       absl::Nanoseconds(s.time().nanos());
  if (t < now - limits.max_age) {
    return Invalid("time",
                   absl::StrCat(absl::FormatTime(t), " is more than ",
                                absl::FormatDuration(limits.max_age),
                                " old (Remote ID is near-real-time data)"));
  }
  if (t > now + limits.max_lead) {
    return Invalid("time", absl::StrCat(absl::FormatTime(t), " is more than ",
                                        absl::FormatDuration(limits.max_lead),
                                        " ahead of the server clock"));
  }
  UTM_RETURN_IF_ERROR(
      CheckRange(s.time_accuracy_s(), 0, kMaxTimeAccuracyS, "time_accuracy_s"));
  UTM_RETURN_IF_ERROR(CheckEnum(v1::RidOperationalStatus_descriptor(),
                                s.status(), "status",
                                /*allow_unspecified=*/true));
  if (!s.has_position()) return Invalid("position", "required");
  UTM_RETURN_IF_ERROR(Within("position", CheckLatLng(s.position())));
  if (!s.has_altitude()) return Invalid("altitude", "required");
  UTM_RETURN_IF_ERROR(Within("altitude", CheckAltitude(s.altitude())));
  UTM_RETURN_IF_ERROR(CheckRange(s.horizontal_accuracy_m(), 0,
                                 kMaxHorizontalAccuracyM,
                                 "horizontal_accuracy_m"));
  UTM_RETURN_IF_ERROR(CheckRange(s.vertical_accuracy_m(), 0,
                                 kMaxVerticalAccuracyM, "vertical_accuracy_m"));
  UTM_RETURN_IF_ERROR(CheckEnum(v1::HeightReference_descriptor(),
                                s.height_reference(), "height_reference",
                                /*allow_unspecified=*/true));
  if (s.height_reference() == v1::HEIGHT_REFERENCE_UNSPECIFIED) {
    if (s.height_m() != 0) {
      return Invalid("height_reference", "required with a height_m");
    }
  } else {
    UTM_RETURN_IF_ERROR(
        CheckRange(s.height_m(), kMinAltitudeM, kMaxAltitudeM, "height_m"));
  }
  UTM_RETURN_IF_ERROR(
      CheckRange(s.track_deg(), 0, 360, "track_deg", /*open_high=*/true));
  UTM_RETURN_IF_ERROR(CheckRange(s.speed_mps(), 0, kMaxSpeedMps, "speed_mps"));
  UTM_RETURN_IF_ERROR(CheckRange(s.speed_accuracy_mps(), 0,
                                 kMaxSpeedAccuracyMps, "speed_accuracy_mps"));
  return CheckRange(s.vertical_speed_mps(), -kMaxAbsVerticalSpeedMps,
                    kMaxAbsVerticalSpeedMps, "vertical_speed_mps");
}

// A flight but its UAS id; fields named relative to it.
absl::Status CheckFlight(const v1::PublishedFlight& flight, absl::Time now,
                         const PublishLimits& limits) {
  UTM_RETURN_IF_ERROR(CheckEnum(v1::UaType_descriptor(), flight.ua_type(),
                                "ua_type", /*allow_unspecified=*/true));
  UTM_RETURN_IF_ERROR(
      CheckLabel(flight.operator_id(), "operator_id", kMaxOperatorIdBytes));
  if (flight.has_operator_location()) {
    UTM_RETURN_IF_ERROR(
        Within("operator_location", CheckLatLng(flight.operator_location())));
  }
  if (flight.has_operator_altitude()) {
    UTM_RETURN_IF_ERROR(
        Within("operator_altitude", CheckAltitude(flight.operator_altitude())));
  }
  UTM_RETURN_IF_ERROR(
      CheckLabel(flight.description(), "description", kMaxDescriptionBytes));
  if (flight.states_size() == 0) return Invalid("states", "at least one");
  UTM_RETURN_IF_ERROR(
      CheckCount(flight.states_size(), "states", kMaxPublishedStates));
  for (int k = 0; k < flight.states_size(); ++k) {
    if (absl::Status s = CheckState(flight.states(k), now, limits); !s.ok()) {
      return Within(absl::StrCat("states[", k, "]"), s);
    }
    if (k > 0) {
      const auto& a = flight.states(k - 1).time();
      const auto& b = flight.states(k).time();
      if (b.seconds() < a.seconds() ||
          (b.seconds() == a.seconds() && b.nanos() <= a.nanos())) {
        return Invalid(absl::StrCat("states[", k, "].time"),
                       "not after the previous state's");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckPublishFlights(const v1::PublishFlightsRequest& request,
                                 absl::Time now, const PublishLimits& limits) {
  if (request.flights_size() == 0) return Invalid("flights", "at least one");
  UTM_RETURN_IF_ERROR(
      CheckCount(request.flights_size(), "flights", kMaxPublishedFlights));
  // At most kMaxPublishedFlights ids, unique: views of the request's own.
  absl::flat_hash_set<absl::string_view> ids;
  ids.reserve(request.flights_size());
  for (int i = 0; i < request.flights_size(); ++i) {
    const v1::PublishedFlight& flight = request.flights(i);
    if (absl::Status s = CheckUasId(flight.uas_id_type(), flight.uas_id(),
                                    "uas_id", "uas_id_type");
        !s.ok()) {
      return Within(absl::StrCat("flights[", i, "]"), s);
    }
    if (!ids.insert(flight.uas_id()).second) {
      return Invalid(
          absl::StrCat("flights[", i, "].uas_id"),
          absl::StrCat(QuoteForError(flight.uas_id()), " appears twice"));
    }
    if (absl::Status s = CheckFlight(flight, now, limits); !s.ok()) {
      return Within(absl::StrCat("flights[", i, "]"), s);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPublishRegion(const v1::PublishFlightsRequest& request,
                                const region::RegionPolicy& region) {
  for (int i = 0; i < request.flights_size(); ++i) {
    const v1::PublishedFlight& f = request.flights(i);
    for (int k = 0; k < f.states_size(); ++k) {
      const v1::LatLng& p = f.states(k).position();
      // The field name is built only for an error, as above.
      if (absl::Status s = region.CheckPosition(
              geo::LatLng{p.lat_deg(), p.lng_deg()}, "position");
          !s.ok()) {
        return Within(absl::StrCat("flights[", i, "].states[", k, "]"), s);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace utm::remoteid
