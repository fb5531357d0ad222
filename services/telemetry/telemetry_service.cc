#include "services/telemetry/telemetry_service.h"

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "geo/intersect.h"
#include "geo/status_macros.h"
#include "services/common/grpc_auth.h"
#include "services/common/grpc_status.h"
#include "services/common/input_limits.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/cluster.h"

namespace utm::telemetry {

// The outgoing half shared by both reactors: a bounded queue of alerts
// (an alert's newer UPDATED replaces its unsent older one), report errors
// and acknowledgements, written one AlertBatch at a time.
class AlertStream {
 public:
  AlertStream(TelemetryService* service) : service_(service) {}
  virtual ~AlertStream() = default;

  enum class Interest {
    kNone,
    // A position stream of one of the operators involved, not carrying the
    // aircraft: gets the change only if no stream of its operator does.
    kOperator,
    kYes,
  };
  // Whether this stream gets the change.
  virtual Interest Wants(const AlertChange& change) const = 0;
  // A watcher (heartbeats) rather than a position stream.
  virtual bool is_watcher() const = 0;
  // Adds this stream's reports waiting and superseded.
  virtual void AddIngestStats(TelemetryService::Stats*) {}

  void Offer(const v1::Alert& alert) {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    if (alert.state() == v1::ALERT_STATE_UPDATED) {
      auto it = unsent_update_.find(alert.id());
      if (it != unsent_update_.end() && it->second >= sent_) {
        pending_[it->second - sent_] = alert;  // latest figures win
        return;
      }
      unsent_update_[alert.id()] = sent_ + pending_.size();
    } else if (alert.state() == v1::ALERT_STATE_CLEARED) {
      unsent_update_.erase(alert.id());
    }
    if (pending_.size() >= service_->options().max_pending_alerts) {
      // Never thinned silently: the client is told and reconnects.
      closed_ = true;
      FinishStream(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("alert consumer too slow: ", pending_.size(),
                       " alerts waiting; reconnect (WatchAlerts starts "
                       "with every open alert)")));
      return;
    }
    pending_.push_back(alert);
    MaybeWrite();
  }

  // Report errors, the batch acknowledged and the running total of
  // superseded reports.
  void OfferErrors(std::vector<v1::ReportError> errors, int64_t ack,
                   int64_t superseded, bool send_ack_now) {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    for (v1::ReportError& e : errors) errors_.push_back(std::move(e));
    ack_ = std::max(ack_, ack);
    superseded_ = std::max(superseded_, superseded);
    if (send_ack_now) ack_due_ = true;
    MaybeWrite();
  }

  // An empty batch if nothing was written for `every`.
  void Heartbeat(absl::Time now, absl::Duration every) {
    absl::MutexLock lock(&mu_);
    if (closed_ || now - last_write_ < every) return;
    heartbeat_due_ = true;
    MaybeWrite();
  }

  // Whether the stream has been finished (or failed).
  bool closed() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

  // Ends the stream now with `status` (a server stop).
  void End(const grpc::Status& status) { Close(status); }

  // Sends an acknowledgement held back by the once-a-second rule.
  void FlushAck() {
    absl::MutexLock lock(&mu_);
    if (!closed_) MaybeWrite();
  }

 protected:
  virtual void StartWriteBatch(const v1::AlertBatch* batch) = 0;
  virtual void FinishStream(const grpc::Status& status) = 0;

