// Broadcast Remote ID messages: the 25-byte messages of ASTM F3411-22a
// (the broadcast message formats: Basic ID, Location/Vector,
// Authentication, Self-ID, System, Operator ID and the Message Pack) and ASD-STAN
// prEN 4709-002, as ground receivers hear them over Bluetooth and Wi-Fi,
// turned into checked values with units.
//
// The decoder is strict: every field is range-checked, and a value the
// standard marks invalid, reserved or out of range is refused with
// INVALID_ARGUMENT naming the byte offset in the input and the field, e.g.
//   byte 7 (Location.latitude): 95.1234567 is outside [-90, 90]
// The "invalid, no value or unknown" sentinels the standard defines are not
// errors: they decode to std::nullopt. Reserved bits and reserved bytes are
// ignored (transmitters in the field leave garbage in them).
//
// Pure: no I/O, no allocation beyond the result; thread-compatible.
//
// Typical usage:
//   absl::StatusOr<std::vector<Message>> messages = DecodeMessages(payload);
//   if (!messages.ok()) { count and drop; }
//   for (const Message& m : *messages) {
//     if (const auto* loc = std::get_if<Location>(&m.body)) { ... }
//   }
#ifndef UTM_SERVICES_REMOTEID_BROADCAST_ODID_H_
#define UTM_SERVICES_REMOTEID_BROADCAST_ODID_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace utm::remoteid::broadcast {

// Every message is this long (F3411-22a, broadcast message formats).
inline constexpr int kMessageSize = 25;
// A message pack holds at most this many messages (F3411-22a, Message Pack).
inline constexpr int kMaxPackMessages = 9;
// Protocol versions accepted in the header's low nibble: 0 = F3411-19,
// 1 = F3411-20 / ASD-STAN prEN 4709-002 P1, 2 = F3411-22a.
inline constexpr int kMaxProtocolVersion = 2;

// Header high nibble (F3411-22a, message header).
enum class MessageType : uint8_t {
  kBasicId = 0,
  kLocation = 1,
  kAuthentication = 2,
  kSelfId = 3,
  kSystem = 4,
  kOperatorId = 5,
  kMessagePack = 0xF,
};

// Basic ID "ID type" (F3411-22a, Basic ID Message); 5..15 are reserved and refused.
enum class IdType : uint8_t {
  kNone = 0,
  kSerialNumber = 1,       // ANSI/CTA-2063-A serial number, ASCII
  kCaaRegistration = 2,    // civil aviation authority registration, ASCII
  kUtmAssignedUuid = 3,    // RFC 4122 UUID, binary in the first 16 bytes
  kSpecificSessionId = 4,  // 1 byte session id type + 19 bytes, binary
};

// Basic ID "UA type" (F3411-22a, Basic ID Message); all 16 values are defined.
enum class UaType : uint8_t {
  kNone = 0,
  kAeroplane = 1,
  kHelicopterOrMultirotor = 2,
  kGyroplane = 3,
  kHybridLift = 4,
  kOrnithopter = 5,
  kGlider = 6,
  kKite = 7,
  kFreeBalloon = 8,
  kCaptiveBalloon = 9,
  kAirship = 10,
  kFreeFallParachute = 11,
  kRocket = 12,
  kTetheredPoweredAircraft = 13,
  kGroundObstacle = 14,
  kOther = 15,
};

// Location "operational status" (F3411-22a, Location/Vector Message); 5..15 reserved.
enum class Status : uint8_t {
  kUndeclared = 0,
  kGround = 1,
  kAirborne = 2,
  kEmergency = 3,
  kRemoteIdSystemFailure = 4,
};

// What Location.height_m is measured from (F3411-22a, Location/Vector Message).
enum class HeightType : uint8_t {
  kAboveTakeoff = 0,
  kAboveGround = 1,
};

// Authentication type (F3411-22a, Authentication Message). 6..9 are reserved and refused;
// 0xA..0xF are for private use and pass through as those numeric values.
enum class AuthType : uint8_t {
  kNone = 0,
  kUasIdSignature = 1,
  kOperatorIdSignature = 2,
  kMessageSetSignature = 3,
  kNetworkRemoteId = 4,
  kSpecificAuthentication = 5,
};

// System "operator location/altitude source" (F3411-22a, System Message); 3 reserved.
enum class OperatorLocationType : uint8_t {
  kTakeoff = 0,
  kLiveGnss = 1,
  kFixed = 2,
};

// System "classification type" (F3411-22a, System Message); 2..7 reserved.
enum class ClassificationType : uint8_t {
  kUndeclared = 0,
  kEuropeanUnion = 1,
};

// EU UA category (ASD-STAN prEN 4709-002; F3411-22a, System Message); 4..15 reserved.
enum class EuCategory : uint8_t {
  kUndeclared = 0,
  kOpen = 1,
  kSpecific = 2,
  kCertified = 3,
};

// EU UA class C0..C6 (ASD-STAN prEN 4709-002); 8..15 reserved.
enum class EuClass : uint8_t {
  kUndeclared = 0,
  kClass0 = 1,
  kClass1 = 2,
  kClass2 = 3,
  kClass3 = 4,
  kClass4 = 5,
  kClass5 = 6,
  kClass6 = 7,
};

// A WGS84 position, degrees: latitude in [-90, 90], longitude in
// [-180, 180], north and east positive.
struct LatLng {
  double lat_deg = 0;
  double lng_deg = 0;
};

