#include "services/telemetry/cluster.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/regions.h"
#include "utm/internal/telemetry_cluster.pb.h"

namespace utm::telemetry {
namespace {

// Changes remembered for deduplication: far more than replicas raise
// between two updates of one alert.
constexpr size_t kSeenBound = 200000;
// Reports per published message: bounds a message (~100 bytes a report).
constexpr int kMaxReportsPerMessage = 2000;

double DefaultReach(const TelemetryOptions& o) {
  return RegionReachM(o.max_speed_mps, o.separation) +
         o.max_speed_mps * absl::ToDoubleSeconds(o.report_gap);
}

std::string SeenKey(const v1::Alert& a) {
  return absl::StrCat(a.id(), "/", a.state(), "/", a.kind(), "/",
                      a.update_time().seconds(), ".", a.update_time().nanos());
}

MembershipOptions MembershipOf(const ClusterOptions& o) {
  MembershipOptions m;
  m.redis = o.redis;
  m.member_id = o.member_id;
  m.key = o.members_key;
  m.refresh = o.refresh;
  m.lease = o.lease;
  return m;
}

}  // namespace

TelemetryCluster::TelemetryCluster(ClusterOptions options, TelemetryCore* core,
                                   const Clock* clock)
    : options_(std::move(options)),
      core_(core),
      clock_(clock),
      reach_m_(options_.reach_m > 0 ? options_.reach_m
                                    : DefaultReach(core->options())),
      forget_after_(core->options().retire_after +
                    core->options().update_interval),
      own_channel_(absl::StrCat(options_.channel_prefix, options_.member_id)),
      alerts_channel_(absl::StrCat(options_.channel_prefix, "alerts")),
      membership_(MembershipOf(options_)) {
  core_->SetReplicaScope(this);
}

TelemetryCluster::~TelemetryCluster() { Stop(); }

void TelemetryCluster::SetAlertSink(AlertSink sink) { sink_ = std::move(sink); }

absl::Status TelemetryCluster::Start() {
  UTM_RETURN_IF_ERROR(CheckMemberId(options_.member_id));
  if (options_.member_id == "alerts") {
    return absl::InvalidArgumentError(
        "member_id: \"alerts\" names the alert feed's channel");
  }
  if (options_.batch_window < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("batch_window: negative");
  }
  if (options_.max_queued_reports == 0 || options_.max_queued_alerts == 0) {
    return absl::InvalidArgumentError(
        "max_queued_reports, max_queued_alerts: must be positive");
  }
  if (options_.refresh <= absl::ZeroDuration() ||
      options_.lease < 2 * options_.refresh) {
    return absl::InvalidArgumentError(
        "lease: must be at least twice refresh, which must be positive");
  }
  if (options_.redis.sentinels.empty()) {
    UTM_RETURN_IF_ERROR(
        redis::ParseHostPort(options_.redis.addr, "redis.addr").status());
  }
  if (started_.exchange(true)) {
    return absl::FailedPreconditionError("cluster already started");
  }
  // Subscribed first, then a member: reports routed here as soon as the
  // others see this replica must find it listening.
  redis::SubscriberOptions so;
  so.client = options_.redis;
  so.channels = {own_channel_, alerts_channel_};
  subscriber_ = std::make_unique<redis::Subscriber>(
      so, [this](absl::string_view channel, absl::string_view payload) {
        OnMessage(channel, payload);
      });
  UTM_RETURN_IF_ERROR(subscriber_->Start());
  publish_thread_ = std::thread([this] { PublishLoop(); });
  const bool subscribed = subscriber_->WaitSubscribed(
      options_.redis.connect_timeout + options_.redis.command_timeout);
  // Joins (or, with Redis unreachable, keeps trying on its thread).
  UTM_RETURN_IF_ERROR(membership_.Start());
  if (!subscribed) {
    return absl::UnavailableError(absl::StrCat(
        "telemetry cluster: not subscribed yet: ", subscriber_->last_error()));
  }
  return absl::OkStatus();
}

void TelemetryCluster::Stop() {
  if (!started_.load() || stopping_.exchange(true)) return;
  membership_.Stop();
  if (subscriber_ != nullptr) subscriber_->Stop();
  {
    absl::MutexLock lock(&queue_mu_);  // wakes the publisher
  }
  if (publish_thread_.joinable()) publish_thread_.join();
}

bool TelemetryCluster::Route(const std::string& operator_id,
                             const v1::PositionReport& report,
                             const geo::LatLng& position, absl::Time received) {
  const std::shared_ptr<const std::vector<std::string>> view =
      membership_.view();
  bool keep = false;
  // Distinct destinations of this report (a handful at most).
  std::vector<std::string> to;
  for (uint64_t region : RegionsWithin(position, reach_m_)) {
    std::string owner = OwnerOf(region, *view);
    if (owner == options_.member_id) {
      keep = true;
    } else if (std::find(to.begin(), to.end(), owner) == to.end()) {
      to.push_back(std::move(owner));
    }
  }
  int64_t dropped = 0;
  if (!to.empty()) {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&queue_mu_);
    for (const std::string& member : to) {
      Queue& q = queues_[member];
      if (q.reports.empty()) q.first_enqueued = now;
      if (q.reports.size() >= options_.max_queued_reports) {
        q.reports.pop_front();
        ++dropped;
      }
      Pending& p = q.reports.emplace_back();
      p.operator_id = operator_id;
      p.received = received;
      p.report = report;
    }
  }
  absl::MutexLock lock(&stats_mu_);
  ++stats_.reports_routed;
  if (keep) ++stats_.reports_kept;
  stats_.reports_forwarded += static_cast<int64_t>(to.size());
  stats_.reports_dropped += dropped;
  return keep;
}

