#include "services/common/audit/case_reference.h"

#include "absl/strings/str_cat.h"

namespace utm::audit {

absl::Status CheckCaseReference(absl::string_view value,
                                absl::string_view field) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  }
  if (value.size() > kMaxCaseReferenceBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", value.size(), " bytes, at most ", kMaxCaseReferenceBytes));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": byte ", i, " (0x",
                       absl::Hex(c, absl::kZeroPad2),
                       ") is not printable ASCII"));
    }
  }
  return absl::OkStatus();
}

}  // namespace utm::audit
