// ConstraintCore in replicated mode: the state is a read model of the
// ledger, and writes (including schedule transitions) are proposed on it and
// committed under a guard (constraint_core.h, UseLedger()).
#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "geo/area_keys.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/common/log/log.h"
#include "services/constraint/constraint_core.h"
#include "utm/internal/constraint_storage.pb.h"

namespace utm::constraint {

namespace {

// Decisions of one write before it gives up (each after the ledger said
// another replica wrote to the constraint tier meanwhile).
constexpr int kLedgerAttempts = 12;

// Read and written by every write of the constraint tier: the change log's
// head. Writes of this tier are therefore totally ordered, and each numbers
// its changes after every change already in the log.
constexpr char kLogHeadKey[] = "c/log";

// Constraints whose schedule transitions one commit carries, and commits one
// Tick() makes, at most (the rest wait for the next tick).
constexpr int kTickBatch = 128;
constexpr int kMaxTickBatches = 64;

// Remembered requests past their retention deleted by one write, at most.
constexpr int kRequestPurgeBatch = 64;

void AddFootprints(const std::vector<geo::Volume4D>& volumes,
                   std::vector<geo::Footprint>* out) {
  for (const geo::Volume4D& v : volumes) out->push_back(v.volume.footprint);
}

}  // namespace

void ConstraintCore::UseLedger(ledger::Ledger* ledger,
                               ledger::Follower* follower) {
  {
    absl::MutexLock lock(&mu_);
    ledger_ = ledger;
    follower_ = follower;
    auto feed = std::make_unique<ReplicaChangeFeed>();
    replica_feed_ = feed.get();
    feed_ = std::move(feed);
  }
  hub_.UseFeed(replica_feed_);
  follower->AddTable(
      ConstraintRegistry::table(),
      [this](absl::string_view key, const std::optional<std::string>& value) {
        absl::MutexLock lock(&mu_);
        registry_.ApplyRecord(key, value, options_.limits,
                              options_.max_volumes);
      },
      [this] { ClearModel(); });
  follower->AddTable(
      kChangeLogTable,
      [this](absl::string_view key, const std::optional<std::string>& value) {
        absl::MutexLock lock(&mu_);
        replica_feed_->ApplyRecord(key, value);
      },
      [] {});
  follower->AddTable(
      Authorisations::table(),
      [this](absl::string_view key, const std::optional<std::string>& value) {
        absl::MutexLock lock(&mu_);
        authorisations_.ApplyRecord(key, value);
      },
      [] {});
  follower->AddTable(
      WithdrawnHistory::kTable,
      [this](absl::string_view key, const std::optional<std::string>& value) {
        withdrawn_.ApplyRecord(key, value);
      },
      [] {});
  follower->AddTable(
      kRequestsTable,
      [this](absl::string_view key, const std::optional<std::string>& value) {
        ApplyRequestRecord(key, value);
      },
      [] {});
  // Watchers are handed a change only once the ledger confirms its entry
  // durable (on as many Redis replicas as the deployment waits for), so no
  // watcher sees a change that a failover later loses.
  follower->OnApplied([this](const ledger::Entry& entry) {
    bool logged = false;
    for (const store::Mutation& m : entry.mutations) {
      if (m.table == kChangeLogTable && m.value) logged = true;
    }
    if (!logged) return;
    absl::MutexLock lock(&mu_);
    undelivered_.emplace_back(entry.seq, feed_->last_sequence());
  });
  follower->OnDurable([this](uint64_t seq) { ReleaseDurable(seq); });
}

void ConstraintCore::ReleaseDurable(uint64_t ledger_seq) {
  bool reloaded = false;
  int64_t up_to = -1;
  {
    absl::MutexLock lock(&mu_);
    reloaded = reloaded_;
    reloaded_ = false;
    while (!undelivered_.empty() && undelivered_.front().first <= ledger_seq) {
      up_to = undelivered_.front().second;
      undelivered_.pop_front();
    }
  }
  if (reloaded) hub_.ResyncAll(v1::RESYNC_REASON_HISTORY_RELOADED);
  if (up_to >= 0) hub_.Deliver(up_to);
}

void ConstraintCore::ClearModel() {
  // One handler clears every table of the tier (the follower clears them
  // all before a reload, in no particular order). Watchers resync after a
  // reload, not after the first load.
  const bool watched = hub_.watcher_count() > 0;
  {
    absl::MutexLock lock(&mu_);
    const bool had = watched || replica_feed_->last_sequence() > 0;
    registry_.Clear();
    replica_feed_->Clear();
    authorisations_.Clear();
    requests_.clear();
    request_order_.clear();
    undelivered_.clear();
    reloaded_ = had;
  }
  withdrawn_.Clear();
}

void ConstraintCore::ApplyRequestRecord(
    absl::string_view key, const std::optional<std::string>& value) {
  absl::MutexLock lock(&mu_);
  if (!value) {
    requests_.erase(key);
    // Drop the order's head while it names requests no longer held.
    while (!request_order_.empty() &&
           !requests_.contains(request_order_.front().second)) {
      request_order_.pop_front();
    }
    return;
  }
  std::optional<RequestRecord> record = DecodeRequest(*value);
  if (!record) {
    UTM_LOG(kWarning)
        << "a constraint request record in the ledger cannot be decoded";
    return;
  }
  request_order_.emplace_back(record->created, std::string(key));
  requests_[std::string(key)] = *std::move(record);
}

void ConstraintCore::ProposeChange(Change change, int64_t* seq,
                                   Proposal* p) const {
  change.sequence = ++*seq;
  p->mutations.push_back(store::Put(kChangeLogTable,
                                    ChangeLogKey(change.sequence),
                                    EncodeChange(change).SerializeAsString()));
  const int64_t retention =
      static_cast<int64_t>(std::max<size_t>(options_.change_log_retention, 1));
  if (change.sequence > retention) {
    p->mutations.push_back(store::Delete(
        kChangeLogTable, ChangeLogKey(change.sequence - retention)));
  }
}

absl::StatusOr<ConstraintCore::Proposal> ConstraintCore::ProposeWrite(
    const std::string& key, const std::string& fingerprint, absl::Time now,
    int64_t* seq,
    const std::function<absl::StatusOr<std::string>(absl::Time, Decision*)>&
        decide) {
  Proposal p;
  if (!key.empty()) {
    auto it = requests_.find(key);
    if (it != requests_.end()) {
      if (it->second.fingerprint != fingerprint) {
        return absl::AlreadyExistsError(absl::StrCat(
            "request_id ", QuoteForError(key.substr(key.find('/') + 1)),
            " was already used for a different request"));
      }
      // Came through the ledger. Nothing to write; answered once durable.
      p.response = it->second.response;
      p.replayed = true;
      return p;
    }
  }
  Decision d;
  UTM_ASSIGN_OR_RETURN(p.response, decide(now, &d));
  if (d.upsert != nullptr) {
    const Record& r = *d.upsert;
    const bool expired = now > r.last_active;
    p.mutations.push_back(store::Put(
        ConstraintRegistry::table(), r.id(),
        registry_.EncodeReplicated(r, r.ActiveAt(now), expired, now)));
    Change change;
    change.time = now;
    change.kind = Change::Kind::kUpsert;
    change.constraint_id = r.id();
    change.record = d.upsert;
    change.active = r.ActiveAt(now);
    change.volumes = d.previous;
    ProposeChange(std::move(change), seq, &p);
    AddFootprints(r.volumes, &p.area);
    AddFootprints(d.previous, &p.area);
  }
  if (d.withdrawn != nullptr) {
    const Record& r = *d.withdrawn;
    p.mutations.push_back(store::Put(WithdrawnHistory::kTable, r.id(),
                                     d.withdrawn_view.SerializeAsString()));
    for (std::string& id : withdrawn_.Purgeable(now)) {
      p.mutations.push_back(
          store::Delete(WithdrawnHistory::kTable, std::move(id)));
    }
    p.mutations.push_back(store::Delete(ConstraintRegistry::table(), r.id()));
    Change change;
    change.time = now;
    change.kind = Change::Kind::kRemoved;
    change.constraint_id = r.id();
    change.volumes = r.volumes;
    change.removed_reason = v1::CONSTRAINT_REMOVED_REASON_WITHDRAWN;
    ProposeChange(std::move(change), seq, &p);
    AddFootprints(r.volumes, &p.area);
  }
  if (d.authorisation) {
    const v1::Authorisation& a = *d.authorisation;
    p.mutations.push_back(
        store::Put(Authorisations::table(), a.id(), Authorisations::Encode(a)));
    // A grant widens and a revocation narrows what intents may do in the
    // constraint's airspace: a filing there decided without this change
    // (accepted or refused) on another replica is decided again.
    if (const Entry* e = registry_.FindEntry(a.constraint_id())) {
      AddFootprints(e->record->volumes, &p.area);
    }
  }
  if (!key.empty()) {
    RequestRecord record;
    record.fingerprint = fingerprint;
    record.response = p.response;
    record.created = now;
    p.mutations.push_back(
        store::Put(kRequestsTable, key, EncodeRequest(record)));
  }
  int purged = 0;
  for (const auto& [created, old] : request_order_) {
    if (created >= now - options_.request_id_retention ||
        purged >= kRequestPurgeBatch) {
      break;
    }
    if (!requests_.contains(old)) continue;
    p.mutations.push_back(store::Delete(kRequestsTable, old));
    ++purged;
  }
  return p;
}

absl::StatusOr<std::string> ConstraintCore::CommitThroughLedger(
    const Propose& propose) {
  absl::BitGen jitter;
  bool fresh = false;  // proposed on a model caught up during this call
  for (int attempt = 0; attempt < kLedgerAttempts; ++attempt) {
    if (attempt > 0) {
      ++ledger_retries_;
      UTM_RETURN_IF_ERROR(follower_->CatchUp());
      fresh = true;
      if (attempt > 1) {
        absl::SleepFor(absl::Microseconds(
            absl::Uniform(jitter, 0, 500 << std::min(attempt, 8))));
      }
    }
    const ledger::Position base = follower_->applied();
    Proposal p;
    {
      absl::MutexLock lock(&mu_);
      int64_t seq = feed_->last_sequence();
      absl::StatusOr<Proposal> proposed = propose(clock_->Now(), &seq);
      if (!proposed.ok()) {
        // NOT_FOUND, ABORTED, PERMISSION_DENIED... said about the model: say
        // it only about a model caught up during this call.
        if (fresh) return proposed.status();
        continue;
      }
      p = *std::move(proposed);
    }
    if (p.replayed) {
      // A first attempt whose WAIT fell short was answered UNAVAILABLE, yet
      // its entry is on the primary and applied here: the retry may say its
      // outcome only once the Redis replicas have it too.
      const uint64_t applied = follower_->applied().seq;
      for (int i = 0; i < 2000 && follower_->durable() < applied; ++i) {
        absl::SleepFor(absl::Milliseconds(1));
      }
      if (follower_->durable() < applied) {
        return absl::UnavailableError(
            "the first outcome of this request is not confirmed durable yet; "
            "retry with the same request id");
      }
    }
    if (p.mutations.empty()) return std::move(p.response);
    // Coverings of large zones take milliseconds: outside the lock.
    ledger::Guard guard;
    guard.base = base;
    guard.reads = {kLogHeadKey};
    guard.writes = {kLogHeadKey};
    if (!p.area.empty()) {
      std::vector<std::string> area = geo::AreaKeysFor(p.area).writes;
      guard.writes.insert(guard.writes.end(), area.begin(), area.end());
    }
    absl::StatusOr<ledger::CommitResult> result =
        ledger_->CommitAndWait(std::move(guard), std::move(p.mutations));
    if (!result.ok()) return result.status();
    if (result->status == ledger::CommitStatus::kCommitted) {
      // Read your writes: this replica's model (and its watchers) have the
      // change before the caller hears of it.
      UTM_RETURN_IF_ERROR(follower_->WaitApplied(result->position.seq));
      // Committed means durable as the ledger promises (after WAIT): this
      // replica's watchers need not wait for the follower to hear so.
      ReleaseDurable(result->position.seq);
      return std::move(p.response);
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "constraints changed on other replicas ", kLedgerAttempts,
      " times while this write was being decided; retry with the same "
      "request id"));
}

absl::StatusOr<int> ConstraintCore::TickThroughLedger() {
  bool reloaded = false;
  {
    absl::MutexLock lock(&mu_);
    reloaded = reloaded_;
    reloaded_ = false;
  }
  if (reloaded) hub_.ResyncAll(v1::RESYNC_REASON_HISTORY_RELOADED);
  // A national data set may have thousands of zones change at 08:00: the
  // transitions are committed a batch of constraints at a time.
  int written = 0;
  bool more = true;
  for (int batch = 0; more && batch < kMaxTickBatches; ++batch) {
    int batch_written = 0;
    absl::StatusOr<std::string> committed = CommitThroughLedger(
        [&](absl::Time now, int64_t* seq)
            ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::StatusOr<Proposal> {
              // Every due transition of every constraint, in time order, as the
              // single process logs them; each constraint's record carries what
              // was announced and how far its schedule is logged.
              Proposal p;
              more = false;
              int constraints = 0;
              std::vector<std::pair<absl::Time, Change>> changes;
              for (const auto& [due, entry] : registry_.Due(now)) {
                if (constraints == kTickBatch) {
                  more = true;
                  break;
                }
                const Record& r = *entry->record;
                bool active = entry->active;
                bool expired = entry->expired;
                absl::Time when = due;
                absl::Time checked = due;
                bool changed = false;
                for (int i = 0; i < 1000 && when <= now && !expired; ++i) {
                  checked = when;
                  const bool now_active = r.ActiveAt(when);
                  if (now_active != active) {
                    active = now_active;
                    changed = true;
                    Change change;
                    change.time = when;
                    change.kind = Change::Kind::kActivity;
                    change.constraint_id = r.id();
                    change.volumes = r.volumes;
                    change.active = active;
                    absl::Time next = r.NextCandidate(when);
                    for (int j = 0;
                         j < 1000 && next != absl::InfiniteFuture() &&
                         r.ActiveAt(next) == active;
                         ++j) {
                      next = r.NextCandidate(next);
                    }
                    change.next_change = next;
                    changes.emplace_back(when, std::move(change));
                  }
                  if (when > r.last_active) {
                    expired = true;
                    changed = true;
                    Change change;
                    change.time = when;
                    change.kind = Change::Kind::kRemoved;
                    change.constraint_id = r.id();
                    change.volumes = r.volumes;
                    change.removed_reason =
                        v1::CONSTRAINT_REMOVED_REASON_EXPIRED;
                    changes.emplace_back(when, std::move(change));
                    break;
                  }
                  when = ConstraintRegistry::NextCheck(r, expired, when);
                }
                if (!changed) {
                  // Nothing to announce at these instants: only this replica's
                  // timer moves on (every replica finds the same).
                  registry_.Schedule(registry_.FindEntry(r.id()), checked);
                  continue;
                }
                ++constraints;
                p.mutations.push_back(store::Put(
                    ConstraintRegistry::table(), r.id(),
                    registry_.EncodeReplicated(r, active, expired, checked)));
              }
              std::stable_sort(changes.begin(), changes.end(),
                               [](const auto& a, const auto& b) {
                                 return a.first < b.first;
                               });
              batch_written = static_cast<int>(changes.size());
              for (auto& [when, change] : changes) {
                ProposeChange(std::move(change), seq, &p);
              }
              return p;
            });
    if (!committed.ok()) return committed.status();
    written += batch_written;
  }
  hub_.Heartbeat();
  return written;
}

}  // namespace utm::constraint
