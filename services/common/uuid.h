// Random identifiers.
#ifndef UTM_SERVICES_COMMON_UUID_H_
#define UTM_SERVICES_COMMON_UUID_H_

#include <string>

namespace utm {

// A random RFC 4122 version-4 UUID, lower-case. Thread-safe.
std::string RandomUuid();

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_UUID_H_
