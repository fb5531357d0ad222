#include "services/utmctl/area_flags.h"

#include <cmath>
#include <iostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/volume_file.h"

namespace utm::ctl {

bool ParseNumbers(const std::string& text, size_t n, std::vector<double>* out) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  if (parts.size() != n) return false;
  out->assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(parts[i]), &(*out)[i]) ||
        !std::isfinite((*out)[i])) {
      return false;
    }
  }
  return true;
}

int ReadArea(const AreaFlags& flags, bool with_circle, v1::Volume4D* area) {
  const int given = !flags.file.empty() + !flags.bbox.empty() +
                    (with_circle && !flags.circle.empty());
  if (given != 1) {
    std::cerr << "give the area: --area FILE"
              << (with_circle ? ", --circle lat,lng,radius_m" : "")
              << " or --bbox minlat,minlng,maxlat,maxlng\n";
    return kExitUsage;
  }
  if (!flags.file.empty()) {
    absl::StatusOr<VolumeFile> file =
        ReadVolumeFile(flags.file, VolumeFileOptions());
    if (!file.ok()) {
      std::cerr << absl::StatusCodeToString(file.status().code()) << ": "
                << file.status().message() << "\n";
      return kExitIo;
    }
    if (file->request.volumes_size() == 0) {
      std::cerr << flags.file << ": no volume to use as the area\n";
      return kExitInvalid;
    }
    *area = file->request.volumes(0);
  } else if (!flags.bbox.empty()) {
    std::vector<double> v;
    if (!ParseNumbers(flags.bbox, 4, &v) || !(v[0] < v[2]) || !(v[1] < v[3]) ||
        v[0] < -90 || v[2] > 90 || v[1] < -180 || v[3] > 180) {
      std::cerr << "--bbox \"" << flags.bbox
                << "\": want minlat,minlng,maxlat,maxlng in degrees, min < "
                   "max\n";
      return kExitUsage;
    }
    v1::Polygon* polygon = area->mutable_volume()->mutable_outline_polygon();
    for (const auto& [lat, lng] :
         {std::pair{v[0], v[1]}, std::pair{v[0], v[3]}, std::pair{v[2], v[3]},
          std::pair{v[2], v[1]}}) {
      v1::LatLng* p = polygon->add_vertices();
      p->set_lat_deg(lat);
      p->set_lng_deg(lng);
    }
  } else {
    std::vector<double> v;
    if (!ParseNumbers(flags.circle, 3, &v) || v[0] < -90 || v[0] > 90 ||
        v[1] < -180 || v[1] > 180 || !(v[2] > 0)) {
      std::cerr << "--circle \"" << flags.circle
                << "\": want lat,lng,radius_m (degrees WGS84, latitude in "
                   "[-90, 90], longitude in [-180, 180], radius > 0 m)\n";
      return kExitUsage;
    }
    v1::Circle* c = area->mutable_volume()->mutable_outline_circle();
    c->mutable_center()->set_lat_deg(v[0]);
    c->mutable_center()->set_lng_deg(v[1]);
    c->set_radius_m(v[2]);
  }
  if (!flags.altitude.empty()) {
    std::vector<double> v;
    if (!ParseNumbers(flags.altitude, 2, &v) || !(v[0] <= v[1])) {
      std::cerr << "--alt-m \"" << flags.altitude
                << "\": want lower,upper in metres above WGS84, lower <= "
                   "upper\n";
      return kExitUsage;
    }
    v1::Volume3D* volume = area->mutable_volume();
    volume->mutable_altitude_lower()->set_value_m(v[0]);
    volume->mutable_altitude_lower()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    volume->mutable_altitude_upper()->set_value_m(v[1]);
    volume->mutable_altitude_upper()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  }
  return 0;
}

}  // namespace utm::ctl
