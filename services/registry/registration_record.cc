#include "services/registry/registration_record.h"

namespace utm::registry {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

bool InForce(const v1::AircraftRegistration& r, absl::Time now) {
  if (r.has_revoke_time()) return false;
  return !r.has_expire_time() || ToTime(r.expire_time()) > now;
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string FormatUtc(const google::protobuf::Timestamp& t) {
  return FormatUtc(ToTime(t));
}

}  // namespace utm::registry
