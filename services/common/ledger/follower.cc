#include "services/common/ledger/follower.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace utm::ledger {

Follower::Follower(Ledger* ledger, FollowerOptions options)
    : ledger_(ledger), options_(std::move(options)) {}

Follower::~Follower() { Stop(); }

void Follower::AddTable(std::string table, ApplyFn apply,
                        std::function<void()> clear) {
  tables_[std::move(table)] = Table{std::move(apply), std::move(clear)};
}

void Follower::OnApplied(std::function<void(const Entry&)> fn) {
  on_applied_.push_back(std::move(fn));
}

absl::Status Follower::Start() {
  {
    absl::MutexLock lock(&apply_mu_);
    absl::Status s = Reload();
    reloads_ = 0;
    if (!s.ok()) return s;
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Follower::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Follower::OnDurable(std::function<void(uint64_t)> fn) {
  on_durable_.push_back(std::move(fn));
}

Position Follower::applied() const {
  absl::MutexLock lock(&position_mu_);
  return applied_;
}

uint64_t Follower::durable() const {
  absl::MutexLock lock(&position_mu_);
  return durable_;
}

void Follower::RaiseDurable(uint64_t reported) {
  uint64_t raised = 0;
  {
    absl::MutexLock lock(&position_mu_);
    const uint64_t candidate = std::min(reported, applied_.seq);
    if (candidate <= durable_) return;
    durable_ = raised = candidate;
  }
  for (const auto& fn : on_durable_) fn(raised);
}

absl::Status Follower::Reload() {
  for (auto& [name, table] : tables_) table.clear();
  std::vector<std::string> names;
  for (const auto& [name, table] : tables_) names.push_back(name);
  absl::StatusOr<Position> at = ledger_->Load(
      names, [this](absl::string_view table, absl::string_view key,
                    absl::string_view value) {
        auto it = tables_.find(std::string(table));
        if (it != tables_.end()) it->second.apply(key, std::string(value));
      });
  if (!at.ok()) return at.status();
  ++reloads_;
  absl::MutexLock lock(&position_mu_);
  applied_ = *std::move(at);
  // Nothing of the new history is confirmed yet: the next read of the tail
  // (within durable_poll) says how far it is durable.
  durable_ = 0;
  return absl::OkStatus();
}

void Follower::Apply(const Entry& entry) {
  for (const Mutation& m : entry.mutations) {
    auto it = tables_.find(m.table);
    if (it != tables_.end()) it->second.apply(m.key, m.value);
  }
  {
    absl::MutexLock lock(&position_mu_);
    applied_ = Position{entry.seq, entry.hash};
  }
  for (const auto& fn : on_applied_) fn(entry);
}

absl::Status Follower::Pull() {
  while (true) {
    const Position from = applied();
    absl::StatusOr<Tail> tail =
        ledger_->ReadTail(from, options_.batch, absl::ZeroDuration());
    if (tail.status().code() == absl::StatusCode::kDataLoss) {
      // Our position is gone from the ledger's history: start over from
      // what the ledger holds now.
      absl::Status s = Reload();
      if (!s.ok()) return s;
      continue;
    }
    if (!tail.ok()) return tail.status();
    for (const Entry& e : tail->entries) Apply(e);
    RaiseDurable(tail->durable);
    if (static_cast<int>(tail->entries.size()) < options_.batch) {
      return absl::OkStatus();
    }
  }
}

absl::Status Follower::CatchUp() {
  absl::StatusOr<Position> latest = ledger_->Latest();
  if (!latest.ok()) return latest.status();
  if (*latest == applied()) return absl::OkStatus();
  // Behind, or on another history with the same number (the ledger lost
  // entries and numbered new ones the same): reading after our position
  // tells which, and reloads in the second case.
  absl::MutexLock lock(&apply_mu_);
  absl::Status s = Pull();
  if (!s.ok()) return s;
  return WaitAppliedLocked(latest->seq);
}

absl::Status Follower::WaitApplied(uint64_t seq) {
  absl::MutexLock lock(&apply_mu_);
  return WaitAppliedLocked(seq);
}

absl::Status Follower::WaitAppliedLocked(uint64_t seq) {
  while (applied().seq < seq) {
    const uint64_t before = applied().seq;
    absl::Status s = Pull();
    if (!s.ok()) return s;
    if (applied().seq == before && applied().seq < seq) {
      return absl::UnavailableError(absl::StrCat(
          "ledger entry ", seq, " is not readable yet (applied ", before, ")"));
    }
  }
  return absl::OkStatus();
}

void Follower::Run() {
  // Since when applied() has been ahead of durable(), and when the ledger
  // was last asked to confirm.
  absl::Time behind_since = absl::InfiniteFuture();
  absl::Time last_confirm = absl::InfinitePast();
  while (!stop_) {
    const absl::Time now = absl::Now();
    if (durable() >= applied().seq) {
      behind_since = absl::InfiniteFuture();
    } else if (behind_since == absl::InfiniteFuture()) {
      behind_since = now;
    } else if (now - behind_since >= options_.confirm_after &&
               now - last_confirm >= options_.confirm_after) {
      // Nobody raised the watermark: confirm it ourselves (the next read
      // shows the result; a failure only means not yet).
      last_confirm = now;
      (void)ledger_->ConfirmDurable(applied());
    }
    // Wait for new entries without holding the apply lock, so CatchUp()
    // callers are never stuck behind a blocked read; then apply what came,
    // unless a CatchUp() applied it meanwhile.
    // While something applied waits to be confirmed durable, wake often
    // enough to read the watermark again.
    const Position from = applied();
    const absl::Duration wait =
        durable() < from.seq ? std::min(options_.poll, options_.durable_poll)
                             : options_.poll;
    absl::StatusOr<Tail> next = ledger_->ReadTail(from, options_.batch, wait);
    absl::Status s;
    {
      absl::MutexLock lock(&apply_mu_);
      if (next.ok()) {
        // The watermark is about the history the read checked `from`
        // against: use it only if nothing moved us off `from` meanwhile.
        if (applied() == from) {
          for (const Entry& e : next->entries) Apply(e);
          RaiseDurable(next->durable);
        }
      } else if (next.status().code() == absl::StatusCode::kDataLoss) {
        s = Pull();  // reloads
      } else {
        s = next.status();
      }
    }
    if (!s.ok()) absl::SleepFor(options_.retry);
  }
}

}  // namespace utm::ledger
