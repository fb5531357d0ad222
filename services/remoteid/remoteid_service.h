// The gRPC adapter of the Remote ID service (utm.v1.RemoteIdService):
// authenticates, checks scopes and case references, audits, and hands
// everything else to RemoteIdCore.
//
// Scopes: SearchFlights and WatchFlights need utm.rid_display;
// GetFlightDetails needs utm.law_enforcement and a case reference, and is
// recorded by the audit sink before the answer leaves (UNAVAILABLE, with no
// answer, when it cannot be); ReportReceptions needs utm.rid_receiver;
// PublishFlights needs utm.strategic_coordination.
//
// Data residency: with a region (RemoteIdOptions::region), ReportReceptions
// and PublishFlights are refused whole (FAILED_PRECONDITION, nothing kept)
// when the caller's token names another home region
// (region::RegionPolicy::CheckCaller); then a frame whose aircraft position
// lies outside the region is refused on its own (broadcast_feed.h), and a
// published state outside it refuses the whole request (RemoteIdCore::
// Publish). Reading the display (SearchFlights, WatchFlights,
// GetFlightDetails) stores nothing and is not restricted.
//
// WatchFlights: one thread of the service's WatchTicker computes each
// watcher's view when due and writes it; a watcher whose previous update
// is still being written skips a turn (its next update holds the whole
// picture), so a slow client never queues anything.
//
// Typical usage:
//   RemoteIdService service(&core, verifier.get(), clock, audit_sink,
//                           intruder_sink, {});
//   RemoteIdService::WatchTicker ticker(&service);
//   Server::Start(options, {&service, ...});
#ifndef UTM_SERVICES_REMOTEID_REMOTEID_SERVICE_H_
#define UTM_SERVICES_REMOTEID_REMOTEID_SERVICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/audit/audit_event.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/periodic.h"
#include "services/common/snapshot_stream.h"
#include "services/remoteid/broadcast_feed.h"
#include "services/remoteid/remoteid_core.h"
#include "utm/v1/registry.pb.h"
#include "utm/v1/remote_id.grpc.pb.h"

namespace utm::remoteid {

class RemoteIdService final : public v1::RemoteIdService::CallbackService {
 public:
  // Where the states of aircraft without an intent here go: tactical
  // deconfliction's intruders. May be empty. Called on the request's
  // thread; must be thread-safe.
  using IntruderSink = std::function<void(std::vector<HeardState> states)>;

  // The registration of a serial number, if this server's registry holds
  // one. Thread-safe, quick.
  using RegistrationLookup =
      std::function<std::optional<v1::AircraftRegistration>(
          const std::string& serial_number)>;

  struct Options {
    // ReportReceptions: the frames' checks and the assembler's bounds.
    BroadcastFeedOptions broadcast;
    // GetFlightDetails adds what the registry knows of the aircraft.
    // DEFAULT: none.
    RegistrationLookup registrations;
  };

  // Not owned; must outlive the service. `audit` is required.
  RemoteIdService(RemoteIdCore* core, const auth::Verifier* verifier,
                  const Clock* clock, audit::AuditSink audit,
                  IntruderSink intruders, Options options);
  ~RemoteIdService() override;

  grpc::ServerUnaryReactor* SearchFlights(
      grpc::CallbackServerContext* context,
      const v1::SearchFlightsRequest* request,
      v1::SearchFlightsResponse* response) override;
  grpc::ServerWriteReactor<v1::FlightsUpdate>* WatchFlights(
      grpc::CallbackServerContext* context,
      const v1::WatchFlightsRequest* request) override;
  grpc::ServerUnaryReactor* GetFlightDetails(
      grpc::CallbackServerContext* context,
      const v1::GetFlightDetailsRequest* request,
      v1::GetFlightDetailsResponse* response) override;
  grpc::ServerUnaryReactor* ReportReceptions(
      grpc::CallbackServerContext* context,
      const v1::ReportReceptionsRequest* request,
      v1::ReportReceptionsResponse* response) override;
  grpc::ServerUnaryReactor* PublishFlights(
      grpc::CallbackServerContext* context,
      const v1::PublishFlightsRequest* request,
      v1::PublishFlightsResponse* response) override;

  // Writes every due watcher's update; expires the core's old data. Call
  // about every 100 ms (WatchTicker does).
  void Tick();

  // Ends every WatchFlights stream with UNAVAILABLE (reconnect) and refuses
  // new ones. Call before Server::Shutdown. Thread-safe; idempotent.
  void EndStreams();

  RemoteIdCore* core() const { return core_; }
  const Clock* clock() const { return clock_; }

  // Calls Tick() every 100 ms on a thread of its own while it lives.
  class WatchTicker {
   public:
    explicit WatchTicker(RemoteIdService* service);

   private:
    PeriodicThread thread_;
  };

 private:
  // OK, or FAILED_PRECONDITION when the core has a region and `caller`'s
  // token names another home region (or none where one is required).
  absl::Status CheckHomeRegion(const auth::Principal& caller) const;

  RemoteIdCore* const core_;
  const auth::Verifier* const verifier_;
  const Clock* const clock_;
  const audit::AuditSink audit_;
  const IntruderSink intruders_;
  const RegistrationLookup registrations_;
  BroadcastFeed broadcast_;

  SnapshotStreams<v1::FlightsUpdate> streams_;
  mutable absl::Mutex mu_;
  absl::Time last_expire_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_REMOTEID_SERVICE_H_
