// Fuzz target: one captured frame through the broadcast Remote ID capture
// reader (services/remoteid/broadcast/capture.h, ExtractFrame), then the
// decoder on every payload it finds. The first byte picks the link type
// (0 radiotap, 1 plain 802.11, 2 Bluetooth LE LL, 3 LE LL with PHDR, 4 nRF
// Sniffer); the rest is the frame. Whatever the bytes: no read outside the
// frame, a transmitter in "aa:bb:cc:dd:ee:ff" form, a payload no longer than
// the frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/remoteid/broadcast/capture.h"
#include "services/remoteid/broadcast/odid.h"

namespace rid = utm::remoteid::broadcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  constexpr int kLinkTypes[5] = {127, 105, 251, 256, 272};
  const int link_type = kLinkTypes[data[0] % 5];
  const absl::string_view frame(reinterpret_cast<const char*>(data + 1),
                                size - 1);
  rid::CapturedFrame prototype;
  prototype.frame_number = 1;
  absl::StatusOr<std::vector<rid::CapturedFrame>> found =
      rid::ExtractFrame(link_type, frame, prototype);
  if (!found.ok()) {
    if (found.status().code() != absl::StatusCode::kInvalidArgument) {
      std::abort();
    }
    return 0;
  }
  for (const rid::CapturedFrame& f : *found) {
    if (f.transmitter.size() != 17 || f.payload.size() > frame.size() ||
        f.frame_number != 1) {
      std::abort();
    }
    (void)rid::DecodeMessages(f.payload);
  }
  return 0;
}
