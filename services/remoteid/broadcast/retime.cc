#include "services/remoteid/broadcast/retime.h"

#include <cstdint>
#include <vector>

#include "services/remoteid/broadcast/assembler.h"
#include "services/remoteid/broadcast/odid.h"

namespace utm::remoteid::broadcast {
namespace {

// Location/Vector message: bytes 21..22 are the time stamp, little-endian
// tenths of a second since the UTC hour (0xFFFF unknown).
constexpr size_t kTimestampOffset = 21;

void Retime(std::string* payload, size_t at, absl::Time recorded,
            absl::Time replayed) {
  auto* m = reinterpret_cast<uint8_t*>(payload->data() + at);
  if ((m[0] >> 4) != static_cast<int>(MessageType::kLocation)) return;
  const int tenths = m[kTimestampOffset] | (m[kTimestampOffset + 1] << 8);
  if (tenths == 0xFFFF) return;
  const absl::Time was = Assembler::ReconstructTime(
      absl::Milliseconds(100) * tenths, recorded, absl::Seconds(1));
  const absl::Time now = was + (replayed - recorded);
  const absl::Time hour = absl::FromUnixSeconds(
      absl::ToUnixSeconds(now) - absl::ToUnixSeconds(now) % 3600);
  const int64_t t = (now - hour) / absl::Milliseconds(100);
  m[kTimestampOffset] = static_cast<uint8_t>(t & 0xFF);
  m[kTimestampOffset + 1] = static_cast<uint8_t>((t >> 8) & 0xFF);
}

}  // namespace

absl::Status RetimeLocations(std::string* payload, absl::Time recorded,
                             absl::Time replayed) {
  // Checks the payload whole first.
  absl::StatusOr<std::vector<Message>> decoded = DecodeMessages(*payload);
  if (!decoded.ok()) return decoded.status();
  const auto* p = reinterpret_cast<const uint8_t*>(payload->data());
  if ((p[0] >> 4) == static_cast<int>(MessageType::kMessagePack)) {
    const int count = p[2];
    for (int i = 0; i < count; ++i) {
      Retime(payload, 3 + static_cast<size_t>(i) * kMessageSize, recorded,
             replayed);
    }
  } else {
    Retime(payload, 0, recorded, replayed);
  }
  return absl::OkStatus();
}

}  // namespace utm::remoteid::broadcast