  void WriteDone(bool ok) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      closed_ = true;
      return;
    }
    MaybeWrite();
    if (!writing_ && finish_when_drained_ && !closed_) {
      closed_ = true;
      FinishStream(grpc::Status::OK);
    }
  }

  // Ends the stream once everything queued has been written.
  void FinishWhenDrained() {
    absl::MutexLock lock(&mu_);
    finish_when_drained_ = true;
    // The last batches are acknowledged before the stream ends.
    ack_due_ = true;
    MaybeWrite();
    if (!writing_ && !closed_) {
      closed_ = true;
      FinishStream(grpc::Status::OK);
    }
  }

  void Close(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    FinishStream(status);
  }

  TelemetryService* const service_;

 private:
  void MaybeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || closed_) return;
    const absl::Time now = service_->clock()->Now();
    // Acknowledged at most once a second.
    const bool ack_ready =
        ack_ > acked_sent_ && (ack_due_ || now - last_ack_ >= absl::Seconds(1));
    if (pending_.empty() && errors_.empty() && !ack_ready && !heartbeat_due_) {
      return;
    }
    batch_.Clear();
    constexpr size_t kMaxAlertsPerBatch = 500;
    while (!pending_.empty() &&
           static_cast<size_t>(batch_.alerts_size()) < kMaxAlertsPerBatch) {
      *batch_.add_alerts() = std::move(pending_.front());
      pending_.pop_front();
      ++sent_;
    }
    for (v1::ReportError& e : errors_) *batch_.add_errors() = std::move(e);
    errors_.clear();
    if (ack_ready) {
      batch_.set_acked_batch_seq(ack_);
      batch_.set_superseded_reports(superseded_);
      acked_sent_ = ack_;
      last_ack_ = now;
      ack_due_ = false;
    }
    *batch_.mutable_server_time() = TimeToProto(now);
    heartbeat_due_ = false;
    last_write_ = now;
    writing_ = true;
    StartWriteBatch(&batch_);
  }

  mutable absl::Mutex mu_;
  std::deque<v1::Alert> pending_ ABSL_GUARDED_BY(mu_);
  // Alerts written so far; pending_[i] is alert number sent_ + i.
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  // The number of the unsent UPDATED of an alert id.
  absl::flat_hash_map<std::string, uint64_t> unsent_update_
      ABSL_GUARDED_BY(mu_);
  std::vector<v1::ReportError> errors_ ABSL_GUARDED_BY(mu_);
  int64_t ack_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t superseded_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acked_sent_ ABSL_GUARDED_BY(mu_) = 0;
  bool ack_due_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeat_due_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_ack_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_write_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  v1::AlertBatch batch_ ABSL_GUARDED_BY(mu_);  // being written
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_when_drained_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The reactor plumbing both streams share: writes come from the AlertStream,
// and a finished stream unregisters and deletes itself.
template <typename Reactor>
class AlertReactor : public Reactor, public AlertStream {
 public:
  explicit AlertReactor(TelemetryService* service) : AlertStream(service) {}
  void OnWriteDone(bool ok) override { WriteDone(ok); }
  void OnCancel() override { Close(grpc::Status::CANCELLED); }
  void OnDone() override {
    service_->Unregister(this);
    delete this;
  }

 private:
  void StartWriteBatch(const v1::AlertBatch* batch) override {
    this->StartWrite(batch);
  }
  void FinishStream(const grpc::Status& status) override {
    this->Finish(status);
  }
};

