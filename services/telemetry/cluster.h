// The telemetry tier across replicas: one TelemetryCore per replica, each
// holding the live picture of the regions it owns (regions.h) and a halo
// around them, and Redis Pub/Sub between them. Live positions never go
// through Redis storage; the only Redis key is the member set
// (membership.h).
//
// - Routing. A valid report a client sends to any replica goes to the owner
//   of its region and of every region within `reach_m` of it (its own core
//   directly, the others on their channel "utm:tele:<member id>"),
//   coalesced per destination for `batch_window` into one ForwardBatch
//   (proto/utm/internal/telemetry_cluster.proto). A forwarded report is
//   ingested by the receiving core as is and never forwarded again (its
//   registration was checked, before routing, by the replica the client
//   sent it to; see TelemetryCore::SetRegistrationChecker). The queue per
//   destination is bounded: when full, the oldest report is dropped and
//   counted (live data: a newer report of the same aircraft follows within
//   a second).
// - Alerting once. Each core evaluates every pair and aircraft it holds,
//   but raises an alert only where ReplicaScope::Raises says: a pair by the
//   owner of AlertingRegion(a, region(a), b, region(b)), one aircraft by the
//   owner of its region — a REGISTRATION_REVOKED too, though every
//   replica's registry observer tells its core of the revocation. Ids are
//   deterministic (AlertIdFor), and a core that takes over an episode (an
//   owner left, an aircraft crossed a border) reuses the id and raise time
//   of the episode open in the alert feed.
// - Alert feed. Every raised change is routed to this replica's streams
//   (the sink) and published on "utm:tele:alerts"; every replica routes the
//   changes of the others to its streams, each change once (by id, state,
//   kind and update time), and keeps the open alerts for new watchers.
//
// Redis down: the member view, and with it region ownership, stays as it
// was; reports for this replica's own regions are still ingested and
// alerted, reports for other replicas' regions are dropped (counted in
// stats().publish_failures), remote alerts stop arriving. Routing resumes
// by itself when Redis is back (the subscriber resubscribes, the client
// reconnects, the lease is renewed).
//
// Thread-safe. Lifetime: construct after the core, Start(), and Stop()
// before the core and the sink's target go away; the core keeps a pointer
// to the cluster (its ReplicaScope), so the cluster outlives every call
// into the core.
//
// Typical usage (what utmd wires):
//   TelemetryCore core(telemetry_options, clock, &airspace);
//   ClusterOptions options;
//   options.redis.addr = "redis:6379";
//   options.member_id = absl::StrCat(hostname, ":", port);
//   TelemetryCluster cluster(options, &core, clock);
//   TelemetryService service(&core, verifier, clock);
//   service.UseCluster(&cluster);   // sets the sink, before Start
//   UTM_RETURN_IF_ERROR(cluster.Start());
//   ... serve; TelemetryTicker ticks the service, which ticks the cluster ...
//   service.EndStreams(); cluster.Stop();
#ifndef UTM_SERVICES_TELEMETRY_CLUSTER_H_
#define UTM_SERVICES_TELEMETRY_CLUSTER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/redis/redis_client.h"
#include "services/common/redis/redis_subscriber.h"
#include "services/telemetry/membership.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::telemetry {

struct ClusterOptions {
  // Redis (addr or sentinels, AUTH, timeouts).
  redis::ClientOptions redis;
  // This replica's id, unique per process start. REQUIRES: as
  // MembershipOptions::member_id.
  std::string member_id;
  // How far around a report it is forwarded, metres. DEFAULT: 0, meaning
  // RegionReachM(max_speed_mps, separation) + max_speed_mps·report_gap of
  // the core's options (3,150 m by default): two aircraft within the speed
  // limit that can lose separation within the look-ahead are within it of
  // each other even when one's latest report is a report gap older.
  double reach_m = 0;
  // Reports to one replica wait at most this long to share a message.
  // DEFAULT: 20 ms.
  absl::Duration batch_window = absl::Milliseconds(20);
  // Reports waiting per destination; the oldest is dropped beyond it.
  // DEFAULT: 100,000.
  size_t max_queued_reports = 100000;
  // Alert changes waiting to be published; the oldest is dropped beyond it
  // (the local streams got it already). DEFAULT: 100,000.
  size_t max_queued_alerts = 100000;
  // Membership renewal and lease (membership.h). DEFAULT: 500 ms, 3 s.
  absl::Duration refresh = absl::Milliseconds(500);
  absl::Duration lease = absl::Seconds(3);
  // Channel names: "<prefix><member id>" and "<prefix>alerts"; the member
  // set's key. DEFAULT: "utm:tele:", "{tele}:members".
  std::string channel_prefix = "utm:tele:";
  std::string members_key = "{tele}:members";
};

class TelemetryCluster final : public ReplicaScope {
 public:
  // Where alert changes for this replica's streams go (the service's
  // Route). Called without the cluster's lock, from the threads that
  // ingest and from the subscriber's thread.
  using AlertSink = std::function<void(const std::vector<AlertChange>&)>;

