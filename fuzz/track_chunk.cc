// Fuzz target: flight logs' track chunks (services/operator/track_codec.h) on
// arbitrary bytes. Decoding must stay in bounds and either refuse the chunk
// or return points that encode back to exactly the same bytes (one encoding
// per track).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "services/operator/track_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<utm::fleet::TrackPoint>> points =
      utm::fleet::DecodeTrack(bytes);
  if (!points.ok()) {
    if (points.status().message().empty()) std::abort();
    return 0;
  }
  if (points->empty() || points->size() > bytes.size()) std::abort();
  if (utm::fleet::EncodeTrack(*points) != bytes) std::abort();
  return 0;
}