// Reads batches into an inbox keyed by aircraft, where a newer report
// replaces a waiting one (latest wins), and ingests the inbox whenever no
// ingest of this stream is running: reading goes on while the core works,
// so a sender never waits behind stale positions, and the inbox is bounded
// by the number of aircraft (reading pauses past Options::
// max_waiting_aircraft, and gRPC flow control takes over).
class PositionsReactor final
    : public AlertReactor<
          grpc::ServerBidiReactor<v1::PositionBatch, v1::AlertBatch>> {
 public:
  PositionsReactor(TelemetryService* service, std::string operator_id)
      : AlertReactor(service), operator_(std::move(operator_id)) {
    service_->Register(this);
    StartRead(&in_);
  }

  // The aircraft this stream has reported get their alerts here; an alert
  // about an aircraft of this operator that no open stream carries (its
  // stream has ended) goes to all the operator's streams instead.
  Interest Wants(const AlertChange& change) const override {
    if (!Contains(change.operators, operator_) || closed()) {
      return Interest::kNone;  // an ended stream serves no one
    }
    absl::MutexLock lock(&aircraft_mu_);
    for (const auto& [op, aircraft] : change.aircraft) {
      if (op == operator_ && aircraft_.contains(aircraft)) {
        return Interest::kYes;
      }
    }
    return Interest::kOperator;
  }
  const std::string& operator_id() const { return operator_; }
  bool is_watcher() const override { return false; }

  void AddIngestStats(TelemetryService::Stats* stats) override {
    absl::MutexLock lock(&inbox_mu_);
    stats->waiting_reports += inbox_.size();
    stats->superseded_reports += superseded_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client has finished sending
      bool finish = false;
      {
        absl::MutexLock lock(&inbox_mu_);
        client_done_ = true;
        finish = !ingesting_;
      }
      if (finish) FinishWhenDrained();
      return;
    }
    std::vector<v1::ReportError> errors;
    auto batch_error = [&](std::string message) {
      v1::ReportError e;
      e.set_batch_seq(in_.batch_seq());
      e.set_report_index(-1);
      e.set_message(std::move(message));
      errors.push_back(std::move(e));
    };
    bool ingest = false, read_now = true;
    int64_t ack = 0, superseded = 0;
    {
      absl::MutexLock lock(&inbox_mu_);
      if (in_.batch_seq() <= last_seq_) {
        batch_error(absl::StrCat("batch_seq: ", in_.batch_seq(),
                                 " is not above the previous ", last_seq_,
                                 "; batch ignored"));
      } else if (in_.reports_size() > service_->options().max_batch_reports) {
        last_seq_ = in_.batch_seq();
        batch_error(absl::StrCat("reports: ", in_.reports_size(),
                                 " reports; at most ",
                                 service_->options().max_batch_reports,
                                 " are allowed; batch ignored"));
      } else {
        last_seq_ = in_.batch_seq();
        const absl::Time now = service_->clock()->Now();
        for (int i = 0; i < in_.reports_size(); ++i) {
          if (absl::Status outside = OutsideRegion(i); !outside.ok()) {
            v1::ReportError e;
            e.set_batch_seq(in_.batch_seq());
            e.set_report_index(i);
            e.set_message(std::string(outside.message()));
            errors.push_back(std::move(e));
            continue;  // not stored, not tracked, replaces nothing
          }
          Put(i, now);
        }
      }
      if (!ingesting_ && !inbox_.empty()) {
        ingesting_ = true;
        ingest = true;
      }
      if (inbox_.size() >= service_->options().max_waiting_aircraft) {
        read_paused_ = true;
        read_now = false;
      }
      if (inbox_.empty() && !ingesting_) {
        ack = last_seq_;  // nothing waits: everything read is processed
        superseded = superseded_;
      }
    }
    if (!errors.empty() || ack > 0) {
      OfferErrors(std::move(errors), ack, superseded, /*send_ack_now=*/false);
    }
    if (read_now) StartRead(&in_);
    if (ingest) IngestInbox();
  }

 private:
  // A report waiting for the core, and where it came from.
  struct Waiting {
    v1::PositionReport report;
    int64_t batch_seq = 0;
    int index = 0;
    // Its place in the aircraft's order of reports, as the core orders
    // them: its time, or its arrival if stamped ahead of the server clock.
    absl::Time order;
  };

  // FAILED_PRECONDITION "reports[i].position lies outside region CODE
  // (deployment boundary)" when the deployment has a region and the report's
  // valid position lies outside it; OK otherwise (a missing or malformed
  // position is the core's to refuse, with its own precise message).
  absl::Status OutsideRegion(int i) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(inbox_mu_) {
    const region::RegionPolicy* policy = service_->region_policy();
    const v1::PositionReport& r = in_.reports(i);
    if (policy == nullptr || !r.has_position()) return absl::OkStatus();
    const geo::LatLng p{r.position().lat_deg(), r.position().lng_deg()};
    if (!geo::ValidateLatLng(p, "position").ok()) return absl::OkStatus();
    return policy->CheckPosition(p, absl::StrCat("reports[", i, "].position"));
  }

  // Moves in_.reports(i), which arrived at `now`, into the inbox, replacing
  // an earlier waiting report of the same aircraft.
  void Put(int i, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(inbox_mu_) {
    v1::PositionReport* r = in_.mutable_reports(i);
    // A malformed time is the core's to refuse; here it only must not win.
    const absl::Time order =
        ReportOrderTime(absl::FromUnixSeconds(r->time().seconds()) +
                            absl::Nanoseconds(r->time().nanos()),
                        now);
    if (r->aircraft_id().empty()) {  // refused by the core; never merged
      inbox_.push_back({std::move(*r), in_.batch_seq(), i, order});
      return;
    }
    auto [it, inserted] = slot_of_.try_emplace(r->aircraft_id(), inbox_.size());
    if (!inserted) {
      ++superseded_;
      Waiting& w = inbox_[it->second];
      // The latest position wins; a report before the waiting one is the
      // one dropped. A report stamped ahead of the server clock counts as
      // arriving when it did, so it does not win over the correctly
      // stamped reports that follow it.
      if (order < w.order) return;
      w.report = std::move(*r);
      w.batch_seq = in_.batch_seq();
      w.index = i;
      w.order = order;
      return;
    }
    inbox_.push_back({std::move(*r), in_.batch_seq(), i, order});
  }

  // Ingests what waits until nothing does; runs on one thread at a time.
  void IngestInbox() {
    std::vector<Waiting> work;
    while (true) {
      int64_t covered, superseded;
      bool resume_read = false, finish = false;
      {
        absl::MutexLock lock(&inbox_mu_);
        if (inbox_.empty()) {
          ingesting_ = false;
          finish = client_done_;
        } else {
          work.swap(inbox_);
          inbox_.clear();
          slot_of_.clear();
        }
        // Either way the inbox is empty now: reading may go on.
        resume_read = read_paused_;
        read_paused_ = false;
        covered = last_seq_;
        superseded = superseded_;
      }
      if (resume_read) StartRead(&in_);
      if (work.empty()) {
        OfferErrors({}, covered, superseded, /*send_ack_now=*/false);
        if (finish) FinishWhenDrained();
        return;
      }
      {
        absl::MutexLock lock(&aircraft_mu_);
        for (const Waiting& w : work) {
          if (!w.report.aircraft_id().empty()) {
            aircraft_.insert(w.report.aircraft_id());
          }
        }
      }
      google::protobuf::RepeatedPtrField<v1::PositionReport> reports;
      reports.Reserve(static_cast<int>(work.size()));
      for (Waiting& w : work) *reports.Add() = std::move(w.report);
      TelemetryCore::Result result =
          service_->core()->Ingest(operator_, reports);
      service_->ObserveAccepted(operator_, reports, result.errors);
      std::vector<v1::ReportError> errors;
      for (v1::ReportError& e : result.errors) {
        // Back to the batch and index the client sent.
        const Waiting& w = work[e.report_index()];
        const std::string prefix =
            absl::StrCat("reports[", e.report_index(), "]");
        std::string message = e.message();
        if (absl::StartsWith(message, prefix)) {
          message = absl::StrCat("reports[", w.index, "]",
                                 message.substr(prefix.size()));
        }
        e.set_message(std::move(message));
        e.set_batch_seq(w.batch_seq);
        e.set_report_index(w.index);
        errors.push_back(std::move(e));
      }
      service_->Deliver(result.alerts);
      // Everything read before this round is now processed or superseded.
      OfferErrors(std::move(errors), covered, superseded,
                  /*send_ack_now=*/false);
      work.clear();
    }
  }

  const std::string operator_;
  v1::PositionBatch in_;  // the read buffer

  absl::Mutex inbox_mu_;
  int64_t last_seq_ ABSL_GUARDED_BY(inbox_mu_) = 0;
  std::vector<Waiting> inbox_ ABSL_GUARDED_BY(inbox_mu_);
  // Aircraft id -> its report's place in inbox_.
  absl::flat_hash_map<std::string, size_t> slot_of_ ABSL_GUARDED_BY(inbox_mu_);
  int64_t superseded_ ABSL_GUARDED_BY(inbox_mu_) = 0;
  bool ingesting_ ABSL_GUARDED_BY(inbox_mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(inbox_mu_) = false;
  bool client_done_ ABSL_GUARDED_BY(inbox_mu_) = false;

  // Aircraft ids this stream has reported (whose alerts it gets).
  mutable absl::Mutex aircraft_mu_;
  absl::flat_hash_set<std::string> aircraft_ ABSL_GUARDED_BY(aircraft_mu_);
};

class WatchReactor final
    : public AlertReactor<grpc::ServerWriteReactor<v1::AlertBatch>> {
 public:
  WatchReactor(TelemetryService* service, std::string caller, bool supervisor,
               geo::Volume4D area, std::set<int> kinds)
      : AlertReactor(service),
        caller_(std::move(caller)),
        supervisor_(supervisor),
        area_(std::move(area)),
        kinds_(std::move(kinds)) {}

  void Start() {
    // Every open alert it may see first, then changes.
    std::vector<AlertChange> open = service_->OpenAlerts();
    service_->Register(this);
    Heartbeat(absl::InfiniteFuture(), absl::ZeroDuration());  // first batch
    for (const AlertChange& c : open) {
      if (Matches(c)) Offer(c.alert);
    }
  }

  Interest Wants(const AlertChange& change) const override {
    return Matches(change) ? Interest::kYes : Interest::kNone;
  }

  bool Matches(const AlertChange& change) const {
    const v1::Alert& a = change.alert;
    if (!kinds_.empty() && !kinds_.count(a.kind())) return false;
    if (!supervisor_ && !Contains(change.operators, caller_)) return false;
    geo::Volume4D at;
    at.volume.footprint =
        geo::Circle{{a.position().lat_deg(), a.position().lng_deg()}, 0.01};
    at.volume.altitude = {a.altitude().value_m(), a.altitude().value_m()};
    const absl::Time t = absl::FromUnixSeconds(a.update_time().seconds()) +
                         absl::Nanoseconds(a.update_time().nanos());
    at.time = {t, t};
    return geo::Intersect(area_, at).has_value();
  }
  bool is_watcher() const override { return true; }

  // Ends the watch once the area's time is over.
  bool Expired(absl::Time now) const { return now > area_.time.end; }
  void End() { FinishWhenDrained(); }

 private:
  const std::string caller_;
  const bool supervisor_;
  const geo::Volume4D area_;
  const std::set<int> kinds_;
};

}  // namespace

