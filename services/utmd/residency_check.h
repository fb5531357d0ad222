// Data residency at start-up: whether a store may be served by this
// deployment. Every stored record of intents, constraints, registrations,
// operators' data settings and flight logs carries the region of the
// deployment that wrote it (StoredIntent.region, StoredConstraint.region,
// AircraftRegistration.region, StoredDataSettings.region,
// StoredFlight.region; empty when written without a region, or before
// records carried one). Before anything is recovered, utmd reads them all:
//
//   this deployment    record's region   outcome
//   --region R         R                 accepted
//   --region R         other region Q    refused
//   --region R         none              accepted only if its volumes lie
//                                        inside R's boundary, else refused
//                                        (a flight log: its intent's
//                                        volumes; registrations and
//                                        settings name no airspace: accepted)
//   no --region        none              accepted
//   no --region        a region Q        refused: data kept under Q's
//                                        residency must not be served
//                                        everywhere by mistake
//
// The check only reads: a refused store's records are left as they were.
//
// A Redis shared by replicas is marked with the region of the first
// deployment that serves it with --region (the key <prefix>region holds its
// code). A marked Redis is served only by its region's replicas: the others,
// and replicas without --region, are refused at start-up. An unmarked Redis
// has its records judged as above, then is marked.
//
// Typical usage (utmd, after opening the store, before Recover()):
//   if (absl::Status s = CheckStoredRegions(store.get(), policy, dir);
//       !s.ok()) { ... print s.message(), exit 1 ... }
#ifndef UTM_SERVICES_UTMD_RESIDENCY_CHECK_H_
#define UTM_SERVICES_UTMD_RESIDENCY_CHECK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/ledger/ledger.h"
#include "services/common/redis/redis_client.h"
#include "services/common/region.h"
#include "services/common/store.h"

namespace utm::utmd {

// OK when every record of `store`'s tables named above may
// be served by a deployment of `policy` (null: a deployment without a
// region), per the table above. Otherwise FAILED_PRECONDITION naming the
// store (`store_name`, e.g. its directory), the first refused record's table
// and key, and both regions, e.g. "store /var/lib/utmd/store holds intent
// 5f0c... of region EU-CH; this deployment serves region EU-DE: ...";
// DATA_LOSS for an intent, constraint or flight log that cannot be decoded
// (registrations and settings that cannot are skipped, as their models skip
// them); the store's own errors as they are. Reads only.
absl::Status CheckStoredRegions(store::Store* store,
                                const region::RegionPolicy* policy,
                                absl::string_view store_name);

// The same for the Redis that `client` reaches, holding `ledger`:
// OK when its marker (`marker_key`, e.g. "{utm}:region") names `policy`'s
// region, or it has none and every record of the ledger's tables named
// above may be served (then, with a `policy`, the marker is
// set to its region: SET NX, so of two regions racing to claim it one
// loses). FAILED_PRECONDITION naming `redis_name` (e.g. "Redis at
// 10.0.0.5:6379"), the marker's region and this deployment's (or the first
// refused record, as above); UNAVAILABLE when Redis cannot be reached.
// Writes nothing but the marker.
absl::Status CheckRedisRegion(const redis::ClientOptions& client,
                              const std::string& marker_key,
                              ledger::Ledger* ledger,
                              const region::RegionPolicy* policy,
                              absl::string_view redis_name);

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_RESIDENCY_CHECK_H_
