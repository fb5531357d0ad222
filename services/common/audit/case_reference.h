// A case reference: the id of the warrant, subpoena or court order under
// which law enforcement asks for protected information (an intent's owner,
// a flight's details). It is carried into every audit entry the request
// causes, so that each disclosure can be traced to its legal basis.
//
// Typical usage:
//   if (!request.case_reference().empty()) {
//     UTM_RETURN_IF_ERROR(
//         CheckCaseReference(request.case_reference(), "case_reference"));
//   }
#ifndef UTM_SERVICES_COMMON_AUDIT_CASE_REFERENCE_H_
#define UTM_SERVICES_COMMON_AUDIT_CASE_REFERENCE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace utm::audit {

// Bytes in a case reference, at most.
inline constexpr size_t kMaxCaseReferenceBytes = 128;

// OK for 1..kMaxCaseReferenceBytes bytes of printable ASCII (0x20..0x7E);
// otherwise INVALID_ARGUMENT naming `field` and, for a bad byte, its index
// and value ("case_reference: byte 3 (0x0a) is not printable ASCII").
absl::Status CheckCaseReference(absl::string_view value,
                                absl::string_view field);

}  // namespace utm::audit

#endif  // UTM_SERVICES_COMMON_AUDIT_CASE_REFERENCE_H_