TelemetryService::TelemetryService(TelemetryCore* core,
                                   const auth::Verifier* verifier,
                                   const Clock* clock, Options options)
    : core_(core), verifier_(verifier), clock_(clock), options_(options) {}

TelemetryService::~TelemetryService() = default;

void TelemetryService::Register(AlertStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.insert(stream);
}

void TelemetryService::Unregister(AlertStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

void TelemetryService::EndStreams() {
  // Under mu_ a registered stream cannot reach OnDone's delete.
  absl::MutexLock lock(&mu_);
  ending_ = true;
  for (AlertStream* s : streams_) {
    s->End(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        s->is_watcher()
            ? "server shutting down; reconnect (WatchAlerts starts with every "
              "open alert)"
            : "server shutting down; reconnect and send positions again"));
  }
}

bool TelemetryService::ending() const {
  absl::MutexLock lock(&mu_);
  return ending_;
}

void TelemetryService::Route(const std::vector<AlertChange>& changes) {
  if (changes.empty()) return;
  if (alert_observer_) alert_observer_(changes);
  absl::MutexLock lock(&mu_);
  std::vector<AlertStream*> fallback;
  std::vector<const std::string*> served;  // operators whose stream got it
  for (const AlertChange& c : changes) {
    fallback.clear();
    served.clear();
    for (AlertStream* s : streams_) {
      switch (s->Wants(c)) {
        case AlertStream::Interest::kYes:
          s->Offer(c.alert);
          if (!s->is_watcher()) {
            served.push_back(&static_cast<PositionsReactor*>(s)->operator_id());
          }
          break;
        case AlertStream::Interest::kOperator:
          fallback.push_back(s);
          break;
        case AlertStream::Interest::kNone:
          break;
      }
    }
    for (AlertStream* s : fallback) {
      const std::string& op = static_cast<PositionsReactor*>(s)->operator_id();
      if (std::none_of(served.begin(), served.end(),
                       [&](const std::string* o) { return *o == op; })) {
        s->Offer(c.alert);
      }
    }
  }
}

