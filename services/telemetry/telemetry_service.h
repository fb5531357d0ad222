// The gRPC adapter of the telemetry service (utm.v1.TelemetryService):
// authenticates, feeds position batches to TelemetryCore and routes the
// alert changes it returns to the streams carrying the aircraft involved
// (or, when none does any more, to their operators' other streams) and to
// the area watchers. All rules live in the core.
//
// Scopes: StreamPositions needs utm.strategic_coordination (the token's
// subject is the operator; its aircraft are "<subject>/<aircraft_id>").
// WatchAlerts takes any known scope; only utm.conformance_monitoring,
// utm.law_enforcement and utm.admin see every alert in the area, others only
// alerts involving their own aircraft.
//
// Ingest: reports wait in a per-stream inbox keyed by aircraft while the
// core processes earlier ones, so position updates coalesce (the latest
// wins; AlertBatch.superseded_reports counts the others) and reading never
// waits for the core unless max_waiting_aircraft aircraft wait.
//
// Backpressure: each stream's outgoing alerts wait in a bounded queue in
// which an alert's later UPDATED replaces its earlier unsent UPDATED (latest
// figures win); RAISED and CLEARED are always delivered. A stream whose queue
// still overflows is ended with RESOURCE_EXHAUSTED, never silently thinned.
// Ingestion never waits for a consumer.
//
// Intruders: aircraft heard only by Remote ID enter through
// IngestIntruders (not over this service's wire), and their conflicts with
// participants reach the participants' streams and the watchers as any
// conflict does.
//
// Replicas: with UseCluster (cluster.h) the core keeps only the reports of
// the regions this replica owns or borders and forwards the others; alerts
// raised here are published to every replica, and alerts raised by the
// others are routed to this replica's streams. WatchAlerts then starts with
// every open alert of the deployment, not only this replica's.
//
// Data residency (region.h): with a RegionPolicy, StreamPositions is
// refused as a whole (FAILED_PRECONDITION) when the caller's home region is
// not the deployment's, and each report whose position lies outside the
// region's boundary is refused on its own, like any other bad report: a
// ReportError "reports[3].position lies outside region EU-DE (deployment
// boundary)" in the batch's reply, while the batch's other reports are
// processed. A refused report never reaches the core (no tracking, no
// conflict detection, no alert), the report observer or the flight logs,
// and does not replace a waiting report of its aircraft.
//
// Typical usage:
//   TelemetryService service(&core, verifier.get());
//   service.UseCluster(&cluster);  // replicas only, before serving
//   Server::Start(options, {&service});
//   ... service.Tick() every second (lost links, heartbeats) ...
#ifndef UTM_SERVICES_TELEMETRY_TELEMETRY_SERVICE_H_
#define UTM_SERVICES_TELEMETRY_TELEMETRY_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/region.h"
#include "services/telemetry/telemetry_core.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::telemetry {

// An outgoing alert stream (a StreamPositions or WatchAlerts reactor).
class AlertStream;
class TelemetryCluster;

class TelemetryService final : public v1::TelemetryService::CallbackService {
 public:
  struct Options {
    // Alerts a stream may have waiting before it is ended. DEFAULT: 10,000.
    size_t max_pending_alerts = 10000;
    // Reports in one batch. DEFAULT: 1,000 (the contract's maximum).
    int max_batch_reports = 1000;
    // Aircraft whose reports may wait for the core on one stream (one
    // report each: a newer one replaces the waiting one); past it the
    // stream stops reading until the core catches up. DEFAULT: 100,000.
    size_t max_waiting_aircraft = 100000;
    // WatchAlerts heartbeat when idle. DEFAULT: 15 s.
    absl::Duration heartbeat = absl::Seconds(15);
  };
  // Not owned; must outlive the service.
  TelemetryService(TelemetryCore* core, const auth::Verifier* verifier,
                   const Clock* clock, Options options);
  TelemetryService(TelemetryCore* core, const auth::Verifier* verifier,
                   const Clock* clock)
      : TelemetryService(core, verifier, clock, Options()) {}
  ~TelemetryService() override;

