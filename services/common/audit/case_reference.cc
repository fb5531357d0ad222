#include "services/common/audit/case_reference.h"

#include "absl/strings/str_cat.h"
#include "services/common/input_limits.h"

namespace utm::audit {

absl::Status CheckCaseReference(absl::string_view value,
                                absl::string_view field) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  }
  return CheckPrintableAscii(value, field, kMaxCaseReferenceBytes);
}

}  // namespace utm::audit
