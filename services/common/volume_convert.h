// Conversion between the wire contract's volumes (utm.v1.Volume4D) and the
// geometry core's (utm::geo::Volume4D), with validation.
//
// FromProto checks what the wire form alone can get wrong (a missing
// footprint, an unset altitude reference, a malformed timestamp) and then
// geo::ValidateVolume4D; every error is INVALID_ARGUMENT and names the field
// by its path, e.g. "volumes[1].volume.altitude_lower.reference: ...".
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(geo::Volume4D v,
//                        VolumeFromProto(request.volumes(i), limits,
//                                        absl::StrCat("volumes[", i, "]")));
#ifndef UTM_SERVICES_COMMON_VOLUME_CONVERT_H_
#define UTM_SERVICES_COMMON_VOLUME_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "google/protobuf/timestamp.pb.h"
#include "utm/v1/common.pb.h"

namespace utm {

struct VolumeConvertOptions {
  geo::ValidationLimits limits;
  // Whether an unset time_end means "no end" (permanent restrictions).
  // DEFAULT: false — flight intents always end.
  bool allow_open_end = false;
  // Whether an unset time_start means "since ever" (permanent restrictions).
  // DEFAULT: false.
  bool allow_open_start = false;
  // For a query area: unset altitudes mean the limits' whole range and unset
  // times mean "unbounded" on that side. DEFAULT: false.
  bool open_bounds = false;
  // Whether the geometry is checked (geo::ValidateVolume4D: simple rings,
  // limits, ...). Only for volumes this server validated when it wrote them
  // and reads back from its own checksummed store (a restart), where the
  // check would cost as much as the first time (quadratic in a polygon's
  // vertices) for nothing. The wire form is still checked. DEFAULT: true.
  bool validate = true;
};

absl::StatusOr<geo::Volume4D> VolumeFromProto(
    const v1::Volume4D& proto, const VolumeConvertOptions& options,
    absl::string_view field);

v1::Volume4D VolumeToProto(const geo::Volume4D& volume);

// A polygon's rings, outer and holes, as they are: no validation (FromProto
// above validates the whole volume).
geo::Polygon PolygonFromProto(const v1::Polygon& proto);
v1::Polygon PolygonToProto(const geo::Polygon& polygon);

// Timestamp conversion; FromProto rejects seconds outside years 1-9999 and
// nanos outside [0, 1e9).
absl::StatusOr<absl::Time> TimeFromProto(
    const google::protobuf::Timestamp& proto, absl::string_view field);
google::protobuf::Timestamp TimeToProto(absl::Time t);
// `t` as RFC 3339 in UTC, with as many fraction digits as it needs and none
// for whole seconds: "2026-12-07T12:00:00Z", "2026-12-07T12:00:00.25Z".
std::string TimeToRfc3339(absl::Time t);

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_VOLUME_CONVERT_H_
