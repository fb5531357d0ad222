// The Remote ID display across replicas: every replica's RemoteIdCore holds
// the whole picture, so a display client, a police officer asking for
// details, or a receiver's broadcast matched against the participants' own
// reports gets the same answer whichever replica it reaches.
//
// What a replica's clients bring and its core keeps (position reports
// through telemetry, providers' published flights, receivers' broadcast
// states) the core offers here (DisplayReplicator); it is coalesced for
// `batch_window` into one DisplayBatch (proto/utm/internal/
// remoteid_cluster.proto) and published on one Redis Pub/Sub channel that
// every replica subscribes to. Each replica applies the others' batches to
// its core as Origin::kReplica inputs, which are shown but never offered
// again. Nothing goes to Redis storage: the display is near-real-time data
// (60 s shown, identities kept at most details_retention), and every replica
// expires it by the same rules. Applying is idempotent (a state not newer
// than a flight's latest changes nothing), so a batch published twice after
// a reconnect is harmless.
//
// Why the whole picture on every replica rather than regions: a view is at
// most 7 km across and a replica answers it from memory with no fan-out; a
// participant's broadcast heard by a receiver on one replica must meet its
// network reports that reached another, or it would be shown twice and
// taken for an intruder to itself. The cost is that every replica applies
// every input (docs/benchmarks.md, "Remote ID across replicas").
//
// Redis down: each replica shows what its own clients bring, and what the
// others published while it was down is not replayed (Pub/Sub is
// fire-and-forget); the picture is whole again within one report period of
// every aircraft once Redis is back (the subscriber resubscribes, the
// publisher reconnects). Inputs waiting to be published are bounded: the
// oldest are dropped beyond max_queued_inputs (counted).
//
// Thread-safe. Lifetime: construct after the core (it makes itself the
// core's replicator), Start(), and Stop() before the core goes.
//
// Typical usage (what utmd wires):
//   RemoteIdCore core(rid_options, clock);
//   DisplayClusterOptions options;
//   options.redis.addr = "redis:6379";
//   options.member_id = absl::StrCat(hostname, ":", port);
//   DisplayCluster cluster(options, &core);
//   UTM_RETURN_IF_ERROR(cluster.Start());
//   ... serve ...
//   cluster.Stop();
#ifndef UTM_SERVICES_REMOTEID_DISPLAY_CLUSTER_H_
#define UTM_SERVICES_REMOTEID_DISPLAY_CLUSTER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_client.h"
#include "services/common/redis/redis_subscriber.h"
#include "services/remoteid/remoteid_core.h"
#include "utm/internal/remoteid_cluster.pb.h"

namespace utm::remoteid {

struct DisplayClusterOptions {
  // Redis (addr or sentinels, AUTH, timeouts).
  redis::ClientOptions redis;
  // This replica's id, unique per process start (a replica skips its own
  // batches by it). REQUIRES: not empty.
  std::string member_id;
  // Inputs wait at most this long to share a message. DEFAULT: 20 ms.
  absl::Duration batch_window = absl::Milliseconds(20);
  // Inputs (reports, published states, receptions) waiting to be
  // published; the oldest message's worth is dropped beyond it.
  // DEFAULT: 200,000 (two seconds of 100,000 reports a second).
  size_t max_queued_inputs = 200000;
  // Inputs per published message: bounds a message. DEFAULT: 2,000.
  int max_inputs_per_message = 2000;
  // The channel every replica publishes on and subscribes to.
  // DEFAULT: "utm:rid:display".
  std::string channel = "utm:rid:display";
};

class DisplayCluster final : public DisplayReplicator {
 public:
  // `core` is not owned and must outlive the cluster; the cluster makes
  // itself the core's replicator.
  DisplayCluster(DisplayClusterOptions options, RemoteIdCore* core);
  ~DisplayCluster() override;  // Stop()

  // Checks the options (INVALID_ARGUMENT naming the field), subscribes
  // (waiting at most connect_timeout + command_timeout) and starts
  // publishing. UNAVAILABLE when Redis cannot be reached: the replica still
  // runs, showing its own clients' inputs, and keeps trying.
  // FAILED_PRECONDITION when already started.
  absl::Status Start();
  // Stops subscribing and publishing (what waits is dropped). Idempotent.
  void Stop();

  // Subscribed to the channel (so the others' inputs arrive).
  bool healthy() const;

  struct Stats {
    int64_t inputs_queued = 0;     // offered by this replica's core
    int64_t inputs_dropped = 0;    // oldest dropped from a full queue
    int64_t inputs_published = 0;  // in messages Redis took
    int64_t publish_failures = 0;  // inputs lost to a Redis error
    int64_t messages_published = 0;
    // Inputs times the replicas that heard them, this one included.
    int64_t inputs_delivered = 0;
    int64_t inputs_received = 0;  // from the other replicas
    int64_t inputs_refused = 0;   // of those, refused by the core
    int64_t bad_messages = 0;     // unparseable payloads
  };
  Stats stats() const;
  // Inputs waiting to be published or being published.
  size_t pending() const;

  // DisplayReplicator.
  void OnNetworkReport(const std::string& operator_id,
                       const v1::PositionReport& report) override;
  void OnPublish(const std::string& account,
                 const v1::PublishFlightsRequest& request) override;
  void OnBroadcast(const BroadcastFix& fix) override;

 private:
  // A message being filled or waiting, and how many inputs it holds.
  struct Outgoing {
    internal::DisplayBatch batch;
    int64_t inputs = 0;
  };

  // The message to add `inputs` to (a new one when the last is full);
  // drops the oldest beyond the bound. Opens the batch window.
  Outgoing& OpenLocked(int64_t inputs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnMessage(absl::string_view payload);
  void PublishLoop();
  void Flush();

  const DisplayClusterOptions options_;
  RemoteIdCore* const core_;

  std::unique_ptr<redis::Subscriber> subscriber_;
  std::unique_ptr<redis::Client> publisher_;  // the publishing thread's
  std::thread publish_thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  mutable absl::Mutex mu_;
  std::deque<Outgoing> queue_ ABSL_GUARDED_BY(mu_);  // oldest first
  int64_t queued_ ABSL_GUARDED_BY(mu_) = 0;          // inputs in queue_
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;       // taken by Flush
  absl::Time first_queued_ ABSL_GUARDED_BY(mu_);     // real time
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

// A broadcast state as a replica's message carries it, and back
// (INVALID_ARGUMENT for a time outside years 1-9999).
internal::DisplayReception ToReception(const BroadcastFix& fix);
absl::StatusOr<BroadcastFix> FromReception(
    const internal::DisplayReception& reception);

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_DISPLAY_CLUSTER_H_
