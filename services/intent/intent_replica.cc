// IntentCore in replicated mode: the state is a read model of the ledger,
// and writes are decided on it and committed under a guard (intent_core.h,
// UseLedger()).
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "geo/area_keys.h"
#include "services/common/log/log.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_states.h"

namespace utm::intent {

namespace {

// Decisions of one write before it gives up (each after the ledger said
// another replica changed what it read; with jitter between them).
constexpr int kLedgerAttempts = 12;

std::string IntentKey(absl::string_view id) { return absl::StrCat("i/", id); }

// The guard key of an owner's intents as a whole: filings (which add an
// intent no erasure has read) and erasures read and write it, so that a
// filing committed while an erasure was being decided makes the erasure
// decide again, and is erased with the rest. One of 4,096 buckets of a
// stable hash of the owner (FNV-1a): the key names no one, and owners
// sharing a bucket only cost each other a retry now and then.
std::string OwnerKey(absl::string_view owner) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : owner) h = (h ^ c) * 1099511628211ull;
  return absl::StrCat("o/", h % 4096);
}

void AddFootprints(const std::vector<geo::Volume4D>& volumes,
                   std::vector<geo::Footprint>* out) {
  for (const geo::Volume4D& v : volumes) out->push_back(v.volume.footprint);
}

}  // namespace

void IntentCore::UseLedger(ledger::Ledger* ledger, ledger::Follower* follower) {
  {
    absl::MutexLock lock(&mu_);
    ledger_ = ledger;
    follower_ = follower;
  }
  follower->AddTable(
      kIntentsTable,
      [this](absl::string_view key, const std::optional<std::string>& value) {
        ApplyIntentRecord(key, value);
      },
      [this] { ClearIntents(); });
  follower->AddTable(
      kRequestsTable,
      [this](absl::string_view key, const std::optional<std::string>& value) {
        ApplyRequestRecord(key, value);
      },
      [this] { ClearRequests(); });
}

bool IntentCore::RunOnLedgerWorker(std::function<void()> work) {
  absl::MutexLock lock(&work_mu_);
  if (work_stopping_) return false;
  if (workers_.empty()) {
    for (int i = 0; i < kLedgerWorkers; ++i) {
      workers_.emplace_back([this] {
        while (true) {
          std::function<void()> next;
          {
            absl::MutexLock l(&work_mu_);
            work_mu_.Await(absl::Condition(
                +[](IntentCore* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->work_mu_) {
                  return c->work_stopping_ || !c->work_.empty();
                },
                this));
            if (work_.empty()) return;  // stopping, nothing left
            next = std::move(work_.front());
            work_.pop_front();
          }
          next();
        }
      });
    }
  }
  work_.push_back(std::move(work));
  return true;
}

void IntentCore::StopLedgerWork() {
  std::vector<std::thread> workers;
  {
    absl::MutexLock lock(&work_mu_);
    work_stopping_ = true;
    workers.swap(workers_);
  }
  // Queued writes still run (their callers wait for an answer), then each
  // thread ends.
  for (std::thread& t : workers) t.join();
}

void IntentCore::ApplyIntentRecord(absl::string_view id,
                                   const std::optional<std::string>& value) {
  std::optional<Intent> changed;  // for the state observer
  std::optional<Intent> filed;    // for the filing observer
  {
    absl::MutexLock lock(&mu_);
    if (!value) {
      auto it = handle_by_id_.find(id);
      if (it != handle_by_id_.end()) EraseIntent(it->second);
      return;
    }
    absl::StatusOr<Intent> intent = DecodeIntentRecord(*value);
    if (!intent.ok()) {
      // Written by a replica of another version, or damaged: this replica
      // cannot take part in deciding on it, and says so.
      UTM_LOG(kWarning) << "intent " << id
                        << " in the ledger cannot be read: " << intent.status();
      return;
    }
    // Every replica, the writer included, learns a state change here, once
    // per entry it applies (TransitionAsync does not tell it on a ledger).
    // A filing (a new intent, ACCEPTED) is no state change.
    // A new version in the same state (a filing, a modification) is the
    // filing observer's.
    if (state_observer_ || filing_observer_) {
      auto it = handle_by_id_.find(id);
      const Intent* old = it == handle_by_id_.end()
                              ? nullptr
                              : &entries_.at(it->second)->intent;
      const bool is_change = old == nullptr
                                 ? intent->state != IntentState::kAccepted
                                 : old->state != intent->state;
      if (is_change) {
        if (state_observer_) changed = *intent;
      } else if (filing_observer_ &&
                 (old == nullptr || old->version != intent->version)) {
        filed = *intent;
      }
    }
    PutIntent(*std::move(intent));
  }
  if (changed) state_observer_(*changed);
  if (filed) filing_observer_(*filed);
}

