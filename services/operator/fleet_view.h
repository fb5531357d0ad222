// An operator's fleet, live, without gRPC: every aircraft of the operator
// that reported in the last 60 s, with its latest state and track, its
// intent's state and the open alerts about it (OperatorService.WatchFleet).
//
// Positions come from the Remote ID display (RemoteIdCore), which holds
// every aircraft streaming to the deployment — on Redis, those that stream
// to other replicas too (services/remoteid/display_cluster.h) — so an
// operator sees its whole fleet whichever replica it watches. Intent states
// come from the intent model every replica keeps; alerts from the telemetry
// tier's open alerts (on Redis, every replica's).
//
// Nothing here is stored: the picture is as live as its sources.
//
// Thread-safe (the sources are).
//
// Typical usage:
//   FleetView fleet(sources);
//   std::shared_ptr<const FleetView::Alerts> alerts = fleet.IndexAlerts();
//   v1::FleetUpdate update;
//   fleet.Fill("alice", *alerts, clock->Now(), &update);
#ifndef UTM_SERVICES_OPERATOR_FLEET_VIEW_H_
#define UTM_SERVICES_OPERATOR_FLEET_VIEW_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "services/remoteid/remoteid_core.h"
#include "services/telemetry/telemetry_core.h"
#include "utm/v1/operator.pb.h"

namespace utm::fleet {

// Aircraft in one update at most (FleetUpdate.truncated beyond).
inline constexpr size_t kMaxFleetAircraft = 10000;

struct FleetSources {
  // The live picture. Not owned; must outlive the view.
  const remoteid::RemoteIdCore* display = nullptr;
  // The state of `operator_id`'s intent `intent_id`; UNSPECIFIED when it is
  // not that operator's or not known. Thread-safe, quick.
  std::function<v1::IntentState(const std::string& operator_id,
                                const std::string& intent_id)>
      intent_state;
  // Every open alert (telemetry's, the deployment's on Redis).
  std::function<std::vector<telemetry::AlertChange>()> open_alerts;
};

class FleetView {
 public:
  explicit FleetView(FleetSources sources) : sources_(std::move(sources)) {}

  // Open alerts by the (operator, aircraft id) they are about.
  using Alerts = absl::flat_hash_map<std::pair<std::string, std::string>,
                                     std::vector<v1::Alert>>;
  // Takes the open alerts once, for every stream of one tick.
  std::shared_ptr<const Alerts> IndexAlerts() const;

  // `operator_id`'s fleet at `now` into `out` (its server time, aircraft
  // and truncated flag; the caller sets the sequence).
  void Fill(const std::string& operator_id, const Alerts& alerts,
            absl::Time now, v1::FleetUpdate* out) const;

 private:
  const FleetSources sources_;
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_FLEET_VIEW_H_
