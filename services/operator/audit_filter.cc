#include "services/operator/audit_filter.h"

#include <utility>

namespace utm::fleet {

audit::AuditSink WithholdLocalData(audit::AuditSink sink,
                                   const DataPolicies* policies) {
  return [sink = std::move(sink),
          policies](const audit::AuditEvent& event) -> absl::Status {
    if (event.about.empty() ||
        !policies->For(event.about).local_only) {
      return sink(event);
    }
    audit::AuditEvent fact;
    fact.subject = event.subject;
    fact.case_reference = event.case_reference;
    fact.action = event.action;
    fact.target = kWithheldTarget;
    fact.disclosed = kWithheldDisclosed;
    return sink(fact);
  };
}

}  // namespace utm::fleet
