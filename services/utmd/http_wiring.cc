#include "services/utmd/http_wiring.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/common/log/log.h"
#include "services/common/volume_convert.h"
#include "services/constraint/limits.h"
#include "services/intent/intent_codec.h"
#include "utm/v1/strategic.pb.h"

namespace utm::utmd {

// The feed as the observers see it: null once the wiring is going.
struct MapWiring::Link {
  absl::Mutex mu;
  map::MapFeed* feed ABSL_GUARDED_BY(mu) = nullptr;
};

namespace {

map::IntentInput ToInput(const intent::Intent& intent) {
  v1::FlightIntent proto;
  intent::IntentToProto(intent, &proto);
  return map::IntentInputOf(proto);
}

}  // namespace

void AddMapFlags(CLI::App* app, MapFlags* flags) {
  app->add_option("--http", flags->listen,
                  "host:port to serve the live airspace map on (HTTP, or "
                  "HTTPS with --tls-cert/--tls-key; port 0 picks a free "
                  "one); default: no map");
  app->add_option("--http-tile-url", flags->tile_url,
                  "Tile URL template for the map's basemap, e.g. "
                  "https://tiles.example/{z}/{x}/{y}.png; default: the "
                  "offline basemap built into utmd");
  app->add_option("--http-tile-attribution", flags->tile_attribution,
                  "Attribution the map shows for --http-tile-url's tiles");
  app->add_option("--http-max-viewers", flags->max_viewers,
                  "Map event streams served at once (each holds a thread)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
}

MapWiring::MapWiring(const MapFlags& flags, const Clock* clock,
                     constraint::ConstraintCore* constraints,
                     intent::IntentCore* intents)
    : flags_(flags), clock_(clock), link_(std::make_shared<Link>()) {
  if (!enabled()) return;
  map::MapFeedOptions options;
  options.max_clients = static_cast<size_t>(flags_.max_viewers);
  feed_ = std::make_unique<map::MapFeed>(options, clock, constraints);
  feed_->SetIntentQuery([intents](const map::MapArea& a) {
    std::vector<map::IntentInput> out;
    v1::Volume4D box;
    v1::Polygon* p = box.mutable_volume()->mutable_outline_polygon();
    for (const auto& [lat, lng] :
         {std::pair{a.min_lat, a.min_lng}, std::pair{a.min_lat, a.max_lng},
          std::pair{a.max_lat, a.max_lng}, std::pair{a.max_lat, a.min_lng}}) {
      v1::LatLng* v = p->add_vertices();
      v->set_lat_deg(lat);
      v->set_lng_deg(lng);
    }
    // The area was accepted by the constraint watch already (120 km).
    VolumeConvertOptions convert;
    convert.limits = constraint::ConstraintLimits();
    convert.open_bounds = true;
    absl::StatusOr<geo::Volume4D> area = VolumeFromProto(box, convert, "area");
    if (!area.ok()) return out;
    // With owners: the feed needs them to tell each viewer its own intents,
    // and sends another operator's owner to no one (map_feed.h).
    for (const intent::IntentView& view :
         intents->Query("", *area, /*reveal_owner=*/true)) {
      out.push_back(ToInput(view.intent));
    }
    return out;
  });
  // A filing is no state change: the tactical tier's state observer never
  // sees one, so new intents come from here.
  intents->SetFilingObserver([link = link_](const intent::Intent& intent) {
    map::IntentInput in = ToInput(intent);
    absl::MutexLock lock(&link->mu);
    if (link->feed != nullptr) link->feed->OnIntent(in);
  });
  absl::MutexLock lock(&link_->mu);
  link_->feed = feed_.get();
}

MapWiring::~MapWiring() {
  Shutdown();
  absl::MutexLock lock(&link_->mu);
  link_->feed = nullptr;
}

void MapWiring::Hook(TacticalOptions* options) {
  if (!enabled()) return;
  options->also_on_report = [link = link_](const std::string& op,
                                           const v1::PositionReport& report) {
    absl::MutexLock lock(&link->mu);
    if (link->feed != nullptr) link->feed->OnReport(op, report);
  };
  options->also_on_alerts =
      [link = link_](const std::vector<telemetry::AlertChange>& changes) {
        std::vector<map::AlertInput> in;
        in.reserve(changes.size());
        for (const telemetry::AlertChange& c : changes) {
          in.push_back({c.alert, c.aircraft});
        }
        absl::MutexLock lock(&link->mu);
        if (link->feed != nullptr) link->feed->OnAlerts(in);
      };
  options->also_on_intent = [link = link_](const intent::Intent& intent) {
    map::IntentInput in = ToInput(intent);
    absl::MutexLock lock(&link->mu);
    if (link->feed != nullptr) link->feed->OnIntent(in);
  };
}

void MapWiring::ShowRemoteId(const remoteid::RemoteIdCore* display) {
  if (!enabled() || display == nullptr) return;
  // Called by the feed's ticker only, which Shutdown() stops.
  feed_->SetRemoteIdSearch(
      [display](const v1::LatLngRect& view) { return display->Search(view); });
}

absl::Status MapWiring::Start(const auth::Verifier* verifier,
                              const std::string& tls_cert_file,
                              const std::string& tls_key_file) {
  if (!enabled()) return absl::OkStatus();
  map::MapHttpOptions options;
  options.listen = flags_.listen;
  options.tls_cert_file = tls_cert_file;
  options.tls_key_file = tls_key_file;
  options.tile_url = flags_.tile_url;
  options.tile_attribution = flags_.tile_attribution;
  options.max_streams = static_cast<size_t>(flags_.max_viewers);
  absl::StatusOr<std::unique_ptr<map::MapHttpServer>> server =
      map::MapHttpServer::Start(options, feed_.get(), verifier, clock_);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  ticker_ = std::make_unique<PeriodicThread>(
      absl::Seconds(1), [feed = feed_.get()] { feed->Tick(); });
  const std::string host = flags_.listen.substr(0, flags_.listen.rfind(':'));
  UTM_LOG(kInfo) << "map on " << (server_->tls() ? "https" : "http") << "://"
                 << host << ":" << server_->port() << "/"
                 << (server_->has_assets()
                         ? ""
                         : " (built without the page: npm ci in web/ and "
                           "rebuild; the event stream works)");
  return absl::OkStatus();
}

void MapWiring::Shutdown() {
  ticker_.reset();
  if (server_ != nullptr) server_->Shutdown();
}

}  // namespace utm::utmd
