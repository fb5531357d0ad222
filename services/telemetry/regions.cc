#include "services/telemetry/regions.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/s2_covering.h"
#include "geo/volume.h"

namespace utm::telemetry {
namespace {

// Far beyond any forwarding reach, and small enough that a covering at the
// region level stays a few hundred cells.
constexpr double kMaxReachM = 1e6;

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t FnvByte(uint64_t h, unsigned char byte) {
  return (h ^ byte) * kFnvPrime;
}

// MurmurHash3's 64-bit finaliser: every input bit flips each output bit
// with probability close to 1/2.
uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// The name space of alert ids (RFC 4122 §4.3): a fixed random UUID, so that
// ids of utmd alerts never collide with version-5 UUIDs made for another
// purpose. Changing it changes every alert id.
constexpr std::array<unsigned char, 16> kAlertNamespace = {
    0x3b, 0x5e, 0x0c, 0x8e, 0x2f, 0x61, 0x4d, 0x27,
    0x9a, 0x13, 0x7c, 0x45, 0xd0, 0x8b, 0x6e, 0x91};

}  // namespace

double RegionReachM(double max_speed_mps, const Separation& separation) {
  return 2 * max_speed_mps * separation.lookahead_s + separation.horizontal_m;
}

uint64_t RegionOf(const geo::LatLng& p) {
  return geo::CellIdAt(p, kRegionLevel);
}

std::vector<uint64_t> RegionsWithin(const geo::LatLng& p, double reach_m) {
  // !(x > 0) also catches NaN.
  if (!(reach_m > 0)) reach_m = 0;
  reach_m = std::min(reach_m, kMaxReachM);
  const uint64_t own = RegionOf(p);
  // Most reports lie well inside their region (about 5 in 6 at the default
  // reach): no covering needed.
  if (geo::CellContainsDisc(p, reach_m, kRegionLevel)) return {own};
  // CoverFootprint grows the cap by its 50 m margin and converts distances
  // with the smallest radius of curvature, so it errs outwards.
  std::vector<uint64_t> cells =
      geo::CoverFootprint(geo::Circle{p, reach_m}, kRegionLevel);
  std::vector<uint64_t> regions;
  regions.reserve(cells.size() + 1);
  regions.push_back(own);
  for (uint64_t c : cells) {
    if (c != own) regions.push_back(c);
  }
  return regions;
}

uint64_t RegionWeight(absl::string_view member, uint64_t region) {
  uint64_t h = kFnvOffset;
  for (char c : member) h = FnvByte(h, static_cast<unsigned char>(c));
  for (int i = 0; i < 8; ++i) {
    h = FnvByte(h, static_cast<unsigned char>(region >> (8 * i)));
  }
  return Fmix64(h);
}

std::string OwnerOf(uint64_t region, const std::vector<std::string>& members) {
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (const std::string& m : members) {
    const uint64_t w = RegionWeight(m, region);
    if (best == nullptr || w > best_weight ||
        (w == best_weight && m < *best)) {
      best = &m;
      best_weight = w;
    }
  }
  return best == nullptr ? std::string() : *best;
}

uint64_t AlertingRegion(absl::string_view aircraft_a, uint64_t region_a,
                        absl::string_view aircraft_b, uint64_t region_b) {
  // Equal ids (an aircraft against itself never alerts) fall back to the
  // smaller region, which keeps the function symmetric.
  if (aircraft_a == aircraft_b) return std::min(region_a, region_b);
  return aircraft_a < aircraft_b ? region_a : region_b;
}

std::string AlertIdFor(absl::string_view aircraft_a,
                       absl::string_view aircraft_b,
                       int64_t episode_start_unix_ms) {
  if (aircraft_b < aircraft_a) std::swap(aircraft_a, aircraft_b);
  // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
  const std::string name =
      absl::StrCat(aircraft_a.size(), ":", aircraft_a, ",", aircraft_b.size(),
                   ":", aircraft_b, ",", episode_start_unix_ms);
  std::string input(kAlertNamespace.begin(), kAlertNamespace.end());
  input += name;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
       digest);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // v5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    absl::StrAppendFormat(&hex, "%02x", digest[i]);
    if (i == 3 || i == 5 || i == 7 || i == 9) hex += '-';
  }
  return hex;
}

}  // namespace utm::telemetry
