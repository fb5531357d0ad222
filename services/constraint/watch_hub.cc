#include "services/constraint/watch_hub.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "geo/intersect.h"
#include "services/common/volume_convert.h"

namespace utm::constraint {

namespace {

constexpr int kVolumeBits = ConstraintRegistry::kVolumeBits;

// Whether any of `volumes` meets `area`.
bool Meets(const std::vector<geo::Volume4D>& volumes,
           const geo::Volume4D& area) {
  for (const geo::Volume4D& v : volumes) {
    if (geo::Intersect(v, area).has_value()) return true;
  }
  return false;
}

// The event a change makes for a watcher of `area` (called `caller`), if
// any.
template <typename ChangeT, typename ViewFn>
std::optional<v1::ConstraintEvent> Filter(const ChangeT& change,
                                          const geo::Volume4D& area,
                                          const std::string& caller,
                                          const ViewFn& view) {
  v1::ConstraintEvent event;
  event.set_sequence(change.sequence);
  *event.mutable_event_time() = TimeToProto(change.time);
  using Kind = typename ChangeT::Kind;
  switch (change.kind) {
    case Kind::kUpsert:
      if (Meets(change.record->volumes, area)) {
        *event.mutable_upsert() = view(change);
        return event;
      }
      if (Meets(change.volumes, area)) {
        event.mutable_removed()->set_constraint_id(change.constraint_id);
        event.mutable_removed()->set_reason(
            v1::CONSTRAINT_REMOVED_REASON_LEFT_AREA);
        return event;
      }
      return std::nullopt;
    case Kind::kRemoved:
      if (!Meets(change.volumes, area)) return std::nullopt;
      event.mutable_removed()->set_constraint_id(change.constraint_id);
      event.mutable_removed()->set_reason(change.removed_reason);
      return event;
    case Kind::kActivity: {
      if (!Meets(change.volumes, area)) return std::nullopt;
      v1::ConstraintActivityChanged* a = event.mutable_activity_changed();
      a->set_constraint_id(change.constraint_id);
      a->set_active(change.active);
      if (change.next_change != absl::InfiniteFuture()) {
        *a->mutable_next_change_time() = TimeToProto(change.next_change);
      }
      return event;
    }
    case Kind::kAffected: {
      auto it = change.affected.find(caller);
      if (it == change.affected.end()) return std::nullopt;
      v1::IntentsAffected* a = event.mutable_intents_affected();
      a->set_constraint_id(change.constraint_id);
      for (const std::string& id : it->second) a->add_intent_ids(id);
      return event;
    }
  }
  return std::nullopt;
}

// An upsert's constraint, with its activity at the change's time.
template <typename ChangeT>
v1::Constraint UpsertView(const ChangeT& c) {
  v1::Constraint out = c.record->proto;
  out.set_active(c.active);
  return out;
}

}  // namespace

WatchHub::WatchHub(Options options, const Clock* clock, absl::Mutex* mu,
                   ChangeFeed* feed, const ConstraintRegistry* registry)
    : options_(options),
      clock_(clock),
      mu_(mu),
      feed_(feed),
      registry_(registry) {
  if (options_.notify_thread) {
    notifier_ = std::make_unique<std::thread>([this] { NotifyLoop(); });
  }
}

WatchHub::~WatchHub() {
  if (notifier_ != nullptr) {
    {
      absl::MutexLock lock(&notify_mu_);
      stopping_ = true;
    }
    notifier_->join();
  }
}

void WatchHub::SetDelivered(int64_t sequence) { delivered_ = sequence; }

void WatchHub::UseFeed(ChangeFeed* feed) {
  absl::MutexLock lock(mu_);
  feed_ = feed;
  delivered_ = feed->last_sequence();
}

void WatchHub::ResyncAll(v1::ResyncReason reason) {
  std::vector<std::shared_ptr<Watcher>> to_notify;
  {
    absl::MutexLock lock(mu_);
    delivered_ = feed_->last_sequence();
    const absl::Time now = clock_->Now();
    for (const auto& [handle, w] : watchers_) {
      absl::MutexLock wl(&w->mu);
      if (w->closed) continue;
      w->queue.clear();
      w->live = 0;
      w->resyncing = true;
      w->floor = delivered_;
      v1::ConstraintEvent resync;
      resync.set_sequence(delivered_);
      *resync.mutable_event_time() = TimeToProto(now);
      resync.mutable_resync_required()->set_reason(reason);
      w->queue.emplace_back(
          std::make_shared<const v1::ConstraintEvent>(std::move(resync)),
          false);
      if (w->waiting) {
        w->waiting = false;
        to_notify.push_back(w);
      }
    }
  }
  Notify(std::move(to_notify));
}

size_t WatchHub::watcher_count() const {
  absl::ReaderMutexLock lock(mu_);
  return watchers_.size();
}

WatchHub::QueueStats WatchHub::queue_stats() const {
  QueueStats stats;
  absl::ReaderMutexLock lock(mu_);
  stats.watchers = watchers_.size();
  for (const auto& [handle, watcher] : watchers_) {
    absl::MutexLock watcher_lock(&watcher->mu);
    stats.queued_events += watcher->queue.size();
    stats.longest_queue = std::max(stats.longest_queue, watcher->queue.size());
    stats.resyncing += watcher->resyncing ? 1 : 0;
  }
  return stats;
}

bool WatchHub::Push(Watcher* w, EventPtr event, bool live) {
  bool notify = false;
  {
    absl::MutexLock lock(&w->mu);
    if (w->closed) return false;
    if (live && w->resyncing) return false;  // its coming snapshot covers it
    if (live && w->live >= options_.queue_limit) {
      // Too slow: drop what is queued and say so. Nothing more is queued
      // (or built) for it until it has read that; then it gets a snapshot.
      // A stalled watcher therefore costs the others nothing.
      w->queue.clear();
      w->live = 0;
      w->resyncing = true;
      v1::ConstraintEvent resync;
      resync.set_sequence(event->sequence());
      *resync.mutable_event_time() = TimeToProto(clock_->Now());
      resync.mutable_resync_required()->set_reason(
          v1::RESYNC_REASON_WATCHER_TOO_SLOW);
      w->queue.emplace_back(
          std::make_shared<const v1::ConstraintEvent>(std::move(resync)),
          false);
    } else {
      w->queue.emplace_back(std::move(event), live);
      if (live) ++w->live;
    }
    notify = w->waiting;
    w->waiting = false;
  }
  return notify;
}

void WatchHub::Snapshot(Watcher* w) {
  const absl::Time now = clock_->Now();
  const int64_t sequence = std::max(feed_->last_sequence(), w->floor);
  w->floor = sequence;
  std::vector<uint64_t> handles;
  for (geo::VolumeIndex::Id id : registry_->index().Query(w->area)) {
    handles.push_back(id >> kVolumeBits);
  }
  std::sort(handles.begin(), handles.end());
  handles.erase(std::unique(handles.begin(), handles.end()), handles.end());
  std::vector<const Entry*> entries;
  for (uint64_t h : handles) {
    const Entry* e = &registry_->entry(h);
    if (!e->expired) entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return a->record->id() < b->record->id();
  });
  std::vector<v1::ConstraintEvent> events;
  events.reserve(entries.size() + 2);
  auto make = [&]() {
    v1::ConstraintEvent e;
    e.set_sequence(sequence);
    *e.mutable_event_time() = TimeToProto(now);
    return e;
  };
  events.push_back(make());
  events.back().mutable_snapshot_begin();
  for (const Entry* e : entries) {
    events.push_back(make());
    *events.back().mutable_upsert() = View(*e->record, now);
  }
  events.push_back(make());
  events.back().mutable_snapshot_end()->set_count(
      static_cast<int32_t>(entries.size()));
  {
    absl::MutexLock lock(&w->mu);
    if (w->closed) return;
    w->resyncing = false;
    w->needs_snapshot = false;
    for (v1::ConstraintEvent& e : events) {
      w->queue.emplace_back(
          std::make_shared<const v1::ConstraintEvent>(std::move(e)), false);
    }
  }
}

