// The tactical tier of one utmd process: tactical deconfliction (positions
// in, alerts out), the Remote ID display and operators' fleets, their
// tickers and, on Redis, their clusters (the telemetry tier's regions and
// the display shared by every replica). What main.cc wires after the
// strategic cores, which the tier checks positions against.
//
// Lifetime: built after the intent, constraint and registry cores, which
// outlive it (and the store, which outlives it too). EndStreams() before the
// server shuts down, StopClusters() after; the destructor cuts the registry's
// link to telemetry first, so that a revocation or lapse told on the follower's
// thread never reaches a service that is going, and the intent core's link to
// the flight logs, whose flights in progress it then writes and ends.
#ifndef UTM_SERVICES_UTMD_TACTICAL_TIER_H_
#define UTM_SERVICES_UTMD_TACTICAL_TIER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/audit/audit_event.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/redis/redis_client.h"
#include "services/common/store.h"
#include "services/constraint/constraint_core.h"
#include "services/intent/intent_core.h"
#include "services/operator/data_policy.h"
#include "services/operator/flight_log_store_redis.h"
#include "services/operator/operator_service.h"
#include "services/registry/registry_core.h"
#include "services/remoteid/remoteid_core.h"
#include "services/remoteid/remoteid_service.h"
#include "services/telemetry/telemetry_service.h"
#include "services/utmd/flags.h"

namespace utm::utmd {

struct TacticalOptions {
  // Not owned; outlive the tier.
  const Clock* clock = nullptr;
  const auth::Verifier* verifier = nullptr;
  intent::IntentCore* intents = nullptr;
  constraint::ConstraintCore* constraints = nullptr;
  registry::RegistryCore* registry = nullptr;
  // Where disclosures to law enforcement are recorded.
  audit::AuditSink audit;
  // Operators' data settings, for OperatorService's Get/SetDataSettings and
  // whatever records flights (null: none kept).
  fleet::OperatorSettings* settings = nullptr;
  // Where registration is required: positions are checked against the
  // registry, and revocations and lapses in flight alert.
  bool registration_required = false;
  // The Remote ID display's options (checked by Start).
  remoteid::RemoteIdOptions remote_id;
  // What this process serves; on Redis (`redis` set) the tier's clusters
  // join under `member_id`.
  ServiceSet services;
  std::optional<redis::ClientOptions> redis;
  std::string member_id;
  // Operators' flight logs (services/operator/flight_log.h) are kept in this
  // store where the operator service runs: the embedded store. Null (with
  // --store memory, or redis without `flight_log_redis`): no flight logs,
  // and their calls say UNIMPLEMENTED. Not owned; outlives the tier.
  store::Store* flight_log_store = nullptr;
  // On Redis instead (services/operator/flight_log_store_redis.h): every
  // replica records the flights whose reports reach it, whatever it serves,
  // and those serving the operator service list and read every replica's.
  std::optional<fleet::RedisFlightLogOptions> flight_log_redis;
  // What each operator has chosen to be kept. Null: the defaults for
  // everyone (fleet::UniformDataPolicies). Not owned; outlives the tier.
  const fleet::DataPolicies* data_policies = nullptr;
  // Data residency: position streams check the caller's home region and
  // each report's position (telemetry_service.h); so do the Remote ID
  // inputs, receptions and published flights (remoteid_service.h; it
  // replaces remote_id.region). Null: no region. Not owned; outlives the
  // tier.
  const region::RegionPolicy* region = nullptr;
  // Further observers (the live map, services/utmd/http_wiring.h): every
  // report the telemetry service accepts, every batch of alert changes it
  // routes, every intent state change. Thread-safe and fast, as
  // TelemetryService's and IntentCore's observers must be. DEFAULT: none.
  telemetry::TelemetryService::ReportObserver also_on_report;
  telemetry::TelemetryService::AlertObserver also_on_alerts;
  intent::IntentCore::StateObserver also_on_intent;
};

class TacticalTier {
 public:
  // INVALID_ARGUMENT for bad Remote ID options. A cluster that cannot reach
  // Redis yet is not an error: it keeps trying (said on stderr).
  static absl::StatusOr<std::unique_ptr<TacticalTier>> Start(
      TacticalOptions options);
  ~TacticalTier();

  // The gRPC services, to serve (not owned by the caller).
  telemetry::TelemetryService* telemetry();
  remoteid::RemoteIdService* remote_id();
  fleet::OperatorService* fleet();
  // The Remote ID display: every aircraft streaming to the deployment.
  const remoteid::RemoteIdCore* display() const;
  // Operators' flight logs; null where none are kept.
  fleet::FlightLogs* flight_logs();

  // Ends every stream (clients reconnect elsewhere). Before Shutdown.
  void EndStreams();
  // Leaves the clusters (the other replicas take this one's regions over).
  // After Shutdown.
  void StopClusters();

 private:
  struct State;
  explicit TacticalTier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_TACTICAL_TIER_H_
