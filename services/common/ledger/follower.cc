#include "services/common/ledger/follower.h"

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

Position Follower::applied() const {
  absl::MutexLock lock(&position_mu_);
  return applied_;
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
    absl::StatusOr<std::vector<Entry>> entries =
        ledger_->Read(from, options_.batch, absl::ZeroDuration());
    if (entries.status().code() == absl::StatusCode::kDataLoss) {
      // Our position is gone from the ledger's history: start over from
      // what the ledger holds now.
      absl::Status s = Reload();
      if (!s.ok()) return s;
      continue;
    }
    if (!entries.ok()) return entries.status();
    for (const Entry& e : *entries) Apply(e);
    if (static_cast<int>(entries->size()) < options_.batch) {
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
  while (!stop_) {
    // Wait for new entries without holding the apply lock, so CatchUp()
    // callers are never stuck behind a blocked read; then apply what came,
    // unless a CatchUp() applied it meanwhile.
    const Position from = applied();
    absl::StatusOr<std::vector<Entry>> next =
        ledger_->Read(from, options_.batch, options_.poll);
    absl::Status s;
    {
      absl::MutexLock lock(&apply_mu_);
      if (next.ok()) {
        if (applied() == from) {
          for (const Entry& e : *next) Apply(e);
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
