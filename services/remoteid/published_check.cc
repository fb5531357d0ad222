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

absl::Status Invalid(const std::string& field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// `value` in [lo, hi] (or [lo, hi) when `open_high`).
absl::Status CheckRange(double value, double lo, double hi,
                        const std::string& field, bool open_high = false) {
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

absl::Status CheckLatLng(const v1::LatLng& p, const std::string& field) {
  UTM_RETURN_IF_ERROR(CheckRange(p.lat_deg(), -90, 90, field + ".lat_deg"));
  return CheckRange(p.lng_deg(), -180, 180, field + ".lng_deg");
}

absl::Status CheckAltitude(const v1::Altitude& a, const std::string& field) {
  if (a.reference() != v1::ALTITUDE_REFERENCE_W84) {
    return Invalid(field + ".reference", "must be W84");
  }
  return CheckRange(a.value_m(), kMinAltitudeM, kMaxAltitudeM,
                    field + ".value_m");
}

// Printable ASCII or UTF-8 without control characters, at most `max` bytes.
absl::Status CheckLabel(absl::string_view value, const std::string& field,
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

absl::Status CheckState(const v1::PublishedState& s, const std::string& f,
                        absl::Time now, const PublishLimits& limits) {
  if (!s.has_time()) return Invalid(f + ".time", "required");
  const absl::Time t = absl::FromUnixSeconds(s.time().seconds()) +
                       absl::Nanoseconds(s.time().nanos());
  if (t < now - limits.max_age) {
    return Invalid(f + ".time",
                   absl::StrCat(absl::FormatTime(t), " is more than ",
                                absl::FormatDuration(limits.max_age),
                                " old (Remote ID is near-real-time data)"));
  }
  if (t > now + limits.max_lead) {
    return Invalid(f + ".time",
                   absl::StrCat(absl::FormatTime(t), " is more than ",
                                absl::FormatDuration(limits.max_lead),
                                " ahead of the server clock"));
  }
  UTM_RETURN_IF_ERROR(CheckRange(s.time_accuracy_s(), 0, kMaxTimeAccuracyS,
                                 f + ".time_accuracy_s"));
  UTM_RETURN_IF_ERROR(CheckEnum(v1::RidOperationalStatus_descriptor(),
                                s.status(), f + ".status",
                                /*allow_unspecified=*/true));
  if (!s.has_position()) return Invalid(f + ".position", "required");
  UTM_RETURN_IF_ERROR(CheckLatLng(s.position(), f + ".position"));
  if (!s.has_altitude()) return Invalid(f + ".altitude", "required");
  UTM_RETURN_IF_ERROR(CheckAltitude(s.altitude(), f + ".altitude"));
  UTM_RETURN_IF_ERROR(CheckRange(s.horizontal_accuracy_m(), 0,
                                 kMaxHorizontalAccuracyM,
                                 f + ".horizontal_accuracy_m"));
  UTM_RETURN_IF_ERROR(CheckRange(s.vertical_accuracy_m(), 0,
                                 kMaxVerticalAccuracyM,
                                 f + ".vertical_accuracy_m"));
  UTM_RETURN_IF_ERROR(CheckEnum(v1::HeightReference_descriptor(),
                                s.height_reference(), f + ".height_reference",
                                /*allow_unspecified=*/true));
  if (s.height_reference() == v1::HEIGHT_REFERENCE_UNSPECIFIED) {
    if (s.height_m() != 0) {
      return Invalid(f + ".height_reference", "required with a height_m");
    }
  } else {
    UTM_RETURN_IF_ERROR(CheckRange(s.height_m(), kMinAltitudeM, kMaxAltitudeM,
                                   f + ".height_m"));
  }
  UTM_RETURN_IF_ERROR(
      CheckRange(s.track_deg(), 0, 360, f + ".track_deg", /*open_high=*/true));
  UTM_RETURN_IF_ERROR(
      CheckRange(s.speed_mps(), 0, kMaxSpeedMps, f + ".speed_mps"));
  UTM_RETURN_IF_ERROR(CheckRange(s.speed_accuracy_mps(), 0,
                                 kMaxSpeedAccuracyMps,
                                 f + ".speed_accuracy_mps"));
  return CheckRange(s.vertical_speed_mps(), -kMaxAbsVerticalSpeedMps,
                    kMaxAbsVerticalSpeedMps, f + ".vertical_speed_mps");
}

}  // namespace

absl::Status CheckPublishFlights(const v1::PublishFlightsRequest& request,
                                 absl::Time now, const PublishLimits& limits) {
  if (request.flights_size() == 0) return Invalid("flights", "at least one");
  UTM_RETURN_IF_ERROR(
      CheckCount(request.flights_size(), "flights", kMaxPublishedFlights));
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < request.flights_size(); ++i) {
    const v1::PublishedFlight& flight = request.flights(i);
    const std::string f = absl::StrCat("flights[", i, "]");
    UTM_RETURN_IF_ERROR(CheckUasId(flight.uas_id_type(), flight.uas_id(),
                                   f + ".uas_id", f + ".uas_id_type"));
    if (!ids.insert(flight.uas_id()).second) {
      return Invalid(f + ".uas_id", absl::StrCat(QuoteForError(flight.uas_id()),
                                                 " appears twice"));
    }
    UTM_RETURN_IF_ERROR(CheckEnum(v1::UaType_descriptor(), flight.ua_type(),
                                  f + ".ua_type", /*allow_unspecified=*/true));
    UTM_RETURN_IF_ERROR(CheckLabel(flight.operator_id(), f + ".operator_id",
                                   kMaxOperatorIdBytes));
    if (flight.has_operator_location()) {
      UTM_RETURN_IF_ERROR(
          CheckLatLng(flight.operator_location(), f + ".operator_location"));
    }
    if (flight.has_operator_altitude()) {
      UTM_RETURN_IF_ERROR(
          CheckAltitude(flight.operator_altitude(), f + ".operator_altitude"));
    }
    UTM_RETURN_IF_ERROR(CheckLabel(flight.description(), f + ".description",
                                   kMaxDescriptionBytes));
    if (flight.states_size() == 0)
      return Invalid(f + ".states", "at least one");
    UTM_RETURN_IF_ERROR(
        CheckCount(flight.states_size(), f + ".states", kMaxPublishedStates));
    for (int k = 0; k < flight.states_size(); ++k) {
      const std::string sf = absl::StrCat(f, ".states[", k, "]");
      UTM_RETURN_IF_ERROR(CheckState(flight.states(k), sf, now, limits));
      if (k > 0) {
        const auto& a = flight.states(k - 1).time();
        const auto& b = flight.states(k).time();
        if (b.seconds() < a.seconds() ||
            (b.seconds() == a.seconds() && b.nanos() <= a.nanos())) {
          return Invalid(sf + ".time", "not after the previous state's");
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace utm::remoteid