  // `core` and `clock` are not owned and must outlive the cluster; the
  // cluster makes itself the core's ReplicaScope.
  TelemetryCluster(ClusterOptions options, TelemetryCore* core,
                   const Clock* clock);
  ~TelemetryCluster() override;  // Stop()

  // Before Start(). DEFAULT: alerts for this replica are dropped.
  void SetAlertSink(AlertSink sink);

  // Checks the options (INVALID_ARGUMENT naming the field), subscribes to
  // this replica's channel and the alert feed (waiting at most
  // connect_timeout + command_timeout), starts publishing, then joins the
  // member set. UNAVAILABLE when Redis cannot be reached: the replica still
  // runs (alone in its view) and keeps trying. FAILED_PRECONDITION when
  // already started.
  absl::Status Start();
  // Leaves the member set (its regions move to the others at once), stops
  // subscribing and publishing (what waits is dropped). Idempotent.
  void Stop();

  // Routes changes this replica's core raised: to the sink and to the
  // alert feed. The service calls it with what TelemetryCore::Ingest
  // returns.
  void Emit(const std::vector<AlertChange>& changes);
  // The core's Tick() (lost links, retirements), emitted; forgets open
  // alerts of the feed not updated for the core's retire_after. Call about
  // once a second.
  void Tick();
  // Every open alert this replica knows of: raised here or by another
  // replica (for a new watcher's first batch).
  std::vector<AlertChange> OpenAlerts() const;

  // The live members as last seen, sorted; this one included.
  std::vector<std::string> members() const;
  // Redis reachable (membership renewed within the lease, subscribed).
  bool healthy() const;
  const std::string& member_id() const { return options_.member_id; }
  double reach_m() const { return reach_m_; }

  struct Stats {
    int64_t reports_routed = 0;     // valid client reports offered by the core
    int64_t reports_kept = 0;       // of those, kept by this core
    int64_t reports_forwarded = 0;  // copies queued for other replicas
    int64_t reports_dropped = 0;    // oldest dropped from a full queue
    int64_t reports_published = 0;  // copies published
    int64_t reports_unheard = 0;    // published to a channel nobody heard
    // Reports times the replicas that heard them (PUBLISH's answer).
    int64_t reports_delivered = 0;
    int64_t publish_failures = 0;   // reports lost to a Redis error
    int64_t messages_published = 0;
    int64_t forwarded_ingested = 0;  // reports received from others
    int64_t forwarded_refused = 0;   // of those, refused by the core
    int64_t alerts_published = 0;
    // Alert changes times the replicas that heard them, this one included.
    int64_t alerts_delivered = 0;
    // Alert changes read from the feed, this replica's own included.
    int64_t alerts_received = 0;
    int64_t alerts_routed = 0;    // to the sink, each once
    int64_t bad_messages = 0;     // unparseable Pub/Sub payloads
  };
  Stats stats() const;
  // Reports and alert changes waiting to be published or being published.
  size_t pending() const;

  // ReplicaScope.
  bool Route(const std::string& operator_id, const v1::PositionReport& report,
             const geo::LatLng& position, absl::Time received) override;
  bool Raises(const std::vector<std::pair<absl::string_view, geo::LatLng>>&
                  aircraft) const override;
  std::optional<Episode> OpenEpisode(const std::string& key) const override;

 private:
  struct Pending {
    std::string operator_id;
    absl::Time received;
    v1::PositionReport report;
  };
  struct Queue {
    std::deque<Pending> reports;
    absl::Time first_enqueued;  // real time, for the batch window
  };

  void OnMessage(absl::string_view channel, absl::string_view payload);
  // Records and routes the changes not seen before; `publish`: also queue
  // them for the feed.
  void Accept(std::vector<AlertChange> changes, bool publish);
  void PublishLoop();
  // Publishes what is due (every report queue past its window, or all of
  // them along with alerts).
  void Flush();

  const ClusterOptions options_;
  TelemetryCore* const core_;
  const Clock* const clock_;
  const double reach_m_;
  const absl::Duration forget_after_;
  const std::string own_channel_;
  const std::string alerts_channel_;
  AlertSink sink_;

  Membership membership_;
  std::unique_ptr<redis::Subscriber> subscriber_;
  std::unique_ptr<redis::Client> publisher_;  // the publishing thread's

  std::thread publish_thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  mutable absl::Mutex queue_mu_;
  absl::flat_hash_map<std::string, Queue> queues_ ABSL_GUARDED_BY(queue_mu_);
  std::deque<AlertChange> alert_queue_ ABSL_GUARDED_BY(queue_mu_);
  size_t in_flight_ ABSL_GUARDED_BY(queue_mu_) = 0;  // taken by Flush

  mutable absl::Mutex alerts_mu_;
  // Open alerts by key (the latest change of each), from here and the feed.
  absl::flat_hash_map<std::string, AlertChange> open_
      ABSL_GUARDED_BY(alerts_mu_);
  // Changes already routed, by id, state, kind and update time; the oldest
  // are forgotten past a bound.
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(alerts_mu_);
  std::deque<std::string> seen_order_ ABSL_GUARDED_BY(alerts_mu_);

  mutable absl::Mutex stats_mu_;
  Stats stats_ ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_CLUSTER_H_
