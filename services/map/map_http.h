// The live map's thin HTTP adapter (cpp-httplib): serves the page's static
// files, signs viewers in with the API's JWTs, and pushes each viewer's
// MapFeed events as Server-Sent Events. All map rules live in MapFeed.
//
// Routes:
//   GET    /, /app.js, /app.css  the page (embedded assets; 503 with a
//                                plain explanation when utmd was built
//                                without them)
//   GET    /api/config           {"tile_url", "tile_attribution"}: empty
//                                tile_url means the offline basemap
//   POST   /api/session          body {"token": "<JWT>"}: verified, then
//                                kept in an HttpOnly, SameSite=Strict cookie
//                                (Secure with TLS) until the token expires
//   GET    /api/session          who is signed in: {subject, scopes,
//                                expires}, or 401
//   DELETE /api/session          signs out (clears the cookie)
//   GET    /api/events?bbox=min_lat,min_lng,max_lat,max_lng
//                                the SSE stream (text/event-stream); ends
//                                when the token expires or utmd stops
// Errors are JSON: {"code": "INVALID_ARGUMENT", "message": "bbox: ..."}
// with the matching HTTP status. Tokens are never logged or echoed.
//
// Bounds: request bodies of at most 16 KiB; at most
// MapFeedOptions::max_clients event streams (503 RESOURCE_EXHAUSTED past
// it), each on a worker thread of its own (the pool has that many plus a
// few for the rest); a browser that does not take its stream's writes
// within the write timeout is disconnected (EventSource reconnects and
// gets a new snapshot); the feed's own queue bound drops a slow browser
// back to a snapshot.
//
// Typical usage (services/utmd/http_wiring.cc):
//   auto server = MapHttpServer::Start(options, &feed, verifier, clock);
//   ... (*server)->port() ...
//   (*server)->Shutdown();   // before the feed goes
#ifndef UTM_SERVICES_MAP_MAP_HTTP_H_
#define UTM_SERVICES_MAP_MAP_HTTP_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/map/map_assets.h"
#include "services/map/map_feed.h"

namespace httplib {
class Server;
}

namespace utm::map {

struct MapHttpOptions {
  // host:port to listen on; port 0 picks a free one. REQUIRES: set.
  std::string listen;
  // PEM files: serve HTTPS (both or neither).
  std::string tls_cert_file;
  std::string tls_key_file;
  // A tile URL template ("https://tiles.example/{z}/{x}/{y}.png") for the
  // page's basemap; empty: the offline basemap. DEFAULT: empty.
  std::string tile_url;
  std::string tile_attribution;
  // Worker threads besides one per event stream. DEFAULT: 4.
  int spare_threads = 4;
  // A write to a browser that takes longer ends its stream. DEFAULT: 5 s.
  absl::Duration write_timeout = absl::Seconds(5);
  // How long an idle stream waits before a keep-alive comment. DEFAULT: 15 s.
  absl::Duration keepalive = absl::Seconds(15);
  // The static files; null: those embedded in the binary.
  const MapAsset* assets = nullptr;
  size_t asset_count = 0;
  // Event streams at once (the feed's own bound). DEFAULT: 32.
  size_t max_streams = 32;
};

class MapHttpServer {
 public:
  // Binds and starts serving on a thread of its own. INVALID_ARGUMENT for a
  // malformed listen address or unreadable TLS files, UNAVAILABLE when the
  // address cannot be bound. None of the pointers is owned; all outlive the
  // server.
  static absl::StatusOr<std::unique_ptr<MapHttpServer>> Start(
      MapHttpOptions options, MapFeed* feed, const auth::Verifier* verifier,
      const Clock* clock);
  ~MapHttpServer();  // Shutdown()

  int port() const { return port_; }
  bool has_assets() const { return asset_count_ > 0; }
  bool tls() const { return tls_; }
  // Ends every event stream and stops serving. Idempotent.
  void Shutdown();

 private:
  MapHttpServer() = default;
  void Routes();

  MapHttpOptions options_;
  MapFeed* feed_ = nullptr;
  const auth::Verifier* verifier_ = nullptr;
  const Clock* clock_ = nullptr;
  const MapAsset* assets_ = nullptr;
  size_t asset_count_ = 0;
  bool tls_ = false;
  int port_ = 0;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace utm::map

#endif  // UTM_SERVICES_MAP_MAP_HTTP_H_
