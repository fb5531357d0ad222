#include "services/utmd/tactical_tier.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "geo/status_macros.h"
#include "services/common/periodic.h"
#include "services/intent/intent_codec.h"
#include "services/operator/fleet_view.h"
#include "services/remoteid/display_cluster.h"
#include "services/remoteid/intruder_feed.h"
#include "services/telemetry/cluster.h"
#include "services/telemetry/live_airspace.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::utmd {

struct TacticalTier::State {
  // Revocations and lapses reach the telemetry alerts (raised in the core,
  // sent to the streams and watchers by the service) from the registry's
  // threads: the link is cut, under its lock, before the service goes.
  struct RevocationLink {
    absl::Mutex mu;
    telemetry::TelemetryService* service ABSL_GUARDED_BY(mu) = nullptr;
  };

  TacticalOptions options;
  std::shared_ptr<RevocationLink> revocations =
      std::make_shared<RevocationLink>();
  std::unique_ptr<telemetry::LiveAirspace> airspace;
  std::unique_ptr<telemetry::TelemetryCore> telemetry_core;
  std::unique_ptr<telemetry::TelemetryService> telemetry_service;
  std::unique_ptr<PeriodicThread> lapse_ticker;
  std::unique_ptr<telemetry::TelemetryCluster> cluster;
  std::unique_ptr<telemetry::TelemetryTicker> telemetry_ticker;
  std::unique_ptr<remoteid::RemoteIdCore> rid_core;
  std::unique_ptr<remoteid::DisplayCluster> rid_cluster;
  std::unique_ptr<remoteid::RemoteIdService> rid_service;
  std::unique_ptr<remoteid::RemoteIdService::WatchTicker> rid_ticker;
  std::unique_ptr<fleet::FleetView> fleet_view;
  std::unique_ptr<fleet::OperatorService> operator_service;
  std::unique_ptr<PeriodicThread> operator_ticker;
};