void IntentCore::ApplyRequestRecord(absl::string_view key,
                                    const std::optional<std::string>& value) {
  absl::MutexLock lock(&mu_);
  if (!value) {
    requests_.erase(key);
    return;
  }
  absl::Time created;
  absl::StatusOr<RequestRecord> record = DecodeRequestRecord(*value, &created);
  if (!record.ok()) {
    UTM_LOG(kWarning) << "a request record in the ledger cannot be read: "
                      << record.status();
    return;
  }
  requests_[std::string(key)] = *std::move(record);
  request_order_.emplace_back(created, std::string(key));
}

void IntentCore::ClearIntents() {
  absl::MutexLock lock(&mu_);
  entries_.clear();
  handle_by_id_.clear();
  by_owner_.clear();
  index_ = geo::VolumeIndex();
  expiries_ = decltype(expiries_)();
  expired_intents_.clear();
}

void IntentCore::ClearRequests() {
  absl::MutexLock lock(&mu_);
  requests_.clear();
  request_order_.clear();
  expired_requests_.clear();
}

IntentCore::GuardParts IntentCore::GuardFor(const std::string& owner,
                                            const std::string& request_id,
                                            const Touched& touched,
                                            const WriteOutcome& outcome) const {
  // Everything the decision looked at: the airspace of the request's
  // volumes and of the intent as it is (Conflicts() queried both), the
  // intent itself, the request id and the registration an activation
  // checked. What it changes: the airspace the intent leaves and the one it
  // takes, the intent, the request record.
  GuardParts parts;
  for (const std::vector<geo::Volume4D>* volumes : touched.volumes) {
    AddFootprints(*volumes, &parts.read);
  }
  const std::string& id =
      outcome.accepted() ? outcome.intent->id : touched.intent_id;
  if (!touched.intent_id.empty()) {
    auto it = handle_by_id_.find(touched.intent_id);
    if (it != handle_by_id_.end()) {
      const Intent& now = entries_.at(it->second)->intent;
      AddFootprints(now.volumes, &parts.written);
      AddFootprints(now.off_nominal_volumes, &parts.written);
    }
  }
  if (outcome.accepted()) {
    AddFootprints(outcome.intent->volumes, &parts.written);
    AddFootprints(outcome.intent->off_nominal_volumes, &parts.written);
  }
  parts.read.insert(parts.read.end(), parts.written.begin(),
                    parts.written.end());
  if (!id.empty()) parts.guard.reads.push_back(IntentKey(id));
  if (touched.registration_key != nullptr &&
      !touched.registration_key->empty()) {
    parts.guard.reads.push_back(*touched.registration_key);
  }
  // A new intent, or a request record (which holds a copy of what it
  // filed): what an erasure racing it must see.
  if ((outcome.accepted() && touched.intent_id.empty()) ||
      !request_id.empty()) {
    std::string key = OwnerKey(owner);
    parts.guard.reads.push_back(key);
    parts.guard.writes.push_back(std::move(key));
  }
  if (!request_id.empty()) {
    const std::string key = absl::StrCat("q/", RequestKey(owner, request_id));
    parts.guard.reads.push_back(key);
    parts.guard.writes.push_back(key);
  }
  if (outcome.accepted()) parts.guard.writes.push_back(IntentKey(id));
  if (!outcome.accepted()) parts.written.clear();
  return parts;
}

