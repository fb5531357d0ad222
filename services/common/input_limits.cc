#include "services/common/input_limits.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace utm {

std::string QuoteForError(absl::string_view input, size_t max) {
  if (input.size() <= max) {
    return absl::StrCat("\"", absl::CHexEscape(input), "\"");
  }
  return absl::StrCat("\"", absl::CHexEscape(input.substr(0, max)),
                      "\"\xE2\x80\xA6 (", input.size(), " bytes)");
}

absl::Status CheckText(absl::string_view value, absl::string_view field,
                       size_t max) {
  if (value.size() <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", value.size(), " bytes, at most ", max));
}

absl::Status CheckPrintableAscii(absl::string_view value,
                                 absl::string_view field, size_t max) {
  if (absl::Status s = CheckText(value, field, max); !s.ok()) return s;
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": byte ", i, " (0x", absl::Hex(c, absl::kZeroPad2),
          ") is not printable ASCII"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckId(absl::string_view value, absl::string_view field) {
  if (absl::Status s = CheckText(value, field, kMaxIdBytes); !s.ok()) return s;
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", QuoteForError(value), " has a control ",
                       "character at byte ", i, "; ids are printable"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRequiredId(absl::string_view value, absl::string_view field) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  return CheckId(value, field);
}

absl::Status CheckCount(int count, absl::string_view field, int max) {
  if (count <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", count, " entries, at most ", max));
}

absl::Status CheckEnum(const google::protobuf::EnumDescriptor* type, int value,
                       absl::string_view field, bool allow_unspecified) {
  const google::protobuf::EnumValueDescriptor* found =
      type->FindValueByNumber(value);
  if (found != nullptr && (value != 0 || allow_unspecified)) {
    return absl::OkStatus();
  }
  // Value names share a prefix, the zero value's name without UNSPECIFIED
  // ("ALERT_KIND_"); list them without it.
  std::string prefix;
  if (const auto* zero = type->FindValueByNumber(0);
      zero != nullptr && absl::EndsWith(zero->name(), "UNSPECIFIED")) {
    prefix = zero->name().substr(0, zero->name().size() - 11);
  }
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = type->value(i);
    if (v->number() == 0 && !allow_unspecified) continue;
    absl::string_view name = v->name();
    absl::ConsumePrefix(&name, prefix);
    names.emplace_back(name);
  }
  const std::string& kind = type->name();
  const bool vowel = !kind.empty() && absl::StrContains("AEIOU", kind[0]);
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": ", value,
      found != nullptr ? absl::StrCat(" (", found->name(), ")") : "",
      " is not ", vowel ? "an " : "a ", kind,
      found != nullptr ? " this request accepts" : "", " (",
      absl::StrJoin(names, ", "), ")"));
}

}  // namespace utm
