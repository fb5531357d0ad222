// What the audit log keeps of a disclosure about an operator in Local Data
// Mode: only the fact of the read — who read, under which case reference,
// what kind of read, and when (the log adds the time) — never whose data it
// was nor what was shown (no operator id, no aircraft, no positions).
//
// The read itself still happens and is still audited before the answer
// leaves (no record, no answer): Local Data Mode limits what is written,
// not what law enforcement may see under a case reference.
//
// Typical usage:
//   audit::AuditSink sink = WithholdLocalData(audit->Sink(), &settings);
//   IntentService intents(&core, verifier, sink, ...);
#ifndef UTM_SERVICES_OPERATOR_AUDIT_FILTER_H_
#define UTM_SERVICES_OPERATOR_AUDIT_FILTER_H_

#include "services/common/audit/audit_event.h"
#include "services/operator/data_policy.h"

namespace utm::fleet {

// What an entry about a Local-Data-Mode operator shows as its target and
// disclosed fields.
inline constexpr char kWithheldTarget[] = "-";
inline constexpr char kWithheldDisclosed[] = "withheld:local-data-mode";

// `sink` for every event, with target and disclosed replaced as above when
// the event's about is in Local Data Mode. `policies` is not owned
// and must outlive the returned sink. Thread-safe as `sink` is.
audit::AuditSink WithholdLocalData(audit::AuditSink sink,
                                   const DataPolicies* policies);

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_AUDIT_FILTER_H_