void WatchHub::Deliver(int64_t sequence) {
  std::vector<std::shared_ptr<Watcher>> to_notify;
  {
    absl::MutexLock lock(mu_);
    std::vector<std::shared_ptr<const Change>> pending;
    feed_->Read(delivered_, std::min(sequence, feed_->last_sequence()),
                [&](const std::shared_ptr<const Change>& change) {
                  pending.push_back(change);
                });
    for (const std::shared_ptr<const Change>& change : pending) {
      const int64_t next = change->sequence;
      // One event object per kind, shared by every watcher it goes to (a
      // 10,000-watcher fan-out copies pointers, not constraints); the watcher
      // index answers exactly which areas the volumes meet.
      auto deliver = [&](const std::set<uint64_t>& handles,
                         const EventPtr& event) {
        for (uint64_t handle : handles) {
          const std::shared_ptr<Watcher>& w = watchers_.at(handle);
          if (w->floor < next && Push(w.get(), event, /*live=*/true)) {
            to_notify.push_back(w);
          }
        }
      };
      auto meeting = [&](const std::vector<geo::Volume4D>& volumes) {
        std::set<uint64_t> handles;
        for (const geo::Volume4D& v : volumes) {
          for (geo::VolumeIndex::Id id : watcher_index_.Query(v)) {
            handles.insert(id);
          }
        }
        return handles;
      };
      v1::ConstraintEvent event;
      event.set_sequence(change->sequence);
      *event.mutable_event_time() = TimeToProto(change->time);
      switch (change->kind) {
        case Change::Kind::kAffected:
          for (const auto& [owner, ids] : change->affected) {
            v1::ConstraintEvent personal = event;
            personal.mutable_intents_affected()->set_constraint_id(
                change->constraint_id);
            for (const std::string& id : ids) {
              personal.mutable_intents_affected()->add_intent_ids(id);
            }
            std::set<uint64_t> handles;
            auto [begin, end] = watchers_by_caller_.equal_range(owner);
            for (auto it = begin; it != end; ++it) handles.insert(it->second);
            deliver(handles, std::make_shared<const v1::ConstraintEvent>(
                                 std::move(personal)));
          }
          break;
        case Change::Kind::kUpsert: {
          const std::set<uint64_t> now_in = meeting(change->record->volumes);
          std::set<uint64_t> left;
          for (uint64_t h : meeting(change->volumes)) {
            if (!now_in.count(h)) left.insert(h);
          }
          v1::ConstraintEvent upsert = event;
          *upsert.mutable_upsert() = UpsertView(*change);
          deliver(now_in, std::make_shared<const v1::ConstraintEvent>(
                              std::move(upsert)));
          if (!left.empty()) {
            event.mutable_removed()->set_constraint_id(change->constraint_id);
            event.mutable_removed()->set_reason(
                v1::CONSTRAINT_REMOVED_REASON_LEFT_AREA);
            deliver(left, std::make_shared<const v1::ConstraintEvent>(
                              std::move(event)));
          }
          break;
        }
        case Change::Kind::kRemoved:
          event.mutable_removed()->set_constraint_id(change->constraint_id);
          event.mutable_removed()->set_reason(change->removed_reason);
          deliver(
              meeting(change->volumes),
              std::make_shared<const v1::ConstraintEvent>(std::move(event)));
          break;
        case Change::Kind::kActivity: {
          v1::ConstraintActivityChanged* a = event.mutable_activity_changed();
          a->set_constraint_id(change->constraint_id);
          a->set_active(change->active);
          if (change->next_change != absl::InfiniteFuture()) {
            *a->mutable_next_change_time() = TimeToProto(change->next_change);
          }
          deliver(
              meeting(change->volumes),
              std::make_shared<const v1::ConstraintEvent>(std::move(event)));
          break;
        }
      }
      delivered_ = next;
    }
    // Retention: drop delivered entries beyond the limit.
    feed_->Trim(delivered_);
  }
  Notify(std::move(to_notify));
}