bool TelemetryCluster::Raises(
    const std::vector<std::pair<absl::string_view, geo::LatLng>>& aircraft)
    const {
  if (aircraft.empty()) return false;
  uint64_t region = RegionOf(aircraft[0].second);
  if (aircraft.size() == 2) {
    region = AlertingRegion(aircraft[0].first, region, aircraft[1].first,
                            RegionOf(aircraft[1].second));
  }
  return OwnerOf(region, *membership_.view()) == options_.member_id;
}

std::optional<ReplicaScope::Episode> TelemetryCluster::OpenEpisode(
    const std::string& key) const {
  absl::MutexLock lock(&alerts_mu_);
  auto it = open_.find(key);
  if (it == open_.end()) return std::nullopt;
  Episode e;
  e.id = it->second.alert.id();
  e.raise_time = it->second.alert.raise_time();
  e.update_time = it->second.alert.update_time();
  return e;
}

void TelemetryCluster::Emit(const std::vector<AlertChange>& changes) {
  if (changes.empty()) return;
  Accept(changes, /*publish=*/true);
}

void TelemetryCluster::Accept(std::vector<AlertChange> changes, bool publish) {
  std::vector<AlertChange> fresh;
  fresh.reserve(changes.size());
  {
    absl::MutexLock lock(&alerts_mu_);
    for (AlertChange& c : changes) {
      std::string seen = SeenKey(c.alert);
      if (!seen_.insert(seen).second) continue;
      seen_order_.push_back(std::move(seen));
      if (seen_order_.size() > kSeenBound) {
        seen_.erase(seen_order_.front());
        seen_order_.pop_front();
      }
      if (c.alert.state() == v1::ALERT_STATE_CLEARED) {
        auto it = open_.find(c.key);
        // A CLEARED of an older episode must not forget a newer one.
        if (it != open_.end() && it->second.alert.id() == c.alert.id()) {
          open_.erase(it);
        }
      } else {
        open_[c.key] = c;
      }
      fresh.push_back(std::move(c));
    }
  }
  if (fresh.empty()) return;
  int64_t queued_dropped = 0;
  if (publish) {
    absl::MutexLock lock(&queue_mu_);
    for (const AlertChange& c : fresh) {
      if (alert_queue_.size() >= options_.max_queued_alerts) {
        alert_queue_.pop_front();
        ++queued_dropped;
      }
      alert_queue_.push_back(c);
    }
  }
  {
    absl::MutexLock lock(&stats_mu_);
    stats_.alerts_routed += static_cast<int64_t>(fresh.size());
    stats_.publish_failures += queued_dropped;
  }
  if (sink_) sink_(fresh);
}

