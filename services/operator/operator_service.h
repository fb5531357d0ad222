// The gRPC adapter of the operator's own-data service
// (utm.v1.OperatorService): authenticates, checks the scope and hands the
// rest to the fleet view. Every call is about the caller's own aircraft:
// the operator is the token's subject.
//
// WatchFleet: scope utm.strategic_coordination; one thread (the service's
// Tick, about every 100 ms) takes the open alerts once (only while someone
// watches) and writes each watcher's fleet when due; a watcher whose
// previous update is still being written skips a turn (its next update
// holds the whole fleet).
//
// ExportData and EraseData (operator_data_service.cc): scope
// utm.strategic_coordination, about the caller's own data (OperatorData).
// An export is produced on its own thread into a queue of a few pieces that
// the stream drains (so a large archive is never held whole); at most
// kMaxExports run at once. An erasure runs on its own thread (it waits for
// the store, the ledger and the audit log) and answers when durable.
// ListFlights and GetFlightLog (flight_log_rpc.cc): scope
// utm.strategic_coordination; the caller's own flight logs only (another
// operator's flight id is NOT_FOUND, as an unknown one is); UNIMPLEMENTED
// unless SetFlightLogs gave the service flight logs. GetFlightLog writes the
// header, then one message per stored chunk (at most 600 points), then the
// points not yet written of a flight in progress: a long flight is never
// one large message, and a chunk is read only when the previous message is
// written.
// GetDataSettings, SetDataSettings: scope utm.strategic_coordination, the
// caller's own settings (OperatorSettings); without settings (null) they
// answer UNIMPLEMENTED.
//
// Typical usage:
//   FleetView fleet(sources);
//   OperatorService service(&fleet, verifier.get(), clock, &settings);
//   PeriodicThread ticker(absl::Milliseconds(100), [&] { service.Tick(); });
//   Server::Start(options, {&service, ...});
//   ... service.EndStreams(); server->Shutdown(...);
#ifndef UTM_SERVICES_OPERATOR_OPERATOR_SERVICE_H_
#define UTM_SERVICES_OPERATOR_OPERATOR_SERVICE_H_

#include <atomic>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/snapshot_stream.h"
#include "services/operator/fleet_view.h"
#include "services/operator/operator_data.h"
#include "services/operator/flight_log.h"
#include "services/operator/operator_settings.h"
#include "utm/v1/operator.grpc.pb.h"

namespace utm::fleet {

class OperatorService final : public v1::OperatorService::CallbackService {
 public:
  // Not owned; must outlive the service.
  OperatorService(const FleetView* fleet, const auth::Verifier* verifier,
                  const Clock* clock, OperatorSettings* settings = nullptr);
  ~OperatorService() override { WaitForErasures(); }

  grpc::ServerWriteReactor<v1::FleetUpdate>* WatchFleet(
      grpc::CallbackServerContext* context,
      const v1::WatchFleetRequest* request) override;

  // Exports and erasures need `data` (not owned; must outlive the
  // service): without it they answer UNIMPLEMENTED. Call before serving.
  void SetOperatorData(const OperatorData* data) { data_ = data; }
  static constexpr int kMaxExports = 4;
  grpc::ServerWriteReactor<v1::ArchivePiece>* ExportData(
      grpc::CallbackServerContext* context,
      const v1::ExportDataRequest* request) override;
  grpc::ServerUnaryReactor* EraseData(grpc::CallbackServerContext* context,
                                      const v1::EraseDataRequest* request,
                                      v1::EraseDataResponse* response) override;
  // Waits for erasures still running (their threads). Call after the
  // server has shut down, before the data's sources go.
  void WaitForErasures();
  grpc::ServerUnaryReactor* ListFlights(
      grpc::CallbackServerContext* context,
      const v1::ListFlightsRequest* request,
      v1::ListFlightsResponse* response) override;
  grpc::ServerWriteReactor<v1::FlightLogPart>* GetFlightLog(
      grpc::CallbackServerContext* context,
      const v1::GetFlightLogRequest* request) override;

  // Serves flight logs from `logs` (not owned; must outlive the service).
  // Call before serving; without it the flight log calls are UNIMPLEMENTED.
  void SetFlightLogs(const FlightLogs* logs) { flight_logs_ = logs; }
  grpc::ServerUnaryReactor* GetDataSettings(
      grpc::CallbackServerContext* context,
      const v1::GetDataSettingsRequest* request,
      v1::GetDataSettingsResponse* response) override;
  grpc::ServerUnaryReactor* SetDataSettings(
      grpc::CallbackServerContext* context,
      const v1::SetDataSettingsRequest* request,
      v1::SetDataSettingsResponse* response) override;

  // Writes every due watcher's fleet. Call about every 100 ms.
  void Tick();
  // Ends every WatchFleet stream with UNAVAILABLE (reconnect) and refuses
  // new ones. Call before Server::Shutdown. Idempotent.
  void EndStreams();

  size_t watchers() const { return streams_.size(); }

 private:
  std::shared_ptr<const FleetView::Alerts> alerts() const;
  // The caller, with the scope and a subject, or why not.
  absl::StatusOr<auth::Principal> AuthenticateOperator(
      grpc::CallbackServerContext* context) const;

  const FleetView* const fleet_;
  const auth::Verifier* const verifier_;
  const Clock* const clock_;
  const FlightLogs* flight_logs_ = nullptr;  // set before serving
  OperatorSettings* const settings_;

  mutable absl::Mutex mu_;
  // The open alerts of the latest tick, shared by every stream's fill;
  // null when nobody watched then (taken at the next fill).
  mutable std::shared_ptr<const FleetView::Alerts> alerts_ ABSL_GUARDED_BY(mu_);
  SnapshotStreams<v1::FleetUpdate> streams_;

  const OperatorData* data_ = nullptr;
  std::atomic<int> exports_{0};
  absl::Mutex erasures_mu_;
  int erasures_ ABSL_GUARDED_BY(erasures_mu_) = 0;
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_OPERATOR_SERVICE_H_
