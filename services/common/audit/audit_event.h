// What the audit log records: one disclosure of protected information
// (an operator's identity, a flight's details, an operator's location, an
// aircraft's registration) to someone other than its owner. Services build
// an AuditEvent and hand it to an AuditSink before the answer leaves; a
// sink that fails means the answer must not leave.
#ifndef UTM_SERVICES_COMMON_AUDIT_AUDIT_EVENT_H_
#define UTM_SERVICES_COMMON_AUDIT_AUDIT_EVENT_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace utm::audit {

struct AuditEvent {
  // Who read: the token's subject.
  std::string subject;
  // The warrant, subpoena or court order id the request carried.
  std::string case_reference;
  // What kind of thing was disclosed: "intent-owner", "flight-details",
  // "registration".
  std::string action;
  // What it was about: an intent id, a Remote ID, a serial number.
  std::string target;
  // Whose data it was: the operator account the disclosed information
  // belongs to ("" when not known). An operator's data export lists the
  // entries about it; erasing the operator replaces its id here, in `target`
  // and in `disclosed` by a keyed pseudonym (audit_chain.h, "Redaction").
  // For an operator in Local Data Mode the entry records none of about,
  // target and disclosed (services/operator/audit_filter.h).
  std::string about;
  // What was shown, in short: an owner's id, "serial,registration,...".
  std::string disclosed;
};

// Records `event` durably, or fails (UNAVAILABLE) so that the caller
// withholds the answer. Thread-safe.
using AuditSink = std::function<absl::Status(const AuditEvent& event)>;

}  // namespace utm::audit

#endif  // UTM_SERVICES_COMMON_AUDIT_AUDIT_EVENT_H_
