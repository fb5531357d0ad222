// What the registry's tests share: callers, valid serial numbers and
// requests.
//
// Typical usage:
//   using test_util::Reg;
//   core.Register(test_util::Regulator(), Reg(test_util::Serial(1), "op-1"));
#ifndef UTM_SERVICES_REGISTRY_REGISTRY_TESTING_H_
#define UTM_SERVICES_REGISTRY_REGISTRY_TESTING_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/registry/registry_core.h"
#include "utm/v1/registry.pb.h"

namespace utm::registry::test_util {

// 2026-12-07T10:00:00Z.
inline const absl::Time kT0 = absl::FromCivil(
    absl::CivilSecond(2026, 12, 7, 10, 0, 0), absl::UTCTimeZone());

// The i-th of a family of valid ANSI/CTA-2063-A serial numbers: the
// manufacturer code 1596, length 'A' (10), ten characters.
inline std::string Serial(int i) {
  return absl::StrCat("1596A4JPN5", 10000 + i);
}

inline Caller Regulator(const std::string& id = "faa") {
  Caller c;
  c.id = id;
  c.registry = true;
  return c;
}

// A registration of `serial` to `op`, 900 g by default; `version` 0
// registers anew.
inline v1::RegisterAircraftRequest Reg(const std::string& serial,
                                       const std::string& op,
                                       int64_t mass_g = 900,
                                       int64_t version = 0) {
  v1::RegisterAircraftRequest r;
  v1::AircraftRegistration* a = r.mutable_registration();
  a->set_serial_number(serial);
  a->set_mass_g(mass_g);
  a->set_operator_id(op);
  a->set_operator_registration_id("FA3XYZ123");
  a->set_make_model("Acme Quad 4");
  a->set_ua_type(v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  r.set_version(version);
  return r;
}

}  // namespace utm::registry::test_util

#endif  // UTM_SERVICES_REGISTRY_REGISTRY_TESTING_H_