TelemetryService::Stats TelemetryService::stats() const {
  Stats stats;
  absl::MutexLock lock(&mu_);
  for (AlertStream* s : streams_) {
    ++(s->is_watcher() ? stats.watchers : stats.position_streams);
    s->AddIngestStats(&stats);
  }
  return stats;
}

void TelemetryService::UseCluster(TelemetryCluster* cluster) {
  cluster_ = cluster;
  cluster_->SetAlertSink(
      [this](const std::vector<AlertChange>& changes) { Route(changes); });
}

void TelemetryService::Deliver(const std::vector<AlertChange>& changes) {
  if (cluster_ != nullptr) {
    cluster_->Emit(changes);
  } else {
    Route(changes);
  }
}

void TelemetryService::OnRegistrationChanged(
    const v1::AircraftRegistration& registration) {
  core_->OnRegistrationChanged(registration);
  std::vector<AlertChange> changes = core_->TakeRegistrationAlerts();
  if (!changes.empty()) Deliver(changes);
}

TelemetryCore::Result TelemetryService::IngestIntruders(
    const std::vector<IntruderReport>& reports) {
  TelemetryCore::Result result = core_->IngestIntruders(reports);
  Deliver(result.alerts);
  return result;
}

void TelemetryService::SetReportObserver(ReportObserver observer) {
  observer_ = std::move(observer);
}

void TelemetryService::ObserveAccepted(
    const std::string& operator_id,
    const google::protobuf::RepeatedPtrField<v1::PositionReport>& reports,
    const std::vector<v1::ReportError>& errors) const {
  if (!observer_) return;
  std::vector<bool> refused(reports.size(), false);
  for (const v1::ReportError& e : errors) {
    if (e.report_index() >= 0 && e.report_index() < reports.size()) {
      refused[e.report_index()] = true;
    }
  }
  for (int i = 0; i < reports.size(); ++i) {
    if (!refused[i]) observer_(operator_id, reports[i]);
  }
}

