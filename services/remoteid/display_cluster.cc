#include "services/remoteid/display_cluster.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/volume_convert.h"

namespace utm::remoteid {
internal::DisplayReception ToReception(const BroadcastFix& b) {
  internal::DisplayReception r;
  r.set_uas_id(b.uas_id);
  r.set_uas_id_type(b.uas_id_type);
  const Fix& f = b.fix;
  *r.mutable_time() = TimeToProto(f.time);
  r.set_lat_deg(f.position.lat_deg);
  r.set_lng_deg(f.position.lng_deg);
  r.set_has_altitude(f.altitude_m.has_value());
  r.set_altitude_m(f.altitude_m.value_or(0));
  r.set_has_velocity(f.has_velocity);
  r.set_track_deg(f.track_deg);
  r.set_speed_mps(f.speed_mps);
  r.set_vertical_speed_mps(f.vertical_speed_mps);
  r.set_horizontal_accuracy_m(f.horizontal_accuracy_m);
  r.set_vertical_accuracy_m(f.vertical_accuracy_m);
  r.set_status(f.status);
  const Identity& who = b.identity;
  r.set_ua_type(who.ua_type);
  r.set_serial_number(who.serial_number);
  r.set_registration_id(who.registration_id);
  r.set_operator_id(who.operator_id);
  r.set_has_operator_location(who.operator_location.has_value());
  if (who.operator_location) {
    r.set_operator_lat_deg(who.operator_location->lat_deg);
    r.set_operator_lng_deg(who.operator_location->lng_deg);
  }
  r.set_has_operator_altitude(who.operator_altitude_m.has_value());
  r.set_operator_altitude_m(who.operator_altitude_m.value_or(0));
  r.set_description(who.description);
  r.set_receiver(b.receiver);
  *r.mutable_received() = TimeToProto(b.received);
  r.set_timestamp_accuracy_s(b.timestamp_accuracy_s);
  return r;
}

absl::StatusOr<BroadcastFix> FromReception(
    const internal::DisplayReception& r) {
  BroadcastFix b;
  b.uas_id = r.uas_id();
  b.uas_id_type = r.uas_id_type();
  Fix& f = b.fix;
  UTM_ASSIGN_OR_RETURN(f.time, TimeFromProto(r.time(), "time"));
  UTM_ASSIGN_OR_RETURN(b.received, TimeFromProto(r.received(), "received"));
  f.position = {r.lat_deg(), r.lng_deg()};
  if (r.has_altitude()) f.altitude_m = r.altitude_m();
  f.has_velocity = r.has_velocity();
  f.track_deg = r.track_deg();
  f.speed_mps = r.speed_mps();
  f.vertical_speed_mps = r.vertical_speed_mps();
  f.horizontal_accuracy_m = r.horizontal_accuracy_m();
  f.vertical_accuracy_m = r.vertical_accuracy_m();
  f.status = r.status();
  Identity& who = b.identity;
  who.ua_type = r.ua_type();
  who.serial_number = r.serial_number();
  who.registration_id = r.registration_id();
  who.operator_id = r.operator_id();
  if (r.has_operator_location()) {
    who.operator_location =
        geo::LatLng{r.operator_lat_deg(), r.operator_lng_deg()};
  }
  if (r.has_operator_altitude()) {
    who.operator_altitude_m = r.operator_altitude_m();
  }
  who.description = r.description();
  b.receiver = r.receiver();
  b.timestamp_accuracy_s = r.timestamp_accuracy_s();
  return b;
}

DisplayCluster::DisplayCluster(DisplayClusterOptions options,
                               RemoteIdCore* core)
    : options_(std::move(options)), core_(core) {
  core_->SetReplicator(this);
}

DisplayCluster::~DisplayCluster() { Stop(); }

absl::Status DisplayCluster::Start() {
  if (options_.member_id.empty()) {
    return absl::InvalidArgumentError("member_id: empty");
  }
  if (options_.channel.empty()) {
    return absl::InvalidArgumentError("channel: empty");
  }
  if (options_.batch_window < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("batch_window: negative");
  }
  if (options_.max_queued_inputs == 0 || options_.max_inputs_per_message <= 0) {
    return absl::InvalidArgumentError(
        "max_queued_inputs, max_inputs_per_message: must be positive");
  }
  if (options_.redis.sentinels.empty()) {
    UTM_RETURN_IF_ERROR(
        redis::ParseHostPort(options_.redis.addr, "redis.addr").status());
  }
  if (started_.exchange(true)) {
    return absl::FailedPreconditionError("display cluster already started");
  }
  redis::SubscriberOptions so;
  so.client = options_.redis;
  so.channels = {options_.channel};
  subscriber_ = std::make_unique<redis::Subscriber>(
      so, [this](absl::string_view, absl::string_view payload) {
        OnMessage(payload);
      });
  UTM_RETURN_IF_ERROR(subscriber_->Start());
  publish_thread_ = std::thread([this] { PublishLoop(); });
  if (!subscriber_->WaitSubscribed(options_.redis.connect_timeout +
                                   options_.redis.command_timeout)) {
    return absl::UnavailableError(
        absl::StrCat("Remote ID display cluster: not subscribed yet: ",
                     subscriber_->last_error()));
  }
  return absl::OkStatus();
}

void DisplayCluster::Stop() {
  if (!started_.load() || stopping_.exchange(true)) return;
  if (subscriber_ != nullptr) subscriber_->Stop();
  {
    absl::MutexLock lock(&mu_);  // wakes the publisher
  }
  if (publish_thread_.joinable()) publish_thread_.join();
}

bool DisplayCluster::healthy() const {
  return subscriber_ != nullptr && subscriber_->subscribed();
}

DisplayCluster::Stats DisplayCluster::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

size_t DisplayCluster::pending() const {
  absl::MutexLock lock(&mu_);
  return static_cast<size_t>(queued_ + in_flight_);
}

DisplayCluster::Outgoing& DisplayCluster::OpenLocked(int64_t inputs) {
  if (queued_ == 0) first_queued_ = absl::Now();
  if (queue_.empty() ||
      queue_.back().inputs + inputs > options_.max_inputs_per_message) {
    queue_.emplace_back();
  }
  queued_ += inputs;
  stats_.inputs_queued += inputs;
  // Live data: a newer state of the same aircraft follows within seconds.
  while (queued_ > static_cast<int64_t>(options_.max_queued_inputs) &&
         queue_.size() > 1) {
    queued_ -= queue_.front().inputs;
    stats_.inputs_dropped += queue_.front().inputs;
    queue_.pop_front();
  }
  Outgoing& out = queue_.back();
  out.inputs += inputs;
  return out;
}

void DisplayCluster::OnNetworkReport(const std::string& operator_id,
                                     const v1::PositionReport& report) {
  if (stopping_.load()) return;
  absl::MutexLock lock(&mu_);
  internal::DisplayBatch& batch = OpenLocked(1).batch;
  if (batch.reports_size() == 0 ||
      batch.reports(batch.reports_size() - 1).operator_id() != operator_id) {
    batch.add_reports()->set_operator_id(operator_id);
  }
  *batch.mutable_reports(batch.reports_size() - 1)->add_reports() = report;
}

void DisplayCluster::OnPublish(const std::string& account,
                               const v1::PublishFlightsRequest& request) {
  if (stopping_.load()) return;
  int64_t states = 0;
  for (const v1::PublishedFlight& f : request.flights()) {
    states += f.states_size();
  }
  absl::MutexLock lock(&mu_);
  internal::DisplayPublication* p =
      OpenLocked(std::max<int64_t>(states, 1)).batch.add_publications();
  p->set_account(account);
  *p->mutable_request() = request;
}

void DisplayCluster::OnBroadcast(const BroadcastFix& fix) {
  if (stopping_.load()) return;
  internal::DisplayReception r = ToReception(fix);
  absl::MutexLock lock(&mu_);
  *OpenLocked(1).batch.add_receptions() = std::move(r);
}

void DisplayCluster::OnMessage(absl::string_view payload) {
  internal::DisplayBatch batch;
  if (!batch.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    absl::MutexLock lock(&mu_);
    ++stats_.bad_messages;
    return;
  }
  // This replica's own inputs were applied when its clients brought them.
  if (batch.from_member() == options_.member_id) return;
  int64_t received = 0, refused = 0;
  for (const internal::DisplayReports& group : batch.reports()) {
    for (const v1::PositionReport& r : group.reports()) {
      core_->AddNetworkReport(group.operator_id(), r, Origin::kReplica);
    }
    received += group.reports_size();
  }
  for (const internal::DisplayPublication& p : batch.publications()) {
    ++received;
    if (!core_->Publish(p.account(), p.request(), Origin::kReplica).ok()) {
      ++refused;
    }
  }
  for (const internal::DisplayReception& r : batch.receptions()) {
    ++received;
    absl::StatusOr<BroadcastFix> fix = FromReception(r);
    if (!fix.ok()) {
      ++refused;
      continue;
    }
    core_->AddBroadcast(*fix, Origin::kReplica);
  }
  absl::MutexLock lock(&mu_);
  stats_.inputs_received += received;
  stats_.inputs_refused += refused;
}

void DisplayCluster::PublishLoop() {
  while (!stopping_.load()) {
    {
      absl::MutexLock lock(&mu_);
      // absl re-evaluates a condition whenever the mutex is released, so the
      // first input of a window, or Stop(), wakes the loop.
      auto opened = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_.load() || queued_ > 0;
      };
      mu_.AwaitWithTimeout(absl::Condition(&opened), absl::Milliseconds(100));
      if (queued_ == 0) continue;
      // The window closes (or Stop() comes).
      auto stopping = [this] { return stopping_.load(); };
      mu_.AwaitWithDeadline(absl::Condition(&stopping),
                            first_queued_ + options_.batch_window);
    }
    if (stopping_.load()) break;
    Flush();
  }
}

