// Fuzz target: a volume file as `utmctl intent file|check` reads it
// (ctl::ReadVolumeFile: protobuf JSON or GeoJSON), from an in-memory file;
// what it yields then goes through the server's volume conversion.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/volume_convert.h"
#include "services/constraint/import/zone_import.h"
#include "services/utmctl/volume_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("volume-file", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const std::string path = absl::StrCat("/proc/self/fd/", fd);
  // Without an elevation model (W84 only) and with a flat one (AMSL, AGL).
  const utm::zones::ConstantElevation flat(540, 48);
  for (bool ground : {false, true}) {
    utm::ctl::VolumeFileOptions options;
    if (ground) options.elevation = &flat;
    absl::StatusOr<utm::ctl::VolumeFile> file =
        utm::ctl::ReadVolumeFile(path, options);
    if (!file.ok()) continue;
    const utm::VolumeConvertOptions convert;
    for (int i = 0; i < file->request.volumes_size(); ++i) {
      (void)utm::VolumeFromProto(file->request.volumes(i), convert,
                                 absl::StrCat(file->list_name, "[", i, "]"));
    }
  }
  close(fd);
  return 0;
}
