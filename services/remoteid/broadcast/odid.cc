#include "services/remoteid/broadcast/odid.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/status_macros.h"

namespace utm::remoteid::broadcast {
namespace {

// Where a message sits in the caller's bytes, for error messages: the offset
// of its first byte and a field prefix ("" or "MessagePack.messages[2].").
struct Where {
  size_t base = 0;
  std::string prefix;
};

absl::Status FieldError(const Where& w, size_t offset, absl::string_view field,
                        absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "byte ", w.base + offset, " (", w.prefix, field, "): ", what));
}

// Multi-byte fields are little-endian (F3411-22a, broadcast message formats).
uint16_t U16(const uint8_t* m, int i) {
  return static_cast<uint16_t>(m[i] | (m[i + 1] << 8));
}
uint32_t U32(const uint8_t* m, int i) {
  return static_cast<uint32_t>(m[i]) | (static_cast<uint32_t>(m[i + 1]) << 8) |
         (static_cast<uint32_t>(m[i + 2]) << 16) |
         (static_cast<uint32_t>(m[i + 3]) << 24);
}
int32_t I32(const uint8_t* m, int i) { return static_cast<int32_t>(U32(m, i)); }

// Seconds-since epoch of the Authentication and System timestamps:
// 2019-01-01T00:00:00Z (F3411-22a, Authentication / System Message).
absl::Time Epoch2019() { return absl::FromUnixSeconds(1546300800); }

// Altitudes and heights: uint16, metres = value * 0.5 - 1000; value 0
// (-1000 m) is "invalid, no value or unknown" (F3411-22a, Location/Vector
// Message, "Pressure Altitude" / "Geodetic Altitude" / "Height").
std::optional<double> Altitude(uint16_t value) {
  if (value == 0) return std::nullopt;
  return value * 0.5 - 1000.0;
}

// Latitude/longitude: int32 × 1e-7 degrees; 0/0 is "invalid, no value or
// unknown" (F3411-22a, Location/Vector and System Messages).
absl::Status DecodeLatLng(const Where& w, const uint8_t* m, int lat_offset,
                          absl::string_view lat_field,
                          absl::string_view lng_field,
                          std::optional<LatLng>* out) {
  const int32_t lat = I32(m, lat_offset);
  const int32_t lng = I32(m, lat_offset + 4);
  if (lat == 0 && lng == 0) {
    *out = std::nullopt;
    return absl::OkStatus();
  }
  constexpr int64_t kLatMax = 900000000, kLngMax = 1800000000;
  if (lat > kLatMax || lat < -kLatMax) {
    return FieldError(w, lat_offset, lat_field,
                      absl::StrFormat("%.7f is outside [-90, 90]", lat * 1e-7));
  }
  if (lng > kLngMax || lng < -kLngMax) {
    return FieldError(
        w, lat_offset + 4, lng_field,
        absl::StrFormat("%.7f is outside [-180, 180]", lng * 1e-7));
  }
  LatLng p;
  p.lat_deg = lat * 1e-7;
  p.lng_deg = lng * 1e-7;
  *out = p;
  return absl::OkStatus();
}

// A fixed-size ASCII field, NUL-padded at the end (F3411-22a: unused
// characters are NULs). Only printable ASCII before the padding, only NULs
// after it.
absl::Status DecodeAscii(const Where& w, const uint8_t* m, int offset, int size,
                         absl::string_view field, std::string* out) {
  out->clear();
  int i = offset;
  for (; i < offset + size && m[i] != 0; ++i) {
    if (m[i] < 0x20 || m[i] > 0x7E) {
      return FieldError(w, i, field,
                        absl::StrFormat("0x%02x is not printable ASCII", m[i]));
    }
    out->push_back(static_cast<char>(m[i]));
  }
  for (; i < offset + size; ++i) {
    if (m[i] != 0) {
      return FieldError(
          w, i, field,
          absl::StrFormat("0x%02x after the NUL padding", m[i]));
    }
  }
  return absl::OkStatus();
}

std::string Hex(const uint8_t* p, int n) {
  std::string s;
  s.reserve(2 * n);
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, absl::Hex(p[i], absl::kZeroPad2));
  return s;
}

