#include "services/constraint/import/geoid.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace utm::elevation {
namespace {

// Big-endian bytes to a host value (the .gtx byte order on every machine).
template <typename T>
T BigEndian(const unsigned char* p) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8);
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = (v << 8) | p[i];
  if constexpr (sizeof(T) == 4) {
    const uint32_t v32 = static_cast<uint32_t>(v);
    T out;
    std::memcpy(&out, &v32, 4);
    return out;
  } else {
    T out;
    std::memcpy(&out, &v, 8);
    return out;
  }
}

bool Exists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return static_cast<bool>(in);
}

}  // namespace

std::string DefaultGeoidGridPath() {
  for (const char* variable : {"PROJ_DATA", "PROJ_LIB"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr) continue;
    for (absl::string_view dir : absl::StrSplit(value, ':')) {
      if (dir.empty()) continue;
      const std::string path = absl::StrCat(dir, "/", kEgm96GridName);
      if (Exists(path)) return path;
    }
  }
  return absl::StrCat("/usr/share/proj/", kEgm96GridName);
}

absl::StatusOr<HeightGrid> LoadGtx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("geoid grid ", path,
                     ": cannot open (Debian's proj-data package installs "
                     "/usr/share/proj/egm96_15.gtx)"));
  }
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  if (bytes.size() < 40) {
    return absl::DataLossError(
        absl::StrCat("geoid grid ", path, ": shorter than a .gtx header"));
  }
  GridGeometry g;
  g.lat0_deg = BigEndian<double>(&bytes[0]);
  g.lng0_deg = BigEndian<double>(&bytes[8]);
  g.dlat_deg = BigEndian<double>(&bytes[16]);
  g.dlng_deg = BigEndian<double>(&bytes[24]);
  g.rows = BigEndian<int32_t>(&bytes[32]);
  g.cols = BigEndian<int32_t>(&bytes[36]);
  if (!(g.dlat_deg > 0 && g.dlng_deg > 0 && g.rows > 0 && g.cols > 0 &&
        g.rows <= 100000 && g.cols <= 100000 && std::abs(g.lat0_deg) <= 90 &&
        std::abs(g.lng0_deg) <= 360)) {
    return absl::DataLossError(
        absl::StrCat("geoid grid ", path, ": implausible .gtx header"));
  }
  const size_t count = static_cast<size_t>(g.rows) * g.cols;
  if (bytes.size() < 40 + 4 * count) {
    return absl::DataLossError(
        absl::StrCat("geoid grid ", path, ": truncated (", bytes.size(),
                     " bytes for ", g.rows, " x ", g.cols, " values)"));
  }
  // A grid whose columns go round the globe wraps.
  g.wraps_longitude = std::abs(g.cols * g.dlng_deg - 360) < 1e-6;
  std::vector<float> heights(count);
  for (size_t i = 0; i < count; ++i) {
    heights[i] = BigEndian<float>(&bytes[40 + 4 * i]);
  }
  return HeightGrid(path, g, std::move(heights), -88.8888f);
}

}  // namespace utm::elevation