void TelemetryCluster::Tick() {
  Emit(core_->Tick());
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&alerts_mu_);
  for (auto it = open_.begin(); it != open_.end();) {
    absl::StatusOr<absl::Time> t =
        TimeFromProto(it->second.alert.update_time(), "update_time");
    if (!t.ok() || now - *t > forget_after_) {
      open_.erase(it++);
    } else {
      ++it;
    }
  }
}

std::vector<AlertChange> TelemetryCluster::OpenAlerts() const {
  absl::MutexLock lock(&alerts_mu_);
  std::vector<AlertChange> out;
  out.reserve(open_.size());
  for (const auto& [key, change] : open_) out.push_back(change);
  return out;
}

size_t TelemetryCluster::pending() const {
  absl::MutexLock lock(&queue_mu_);
  size_t n = alert_queue_.size() + in_flight_;
  for (const auto& [member, q] : queues_) n += q.reports.size();
  return n;
}

std::vector<std::string> TelemetryCluster::members() const {
  return *membership_.view();
}

bool TelemetryCluster::healthy() const {
  return membership_.healthy() && subscriber_ != nullptr &&
         subscriber_->subscribed();
}

TelemetryCluster::Stats TelemetryCluster::stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

void TelemetryCluster::OnMessage(absl::string_view channel,
                                 absl::string_view payload) {
  if (channel == alerts_channel_) {
    internal::ReplicaAlerts msg;
    if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      absl::MutexLock lock(&stats_mu_);
      ++stats_.bad_messages;
      return;
    }
    {
      absl::MutexLock lock(&stats_mu_);
      stats_.alerts_received += msg.alerts_size();
    }
    // This replica's own changes were routed when raised.
    if (msg.from_member() == options_.member_id) return;
    std::vector<AlertChange> changes;
    changes.reserve(msg.alerts_size());
    for (internal::ReplicaAlert& a : *msg.mutable_alerts()) {
      AlertChange& c = changes.emplace_back();
      c.key = std::move(*a.mutable_key());
      c.alert = std::move(*a.mutable_alert());
      c.operators.assign(a.operators().begin(), a.operators().end());
      const int n =
          std::min(a.aircraft_operators_size(), a.aircraft_ids_size());
      for (int i = 0; i < n; ++i) {
        c.aircraft.emplace_back(a.aircraft_operators(i), a.aircraft_ids(i));
      }
    }
    Accept(std::move(changes), /*publish=*/false);
    return;
  }
  internal::ForwardBatch batch;
  if (!batch.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    absl::MutexLock lock(&stats_mu_);
    ++stats_.bad_messages;
    return;
  }
  int64_t ingested = 0, refused = 0;
  for (const internal::ForwardedReports& group : batch.groups()) {
    TelemetryCore::Result r =
        core_->IngestForwarded(group.operator_id(), group.reports());
    ingested += group.reports_size();
    refused += static_cast<int64_t>(r.errors.size());
    Emit(r.alerts);
  }
  absl::MutexLock lock(&stats_mu_);
  stats_.forwarded_ingested += ingested;
  stats_.forwarded_refused += refused;
}

void TelemetryCluster::PublishLoop() {
  while (!stopping_.load()) {
    {
      absl::MutexLock lock(&queue_mu_);
      // The earliest end of a batch window; absl re-evaluates the condition
      // whenever the mutex is released, so an alert, or a report opening an
      // earlier window, wakes the loop.
      auto earliest = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        absl::Time t = absl::InfiniteFuture();
        for (const auto& [member, q] : queues_) {
          if (!q.reports.empty()) {
            t = std::min(t, q.first_enqueued + options_.batch_window);
          }
        }
        return t;
      };
      const absl::Time deadline = earliest();
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return stopping_.load() || !alert_queue_.empty() ||
               earliest() < deadline || absl::Now() >= deadline;
      };
      queue_mu_.AwaitWithDeadline(
          absl::Condition(&ready),
          std::min(deadline, absl::Now() + absl::Milliseconds(100)));
      const bool due = !alert_queue_.empty() || absl::Now() >= earliest();
      if (!due) continue;
    }
    if (stopping_.load()) break;
    Flush();
  }
}

