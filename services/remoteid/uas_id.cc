#include "services/remoteid/uas_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/input_limits.h"

namespace utm::remoteid {
namespace {

// ANSI/CTA-2063-A character set: digits and upper-case letters except the
// easily misread 'O' and 'I'.
bool IsCtaChar(char c) {
  return absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
         (c >= 'A' && c <= 'Z' && c != 'O' && c != 'I');
}

absl::Status Bad(absl::string_view field, absl::string_view id,
                 absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", QuoteForError(id), " is not ", what));
}

bool IsUpperAlnum(char c) {
  return absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
         (c >= 'A' && c <= 'Z');
}

}  // namespace

absl::Status CheckSerialNumber(absl::string_view id, absl::string_view field) {
  constexpr absl::string_view kWhat =
      "an ANSI/CTA-2063-A serial number (a 4-character manufacturer code, a "
      "length character 1-9 or A-F, and a serial of that length; digits and "
      "upper-case letters but O and I)";
  if (id.size() < 6 || id.size() > 20) return Bad(field, id, kWhat);
  for (char c : id) {
    if (!IsCtaChar(c)) return Bad(field, id, kWhat);
  }
  const char l = id[4];
  int length = 0;
  if (l >= '1' && l <= '9') {
    length = l - '0';
  } else if (l >= 'A' && l <= 'F') {
    length = 10 + (l - 'A');
  } else {
    return Bad(field, id, kWhat);
  }
  if (id.size() != static_cast<size_t>(5 + length)) {
    return Bad(
        field, id,
        absl::StrCat("an ANSI/CTA-2063-A serial number: its length "
                     "character '",
                     std::string(1, l), "' says ", length,
                     " serial characters, and ", id.size() - 5, " follow"));
  }
  return absl::OkStatus();
}

absl::Status CheckRegistrationId(absl::string_view id,
                                 absl::string_view field) {
  constexpr absl::string_view kWhat =
      "a CAA registration id (<nationality mark>.<CAA-assigned id>, "
      "upper-case letters and digits, at most 20 characters)";
  const size_t dot = id.find('.');
  if (id.size() > 20 || dot == absl::string_view::npos || dot == 0 ||
      dot + 1 >= id.size()) {
    return Bad(field, id, kWhat);
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == dot) continue;
    if (!IsUpperAlnum(id[i]) && !(i > dot && id[i] == '-')) {
      return Bad(field, id, kWhat);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckUtmId(absl::string_view id, absl::string_view field) {
  constexpr absl::string_view kWhat =
      "a UTM id (a UUID: 8-4-4-4-12 hexadecimal digits)";
  if (id.size() != 36) return Bad(field, id, kWhat);
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-'
             : !absl::ascii_isxdigit(static_cast<unsigned char>(id[i]))) {
      return Bad(field, id, kWhat);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSessionId(absl::string_view id, absl::string_view field) {
  constexpr absl::string_view kWhat =
      "a session id (1 to 20 printable ASCII characters)";
  if (id.empty() || id.size() > 20) return Bad(field, id, kWhat);
  for (char c : id) {
    if (c <= ' ' || c > '~') return Bad(field, id, kWhat);
  }
  return absl::OkStatus();
}

absl::Status CheckUasId(v1::UasIdType type, absl::string_view id,
                        absl::string_view field, absl::string_view type_field) {
  switch (type) {
    case v1::UAS_ID_TYPE_SERIAL_NUMBER:
      return CheckSerialNumber(id, field);
    case v1::UAS_ID_TYPE_REGISTRATION:
      return CheckRegistrationId(id, field);
    case v1::UAS_ID_TYPE_UTM_ID:
      return CheckUtmId(id, field);
    case v1::UAS_ID_TYPE_SESSION_ID:
      return CheckSessionId(id, field);
    default:
      return CheckEnum(v1::UasIdType_descriptor(), type, type_field);
  }
}

}  // namespace utm::remoteid
