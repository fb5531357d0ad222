#include "services/common/ledger/local_ledger.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace utm::ledger {

namespace {

constexpr char kPositionKey[] = "position";

std::string EncodePosition(const Position& p) {
  return absl::StrCat(p.seq, " ", p.hash);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalLedger>> LocalLedger::Open(
    store::Store* store, LocalLedgerOptions options) {
  Position position;
  absl::Status decode = absl::OkStatus();
  absl::Status s = store->Scan(
      kPositionTable, [&](absl::string_view key, absl::string_view value) {
        if (key != kPositionKey) return;
        std::vector<absl::string_view> parts =
            absl::StrSplit(value, absl::MaxSplits(' ', 1));
        if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &position.seq)) {
          decode = absl::DataLossError(
              absl::StrCat("ledger position record is damaged: \"",
                           value.substr(0, 64), "\""));
          return;
        }
        position.hash = std::string(parts[1]);
      });
  if (!s.ok()) return s;
  if (!decode.ok()) return decode;
  return std::unique_ptr<LocalLedger>(
      new LocalLedger(store, std::move(options), std::move(position)));
}

LocalLedger::LocalLedger(store::Store* store, LocalLedgerOptions options,
                         Position position)
    : store_(store), options_(std::move(options)) {
  latest_ = position;
  before_entries_ = position;
  floor_ = position.seq;
  durable_ = position.seq;
}

absl::StatusOr<Position> LocalLedger::Load(
    const std::vector<std::string>& tables,
    const std::function<void(absl::string_view, absl::string_view,
                             absl::string_view)>& fn) {
  // Holding the lock keeps commits out, so the records are as of latest_.
  absl::MutexLock lock(&mu_);
  for (const std::string& table : tables) {
    absl::Status s = store_->Scan(
        table, [&](absl::string_view key, absl::string_view value) {
          fn(table, key, value);
        });
    if (!s.ok()) return s;
  }
  return latest_;
}

bool LocalLedger::Known(const Position& p) const {
  if (p == latest_ || p == before_entries_) return true;
  if (p.seq <= before_entries_.seq || p.seq > latest_.seq) return false;
  const Entry& e = entries_[p.seq - before_entries_.seq - 1];
  return e.hash == p.hash;
}

void LocalLedger::Commit(Guard guard, std::vector<Mutation> mutations,
                         Done done) {
  store::Store::Ticket ticket = 0;
  CommitResult result;
  {
    absl::MutexLock lock(&mu_);
    result.position = latest_;
    if (!Known(guard.base)) {
      result.status = CommitStatus::kReload;
    } else {
      for (const std::string& key : guard.reads) {
        auto it = written_.find(key);
        const uint64_t last = it == written_.end() ? floor_ : it->second;
        if (last > guard.base.seq) {
          result.status = CommitStatus::kMoved;
          break;
        }
      }
    }
    if (result.status == CommitStatus::kCommitted && mutations.empty() &&
        guard.writes.empty()) {
      // Nothing to write: the check alone (see Ledger::Commit).
    } else if (result.status == CommitStatus::kCommitted) {
      Entry entry;
      entry.seq = latest_.seq + 1;
      entry.hash = ChainHash(latest_.hash, mutations);
      latest_ = Position{entry.seq, entry.hash};
      result.position = latest_;
      if (written_.size() + guard.writes.size() > options_.max_tracked_keys) {
        written_.clear();
        floor_ = latest_.seq - 1;
      }
      for (std::string& key : guard.writes) {
        written_[std::move(key)] = entry.seq;
      }
      std::vector<Mutation> batch = mutations;
      batch.push_back(
          store::Put(kPositionTable, kPositionKey, EncodePosition(latest_)));
      ticket = store_->Enqueue(std::move(batch));
      entry.mutations = std::move(mutations);
      entries_.push_back(std::move(entry));
      while (entries_.size() > options_.retained_entries) {
        before_entries_ =
            Position{entries_.front().seq, std::move(entries_.front().hash)};
        entries_.pop_front();
      }
    }
  }
  if (ticket == 0) {
    done(result);
    return;
  }
  store_->OnDurable(ticket, [this, result,
                             done = std::move(done)](absl::Status s) {
    if (s.ok()) {
      // Batches become durable in the order they were enqueued; the max
      // keeps the watermark monotonic whatever order callbacks run in.
      uint64_t seen = durable_.load();
      while (seen < result.position.seq &&
             !durable_.compare_exchange_weak(seen, result.position.seq)) {
      }
      done(result);
    } else {
      done(s);
    }
  });
}

absl::StatusOr<std::vector<Entry>> LocalLedger::Read(const Position& after,
                                                     int max_entries,
                                                     absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  if (wait > absl::ZeroDuration()) {
    const uint64_t seq = after.seq;
    auto ready = [this, seq]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return latest_.seq > seq;
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
  }
  if (!Known(after)) {
    return absl::DataLossError(absl::StrCat(
        "ledger position ", after.seq, " is not in the retained history (",
        before_entries_.seq, " to ", latest_.seq, "); reload"));
  }
  std::vector<Entry> out;
  for (uint64_t seq = after.seq + 1;
       seq <= latest_.seq && static_cast<int>(out.size()) < max_entries;
       ++seq) {
    out.push_back(entries_[seq - before_entries_.seq - 1]);
  }
  return out;
}

absl::Status LocalLedger::ForgetHistory(const Position& through) {
  absl::MutexLock lock(&mu_);
  if (!Known(through)) {
    return absl::AbortedError(
        absl::StrCat("ledger position ", through.seq,
                     " is not in the retained history; nothing was forgotten"));
  }
  while (!entries_.empty() && entries_.front().seq <= through.seq) {
    before_entries_ =
        Position{entries_.front().seq, std::move(entries_.front().hash)};
    entries_.pop_front();
  }
  written_.clear();
  floor_ = latest_.seq;
  return absl::OkStatus();
}

absl::StatusOr<Position> LocalLedger::Latest() {
  absl::MutexLock lock(&mu_);
  return latest_;
}

}  // namespace utm::ledger