ledger::Guard IntentCore::GuardParts::Finish() && {
  // Coverings of large polygons take milliseconds: done outside the lock.
  std::vector<std::string> reads = geo::AreaKeysFor(read).reads;
  guard.reads.insert(guard.reads.end(), reads.begin(), reads.end());
  if (!written.empty()) {
    std::vector<std::string> writes = geo::AreaKeysFor(written).writes;
    guard.writes.insert(guard.writes.end(), writes.begin(), writes.end());
  }
  return std::move(guard);
}

void IntentCore::WriteThroughLedger(
    const std::string& owner, const std::string& request_id,
    const std::string& fingerprint, absl::Time now, const Touched& touched,
    const std::function<absl::StatusOr<WriteOutcome>()>& decide, Done done) {
  absl::BitGen jitter;
  bool fresh = false;  // decided on a model caught up during this call
  for (int attempt = 0; attempt < kLedgerAttempts; ++attempt) {
    if (attempt > 0) {
      ++ledger_retries_;
      // Catch up with the replica that moved the airspace, then wait a
      // random while that grows with each attempt so that writers racing
      // for the same cells spread out.
      absl::Status caught_up = follower_->CatchUp();
      if (!caught_up.ok()) {
        done(caught_up);
        return;
      }
      fresh = true;
      if (attempt > 1) {
        absl::SleepFor(absl::Microseconds(
            absl::Uniform(jitter, 0, 500 << std::min(attempt, 8))));
      }
    }
    const ledger::Position base = follower_->applied();
    std::optional<WriteOutcome> replayed;
    WriteOutcome outcome;
    std::vector<store::Mutation> mutations;
    GuardParts parts;
    {
      absl::MutexLock lock(&mu_);
      ExpireIntents(now);
      store::Store::Ticket unused = 0;
      absl::StatusOr<std::optional<WriteOutcome>> replay =
          Replay(owner, request_id, fingerprint, now, &unused);
      if (!replay.ok()) {
        done(replay.status());
        return;
      }
      if (*replay) {
        // The first outcome came through the ledger; it is answered below,
        // once the ledger confirms it durable.
        replayed = **std::move(replay);
      } else {
        write_retain_ = true;
        absl::StatusOr<WriteOutcome> decided = decide();
        if (!decided.ok()) {
          // NOT_FOUND, ABORTED, FAILED_PRECONDITION... said about the model:
          // say it only about a model caught up during this call.
          if (fresh) {
            done(decided.status());
            return;
          }
          continue;
        }
        outcome = *std::move(decided);
        parts = GuardFor(owner, request_id, touched, outcome);
        mutations =
            OutcomeMutations(owner, request_id, fingerprint, outcome, now);
        write_retain_ = true;
      }
    }
    if (replayed) {
      // A first attempt whose WAIT fell short was answered UNAVAILABLE, yet
      // its entry is on the primary and applied here: the retry may say
      // its outcome only once the Redis replicas have it too.
      const uint64_t applied = follower_->applied().seq;
      for (int i = 0; i < 2000 && follower_->durable() < applied; ++i) {
        absl::SleepFor(absl::Milliseconds(1));
      }
      if (follower_->durable() < applied) {
        done(absl::UnavailableError(
            "the first outcome of this request is not confirmed durable yet; "
            "retry with the same request id"));
        return;
      }
      done(*std::move(replayed));
      return;
    }
    ledger::Guard guard = std::move(parts).Finish();
    guard.base = base;
    absl::StatusOr<ledger::CommitResult> result =
        ledger_->CommitAndWait(std::move(guard), mutations);
    if (result.ok() && result->status == ledger::CommitStatus::kCommitted) {
      // Read your writes: this replica's model has the change before the
      // caller hears of it.
      if (!mutations.empty()) {
        (void)follower_->WaitApplied(result->position.seq);
      }
      done(std::move(outcome));
      return;
    }
    {
      // Not written: the expired records go with a later write.
      absl::MutexLock lock(&mu_);
      for (store::Mutation& m : mutations) {
        if (m.value) continue;
        (m.table == kIntentsTable ? expired_intents_ : expired_requests_)
            .push_back(std::move(m.key));
      }
    }
    if (!result.ok()) {
      done(result.status());
      return;
    }
  }
  done(absl::UnavailableError(
      absl::StrCat("the airspace this write touches changed on other replicas ",
                   kLedgerAttempts,
                   " times while it was being decided; retry with the "
                   "same request id")));
}