void TelemetryCluster::Flush() {
  std::vector<std::pair<std::string, std::deque<Pending>>> due;
  std::deque<AlertChange> alerts;
  {
    absl::MutexLock lock(&queue_mu_);
    const absl::Time now = absl::Now();
    for (auto& [member, q] : queues_) {
      if (!q.reports.empty() &&
          (now - q.first_enqueued >= options_.batch_window ||
           !alert_queue_.empty())) {
        due.emplace_back(member, std::move(q.reports));
        q.reports.clear();
      }
    }
    alerts.swap(alert_queue_);
    for (const auto& [member, pending] : due) in_flight_ += pending.size();
    in_flight_ += alerts.size();
  }
  const size_t taken = [&] {
    size_t n = alerts.size();
    for (const auto& [member, pending] : due) n += pending.size();
    return n;
  }();
  std::vector<std::vector<std::string>> commands;
  std::vector<int64_t> reports_in;  // per command, 0 for alerts
  for (auto& [member, pending] : due) {
    size_t i = 0;
    while (i < pending.size()) {
      internal::ForwardBatch batch;
      batch.set_from_member(options_.member_id);
      int n = 0;
      internal::ForwardedReports* group = nullptr;
      for (; i < pending.size() && n < kMaxReportsPerMessage; ++i, ++n) {
        Pending& p = pending[i];
        if (group == nullptr || group->operator_id() != p.operator_id) {
          group = batch.add_groups();
          group->set_operator_id(p.operator_id);
          *group->mutable_received() = TimeToProto(p.received);
        }
        *group->add_reports() = std::move(p.report);
      }
      commands.push_back({"PUBLISH",
                          absl::StrCat(options_.channel_prefix, member),
                          batch.SerializeAsString()});
      reports_in.push_back(n);
    }
  }
  if (!alerts.empty()) {
    internal::ReplicaAlerts msg;
    msg.set_from_member(options_.member_id);
    for (const AlertChange& c : alerts) {
      internal::ReplicaAlert* a = msg.add_alerts();
      a->set_key(c.key);
      *a->mutable_alert() = c.alert;
      for (const std::string& op : c.operators) a->add_operators(op);
      for (const auto& [op, id] : c.aircraft) {
        a->add_aircraft_operators(op);
        a->add_aircraft_ids(id);
      }
    }
    commands.push_back({"PUBLISH", alerts_channel_, msg.SerializeAsString()});
    reports_in.push_back(0);
  }
  struct Done {  // whatever happens, the taken changes are no longer pending
    TelemetryCluster* self;
    size_t n;
    ~Done() {
      absl::MutexLock lock(&self->queue_mu_);
      self->in_flight_ -= n;
    }
  } done{this, taken};
  if (commands.empty()) return;
  // A message published twice is harmless: a report is ingested again at
  // the same time, an alert change deduped.
  absl::StatusOr<std::vector<redis::Reply>> replies =
      redis::PipelineRetryingOnce(options_.redis, &publisher_, commands);
  absl::MutexLock lock(&stats_mu_);
  if (!replies.ok()) {
    for (size_t i = 0; i < commands.size(); ++i) {
      stats_.publish_failures += reports_in[i] > 0 ? reports_in[i] : 0;
    }
    stats_.publish_failures += static_cast<int64_t>(alerts.size());
    return;
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    const redis::Reply& r = (*replies)[i];
    const bool heard = !r.is_error() && r.integer > 0;
    ++stats_.messages_published;
    const int64_t receivers = r.is_error() ? 0 : r.integer;
    if (reports_in[i] > 0) {
      stats_.reports_published += reports_in[i];
      stats_.reports_delivered += reports_in[i] * receivers;
      if (!heard) stats_.reports_unheard += reports_in[i];
    } else {
      const int64_t n = static_cast<int64_t>(alerts.size());
      stats_.alerts_published += n;
      stats_.alerts_delivered += n * receivers;
    }
  }
}

}  // namespace utm::telemetry
