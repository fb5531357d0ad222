// OperatorService's flight log calls: ListFlights and GetFlightLog.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"
#include "services/common/volume_convert.h"
#include "services/operator/operator_service.h"

namespace utm::fleet {
namespace {

absl::Status NoFlightLogs() {
  return absl::UnimplementedError(
      "this utmd keeps no flight logs (it runs with --store memory or "
      "--store redis; see docs/operations.md)");
}

// Writes one flight log: the header, each stored chunk read when the
// previous message is written, then the points not yet written.
class FlightLogWriter final
    : public grpc::ServerWriteReactor<v1::FlightLogPart> {
 public:
  FlightLogWriter(const FlightLogs* logs, FlightLogs::Snapshot snapshot)
      : logs_(logs), snapshot_(std::move(snapshot)) {
    *part_.mutable_header() = snapshot_.header;
    StartWrite(&part_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream broken"));
      return;
    }
    part_.Clear();
    v1::FlightTrackChunk* track = part_.mutable_track();
    const std::string& id = snapshot_.header.flight().flight_id();
    if (next_chunk_ < snapshot_.chunks) {
      absl::StatusOr<std::vector<TrackPoint>> points =
          logs_->ReadChunk(id, next_chunk_++);
      if (!points.ok()) {
        Finish(ToGrpcStatus(points.status()));
        return;
      }
      for (const TrackPoint& p : *points) AddPoint(p, track);
    } else {
      const size_t end = std::min(
          snapshot_.unwritten.size(),
          next_unwritten_ + static_cast<size_t>(kMaxFlightChunkPoints));
      for (; next_unwritten_ < end; ++next_unwritten_) {
        AddPoint(snapshot_.unwritten[next_unwritten_], track);
      }
    }
    if (track->points().empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&part_);
  }

  void OnDone() override { delete this; }

 private:
  const FlightLogs* const logs_;
  const FlightLogs::Snapshot snapshot_;
  v1::FlightLogPart part_;
  int next_chunk_ = 0;
  size_t next_unwritten_ = 0;
};

}  // namespace

grpc::ServerUnaryReactor* OperatorService::ListFlights(
    grpc::CallbackServerContext* context, const v1::ListFlightsRequest* request,
    v1::ListFlightsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> caller = AuthenticateOperator(context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  const std::string* const who = &caller->subject;
  if (flight_logs_ == nullptr) {
    reactor->Finish(ToGrpcStatus(NoFlightLogs()));
    return reactor;
  }
  absl::StatusOr<FlightLogs::Page> page =
      flight_logs_->List(*who, request->page_size(), request->page_token());
  if (!page.ok()) {
    reactor->Finish(ToGrpcStatus(page.status()));
    return reactor;
  }
  for (v1::FlightSummary& f : page->flights) {
    *response->add_flights() = std::move(f);
  }
  response->set_next_page_token(page->next_page_token);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::FlightLogPart>* OperatorService::GetFlightLog(
    grpc::CallbackServerContext* context,
    const v1::GetFlightLogRequest* request) {
  auto refuse = [](const absl::Status& s) {
    return SnapshotStreams<v1::FlightLogPart>::Refuse(ToGrpcStatus(s));
  };
  absl::StatusOr<auth::Principal> caller = AuthenticateOperator(context);
  if (!caller.ok()) return refuse(caller.status());
  const std::string* const who = &caller->subject;
  if (flight_logs_ == nullptr) return refuse(NoFlightLogs());
  absl::StatusOr<FlightLogs::Snapshot> snapshot =
      flight_logs_->Open(*who, request->flight_id());
  if (!snapshot.ok()) return refuse(snapshot.status());
  return new FlightLogWriter(flight_logs_, *std::move(snapshot));
}

}  // namespace utm::fleet