void WatchHub::Notify(std::vector<std::shared_ptr<Watcher>> watchers) {
  if (watchers.empty()) return;
  if (notifier_ == nullptr) {
    for (const std::shared_ptr<Watcher>& w : watchers) NotifyOne(w.get());
    return;
  }
  absl::MutexLock lock(&notify_mu_);
  for (std::shared_ptr<Watcher>& w : watchers) {
    notify_queue_.push_back(std::move(w));
  }
}

void WatchHub::NotifyOne(Watcher* w) {
  // Under the watcher's notify lock, which Unwatch() takes too: once it has
  // returned, no notification is running or will run.
  absl::MutexLock lock(&w->notify_mu);
  {
    absl::MutexLock l(&w->mu);
    if (w->closed) return;
  }
  if (w->notify) w->notify();
}

void WatchHub::NotifyLoop() {
  while (true) {
    std::deque<std::shared_ptr<Watcher>> batch;
    {
      absl::MutexLock lock(&notify_mu_);
      notify_mu_.Await(absl::Condition(
          +[](WatchHub* c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return c->stopping_ || !c->notify_queue_.empty();
          },
          this));
      if (notify_queue_.empty() && stopping_) return;
      batch.swap(notify_queue_);
    }
    for (const std::shared_ptr<Watcher>& w : batch) NotifyOne(w.get());
  }
}

