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

#include <memory>

#include "absl/synchronization/mutex.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/snapshot_stream.h"
#include "services/operator/fleet_view.h"
#include "services/operator/operator_settings.h"
#include "utm/v1/operator.grpc.pb.h"

namespace utm::fleet {

class OperatorService final : public v1::OperatorService::CallbackService {
 public:
  // Not owned; must outlive the service.
  OperatorService(const FleetView* fleet, const auth::Verifier* verifier,
                  const Clock* clock, OperatorSettings* settings = nullptr);

  grpc::ServerWriteReactor<v1::FleetUpdate>* WatchFleet(
      grpc::CallbackServerContext* context,
      const v1::WatchFleetRequest* request) override;

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

  const FleetView* const fleet_;
  const auth::Verifier* const verifier_;
  const Clock* const clock_;
  OperatorSettings* const settings_;

  mutable absl::Mutex mu_;
  // The open alerts of the latest tick, shared by every stream's fill;
  // null when nobody watched then (taken at the next fill).
  mutable std::shared_ptr<const FleetView::Alerts> alerts_ ABSL_GUARDED_BY(mu_);
  SnapshotStreams<v1::FleetUpdate> streams_;
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_OPERATOR_SERVICE_H_
