// One line of human output for a 4-D volume, shared by `intent get` and
// `constraint get`: "polygon of 4 vertices, 500.0 m to 600.0 m above WGS84,
// from 2027-01-15T09:00:00Z to 2027-01-15T09:30:00Z" (a circle gives its
// radius and centre, a polygon with holes "with N hole(s)"; unset bounds
// read "(unbounded)").
#ifndef UTM_SERVICES_UTMCTL_DESCRIBE_VOLUME_H_
#define UTM_SERVICES_UTMCTL_DESCRIBE_VOLUME_H_

#include <string>

#include "utm/v1/common.pb.h"

namespace utm::ctl {

std::string DescribeVolume(const v1::Volume4D& v);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_DESCRIBE_VOLUME_H_
