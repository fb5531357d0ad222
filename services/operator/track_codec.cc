#include "services/operator/track_codec.h"

#include <array>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

namespace utm::fleet {
namespace {

using google::protobuf::internal::WireFormatLite;

enum Bits : uint8_t {
  kTime = 1 << 0,
  kPosition = 1 << 1,
  kAltitude = 1 << 2,
  kVelocity = 1 << 3,
  kAccuracy = 1 << 4,
};
constexpr uint8_t kAllBits =
    kTime | kPosition | kAltitude | kVelocity | kAccuracy;

// The fields as quantised integers, in encoding order.
enum Field { kMs, kLat, kLng, kAlt, kNorth, kEast, kUp, kHAcc, kVAcc, kCount };
using Quantised = std::array<int64_t, kCount>;

// Per field: the scale (units per SI unit), the range and the name.
struct Spec {
  double scale;
  double min, max;
  const char* name;
};
constexpr std::array<Spec, kCount> kSpecs = {{
    {1e3, 0, 253402300799.999, "time"},  // Unix seconds to year 9999
    {1e7, -90, 90, "latitude"},
    {1e7, -180, 180, "longitude"},
    {1e2, -1000, 100000, "altitude"},
    {1e2, -500, 500, "north velocity"},
    {1e2, -500, 500, "east velocity"},
    {1e2, -500, 500, "up velocity"},
    {1e1, 0, 100000, "horizontal accuracy"},
    {1e1, 0, 100000, "vertical accuracy"},
}};

// The fields each mask bit covers.
constexpr std::array<std::pair<uint8_t, std::array<int, 3>>, 5> kGroups = {{
    {kTime, {kMs, -1, -1}},
    {kPosition, {kLat, kLng, -1}},
    {kAltitude, {kAlt, -1, -1}},
    {kVelocity, {kNorth, kEast, kUp}},
    {kAccuracy, {kHAcc, kVAcc, -1}},
}};

std::array<double, kCount> Values(const TrackPoint& p) {
  return {absl::ToDoubleSeconds(p.time - absl::UnixEpoch()),
          p.lat_deg,
          p.lng_deg,
          p.altitude_m,
          p.north_mps,
          p.east_mps,
          p.up_mps,
          p.horizontal_accuracy_m,
          p.vertical_accuracy_m};
}

Quantised Quantise(const TrackPoint& p) {
  const std::array<double, kCount> v = Values(p);
  Quantised q;
  for (int f = 0; f < kCount; ++f) {
    q[f] = std::llround(v[f] * kSpecs[f].scale);
  }
  return q;
}

TrackPoint FromQuantised(const Quantised& q) {
  TrackPoint p;
  p.time = absl::FromUnixMillis(q[kMs]);
  p.lat_deg = static_cast<double>(q[kLat]) / kSpecs[kLat].scale;
  p.lng_deg = static_cast<double>(q[kLng]) / kSpecs[kLng].scale;
  p.altitude_m = static_cast<double>(q[kAlt]) / kSpecs[kAlt].scale;
  p.north_mps = static_cast<double>(q[kNorth]) / kSpecs[kNorth].scale;
  p.east_mps = static_cast<double>(q[kEast]) / kSpecs[kEast].scale;
  p.up_mps = static_cast<double>(q[kUp]) / kSpecs[kUp].scale;
  p.horizontal_accuracy_m = static_cast<double>(q[kHAcc]) / kSpecs[kHAcc].scale;
  p.vertical_accuracy_m = static_cast<double>(q[kVAcc]) / kSpecs[kVAcc].scale;
  return p;
}

}  // namespace

absl::Status CheckTrackPoint(const TrackPoint& p) {
  const std::array<double, kCount> v = Values(p);
  for (int f = 0; f < kCount; ++f) {
    if (!(v[f] >= kSpecs[f].min && v[f] <= kSpecs[f].max)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s %.7f is outside [%g, %g]", kSpecs[f].name, v[f],
                          kSpecs[f].min, kSpecs[f].max));
    }
  }
  return absl::OkStatus();
}

std::string EncodeTrack(const std::vector<TrackPoint>& points) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteVarint32(static_cast<uint32_t>(points.size()));
    Quantised previous{};
    for (size_t i = 0; i < points.size(); ++i) {
      const Quantised q = Quantise(points[i]);
      uint8_t mask = kAllBits;
      if (i > 0) {
        mask = kTime;
        for (const auto& [bit, fields] : kGroups) {
          for (int f : fields) {
            if (f >= 0 && q[f] != previous[f]) mask |= bit;
          }
        }
        coded.WriteRaw(&mask, 1);
      }
      for (const auto& [bit, fields] : kGroups) {
        if ((mask & bit) == 0) continue;
        for (int f : fields) {
          if (f < 0) continue;
          const int64_t value = i == 0 ? q[f] : q[f] - previous[f];
          coded.WriteVarint64(WireFormatLite::ZigZagEncode64(value));
        }
      }
      previous = q;
    }
  }
  return out;
}