absl::StatusOr<int64_t> IntentCore::EraseOwnerThroughLedger(
    const std::string& owner) {
  absl::BitGen jitter;
  const std::string owner_key = OwnerKey(owner);
  int64_t erased = 0;
  bool first = true;  // the first commit checks every intent of the owner
  for (int attempt = 0;;) {
    if (attempt == kLedgerAttempts) {
      return absl::UnavailableError(absl::StrCat(
          "the operator's intents changed on other replicas ", kLedgerAttempts,
          " times while they were being erased; erase again"));
    }
    if (attempt > 0) {
      ++ledger_retries_;
      if (attempt > 1) {
        absl::SleepFor(absl::Microseconds(
            absl::Uniform(jitter, 0, 500 << std::min(attempt, 8))));
      }
    }
    // Decided on a model caught up now: what it says flies, flies.
    if (absl::Status s = follower_->CatchUp(); !s.ok()) return s;
    const ledger::Position base = follower_->applied();
    ledger::Guard guard;
    // Filings of the owner committed after `base` move this erasure.
    guard.reads.push_back(owner_key);
    guard.writes.push_back(owner_key);
    std::vector<store::Mutation> mutations;
    std::vector<store::Mutation> owed;  // expired records' deletions
    int64_t intents = 0;
    {
      absl::MutexLock lock(&mu_);
      ExpireIntents(clock_->Now());
      for (auto it =
               by_owner_.lower_bound(std::make_pair(owner, std::string()));
           it != by_owner_.end() && it->first.first == owner; ++it) {
        const Intent& intent = *it->second;
        if (absl::Status s = CheckNotFlying(intent); !s.ok()) return s;
        const bool in_batch = mutations.size() < kEraseBatch;
        if (first || in_batch) guard.reads.push_back(IntentKey(intent.id));
        if (!in_batch) continue;
        mutations.push_back(store::Delete(kIntentsTable, intent.id));
        guard.writes.push_back(IntentKey(intent.id));
        ++intents;
      }
      // Request records hold copies of the intents they filed.
      const std::string prefix = RequestKey(owner, "");
      for (const auto& request : requests_) {
        const std::string& key = request.first;
        if (mutations.size() == kEraseBatch) break;
        if (!absl::StartsWith(key, prefix)) continue;
        mutations.push_back(store::Delete(kRequestsTable, key));
        const std::string q = absl::StrCat("q/", key);
        guard.reads.push_back(q);
        guard.writes.push_back(q);
      }
      // Deletions owed for records this replica expired: among them may be
      // the owner's intents that ended long ago.
      while (mutations.size() + owed.size() < kEraseBatch &&
             !expired_intents_.empty()) {
        owed.push_back(store::Delete(kIntentsTable, expired_intents_.back()));
        expired_intents_.pop_back();
      }
      while (mutations.size() + owed.size() < kEraseBatch &&
             !expired_requests_.empty()) {
        owed.push_back(store::Delete(kRequestsTable, expired_requests_.back()));
        expired_requests_.pop_back();
      }
    }
    if (mutations.empty() && owed.empty()) return erased;
    const bool more = mutations.size() + owed.size() == kEraseBatch;
    mutations.insert(mutations.end(), owed.begin(), owed.end());
    guard.base = base;
    absl::StatusOr<ledger::CommitResult> result =
        ledger_->CommitAndWait(std::move(guard), std::move(mutations));
    if (result.ok() && result->status == ledger::CommitStatus::kCommitted) {
      // Read your writes, as every write does.
      if (absl::Status s = follower_->WaitApplied(result->position.seq);
          !s.ok()) {
        return s;
      }
      erased += intents;
      first = false;
      attempt = 0;
      // Without a full batch, nothing of the owner's was left out of it.
      if (!more) return erased;
      continue;
    }
    {
      // Not written: the owed deletions go with a later write.
      absl::MutexLock lock(&mu_);
      for (store::Mutation& m : owed) {
        (m.table == kIntentsTable ? expired_intents_ : expired_requests_)
            .push_back(std::move(m.key));
      }
    }
    if (!result.ok()) return result.status();
    ++attempt;
  }
}

}  // namespace utm::intent
