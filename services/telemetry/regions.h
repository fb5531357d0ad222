// Regions and their owners: how replicas of the telemetry tier share the
// live picture without a shared store.
//
// The Earth is cut into regions, the S2 cells of level kRegionLevel (about
// 73 km on a side on average). Each region is owned by one live replica,
// chosen by rendezvous (highest-random-weight) hashing over the member set:
// every replica that knows the same members computes the same owner, and a
// member joining or leaving moves only the regions it gains or loses (about
// 1/N of them), never one between two other members.
//
// A replica that receives a position report forwards it to the owner of the
// report's region and of every region within reach of it (RegionsWithin).
// Two aircraft that can come into conflict within the look-ahead are within
// reach of each other, so the owner of each one's region sees both: a pair
// across two regions is evaluated by both owners, and alerted by one only
// (AlertingRegion). Alert ids are derived from the pair and the start of the
// episode (AlertIdFor), so a region changing owner mid-episode gives the same
// id twice (a duplicate a client drops), never a gap.
//
// Typical usage:
//   for (uint64_t region : RegionsWithin(report.position, reach_m)) {
//     Forward(OwnerOf(region, live_members), report);
//   }
//   // On the owner, for a conflict between a and b:
//   if (OwnerOf(AlertingRegion(a, RegionOf(pa), b, RegionOf(pb)), members)
//       == self) {
//     Alert(AlertIdFor(a, b, episode_start_ms), ...);
//   }
//
// The hash and the id scheme are part of the wire behaviour between
// replicas: every replica of a deployment must compute them alike, so they
// are fixed functions (no per-process seed) and tested against golden
// values.
//
// Thread-safe: pure functions.
#ifndef UTM_SERVICES_TELEMETRY_REGIONS_H_
#define UTM_SERVICES_TELEMETRY_REGIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "geo/latlng.h"
#include "services/telemetry/detector.h"

namespace utm::telemetry {

// S2 level of a region: cells of 47-85 km on a side, 73 km on average.
inline constexpr int kRegionLevel = 7;

// How far a report is forwarded, metres: 2·v_max·T + D, the farthest apart
// two aircraft at most v_max fast can be now and still come closer than D
// horizontally within the look-ahead T. With TelemetryOptions' speed limit
// (50 m/s) and the default Separation (T = 30 s, D = 50 m): 3,050 m.
// REQUIRES: max_speed_mps >= 0.
double RegionReachM(double max_speed_mps, const Separation& separation);

// The region containing p. REQUIRES: a validated position.
uint64_t RegionOf(const geo::LatLng& p);

// Every region whose cell comes within `reach_m` (geodesic) of p: p's own
// region first, then the others in ascending id order. Conservative: it may
// add a region up to 50 m (geo::kCoveringMarginM) beyond the reach, never
// miss one within it. A negative or NaN reach is taken as 0; reach is capped
// at 1,000 km. REQUIRES: a validated position.
std::vector<uint64_t> RegionsWithin(const geo::LatLng& p, double reach_m);

// The rendezvous weight of `member` for `region`: 64-bit FNV-1a over the
// member's bytes and then the region id's 8 bytes (little-endian), finished
// with MurmurHash3's fmix64 so that similar names ("utmd-0", "utmd-1")
// spread. Fixed across processes, builds and platforms.
uint64_t RegionWeight(absl::string_view member, uint64_t region);

// The owner of `region`: the member of highest RegionWeight (ties, which
// need equal names in practice, go to the smaller name). "" when `members`
// is empty. Members are compared as given; duplicates change nothing.
std::string OwnerOf(uint64_t region, const std::vector<std::string>& members);

// The region whose owner alerts a pair of aircraft: the region of the
// aircraft with the smaller id (bytewise), so every replica that sees the
// pair with the same positions answers alike. Symmetric in (a, region_a) and
// (b, region_b).
uint64_t AlertingRegion(absl::string_view aircraft_a, uint64_t region_a,
                        absl::string_view aircraft_b, uint64_t region_b);

// A deterministic alert id for the pair's conflict episode starting at
// `episode_start_unix_ms`: an RFC 4122 version-5 (SHA-1, name-based) UUID,
// lower-case, of the ordered pair and the start, so AlertIdFor(a, b, t) ==
// AlertIdFor(b, a, t) on every replica. Ids are length-prefixed in the name,
// so no two pairs share one.
std::string AlertIdFor(absl::string_view aircraft_a,
                       absl::string_view aircraft_b,
                       int64_t episode_start_unix_ms);

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_REGIONS_H_