std::vector<AlertChange> TelemetryService::OpenAlerts() const {
  return cluster_ != nullptr ? cluster_->OpenAlerts() : core_->OpenAlerts();
}

void TelemetryService::Tick() {
  if (cluster_ != nullptr) {
    cluster_->Tick();  // the core's Tick, delivered
  } else {
    Route(core_->Tick());
  }
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  for (AlertStream* s : streams_) {
    if (!s->is_watcher()) {
      s->FlushAck();
      continue;
    }
    auto* w = static_cast<WatchReactor*>(s);
    if (w->Expired(now)) {
      w->End();
    } else {
      w->Heartbeat(now, options_.heartbeat);
    }
  }
}

grpc::ServerBidiReactor<v1::PositionBatch, v1::AlertBatch>*
TelemetryService::StreamPositions(grpc::CallbackServerContext* context) {
  absl::StatusOr<auth::Principal> caller =
      AuthenticateCall(*context, *verifier_);
  if (caller.ok()) {
    absl::Status scope =
        auth::RequireScope(*caller, auth::Scope::kStrategicCoordination);
    if (!scope.ok()) caller = scope;
  }
  if (caller.ok() && region_ != nullptr) {
    absl::Status home = region_->CheckCaller(*caller);
    if (!home.ok()) caller = home;
  }
  if (caller.ok() && ending()) {
    caller = absl::UnavailableError(
        "server shutting down; reconnect to the next server");
  }
  if (!caller.ok()) {
    // A reactor that only reports the error.
    class Refuse final
        : public grpc::ServerBidiReactor<v1::PositionBatch, v1::AlertBatch> {
     public:
      explicit Refuse(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
      void OnDone() override { delete this; }
    };
    return new Refuse(caller.status());
  }
  return new PositionsReactor(this, caller->subject);
}

grpc::ServerWriteReactor<v1::AlertBatch>* TelemetryService::WatchAlerts(
    grpc::CallbackServerContext* context,
    const v1::WatchAlertsRequest* request) {
  class Refuse final : public grpc::ServerWriteReactor<v1::AlertBatch> {
   public:
    explicit Refuse(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
    void OnDone() override { delete this; }
  };
  if (ending()) {
    return new Refuse(absl::UnavailableError(
        "server shutting down; reconnect to the next server"));
  }
  absl::StatusOr<auth::Principal> caller =
      AuthenticateCall(*context, *verifier_);
  if (!caller.ok()) return new Refuse(caller.status());
  if (caller->scopes.empty()) {
    return new Refuse(absl::PermissionDeniedError(
        "the token carries no scope this server knows"));
  }
  if (!request->has_area()) {
    return new Refuse(absl::InvalidArgumentError("area: required"));
  }
  absl::StatusOr<geo::Volume4D> area =
      VolumeFromProto(request->area(), WatchAreaConvertOptions(), "area");
  if (!area.ok()) return new Refuse(area.status());
  absl::Status bad =
      CheckCount(request->kinds_size(), "kinds", kMaxEnumFilters);
  for (int i = 0; bad.ok() && i < request->kinds_size(); ++i) {
    bad = CheckEnum(v1::AlertKind_descriptor(), request->kinds(i),
                    absl::StrCat("kinds[", i, "]"));
  }
  if (!bad.ok()) return new Refuse(bad);
  std::set<int> kinds(request->kinds().begin(), request->kinds().end());
  const bool supervisor = caller->Has(auth::Scope::kConformanceMonitoring) ||
                          caller->Has(auth::Scope::kLawEnforcement) ||
                          caller->Has(auth::Scope::kAdmin);
  auto* reactor = new WatchReactor(this, caller->subject, supervisor,
                                   *std::move(area), std::move(kinds));
  reactor->Start();
  return reactor;
}

struct TelemetryTicker::State {
  absl::Notification stop;
  std::thread thread;
};

TelemetryTicker::TelemetryTicker(TelemetryService* service,
                                 absl::Duration period)
    : state_(std::make_unique<State>()) {
  State* s = state_.get();
  s->thread = std::thread([s, service, period] {
    while (!s->stop.WaitForNotificationWithTimeout(period)) service->Tick();
  });
}

TelemetryTicker::~TelemetryTicker() {
  state_->stop.Notify();
  state_->thread.join();
}

}  // namespace utm::telemetry