  grpc::ServerBidiReactor<v1::PositionBatch, v1::AlertBatch>* StreamPositions(
      grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<v1::AlertBatch>* WatchAlerts(
      grpc::CallbackServerContext* context,
      const v1::WatchAlertsRequest* request) override;

  // Lost links and retirements (TelemetryCore::Tick), routed; heartbeats to
  // idle watchers. Call about once a second.
  void Tick();

  // Routes alert changes to every stream concerned. Thread-safe.
  void Route(const std::vector<AlertChange>& changes);

  // What Remote ID heard of non-participating aircraft: the core's
  // IngestIntruders, whose alerts (conflicts with participants) are
  // delivered as StreamPositions' are — to the streams carrying the
  // participants involved (an intruder has no stream and no operator) and
  // to the area watchers, through the cluster when there is one. Returns the
  // core's result: its errors are the caller's to report; its alerts have
  // been delivered. Thread-safe; the Remote ID service calls it with each
  // batch of heard aircraft.
  TelemetryCore::Result IngestIntruders(
      const std::vector<IntruderReport>& reports);

  // A registration as it now is (the registry's observer): the core's
  // OnRegistrationChanged, its REGISTRATION_REVOKED alerts (raised or
  // cleared) delivered like StreamPositions' — to the aircraft's operator
  // and the area watchers, through the cluster when there is one (each
  // replica's observer calls it; only the aircraft's owner raises).
  // Thread-safe; must not be called with a lock the core's registration
  // checker takes.
  void OnRegistrationChanged(const v1::AircraftRegistration& registration);

  // Makes this service a replica's: alert changes of the core go through
  // `cluster` (published to the other replicas, routed here once) and the
  // cluster's sink is this service's Route. Call before serving and before
  // cluster->Start(); `cluster` is not owned and must outlive the service's
  // streams.
  void UseCluster(TelemetryCluster* cluster);
  // Data residency: when set, streams check the caller's home region and
  // each report's position (see above). Null (the default): no region. Set
  // before serving; not owned, must outlive the service.
  void SetRegionPolicy(const region::RegionPolicy* policy) { region_ = policy; }
  const region::RegionPolicy* region_policy() const { return region_; }
  // Alert changes the core returned: through the cluster when there is
  // one, else straight to Route. Thread-safe.
  void Deliver(const std::vector<AlertChange>& changes);
  // Every open alert (a new watcher's first batch): the cluster's when
  // there is one, else the core's.
  std::vector<AlertChange> OpenAlerts() const;

  // Called with every report the core accepted from a StreamPositions
  // client (the Remote ID display's network source), on the ingesting
  // thread. Set before serving; must be thread-safe and fast.
  using ReportObserver = std::function<void(const std::string& operator_id,
                                            const v1::PositionReport& report)>;
  void SetReportObserver(ReportObserver observer);
  // Hands the accepted ones of `reports` (those `errors` does not name) to
  // the observer.
  void ObserveAccepted(
      const std::string& operator_id,
      const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports,
      const std::vector<v1::ReportError>& errors) const;

  // Called with every batch of alert changes Route() delivers on this
  // replica (on Redis, every replica's), on the routing thread. For flight
  // logs. Set before serving; must be thread-safe and fast.
  using AlertObserver =
      std::function<void(const std::vector<AlertChange>& changes)>;
  void SetAlertObserver(AlertObserver observer) {
    alert_observer_ = std::move(observer);
  }

  struct Stats {
    size_t position_streams = 0;
    size_t watchers = 0;
    // Reports read and waiting for the core, over all streams.
    size_t waiting_reports = 0;
    // Reports superseded by a newer one of the same aircraft, over the
    // streams open now.
    int64_t superseded_reports = 0;
  };
  Stats stats() const;

  // Ends every open StreamPositions and WatchAlerts stream at once with
  // UNAVAILABLE "server shutting down; ..." (nothing of a stream is kept, so
  // the client simply reconnects: WatchAlerts starts again with every open
  // alert); streams that arrive later are refused the same way. Call it on a
  // stop before Server::Shutdown, whose grace period a stream would
  // otherwise hold for its whole length. Thread-safe; idempotent.
  void EndStreams();
  // EndStreams() has run.
  bool ending() const;

  // Registration of streams (by the reactors).
  void Register(AlertStream* stream);
  void Unregister(AlertStream* stream);

  const Options& options() const { return options_; }
  TelemetryCore* core() const { return core_; }
  const auth::Verifier* verifier() const { return verifier_; }
  const Clock* clock() const { return clock_; }

 private:
  TelemetryCore* const core_;
  const auth::Verifier* const verifier_;
  const Clock* const clock_;
  const Options options_;
  TelemetryCluster* cluster_ = nullptr;  // set before serving
  const region::RegionPolicy* region_ = nullptr;  // set before serving
  ReportObserver observer_;              // set before serving
  AlertObserver alert_observer_;         // set before serving

  mutable absl::Mutex mu_;
  std::set<AlertStream*> streams_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
};

// A Ticker for the telemetry service: calls Tick() every `period`.
class TelemetryTicker {
 public:
  TelemetryTicker(TelemetryService* service, absl::Duration period);
  ~TelemetryTicker();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_TELEMETRY_SERVICE_H_
