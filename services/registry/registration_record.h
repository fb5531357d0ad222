// A registration record's standing, for the registry and for the services
// that read its records (telemetry's revocation alerts, Remote ID details)
// without linking the registry core: one rule, one way to show its times.
#ifndef UTM_SERVICES_REGISTRY_REGISTRATION_RECORD_H_
#define UTM_SERVICES_REGISTRY_REGISTRATION_RECORD_H_

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "utm/v1/registry.pb.h"

namespace utm::registry {

// In force at `now`: not revoked, and not past its expire_time (if any).
bool InForce(const v1::AircraftRegistration& r, absl::Time now);

// A time as the registry's messages show it: UTC to the second,
// "2026-12-07T10:00:00Z".
std::string FormatUtc(absl::Time t);
std::string FormatUtc(const google::protobuf::Timestamp& t);

}  // namespace utm::registry

#endif  // UTM_SERVICES_REGISTRY_REGISTRATION_RECORD_H_
