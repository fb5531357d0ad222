// utmd's live map (--http): its flags, the MapFeed fed by the cores'
// observers, and the HTTP server (services/map/). What main.cc wires in one
// place, so that main.cc only declares it, hooks it into the tactical tier
// and starts it.
//
// Lifetime: declare before the tactical tier (whose observers feed it) and
// after the constraint core; Shutdown() with the other streams on a stop.
// The observers it hands out do nothing once it is destroyed.
//
// Typical usage (main.cc):
//   utm::utmd::MapFlags map_flags;
//   utm::utmd::AddMapFlags(&app, &map_flags);
//   ... parse ...
//   utm::utmd::MapWiring map(map_flags, clock, &constraint_core,
//                            &intent_core);
//   map.Hook(&tactical_options);
//   ... TacticalTier::Start ...
//   if (services->remoteid) map.ShowRemoteId((*tactical)->display());
//   if (absl::Status s = map.Start(verifier, tls_cert, tls_key); !s.ok()) ...
//   ... on SIGTERM: map.Shutdown();
#ifndef UTM_SERVICES_UTMD_HTTP_WIRING_H_
#define UTM_SERVICES_UTMD_HTTP_WIRING_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/periodic.h"
#include "services/constraint/constraint_core.h"
#include "services/intent/intent_core.h"
#include "services/map/map_feed.h"
#include "services/map/map_http.h"
#include "services/remoteid/remoteid_core.h"
#include "services/utmd/tactical_tier.h"

namespace utm::utmd {

struct MapFlags {
  std::string listen;  // --http; empty: no map
  std::string tile_url;
  std::string tile_attribution;
  int max_viewers = 32;
};

// Registers --http, --http-tile-url, --http-tile-attribution and
// --http-max-viewers.
void AddMapFlags(CLI::App* app, MapFlags* flags);

class MapWiring {
 public:
  // Not owned; outlive this. Does nothing without flags.listen. Sets
  // `intents`' filing observer (so call before serving): filed and modified
  // intents reach the map as they are accepted.
  MapWiring(const MapFlags& flags, const Clock* clock,
            constraint::ConstraintCore* constraints,
            intent::IntentCore* intents);
  ~MapWiring();

  bool enabled() const { return !flags_.listen.empty(); }
  // Sets the tactical tier's extra observers to feed the map.
  void Hook(TacticalOptions* options);
  // Gives the map its Remote ID layer: what `display` (the public Remote
  // ID display) shows of each utm.rid_display viewer's area, refreshed once
  // a second. Call before Start, only when utmd serves the Remote ID
  // service; without it the page has no Remote ID layer. Not owned; must
  // stay until Shutdown().
  void ShowRemoteId(const remoteid::RemoteIdCore* display);
  // Starts the HTTP server and prints where the map is (or why the page is
  // missing) on stderr. TLS files: those of the gRPC port, or empty.
  absl::Status Start(const auth::Verifier* verifier,
                     const std::string& tls_cert_file,
                     const std::string& tls_key_file);
  // Ends every event stream and stops the server. Idempotent.
  void Shutdown();

 private:
  struct Link;

  const MapFlags flags_;
  const Clock* const clock_;
  std::unique_ptr<map::MapFeed> feed_;
  std::shared_ptr<Link> link_;  // what the observers reach
  std::unique_ptr<PeriodicThread> ticker_;
  std::unique_ptr<map::MapHttpServer> server_;
};

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_HTTP_WIRING_H_
