// What flight checks ask of the aircraft registry: may this operator fly
// this aircraft here? The intent core asks at activation, the telemetry core
// when it starts tracking an aircraft; the registry core
// (services/registry/registry_core.h) answers. An interface of its own so
// that intents and telemetry need not link the registry.
//
// The rule (a jurisdiction's registration threshold T grams, when set):
//   - an aircraft registered under `aircraft_id` (its serial number) to
//     `operator_id`, in force (not revoked, not expired): may fly;
//   - registered to another operator: may not;
//   - revoked or expired: may not (the message gives when and why);
//   - not registered: may fly only if `declared_mass_g` is in (0, T].
// Without a threshold, everything may fly.
#ifndef UTM_SERVICES_COMMON_REGISTRATION_CHECK_H_
#define UTM_SERVICES_COMMON_REGISTRATION_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace utm::registration {

// The registration threshold: aircraft heavier than it must be registered.
// 0 or less: registration is not required.
struct Jurisdiction {
  int64_t threshold_g = 0;
  bool required() const { return threshold_g > 0; }
};

// The ledger guard key of the registration of `serial_number`. The
// registry's writes of that registration write it (and read it); an
// intent activation that asked CheckAircraft() about a serial number reads
// it, so that across replicas the activation commits only if no
// registration write of that serial came after the model it was decided
// on (a revocation another replica made moments before refuses it; one
// made after it is the revocation of a flying aircraft: the telemetry
// alert). An aircraft named by no serial number has no key: the check's
// answer then depends on the declared mass and the threshold alone.
// Telemetry's check at track start needs none: it commits nothing to the
// ledger, and a later revocation reaches its tracks through the
// registry's change observer (the revocation alert).
inline std::string RegistrationGuardKey(absl::string_view serial_number) {
  return absl::StrCat("registration/", serial_number);
}

class RegistrationChecker {
 public:
  virtual ~RegistrationChecker() = default;

  // OK when `operator_id` may fly the aircraft `aircraft_id` (a serial
  // number, or the operator's own id for an unregistered aircraft; may be
  // empty) whose declared mass is `declared_mass_g` (0: not declared).
  // FAILED_PRECONDITION otherwise, its message starting with `field` (the
  // request field that named the aircraft) and saying why, e.g.
  //   aircraft.serial_number: 1596A4JPN5R7B10 is not registered; aircraft
  //   above 250 g must be registered here (declared mass: 900 g)
  // Never reveals to whom another operator's aircraft is registered.
  // Thread-safe, quick (a map lookup), never blocks on I/O: callers hold
  // their own locks.
  virtual absl::Status CheckAircraft(absl::string_view operator_id,
                                     absl::string_view aircraft_id,
                                     int64_t declared_mass_g,
                                     absl::string_view field) const = 0;
};

}  // namespace utm::registration

#endif  // UTM_SERVICES_COMMON_REGISTRATION_CHECK_H_
