// Bounds on what a client may send, and the checks every service runs on
// its requests before anything is stored or echoed back.
//
// Every string and repeated field of every request has a cap (the table
// below and docs/api.md, "Limits"); a request over a cap is refused with
// INVALID_ARGUMENT naming the field path and both sizes:
//   source.dataset: 4194304 bytes, at most 1024
// Enum fields are checked against the values this server knows (proto3 keeps
// unknown numbers), naming the value and the accepted names:
//   kinds[0]: 99 is not an AlertKind (CONFLICT_PREDICTED, ...)
// Error messages quote caller input only through QuoteForError(): a short,
// escaped prefix and the input's length, never the whole input.
//
// Caps on geometry (vertices, volumes, areas) live in geo::ValidationLimits
// and the per-service options; the largest message gRPC accepts at all is
// ServerOptions::max_message_bytes.
//
// Typical usage:
//   UTM_RETURN_IF_ERROR(CheckId(request.intent_id(), "intent_id"));
//   UTM_RETURN_IF_ERROR(CheckText(source.dataset(), "source.dataset",
//                                 kMaxUrlBytes));
//   UTM_RETURN_IF_ERROR(CheckEnum(v1::AlertKind_descriptor(), request.kinds(i),
//                                 absl::StrCat("kinds[", i, "]")));
#ifndef UTM_SERVICES_COMMON_INPUT_LIMITS_H_
#define UTM_SERVICES_COMMON_INPUT_LIMITS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace google::protobuf {
class EnumDescriptor;
}  // namespace google::protobuf

namespace utm {

// Ids a client sends or names: intent, constraint and authorisation ids,
// request ids, operator ids, aircraft ids. Bytes; no control characters.
inline constexpr size_t kMaxIdBytes = 128;
// Short labels: Authority.name, ConstraintSource.original_id and
// original_altitude_lower / _upper, GrantAuthorisation reference. Bytes.
inline constexpr size_t kMaxLabelBytes = 256;
// ConstraintSource.content_digest (hex SHA-1 is 40). Bytes.
inline constexpr size_t kMaxDigestBytes = 128;
// A file name, URL or other address: ConstraintSource.dataset,
// Authority.contact. Bytes.
inline constexpr size_t kMaxUrlBytes = 1024;
// Page tokens (opaque; returned by the server). Bytes.
inline constexpr size_t kMaxPageTokenBytes = 256;
// Schedule.time_zone: an IANA name. Bytes.
inline constexpr size_t kMaxTimeZoneBytes = 64;
// Free text: Constraint reason and message_for_pilots, withdrawal and
// revocation reasons. Bytes.
inline constexpr size_t kMaxTextBytes = 10000;
// ConstraintConditions.text: entries, and bytes in each.
inline constexpr int kMaxConditionTexts = 16;
inline constexpr size_t kMaxConditionTextBytes = 4096;
// Schedule.weekly: windows; WeeklyWindow.days: entries.
inline constexpr int kMaxWeeklyWindows = 64;
inline constexpr int kMaxWeekDays = 7;
// Enum filters (QueryIntents.states, QueryConstraints.types,
// WatchAlerts.kinds): entries.
inline constexpr int kMaxEnumFilters = 32;
// Bytes of caller input an error message quotes.
inline constexpr size_t kMaxQuoteBytes = 64;

// `input` for an error message: at most `max` bytes, C-escaped, in double
// quotes; a longer input is cut and followed by its length, e.g.
//   "0123456789abcdef"… (4194304 bytes)
std::string QuoteForError(absl::string_view input, size_t max = kMaxQuoteBytes);

// OK, or INVALID_ARGUMENT naming `field`: `value` is longer than `max`
// bytes.
absl::Status CheckText(absl::string_view value, absl::string_view field,
                       size_t max);

// OK for at most `max` bytes, each printable ASCII (0x20..0x7E: case
// references, registration ids); INVALID_ARGUMENT naming `field` and the
// first bad byte otherwise ("case_reference: byte 3 (0x0a) is not printable
// ASCII"). Empty is OK: a required value is the caller's check.
absl::Status CheckPrintableAscii(absl::string_view value,
                                 absl::string_view field, size_t max);

// OK for an empty id or one of at most kMaxIdBytes bytes without control
// characters; INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckId(absl::string_view value, absl::string_view field);

// As CheckId, and INVALID_ARGUMENT for an empty id.
absl::Status CheckRequiredId(absl::string_view value, absl::string_view field);

// OK, or INVALID_ARGUMENT naming `field`: `count` entries are over `max`.
absl::Status CheckCount(int count, absl::string_view field, int max);

// OK if `value` is a value of `type` (not its zero value unless
// `allow_unspecified`); INVALID_ARGUMENT naming `field`, the value and the
// accepted names otherwise.
absl::Status CheckEnum(const google::protobuf::EnumDescriptor* type, int value,
                       absl::string_view field, bool allow_unspecified = false);

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_INPUT_LIMITS_H_