void DisplayCluster::Flush() {
  std::deque<Outgoing> taken;
  int64_t inputs = 0;
  {
    absl::MutexLock lock(&mu_);
    taken.swap(queue_);
    inputs = queued_;
    in_flight_ += inputs;
    queued_ = 0;
  }
  std::vector<std::vector<std::string>> commands;
  std::vector<int64_t> inputs_in;
  commands.reserve(taken.size());
  for (Outgoing& out : taken) {
    out.batch.set_from_member(options_.member_id);
    commands.push_back(
        {"PUBLISH", options_.channel, out.batch.SerializeAsString()});
    inputs_in.push_back(out.inputs);
  }
  absl::StatusOr<std::vector<redis::Reply>> replies =
      commands.empty()
          ? std::vector<redis::Reply>()
          : redis::PipelineRetryingOnce(options_.redis, &publisher_, commands);
  absl::MutexLock lock(&mu_);
  in_flight_ -= inputs;
  if (!replies.ok()) {
    stats_.publish_failures += inputs;
    return;
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    const redis::Reply& r = (*replies)[i];
    if (r.is_error()) {
      stats_.publish_failures += inputs_in[i];
      continue;
    }
    ++stats_.messages_published;
    stats_.inputs_published += inputs_in[i];
    stats_.inputs_delivered += inputs_in[i] * r.integer;
  }
}

}  // namespace utm::remoteid
