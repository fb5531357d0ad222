// A flight's track as reported, compactly: the encoding of flight logs'
// track chunks. Pure (no I/O).
//
// A chunk is a varint count N (1..kMaxChunkPoints) and N points. The first
// point holds every field absolutely; each later point starts with a mask
// byte saying which fields changed, then the changes as zigzag varints of
// the difference to the previous point:
//
//   bit 0  time            milliseconds           (always set: times increase)
//   bit 1  lat, lng        1e-7 degree (1.1 cm)   (two varints)
//   bit 2  altitude        centimetre, WGS84 ellipsoid
//   bit 3  velocity        cm/s north, east, up   (three varints)
//   bit 4  accuracy        decimetre horizontal, vertical (two varints)
//   bits 5-7               zero
//
// A point flown at 1 Hz at constant velocity and accuracy takes 7 or 8
// bytes (mask, time, lat, lng, altitude); every field at once at most 20
// (track_codec_test). Quantisation is the only loss: 1.1 cm,
// 1 cm, 1 cm/s, 1 dm, 1 ms — finer than any report's stated accuracy.
//
// Decoding is strict — one encoding per track: every value is range-checked,
// a varint longer than its value or a mask bit for a field that did not
// change is refused — and a malformed chunk is
// INVALID_ARGUMENT naming the point and byte (`point 3, byte 17: latitude
// 91.0000000 is outside [-90, 90]`), never a crash or an unbounded
// allocation.
#ifndef UTM_SERVICES_OPERATOR_TRACK_CODEC_H_
#define UTM_SERVICES_OPERATOR_TRACK_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace utm::fleet {

// Points in one chunk at most: an hour at 10 Hz.
inline constexpr int kMaxChunkPoints = 36000;

// One reported position, as a flight log keeps it.
struct TrackPoint {
  absl::Time time;
  double lat_deg = 0;
  double lng_deg = 0;
  double altitude_m = 0;  // above the WGS84 ellipsoid
  double north_mps = 0, east_mps = 0, up_mps = 0;
  double horizontal_accuracy_m = 0, vertical_accuracy_m = 0;  // 0 unknown
};

// The encoding of `points`. REQUIRES: 1..kMaxChunkPoints points, times
// strictly increasing (after rounding to milliseconds), every field within
// the ranges DecodeTrack checks.
std::string EncodeTrack(const std::vector<TrackPoint>& points);

// The points of a chunk, as quantised.
absl::StatusOr<std::vector<TrackPoint>> DecodeTrack(absl::string_view chunk);

// Whether `p` can be encoded (ranges DecodeTrack checks), as
// INVALID_ARGUMENT naming the field.
absl::Status CheckTrackPoint(const TrackPoint& p);

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_TRACK_CODEC_H_
