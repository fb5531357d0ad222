#include "services/utmctl/geo_commands.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/intersect.h"
#include "google/protobuf/struct.pb.h"
#include "services/common/volume_convert.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/volume_file.h"
#include "utm/v1/strategic.pb.h"

namespace utm::ctl {
namespace {

struct LoadedFile {
  std::vector<geo::Volume4D> volumes;
};

// Reads a file; returns kExitIo / kExitInvalid through `exit_code` on error.
absl::StatusOr<LoadedFile> Load(const std::string& path,
                                const GeoOptions& options, int* exit_code) {
  absl::StatusOr<VolumeFile> file = ReadVolumeFile(path, options.input);
  if (!file.ok()) {
    *exit_code = file.status().code() == absl::StatusCode::kInvalidArgument
                     ? kExitInvalid
                     : kExitIo;
    return file.status();
  }
  LoadedFile out;
  VolumeConvertOptions convert;
  convert.allow_open_end = true;
  for (int i = 0; i < file->request.volumes_size(); ++i) {
    absl::StatusOr<geo::Volume4D> v =
        VolumeFromProto(file->request.volumes(i), convert,
                        absl::StrCat(file->list_name, "[", i, "]"));
    if (!v.ok()) {
      *exit_code = kExitInvalid;
      return absl::Status(v.status().code(),
                          absl::StrCat(path, ": ", v.status().message()));
    }
    out.volumes.push_back(*std::move(v));
  }
  return out;
}

std::string Rfc3339(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "(no end)";
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

void PrintError(const absl::Status& status, const GeoOptions& options) {
  if (options.json) {
    google::protobuf::Struct error;
    auto& fields = *error.mutable_fields();
    fields["code"].set_string_value(absl::StatusCodeToString(status.code()));
    fields["message"].set_string_value(std::string(status.message()));
    google::protobuf::Struct out;
    *(*out.mutable_fields())["error"].mutable_struct_value() = error;
    std::cout << ProtoJson(out, /*with_defaults=*/true) << "\n";
  } else {
    std::cerr << absl::StatusCodeToString(status.code()) << ": "
              << status.message() << "\n";
  }
}

}  // namespace

int GeoCheck(const std::vector<std::string>& files, const GeoOptions& options) {
  int worst = kExitOk;
  for (const std::string& path : files) {
    int code = kExitOk;
    absl::StatusOr<LoadedFile> f = Load(path, options, &code);
    if (!f.ok()) {
      PrintError(f.status(), options);
      worst = std::max(worst, code);
      continue;
    }
    if (options.json) {
      google::protobuf::Struct out;
      auto& fields = *out.mutable_fields();
      fields["file"].set_string_value(path);
      fields["volumes"].set_number_value(
          static_cast<double>(f->volumes.size()));
      fields["valid"].set_bool_value(true);
      std::cout << ProtoJson(out, /*with_defaults=*/true) << "\n";
    } else {
      std::cout << path << ": " << f->volumes.size() << " volume(s), valid\n";
    }
  }
  return worst;
}

int GeoIntersect(const std::string& a, const std::string& b,
                 const GeoOptions& options) {
  int code = kExitOk;
  absl::StatusOr<LoadedFile> fa = Load(a, options, &code);
  if (!fa.ok()) {
    PrintError(fa.status(), options);
    return code;
  }
  absl::StatusOr<LoadedFile> fb = Load(b, options, &code);
  if (!fb.ok()) {
    PrintError(fb.status(), options);
    return code;
  }
  v1::Conflict conflict;
  int found = 0;
  for (size_t i = 0; i < fa->volumes.size(); ++i) {
    for (size_t j = 0; j < fb->volumes.size(); ++j) {
      const std::optional<geo::Overlap4D> o =
          geo::Intersect(fa->volumes[i], fb->volumes[j]);
      if (!o) continue;
      ++found;
      v1::VolumeOverlap* overlap = conflict.add_overlaps();
      overlap->set_volume_index(static_cast<int>(i));
      overlap->set_other_volume_index(static_cast<int>(j));
      *overlap->mutable_time_overlap()->mutable_start() =
          TimeToProto(o->time.start);
      if (o->time.end != absl::InfiniteFuture()) {
        *overlap->mutable_time_overlap()->mutable_end() =
            TimeToProto(o->time.end);
      }
      overlap->mutable_altitude_overlap()->mutable_lower()->set_value_m(
          o->altitude.lower_m);
      overlap->mutable_altitude_overlap()->mutable_lower()->set_reference(
          v1::ALTITUDE_REFERENCE_W84);
      overlap->mutable_altitude_overlap()->mutable_upper()->set_value_m(
          o->altitude.upper_m);
      overlap->mutable_altitude_overlap()->mutable_upper()->set_reference(
          v1::ALTITUDE_REFERENCE_W84);
      if (!options.json) {
        std::cout << absl::StrFormat(
            "CONFLICT: %s volumes[%d] and %s volumes[%d] overlap from %s to "
            "%s between %.3f m and %.3f m above WGS84\n",
            a, i, b, j, Rfc3339(o->time.start), Rfc3339(o->time.end),
            o->altitude.lower_m, o->altitude.upper_m);
      }
    }
  }
  if (options.json) {
    // Only the overlaps: a Conflict's other fields (which entity, why) mean
    // nothing between two local files.
    std::string json = "{\"overlaps\":[";
    for (int k = 0; k < conflict.overlaps_size(); ++k) {
      if (k > 0) json += ",";
      json += ProtoJson(conflict.overlaps(k), /*with_defaults=*/true);
    }
    std::cout << json << "]}\n";
  } else if (found == 0) {
    std::cout << "no conflict: no volume of " << a << " meets any volume of "
              << b << "\n";
  }
  return found > 0 ? kExitConflict : kExitOk;
}

}  // namespace utm::ctl
