#include "services/utmd/tactical_tier.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "geo/status_macros.h"
#include "services/common/log/log.h"
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

  // Intent state changes reach the flight logs from the intent core's
  // threads: the link is cut, under its lock, before the logs go.
  struct FlightLogLink {
    absl::Mutex mu;
    fleet::FlightLogs* logs ABSL_GUARDED_BY(mu) = nullptr;
  };

  TacticalOptions options;
  std::shared_ptr<RevocationLink> revocations =
      std::make_shared<RevocationLink>();
  std::shared_ptr<FlightLogLink> flight_log_link =
      std::make_shared<FlightLogLink>();
  // Before the telemetry tier, whose threads record into them: they go
  // after it.
  fleet::UniformDataPolicies default_policies;
  std::unique_ptr<fleet::FlightLogStore> flight_store;
  std::unique_ptr<fleet::FlightLogs> flight_logs;
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
  std::unique_ptr<PeriodicThread> flight_log_ticker;
};

absl::StatusOr<std::unique_ptr<TacticalTier>> TacticalTier::Start(
    TacticalOptions options) {
  UTM_RETURN_IF_ERROR(remoteid::RemoteIdCore::CheckOptions(options.remote_id));
  auto s = std::make_unique<State>();
  s->options = std::move(options);
  const TacticalOptions& o = s->options;

  // Operators' flight logs: in the embedded store, where the operator
  // service runs; on Redis, on every replica (the one an aircraft's reports
  // reach records its flight).
  if ((o.flight_log_store != nullptr && o.services.operator_data) ||
      o.flight_log_redis) {
    fleet::FlightLogOptions flight_log_options;
    if (o.region != nullptr) flight_log_options.region = o.region->code();
    if (o.flight_log_redis) {
      s->flight_store =
          std::make_unique<fleet::RedisFlightLogStore>(*o.flight_log_redis);
      flight_log_options.intents_start_flights = false;
      flight_log_options.intent_lookup =
          [intents = o.intents](
              const std::string& op,
              const std::string& id) -> std::optional<v1::FlightIntent> {
        absl::StatusOr<intent::IntentView> v = intents->Get(op, id);
        if (!v.ok() || !v->owned_by_caller) return std::nullopt;
        v1::FlightIntent proto;
        intent::IntentToProto(v->intent, &proto);
        return proto;
      };
    } else {
      absl::StatusOr<std::unique_ptr<fleet::FlightLogStore>> flight_store =
          fleet::OpenFlightLogStore(o.flight_log_store);
      if (!flight_store.ok()) return flight_store.status();
      s->flight_store = *std::move(flight_store);
    }
    // An intent filed without retention: nothing of its flight is kept.
    flight_log_options.intent_retained = [intents = o.intents](
                                             const std::string& op,
                                             const std::string& id) {
      absl::StatusOr<intent::IntentView> v = intents->Get(op, id);
      return !v.ok() || !v->owned_by_caller || v->intent.retained;
    };
    s->flight_logs = std::make_unique<fleet::FlightLogs>(
        std::move(flight_log_options), o.clock,
        o.data_policies != nullptr ? o.data_policies : &s->default_policies,
        s->flight_store.get());
    {
      absl::MutexLock lock(&s->flight_log_link->mu);
      s->flight_log_link->logs = s->flight_logs.get();
    }
    o.intents->SetStateObserver(
        [link = s->flight_log_link,
         also = o.also_on_intent](const intent::Intent& intent) {
          if (also) also(intent);
          v1::FlightIntent proto;
          intent::IntentToProto(intent, &proto);
          absl::MutexLock lock(&link->mu);
          if (link->logs != nullptr) link->logs->OnIntent(proto);
        });
  } else if (o.also_on_intent) {
    o.intents->SetStateObserver(o.also_on_intent);
  }

  // Tactical deconfliction: positions in, alerts out; lost links checked
  // every second.
  s->airspace =
      std::make_unique<telemetry::LiveAirspace>(o.intents, o.constraints);
  s->telemetry_core = std::make_unique<telemetry::TelemetryCore>(
      telemetry::TelemetryOptions(), o.clock, s->airspace.get());
  s->telemetry_service = std::make_unique<telemetry::TelemetryService>(
      s->telemetry_core.get(), o.verifier, o.clock);
  s->telemetry_service->SetRegionPolicy(o.region);
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
      UTM_LOG(kWarning) << "telemetry cluster: " << st;
    }
  }
  s->telemetry_ticker = std::make_unique<telemetry::TelemetryTicker>(
      s->telemetry_service.get(), absl::Seconds(1));

  // Remote ID: the display of the aircraft reporting here, of the flights
  // providers publish and of what receivers hear; identities only to law
  // enforcement with a case reference, audited first.
  // Data residency: published states and heard positions outside the
  // region are refused, and so are callers of another home region.
  remoteid::RemoteIdOptions rid_options = o.remote_id;
  rid_options.region = o.region;
  s->rid_core = std::make_unique<remoteid::RemoteIdCore>(rid_options, o.clock);
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
      UTM_LOG(kWarning) << "Remote ID display cluster: " << st;
    }
  }
  s->telemetry_service->SetReportObserver(
      [rid = s->rid_core.get(), logs = s->flight_logs.get(),
       also = o.also_on_report](const std::string& operator_id,
                                const v1::PositionReport& report) {
        rid->AddNetworkReport(operator_id, report);
        if (logs != nullptr) logs->OnReport(operator_id, report);
        if (also) also(operator_id, report);
      });
  if (s->flight_logs != nullptr || o.also_on_alerts) {
    s->telemetry_service->SetAlertObserver(
        [logs = s->flight_logs.get(), also = o.also_on_alerts](
            const std::vector<telemetry::AlertChange>& changes) {
          if (logs != nullptr) {
            for (const telemetry::AlertChange& c : changes) {
              logs->OnAlert(c.alert, c.aircraft);
            }
          }
          if (also) also(changes);
        });
  }
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
  if (s->flight_logs != nullptr) {
    s->operator_service->SetFlightLogs(s->flight_logs.get());
    s->flight_log_ticker = std::make_unique<PeriodicThread>(
        absl::Seconds(1), [logs = s->flight_logs.get()] { logs->Tick(); });
  }
  return std::unique_ptr<TacticalTier>(new TacticalTier(std::move(s)));
}

TacticalTier::TacticalTier(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

TacticalTier::~TacticalTier() {
  {
    absl::MutexLock lock(&state_->revocations->mu);
    state_->revocations->service = nullptr;
  }
  {
    absl::MutexLock lock(&state_->flight_log_link->mu);
    state_->flight_log_link->logs = nullptr;
  }
  // Flights in progress end with the process: written now.
  state_->flight_log_ticker.reset();
  if (state_->flight_logs != nullptr) state_->flight_logs->CloseAll();
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
const remoteid::RemoteIdCore* TacticalTier::display() const {
  return state_->rid_core.get();
}
fleet::FlightLogs* TacticalTier::flight_logs() {
  return state_->flight_logs.get();
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