absl::StatusOr<std::vector<TrackPoint>> DecodeTrack(absl::string_view chunk) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(chunk.data()),
      static_cast<int>(chunk.size()));
  // The byte where the field in error starts (where reading stopped, for
  // a chunk cut short).
  int at = 0;
  auto fail = [&](int point, const std::string& what) {
    return absl::InvalidArgumentError(
        point < 0 ? absl::StrCat("byte ", at, ": ", what)
                  : absl::StrCat("point ", point, ", byte ", at, ": ", what));
  };
  uint32_t count = 0;
  if (!in.ReadVarint32(&count)) return fail(-1, "no point count");
  if (in.CurrentPosition() !=
      static_cast<int>(
          google::protobuf::io::CodedOutputStream::VarintSize32(count))) {
    return fail(-1, "point count: a varint longer than its value");
  }
  if (count == 0 || count > static_cast<uint32_t>(kMaxChunkPoints)) {
    return fail(-1, absl::StrCat("point count ", count, " is outside [1, ",
                                 kMaxChunkPoints, "]"));
  }
  // Each point takes at least two bytes: the count cannot promise more
  // points than the chunk can hold.
  if (count > chunk.size()) {
    return fail(-1, absl::StrCat("point count ", count, " exceeds what ",
                                 chunk.size(), " bytes can hold"));
  }
  std::vector<TrackPoint> points;
  points.reserve(count);
  Quantised q{};
  for (uint32_t i = 0; i < count; ++i) {
    const int point = static_cast<int>(i);
    uint8_t mask = kAllBits;
    if (i > 0) {
      at = in.CurrentPosition();
      if (!in.ReadRaw(&mask, 1)) return fail(point, "cut short (mask)");
      if ((mask & ~kAllBits) != 0 || (mask & kTime) == 0) {
        return fail(point,
                    absl::StrFormat("mask 0x%02x is not a valid mask", mask));
      }
    }
    const Quantised before = q;
    const int time_at = in.CurrentPosition();
    for (const auto& [bit, fields] : kGroups) {
      if ((mask & bit) == 0) continue;
      for (int f : fields) {
        if (f < 0) continue;
        uint64_t raw = 0;
        at = in.CurrentPosition();
        if (!in.ReadVarint64(&raw)) {
          return fail(point, absl::StrCat("cut short (", kSpecs[f].name, ")"));
        }
        if (in.CurrentPosition() - at !=
            static_cast<int>(
                google::protobuf::io::CodedOutputStream::VarintSize64(raw))) {
          return fail(point, absl::StrCat(kSpecs[f].name,
                                          ": a varint longer than its value"));
        }
        const int64_t value = WireFormatLite::ZigZagDecode64(raw);
        // Absolute values and differences both stay far inside int64 once
        // checked against the ranges: reject anything larger first.
        if (value > (int64_t{1} << 50) || value < -(int64_t{1} << 50)) {
          return fail(point, absl::StrCat(kSpecs[f].name, " ", value,
                                          " is out of range"));
        }
        q[f] = i == 0 ? value : before[f] + value;
        const double v = static_cast<double>(q[f]) / kSpecs[f].scale;
        if (v < kSpecs[f].min || v > kSpecs[f].max) {
          return fail(point, absl::StrFormat("%s %.7f is outside [%g, %g]",
                                             kSpecs[f].name, v, kSpecs[f].min,
                                             kSpecs[f].max));
        }
      }
    }
    // One encoding per track: a group marked changed must change.
    for (const auto& [bit, fields] : kGroups) {
      if (i == 0 || (mask & bit) == 0 || bit == kTime) continue;
      bool changed = false;
      for (int f : fields) changed |= f >= 0 && q[f] != before[f];
      if (!changed) {
        at = time_at;
        return fail(point,
                    absl::StrFormat(
                        "mask 0x%02x marks a field that did not change", mask));
      }
    }
    if (i > 0 && q[kMs] <= before[kMs]) {
      at = time_at;
      return fail(point, "time does not increase");
    }
    points.push_back(FromQuantised(q));
  }
  if (in.CurrentPosition() != static_cast<int>(chunk.size())) {
    at = in.CurrentPosition();
    return fail(-1, absl::StrCat(chunk.size() - in.CurrentPosition(),
                                 " bytes after the last point"));
  }
  return points;
}

}  // namespace utm::fleet