// Message type 0 (F3411-22a, Basic ID Message).
struct BasicId {
  IdType id_type = IdType::kNone;
  UaType ua_type = UaType::kNone;
  // Serial number / CAA registration / kNone: the ASCII text without its NUL
  // padding. kUtmAssignedUuid: the canonical lowercase 8-4-4-4-12 form of the
  // first 16 bytes. kSpecificSessionId: the 20 bytes in lowercase hex (the
  // first byte is the session id type). May be empty.
  std::string uas_id;
};

// Message type 1 (F3411-22a, Location/Vector Message).
struct Location {
  Status status = Status::kUndeclared;
  HeightType height_type = HeightType::kAboveTakeoff;
  // Track over ground, degrees clockwise from true north, [0, 359].
  std::optional<int> track_deg;
  // Ground speed, m/s, [0, 254.25].
  std::optional<double> speed_mps;
  // Vertical speed, m/s, up positive, [-62, 62].
  std::optional<double> vertical_speed_mps;
  // WGS84 position of the aircraft.
  std::optional<LatLng> position;
  // Pressure altitude, metres, referenced to 1013.25 hPa.
  std::optional<double> pressure_altitude_m;
  // Geodetic altitude, metres above the WGS84 ellipsoid (HAE).
  std::optional<double> geodetic_altitude_m;
  // Height, metres above the reference that height_type names.
  std::optional<double> height_m;
  // 95 % accuracy bounds (F3411-22a, Location/Vector accuracy enumerations): horizontal and vertical
  // (geodetic) position and pressure altitude in metres, speed in m/s.
  std::optional<double> horizontal_accuracy_m;
  std::optional<double> vertical_accuracy_m;
  std::optional<double> baro_accuracy_m;
  std::optional<double> speed_accuracy_mps;
  // Time of the position since the start of the current UTC hour, [0, 1 h);
  // tenths of a second on the air.
  std::optional<absl::Duration> time_since_hour;
  // Accuracy of that time, 0.1 s .. 1.5 s.
  std::optional<absl::Duration> timestamp_accuracy;
};

// Message type 2, one page (F3411-22a, Authentication Message).
struct Authentication {
  // AuthType, or 0xA..0xF for private use.
  AuthType auth_type = AuthType::kNone;
  // Page number, 0..15.
  int page = 0;
  // Page 0 only: index of the last page (0..15), length of the whole
  // authentication data in bytes, and its time (seconds since
  // 2019-01-01T00:00:00Z on the air; nullopt when 0).
  std::optional<int> last_page_index;
  std::optional<int> length_bytes;
  std::optional<absl::Time> timestamp;
  // This page's data bytes as sent: 17 on page 0, 23 on the others.
  std::string data;
};

// Message type 3 (F3411-22a, Self-ID / Operator ID Message).
struct SelfId {
  // 0 text, 1 emergency, 2 extended status, 201..255 private use.
  int description_type = 0;
  // ASCII, NUL padding removed, at most 23 characters.
  std::string description;
};

// Message type 4 (F3411-22a, System Message).
struct System {
  OperatorLocationType operator_location_type = OperatorLocationType::kTakeoff;
  ClassificationType classification_type = ClassificationType::kUndeclared;
  // WGS84 position of the operator (or take-off point, per the type).
  std::optional<LatLng> operator_position;
  // Group of aircraft: how many, in which radius (metres), between which
  // geodetic altitudes (metres above the WGS84 ellipsoid).
  int area_count = 0;
  double area_radius_m = 0;
  std::optional<double> area_ceiling_m;
  std::optional<double> area_floor_m;
  // Only meaningful when classification_type is kEuropeanUnion; kUndeclared
  // otherwise.
  EuCategory eu_category = EuCategory::kUndeclared;
  EuClass eu_class = EuClass::kUndeclared;
  // Operator geodetic altitude, metres above the WGS84 ellipsoid.
  std::optional<double> operator_altitude_m;
  // When the message was made (protocol version 2 only; seconds since
  // 2019-01-01T00:00:00Z on the air, nullopt when 0 or for older versions,
  // which reserve those bytes).
  std::optional<absl::Time> timestamp;
};

// Message type 5 (F3411-22a, Self-ID / Operator ID Message).
struct OperatorId {
  // 0 operator id, 201..255 private use.
  int operator_id_type = 0;
  // ASCII, NUL padding removed, at most 20 characters.
  std::string operator_id;
};

// One decoded message. `type` is never kMessagePack: a pack decodes into the
// messages it holds.
struct Message {
  MessageType type = MessageType::kBasicId;
  int protocol_version = 0;  // header low nibble, 0..kMaxProtocolVersion
  std::variant<BasicId, Location, Authentication, SelfId, System, OperatorId>
      body;
};

// Decodes `bytes`: exactly one 25-byte message, or one message pack (3 bytes
// of header, then count × 25 bytes; count 0..9). Errors: INVALID_ARGUMENT
// naming the byte offset within `bytes` and the field, for truncated input,
// trailing bytes, an unknown protocol version or message type, a nested
// pack, and every field out of range.
absl::StatusOr<std::vector<Message>> DecodeMessages(absl::string_view bytes);

// `payload` without the zero padding some Bluetooth 5 transmitters append
// to a message pack (they always send nine message slots, the unused ones
// all zeros): a pack followed only by zero bytes is cut to its declared
// length. Anything else, including a pack followed by non-zero bytes, is
// returned whole, for DecodeMessages to judge. Receivers that forward the
// raw service data should pass it through this first.
absl::string_view TrimPackPadding(absl::string_view payload);

// Names for logs and errors: "BasicId", "Location", ...
absl::string_view MessageTypeName(MessageType type);

}  // namespace utm::remoteid::broadcast

#endif  // UTM_SERVICES_REMOTEID_BROADCAST_ODID_H_