std::shared_ptr<Watcher> WatchHub::Watch(const std::string& caller_id,
                                         const geo::Volume4D& area,
                                         absl::Duration heartbeat,
                                         int64_t since,
                                         std::function<void()> notify) {
  auto w = std::make_shared<Watcher>();
  w->caller = caller_id;
  w->area = area;
  w->heartbeat = heartbeat;
  w->notify = std::move(notify);

  absl::MutexLock lock(mu_);
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock wl(&w->mu);
    w->last_sent = now;
  }
  w->handle = next_watcher_++;
  watchers_[w->handle] = w;
  (void)watcher_index_.Insert(w->handle, area);
  watchers_by_caller_.emplace(caller_id, w->handle);

  const int64_t oldest = feed_->first_retained();
  v1::ResyncReason resync = v1::RESYNC_REASON_UNSPECIFIED;
  if (since > feed_->last_sequence()) {
    resync = v1::RESYNC_REASON_SEQUENCE_UNKNOWN;
  } else if (since > 0 && since < oldest - 1) {
    resync = v1::RESYNC_REASON_SEQUENCE_EXPIRED;
  }
  if (since == 0 || resync != v1::RESYNC_REASON_UNSPECIFIED) {
    if (resync != v1::RESYNC_REASON_UNSPECIFIED) {
      v1::ConstraintEvent e;
      e.set_sequence(feed_->last_sequence());
      *e.mutable_event_time() = TimeToProto(now);
      e.mutable_resync_required()->set_reason(resync);
      (void)Push(w.get(),
                 std::make_shared<const v1::ConstraintEvent>(std::move(e)),
                 /*live=*/false);
    }
    w->floor = feed_->last_sequence();
    Snapshot(w.get());
    return w;
  }
  // Resume: replay what this area missed, up to what has been delivered;
  // later entries arrive through Deliver().
  feed_->Read(since, delivered_, [&](const std::shared_ptr<const Change>& c) {
    const Change& change = *c;
    std::optional<v1::ConstraintEvent> event = Filter(
        change, area, caller_id, [](const Change& c) { return UpsertView(c); });
    if (event) {
      (void)Push(w.get(),
                 std::make_shared<const v1::ConstraintEvent>(*std::move(event)),
                 /*live=*/false);
    }
  });
  w->floor = std::max(since, delivered_);
  return w;
}

bool WatchHub::NextEvent(Watcher* w, EventPtr* event) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      absl::MutexLock lock(&w->mu);
      if (w->closed) return false;
      if (!w->queue.empty()) {
        *event = std::move(w->queue.front().first);
        if (w->queue.front().second) --w->live;
        w->queue.pop_front();
        if ((*event)->has_resync_required() && w->resyncing) {
          w->needs_snapshot = true;
        }
        w->last_sent = clock_->Now();
        return true;
      }
      if (!w->needs_snapshot) {
        w->waiting = true;
        return false;
      }
    }
    // The consumer has read its resync event and asks for more: build its
    // snapshot now. (Never reached from `notify`, which does not run for a
    // watcher that is resyncing.)
    absl::MutexLock lock(mu_);
    Snapshot(w);
  }
  return false;
}

void WatchHub::Unwatch(Watcher* w) {
  {
    absl::MutexLock notify_lock(&w->notify_mu);
    absl::MutexLock wl(&w->mu);
    w->closed = true;
    w->queue.clear();
  }
  absl::MutexLock lock(mu_);
  watcher_index_.Remove(w->handle);
  auto [begin, end] = watchers_by_caller_.equal_range(w->caller);
  for (auto it = begin; it != end; ++it) {
    if (it->second == w->handle) {
      watchers_by_caller_.erase(it);
      break;
    }
  }
  watchers_.erase(w->handle);
}

void WatchHub::Heartbeat() {
  std::vector<std::shared_ptr<Watcher>> to_notify;
  {
    absl::MutexLock lock(mu_);
    const absl::Time now = clock_->Now();
    // Heartbeats to idle watchers: everything up to the delivered sequence
    // has been queued or filtered out for them.
    for (const auto& [handle, w] : watchers_) {
      bool notify = false;
      {
        absl::MutexLock wl(&w->mu);
        if (w->closed || w->resyncing || !w->queue.empty() ||
            now - w->last_sent < w->heartbeat) {
          continue;
        }
        v1::ConstraintEvent e;
        e.set_sequence(std::max(w->floor, delivered_));
        *e.mutable_event_time() = TimeToProto(now);
        e.mutable_heartbeat();
        w->queue.emplace_back(
            std::make_shared<const v1::ConstraintEvent>(std::move(e)), false);
        w->last_sent = now;
        notify = w->waiting;
        w->waiting = false;
      }
      if (notify) to_notify.push_back(w);
    }
  }
  Notify(std::move(to_notify));
}

}  // namespace utm::constraint