// Basic ID Message: byte 1 = ID type (high nibble) | UA type (low nibble),
// bytes 2..21 UAS ID, 22..24 reserved.
absl::Status DecodeBasicId(const Where& w, const uint8_t* m, BasicId* out) {
  const int id_type = m[1] >> 4;
  if (id_type > static_cast<int>(IdType::kSpecificSessionId)) {
    return FieldError(w, 1, "BasicId.id_type",
                      absl::StrCat(id_type, " is reserved"));
  }
  out->id_type = static_cast<IdType>(id_type);
  out->ua_type = static_cast<UaType>(m[1] & 0x0F);
  switch (out->id_type) {
    case IdType::kUtmAssignedUuid: {
      // RFC 4122 binary UUID in the first 16 bytes.
      const std::string h = Hex(m + 2, 16);
      out->uas_id = absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-",
                                 h.substr(12, 4), "-", h.substr(16, 4), "-",
                                 h.substr(20, 12));
      return absl::OkStatus();
    }
    case IdType::kSpecificSessionId:
      // First byte: session id type; 0 is reserved (1..224 ICAO-managed,
      // 225..255 private experimental).
      if (m[2] == 0) {
        return FieldError(w, 2, "BasicId.uas_id",
                          "session id type 0 is reserved");
      }
      out->uas_id = Hex(m + 2, 20);
      return absl::OkStatus();
    default:
      return DecodeAscii(w, m, 2, 20, "BasicId.uas_id", &out->uas_id);
  }
}

// Accuracy enumerations → the 95 % bound in metres (m/s for speed); index 0
// is "unknown" (or ≥ the largest bound), NaN marks reserved values
// (F3411-22a, Location/Vector Message: Horizontal, Vertical, Baro Altitude and
// Speed Accuracy; the horizontal values are RTCA DO-260B NACp bounds).
constexpr std::array<double, 13> kHorizontalAccuracyM = {
    0, 18520, 7408, 3704, 1852, 926, 555.6, 185.2, 92.6, 30, 10, 3, 1};
constexpr std::array<double, 7> kVerticalAccuracyM = {0, 150, 45, 25, 10, 3, 1};
constexpr std::array<double, 5> kSpeedAccuracyMps = {0, 10, 3, 1, 0.3};

template <size_t N>
absl::Status Accuracy(const Where& w, int offset, absl::string_view field,
                      int code, const std::array<double, N>& table,
                      std::optional<double>* out) {
  if (code >= static_cast<int>(N)) {
    return FieldError(w, offset, field, absl::StrCat(code, " is reserved"));
  }
  *out = code == 0 ? std::nullopt : std::optional<double>(table[code]);
  return absl::OkStatus();
}

