// The watchers of constraint changes, shared by every WatchConstraints
// stream: each has an area (indexed, so a change reaches exactly the
// watchers whose areas its volumes meet), a bounded queue of events and a
// `notify` callback. A watcher starts with a snapshot of its area (or, when
// it resumes from a sequence still retained, with the changes it missed),
// then receives live changes as the ChangeFeed delivers them, in sequence
// order, once durable. One that falls `queue_limit` live events behind is
// told to resync and gets a new snapshot when it asks for more; idle ones
// get heartbeats. Events are built once per change and shared by every
// watcher they go to.
//
// Locking. The hub shares the ConstraintCore's mutex `mu` (which guards the
// registry and the feed it reads): its watcher set is guarded by it, and
// it takes `mu` itself where noted. Lock order: `mu`, then a watcher's own
// lock; a watcher's notify lock before its own lock, never under `mu`; the
// notifier's queue lock last. `notify` runs under no lock but the watcher's
// notify lock.
//
// Typical usage (the core):
//   WatchHub hub(options, clock, &mu_, feed, &registry);
//   std::shared_ptr<Watcher> w = hub.Watch(caller.id, area, heartbeat,
//                                          since, notify);
//   ... commit a write, then: hub.Deliver(sequence);
//   while (hub.NextEvent(w.get(), &event)) ...   // the stream
//   hub.Unwatch(w.get());
#ifndef UTM_SERVICES_CONSTRAINT_WATCH_HUB_H_
#define UTM_SERVICES_CONSTRAINT_WATCH_HUB_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "geo/volume_index.h"
#include "services/common/clock.h"
#include "services/constraint/change_feed.h"
#include "services/constraint/constraint_registry.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

// Events are immutable and shared by every watcher they go to.
using EventPtr = std::shared_ptr<const v1::ConstraintEvent>;

// One watch stream's view of the change log.
class Watcher {
 public:
  uint64_t handle = 0;
  std::string caller;
  geo::Volume4D area;
  absl::Duration heartbeat;
  std::function<void()> notify;

  absl::Mutex mu;
  // Events, each with whether it is live (counted against the limit).
  std::deque<std::pair<EventPtr, bool>> queue ABSL_GUARDED_BY(mu);
  size_t live ABSL_GUARDED_BY(mu) = 0;  // live events in `queue`
  // The consumer found the queue empty: notify on the next push.
  bool waiting ABSL_GUARDED_BY(mu) = true;
  bool closed ABSL_GUARDED_BY(mu) = false;
  // Held while `notify` runs, and by Unwatch().
  absl::Mutex notify_mu;
  // Overflowed: live events are dropped until the consumer has read the
  // resync event and received its new snapshot.
  bool resyncing ABSL_GUARDED_BY(mu) = false;
  // The consumer has read the resync event: the next NextEvent() builds the
  // snapshot.
  bool needs_snapshot ABSL_GUARDED_BY(mu) = false;
  absl::Time last_sent ABSL_GUARDED_BY(mu);
  // Changes up to this sequence are already reflected (snapshot or replay);
  // the hub's `mu`.
  int64_t floor = 0;
};

class WatchHub {
 public:
  struct Options {
    // Live events a watcher may have queued before it is told to resync.
    size_t queue_limit = 1024;
    // Whether `notify` runs on a thread of the hub's own (true) or on the
    // thread that delivered (false: deterministic, for tests).
    bool notify_thread = true;
  };

  // None of the pointers is owned; all outlive the hub. `mu` guards
  // `feed` and `registry` (and the hub's watchers).
  WatchHub(Options options, const Clock* clock, absl::Mutex* mu,
           ChangeFeed* feed, const ConstraintRegistry* registry);
  ~WatchHub();  // stops the notifier thread

  // After recovery: every change up to `sequence` counts as delivered.
  // REQUIRES: `mu` held (not annotated: the analysis cannot tell that the
  // core's mu_ and this `mu` are one lock).
  void SetDelivered(int64_t sequence) ABSL_NO_THREAD_SAFETY_ANALYSIS;

  // Replicated mode: the feed the hub reads from now on. REQUIRES: no
  // watcher yet.
  void UseFeed(ChangeFeed* feed) ABSL_LOCKS_EXCLUDED(mu_);
  // Every watcher is told to resync (`reason`) and gets a snapshot once it
  // has read that; every change in the feed counts as delivered. For a
  // feed that was reloaded. Takes `mu`.
  void ResyncAll(v1::ResyncReason reason) ABSL_LOCKS_EXCLUDED(mu_);

  // A new watcher of `area` for `caller_id` (the checked request): the
  // snapshot of the area when `since` is 0, the retained changes after
  // `since` otherwise, or a resync event and the snapshot when `since` is
  // unknown or no longer retained. Takes `mu`.
  std::shared_ptr<Watcher> Watch(const std::string& caller_id,
                                 const geo::Volume4D& area,
                                 absl::Duration heartbeat, int64_t since,
                                 std::function<void()> notify)
      ABSL_LOCKS_EXCLUDED(mu_);
  // As ConstraintCore::NextEvent / Unwatch. May take `mu`.
  bool NextEvent(Watcher* watcher, EventPtr* event) ABSL_LOCKS_EXCLUDED(mu_);
  void Unwatch(Watcher* watcher) ABSL_LOCKS_EXCLUDED(mu_);

  // Hands the feed's changes up to `sequence` (durable by now) to the
  // watchers they concern, trims the feed, then notifies. Takes `mu`.
  void Deliver(int64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);
  // Heartbeats to watchers idle for their interval, then notifies. Takes
  // `mu`.
  void Heartbeat() ABSL_LOCKS_EXCLUDED(mu_);

  size_t watcher_count() const ABSL_LOCKS_EXCLUDED(mu_);

  // The watchers' queues now, for metrics.
  struct QueueStats {
    size_t watchers = 0;
    size_t queued_events = 0;  // over every watcher
    size_t longest_queue = 0;
    size_t resyncing = 0;  // watchers that overflowed and await a snapshot
  };
  QueueStats queue_stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Snapshot(Watcher* watcher) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an event; true when the watcher must be notified (outside mu_).
  bool Push(Watcher* watcher, EventPtr event, bool live)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the watchers' `notify` (never under mu_): on the notifier thread,
  // or here without one.
  void Notify(std::vector<std::shared_ptr<Watcher>> watchers)
      ABSL_LOCKS_EXCLUDED(mu_);
  void NotifyOne(Watcher* watcher);
  void NotifyLoop();

  const Options options_;
  const Clock* const clock_;
  absl::Mutex* const mu_;
  ChangeFeed* feed_ ABSL_PT_GUARDED_BY(mu_);
  const ConstraintRegistry* const registry_ ABSL_PT_GUARDED_BY(mu_);

  // Delivered to watchers up to here.
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  // Watchers by handle, their areas indexed, and their handles by caller.
  absl::flat_hash_map<uint64_t, std::shared_ptr<Watcher>> watchers_
      ABSL_GUARDED_BY(mu_);
  geo::VolumeIndex watcher_index_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, uint64_t> watchers_by_caller_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_ ABSL_GUARDED_BY(mu_) = 1;

  // Watchers to notify, for the notifier thread.
  absl::Mutex notify_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::deque<std::shared_ptr<Watcher>> notify_queue_
      ABSL_GUARDED_BY(notify_mu_);
  bool stopping_ ABSL_GUARDED_BY(notify_mu_) = false;
  std::unique_ptr<std::thread> notifier_;
};

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_WATCH_HUB_H_