absl::StatusOr<std::unique_ptr<TacticalTier>> TacticalTier::Start(
    TacticalOptions options) {
  UTM_RETURN_IF_ERROR(remoteid::RemoteIdCore::CheckOptions(options.remote_id));
  auto s = std::make_unique<State>();
  s->options = std::move(options);
  const TacticalOptions& o = s->options;

  // Tactical deconfliction: positions in, alerts out; lost links checked
  // every second.
  s->airspace =
      std::make_unique<telemetry::LiveAirspace>(o.intents, o.constraints);
  s->telemetry_core = std::make_unique<telemetry::TelemetryCore>(
      telemetry::TelemetryOptions(), o.clock, s->airspace.get());
  s->telemetry_service = std::make_unique<telemetry::TelemetryService>(
      s->telemetry_core.get(), o.verifier, o.clock);
  if (o.registration_required) {
    s->telemetry_core->SetRegistrationChecker(o.registry);
    {
      absl::MutexLock lock(&s->revocations->mu);
      s->revocations->service = s->telemetry_service.get();
    }
    o.registry->SetChangeObserver(
        [revocations = s->revocations](const v1::AircraftRegistration& r) {
          absl::MutexLock lock(&revocations->mu);
          if (revocations->service != nullptr) {
            revocations->service->OnRegistrationChanged(r);
          }
        });
    // A registration lapsing while its aircraft flies alerts like a
    // revocation: the registry tells of each lapse once.
    s->lapse_ticker = std::make_unique<PeriodicThread>(
        absl::Seconds(1),
        [registry = o.registry] { registry->NotifyLapsed(); });
  }
  // On Redis, the telemetry tier spans the replicas: each owns the regions
  // rendezvous hashing gives it over the live members, reports are
  // forwarded to their region's owner and its halo, and alert changes reach
  // every replica's streams (services/telemetry/cluster.h). Positions never
  // go to Redis storage, only through Pub/Sub.
  if (o.redis && o.services.telemetry) {
    telemetry::ClusterOptions co;
    co.redis = *o.redis;
    co.member_id = o.member_id;
    s->cluster = std::make_unique<telemetry::TelemetryCluster>(
        co, s->telemetry_core.get(), o.clock);
    s->telemetry_service->UseCluster(s->cluster.get());
    if (absl::Status st = s->cluster->Start(); !st.ok()) {
      // It keeps trying; until it joins, this replica checks the positions
      // reported to it only.
      std::cerr << "utmd: telemetry cluster: " << st << std::endl;
    }
  }
  s->telemetry_ticker = std::make_unique<telemetry::TelemetryTicker>(
      s->telemetry_service.get(), absl::Seconds(1));

  // Remote ID: the display of the aircraft reporting here, of the flights
  // providers publish and of what receivers hear; identities only to law
  // enforcement with a case reference, audited first.
  s->rid_core = std::make_unique<remoteid::RemoteIdCore>(o.remote_id, o.clock);
  // On Redis, every replica that takes Remote ID inputs or shows the
  // display (or operators' fleets, drawn from it) holds the whole picture:
  // what its clients bring goes to the others over Pub/Sub
  // (services/remoteid/display_cluster.h).
  if (o.redis && (o.services.telemetry || o.services.remoteid ||
                  o.services.operator_data)) {
    remoteid::DisplayClusterOptions dco;
    dco.redis = *o.redis;
    dco.member_id = o.member_id;
    s->rid_cluster =
        std::make_unique<remoteid::DisplayCluster>(dco, s->rid_core.get());
    if (absl::Status st = s->rid_cluster->Start(); !st.ok()) {
      // It keeps trying; until then this replica shows its own inputs.
      std::cerr << "utmd: Remote ID display cluster: " << st << std::endl;
    }
  }
  s->telemetry_service->SetReportObserver(
      [rid = s->rid_core.get()](const std::string& operator_id,
                                const v1::PositionReport& report) {
        rid->AddNetworkReport(operator_id, report);
      });
  remoteid::RemoteIdService::Options rid_service_options;
  // Details name the registered operator of a registered aircraft.
  rid_service_options.registrations =
      [registry = o.registry](const std::string& serial) {
        return registry->Find(serial);
      };
  s->rid_service = std::make_unique<remoteid::RemoteIdService>(
      s->rid_core.get(), o.verifier, o.clock, o.audit,
      // Aircraft heard but flying no intent here: intruders for tactical
      // deconfliction, so that participants are alerted to them.
      [telemetry = s->telemetry_service.get()](
          std::vector<remoteid::HeardState> heard) {
        // Refusals (a late copy heard by a second receiver, say) change
        // nothing: the intruder's latest state stands.
        telemetry->IngestIntruders(remoteid::ToIntruderReports(heard));
      },
      std::move(rid_service_options));
  s->rid_ticker = std::make_unique<remoteid::RemoteIdService::WatchTicker>(
      s->rid_service.get());

  // Operators' own data: their fleet, live. Positions come from the Remote
  // ID display, which on Redis holds every replica's aircraft.
  fleet::FleetSources sources;
  sources.display = s->rid_core.get();
  sources.intent_state = [intents = o.intents](const std::string& op,
                                               const std::string& id) {
    absl::StatusOr<intent::IntentView> v = intents->Get(op, id);
    return v.ok() && v->owned_by_caller ? intent::StateToProto(v->intent.state)
                                        : v1::INTENT_STATE_UNSPECIFIED;
  };
  sources.open_alerts = [telemetry = s->telemetry_service.get()] {
    return telemetry->OpenAlerts();
  };
  s->fleet_view = std::make_unique<fleet::FleetView>(std::move(sources));
  s->operator_service = std::make_unique<fleet::OperatorService>(
      s->fleet_view.get(), o.verifier, o.clock, o.settings);
  s->operator_ticker = std::make_unique<PeriodicThread>(
      absl::Milliseconds(100),
      [service = s->operator_service.get()] { service->Tick(); });
  return std::unique_ptr<TacticalTier>(new TacticalTier(std::move(s)));
}

TacticalTier::TacticalTier(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

TacticalTier::~TacticalTier() {
  {
    absl::MutexLock lock(&state_->revocations->mu);
    state_->revocations->service = nullptr;
  }
  // The members go in reverse order: tickers before what they tick,
  // clusters before their cores.
  state_.reset();
}

telemetry::TelemetryService* TacticalTier::telemetry() {
  return state_->telemetry_service.get();
}
remoteid::RemoteIdService* TacticalTier::remote_id() {
  return state_->rid_service.get();
}
fleet::OperatorService* TacticalTier::fleet() {
  return state_->operator_service.get();
}

void TacticalTier::EndStreams() {
  state_->telemetry_service->EndStreams();
  state_->rid_service->EndStreams();
  state_->operator_service->EndStreams();
}

void TacticalTier::StopClusters() {
  if (state_->cluster) state_->cluster->Stop();
  if (state_->rid_cluster) state_->rid_cluster->Stop();
}

}  // namespace utm::utmd