// Location/Vector Message layout: 1 status|flags, 2 direction, 3 speed,
// 4 vertical speed, 5..8 latitude, 9..12 longitude, 13..14 pressure
// altitude, 15..16 geodetic altitude, 17..18 height, 19 vertical|horizontal
// accuracy, 20 baro|speed accuracy, 21..22 timestamp, 23 timestamp accuracy,
// 24 reserved.
absl::Status DecodeLocation(const Where& w, const uint8_t* m, Location* out) {
  const int status = m[1] >> 4;
  if (status > static_cast<int>(Status::kRemoteIdSystemFailure)) {
    return FieldError(w, 1, "Location.status",
                      absl::StrCat(status, " is reserved"));
  }
  out->status = static_cast<Status>(status);
  out->height_type = (m[1] & 0x04) ? HeightType::kAboveGround
                                   : HeightType::kAboveTakeoff;
  const bool east_west = (m[1] & 0x02) != 0;  // set: direction ≥ 180°
  const bool multiplier = (m[1] & 0x01) != 0;

  // Direction: 0..179 plus 180 when the E/W bit is set; 361° ("invalid, no
  // value or unknown") is sent as 181 with the E/W bit.
  const int direction = m[2];
  if (east_west && direction == 181) {
    out->track_deg = std::nullopt;
  } else if (direction > 179) {
    return FieldError(
        w, 2, "Location.track",
        absl::StrCat(direction + (east_west ? 180 : 0),
                     " is outside [0, 359] (direction byte ", direction,
                     " is outside [0, 179])"));
  } else {
    out->track_deg = direction + (east_west ? 180 : 0);
  }

  // Speed: multiplier 0: value × 0.25 m/s; 1: value × 0.75 + 255 × 0.25 m/s;
  // 255 with multiplier 1 (255 m/s) is unknown.
  const int speed = m[3];
  if (!multiplier) {
    out->speed_mps = speed * 0.25;
  } else if (speed == 255) {
    out->speed_mps = std::nullopt;
  } else {
    out->speed_mps = speed * 0.75 + 255 * 0.25;
  }

  // Vertical speed: int8 × 0.5 m/s, [-62, 62]; 63 m/s (126) is unknown.
  const int vspeed = static_cast<int8_t>(m[4]);
  if (vspeed == 126) {
    out->vertical_speed_mps = std::nullopt;
  } else if (vspeed > 124 || vspeed < -124) {
    return FieldError(w, 4, "Location.vertical_speed",
                      absl::StrCat(vspeed * 0.5, " m/s is outside [-62, 62]"));
  } else {
    out->vertical_speed_mps = vspeed * 0.5;
  }

  UTM_RETURN_IF_ERROR(DecodeLatLng(w, m, 5, "Location.latitude",
                                   "Location.longitude", &out->position));
  out->pressure_altitude_m = Altitude(U16(m, 13));
  out->geodetic_altitude_m = Altitude(U16(m, 15));
  out->height_m = Altitude(U16(m, 17));

  UTM_RETURN_IF_ERROR(Accuracy(w, 19, "Location.vertical_accuracy", m[19] >> 4,
                               kVerticalAccuracyM, &out->vertical_accuracy_m));
  UTM_RETURN_IF_ERROR(Accuracy(w, 19, "Location.horizontal_accuracy",
                               m[19] & 0x0F, kHorizontalAccuracyM,
                               &out->horizontal_accuracy_m));
  UTM_RETURN_IF_ERROR(Accuracy(w, 20, "Location.baro_accuracy", m[20] >> 4,
                               kVerticalAccuracyM, &out->baro_accuracy_m));
  UTM_RETURN_IF_ERROR(Accuracy(w, 20, "Location.speed_accuracy", m[20] & 0x0F,
                               kSpeedAccuracyMps, &out->speed_accuracy_mps));

  // Timestamp: tenths of a second since the start of the UTC hour, up to one
  // hour (36000); 0xFFFF is unknown.
  const int tenths = U16(m, 21);
  if (tenths == 0xFFFF) {
    out->time_since_hour = std::nullopt;
  } else if (tenths > 36000) {
    return FieldError(w, 21, "Location.timestamp",
                      absl::StrCat(tenths,
                                   " tenths of a second is outside [0, 36000]"));
  } else {
    out->time_since_hour = absl::Milliseconds(100) * tenths;
  }
  // Timestamp accuracy: low nibble, 0.1 s units, 0 unknown; high nibble
  // reserved.
  const int ts_accuracy = m[23] & 0x0F;
  out->timestamp_accuracy =
      ts_accuracy == 0
          ? std::nullopt
          : std::optional<absl::Duration>(absl::Milliseconds(100) * ts_accuracy);
  return absl::OkStatus();
}

// Authentication Message: byte 1 = auth type (high nibble) | page (low).
// Page 0: 2 last page index, 3 length, 4..7 timestamp, 8..24 data (17 bytes).
// Pages 1..15: 2..24 data (23 bytes).
absl::Status DecodeAuthentication(const Where& w, const uint8_t* m,
                                  Authentication* out) {
  const int type = m[1] >> 4;
  if (type >= 6 && type <= 9) {
    return FieldError(w, 1, "Authentication.auth_type",
                      absl::StrCat(type, " is reserved"));
  }
  out->auth_type = static_cast<AuthType>(type);
  out->page = m[1] & 0x0F;
  if (out->page != 0) {
    out->data.assign(reinterpret_cast<const char*>(m + 2), 23);
    return absl::OkStatus();
  }
  const int last_page = m[2];
  if (last_page > 15) {
    return FieldError(w, 2, "Authentication.last_page_index",
                      absl::StrCat(last_page, " is outside [0, 15]"));
  }
  const int length = m[3];
  const int capacity = 17 + 23 * last_page;
  if (length > capacity) {
    return FieldError(w, 3, "Authentication.length",
                      absl::StrCat(length, " bytes do not fit in pages 0..",
                                   last_page, " (", capacity, " bytes)"));
  }
  out->last_page_index = last_page;
  out->length_bytes = length;
  const uint32_t seconds = U32(m, 4);
  out->timestamp =
      seconds == 0 ? std::nullopt
                   : std::optional<absl::Time>(Epoch2019() +
                                               absl::Seconds(seconds));
  out->data.assign(reinterpret_cast<const char*>(m + 8), 17);
  return absl::OkStatus();
}

// Self-ID Message: 1 description type, 2..24 description (23 ASCII).
absl::Status DecodeSelfId(const Where& w, const uint8_t* m, SelfId* out) {
  const int type = m[1];
  if (type >= 3 && type <= 200) {
    return FieldError(w, 1, "SelfId.description_type",
                      absl::StrCat(type, " is reserved"));
  }
  out->description_type = type;
  return DecodeAscii(w, m, 2, 23, "SelfId.description", &out->description);
}

