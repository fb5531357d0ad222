// Fuzz target: one wire volume (a binary utm.v1.Volume4D) through
// VolumeFromProto with each option set the services use: a flight's volume,
// a constraint's (open-ended, wide), and a query area (open bounds). A
// volume that converts must convert again, unchanged, from VolumeToProto of
// the result: what the server stores and recovers is that form.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "geo/volume.h"
#include "google/protobuf/stubs/logging.h"
#include "services/common/volume_convert.h"
#include "services/constraint/limits.h"
#include "utm/v1/common.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Inputs that are not UTF-8 are refused by the parser, as on the wire;
  // protobuf's log line for each would only slow the fuzzer down.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  utm::v1::Volume4D proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  utm::VolumeConvertOptions flight;
  utm::VolumeConvertOptions zone;
  zone.allow_open_start = true;
  zone.allow_open_end = true;
  zone.limits = utm::constraint::ConstraintLimits();
  utm::VolumeConvertOptions query;
  query.open_bounds = true;
  for (const utm::VolumeConvertOptions* options : {&flight, &zone, &query}) {
    absl::StatusOr<utm::geo::Volume4D> volume =
        utm::VolumeFromProto(proto, *options, "volume");
    if (!volume.ok()) continue;
    const utm::v1::Volume4D again = utm::VolumeToProto(*volume);
    absl::StatusOr<utm::geo::Volume4D> reread =
        utm::VolumeFromProto(again, *options, "volume");
    if (!reread.ok()) {
      std::fprintf(stderr, "converted volume does not convert again: %s\n",
                   reread.status().ToString().c_str());
      std::abort();
    }
  }
  return 0;
}