// System Message: 1 flags (bits 4..2 classification type, 1..0 operator
// location type), 2..5 operator latitude, 6..9 operator longitude, 10..11
// area count, 12 area radius (× 10 m), 13..14 area ceiling, 15..16 area
// floor, 17 UA category (high) | class (low), 18..19 operator geodetic
// altitude, 20..23 timestamp, 24 reserved.
absl::Status DecodeSystem(const Where& w, const uint8_t* m, int version,
                          System* out) {
  const int location_type = m[1] & 0x03;
  if (location_type == 3) {
    return FieldError(w, 1, "System.operator_location_type", "3 is reserved");
  }
  out->operator_location_type =
      static_cast<OperatorLocationType>(location_type);
  const int classification = (m[1] >> 2) & 0x07;
  if (classification > 1) {
    return FieldError(w, 1, "System.classification_type",
                      absl::StrCat(classification, " is reserved"));
  }
  out->classification_type = static_cast<ClassificationType>(classification);
  UTM_RETURN_IF_ERROR(DecodeLatLng(w, m, 2, "System.operator_latitude",
                                   "System.operator_longitude",
                                   &out->operator_position));
  out->area_count = U16(m, 10);
  out->area_radius_m = m[12] * 10.0;
  out->area_ceiling_m = Altitude(U16(m, 13));
  out->area_floor_m = Altitude(U16(m, 15));
  out->eu_category = EuCategory::kUndeclared;
  out->eu_class = EuClass::kUndeclared;
  if (out->classification_type == ClassificationType::kEuropeanUnion) {
    const int category = m[17] >> 4;
    const int eu_class = m[17] & 0x0F;
    if (category > 3) {
      return FieldError(w, 17, "System.eu_category",
                        absl::StrCat(category, " is reserved"));
    }
    if (eu_class > 7) {
      return FieldError(w, 17, "System.eu_class",
                        absl::StrCat(eu_class, " is reserved"));
    }
    out->eu_category = static_cast<EuCategory>(category);
    out->eu_class = static_cast<EuClass>(eu_class);
  }
  out->operator_altitude_m = Altitude(U16(m, 18));
  const uint32_t seconds = U32(m, 20);
  out->timestamp = (version < 2 || seconds == 0)
                       ? std::nullopt
                       : std::optional<absl::Time>(Epoch2019() +
                                                   absl::Seconds(seconds));
  return absl::OkStatus();
}

// Operator ID Message: 1 operator id type, 2..21 operator id (20 ASCII),
// 22..24 reserved.
absl::Status DecodeOperatorId(const Where& w, const uint8_t* m,
                              OperatorId* out) {
  const int type = m[1];
  if (type >= 1 && type <= 200) {
    return FieldError(w, 1, "OperatorId.operator_id_type",
                      absl::StrCat(type, " is reserved"));
  }
  out->operator_id_type = type;
  return DecodeAscii(w, m, 2, 20, "OperatorId.operator_id", &out->operator_id);
}

// Header byte: message type (high nibble), protocol version (low nibble).
absl::Status DecodeHeader(const Where& w, uint8_t header, MessageType* type,
                          int* version) {
  *version = header & 0x0F;
  if (*version > kMaxProtocolVersion) {
    return FieldError(w, 0, "header.protocol_version",
                      absl::StrCat(*version,
                                   " is not 0 (F3411-19), 1 (F3411-20) or 2 "
                                   "(F3411-22a)"));
  }
  const int t = header >> 4;
  if (t > 5 && t != 0xF) {
    return FieldError(w, 0, "header.message_type",
                      absl::StrCat(t, " is reserved"));
  }
  *type = static_cast<MessageType>(t);
  return absl::OkStatus();
}

// One 25-byte message that is not a pack.
absl::StatusOr<Message> DecodeOne(const Where& w, const uint8_t* m) {
  Message out;
  UTM_RETURN_IF_ERROR(
      DecodeHeader(w, m[0], &out.type, &out.protocol_version));
  switch (out.type) {
    case MessageType::kBasicId: {
      BasicId b;
      UTM_RETURN_IF_ERROR(DecodeBasicId(w, m, &b));
      out.body = std::move(b);
      break;
    }
    case MessageType::kLocation: {
      Location l;
      UTM_RETURN_IF_ERROR(DecodeLocation(w, m, &l));
      out.body = l;
      break;
    }
    case MessageType::kAuthentication: {
      Authentication a;
      UTM_RETURN_IF_ERROR(DecodeAuthentication(w, m, &a));
      out.body = std::move(a);
      break;
    }
    case MessageType::kSelfId: {
      SelfId s;
      UTM_RETURN_IF_ERROR(DecodeSelfId(w, m, &s));
      out.body = std::move(s);
      break;
    }
    case MessageType::kSystem: {
      System s;
      UTM_RETURN_IF_ERROR(DecodeSystem(w, m, out.protocol_version, &s));
      out.body = s;
      break;
    }
    case MessageType::kOperatorId: {
      OperatorId o;
      UTM_RETURN_IF_ERROR(DecodeOperatorId(w, m, &o));
      out.body = std::move(o);
      break;
    }
    case MessageType::kMessagePack:
      return FieldError(w, 0, "header.message_type",
                        "a message pack inside a message pack");
  }
  return out;
}

// Message Pack: 0 header, 1 message size (25), 2 message count (≤ 9), then
// the messages (F3411-22a, Message Pack).
absl::StatusOr<std::vector<Message>> DecodePack(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const Where pack;
  if (bytes.size() < 3) {
    return FieldError(pack, bytes.size(), "MessagePack",
                      absl::StrCat("truncated: ", bytes.size(),
                                   " bytes, the pack header is 3"));
  }
  if (p[1] != kMessageSize) {
    return FieldError(pack, 1, "MessagePack.message_size",
                      absl::StrCat(p[1], " is not ", kMessageSize));
  }
  const int count = p[2];
  if (count > kMaxPackMessages) {
    return FieldError(pack, 2, "MessagePack.message_count",
                      absl::StrCat(count, " is outside [0, ", kMaxPackMessages,
                                   "]"));
  }
  const size_t need = 3 + static_cast<size_t>(count) * kMessageSize;
  if (bytes.size() < need) {
    return FieldError(pack, bytes.size(), "MessagePack",
                      absl::StrCat("truncated: ", count, " messages need ",
                                   need, " bytes, got ", bytes.size()));
  }
  if (bytes.size() > need) {
    return FieldError(pack, need, "MessagePack",
                      absl::StrCat(bytes.size() - need,
                                   " trailing bytes after ", count,
                                   " messages"));
  }
  std::vector<Message> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    Where w;
    w.base = 3 + static_cast<size_t>(i) * kMessageSize;
    w.prefix = absl::StrCat("MessagePack.messages[", i, "].");
    UTM_ASSIGN_OR_RETURN(Message m, DecodeOne(w, p + w.base));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

absl::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kBasicId:
      return "BasicId";
    case MessageType::kLocation:
      return "Location";
    case MessageType::kAuthentication:
      return "Authentication";
    case MessageType::kSelfId:
      return "SelfId";
    case MessageType::kSystem:
      return "System";
    case MessageType::kOperatorId:
      return "OperatorId";
    case MessageType::kMessagePack:
      return "MessagePack";
  }
  return "reserved";
}

absl::string_view TrimPackPadding(absl::string_view payload) {
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  if (payload.size() < 3 || (p[0] >> 4) != 0xF || p[1] != kMessageSize ||
      p[2] > kMaxPackMessages) {
    return payload;
  }
  const size_t need = 3 + size_t{p[2]} * kMessageSize;
  if (payload.size() <= need) return payload;
  for (size_t i = need; i < payload.size(); ++i) {
    if (p[i] != 0) return payload;
  }
  return payload.substr(0, need);
}

absl::StatusOr<std::vector<Message>> DecodeMessages(absl::string_view bytes) {
  const Where top;
  if (bytes.empty()) {
    return FieldError(top, 0, "header", "no bytes");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  MessageType type;
  int version;
  UTM_RETURN_IF_ERROR(DecodeHeader(top, p[0], &type, &version));
  if (type == MessageType::kMessagePack) return DecodePack(bytes);
  const absl::string_view name = MessageTypeName(type);
  if (bytes.size() < static_cast<size_t>(kMessageSize)) {
    return FieldError(top, bytes.size(), name,
                      absl::StrCat("truncated: ", bytes.size(),
                                   " bytes, a message is ", kMessageSize));
  }
  if (bytes.size() > static_cast<size_t>(kMessageSize)) {
    return FieldError(top, kMessageSize, name,
                      absl::StrCat(bytes.size() - kMessageSize,
                                   " trailing bytes after the ", kMessageSize,
                                   "-byte message"));
  }
  UTM_ASSIGN_OR_RETURN(Message m, DecodeOne(top, p));
  std::vector<Message> out;
  out.push_back(std::move(m));
  return out;
}

}  // namespace utm::remoteid::broadcast
