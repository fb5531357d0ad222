#include "services/operator/operator_settings.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/log/log.h"
#include "utm/internal/operator_settings_storage.pb.h"

namespace utm::fleet {
namespace {

// The guard key of one operator's record: two replicas changing the same
// operator's settings at once decide again rather than lose a change.
std::string GuardKey(absl::string_view pseudonym) {
  return absl::StrCat("operator-settings/", pseudonym);
}

internal::StoredDataSettings ToRecord(const DataPolicy& policy,
                                      const std::string& region) {
  internal::StoredDataSettings record;
  record.set_region(region);
  record.set_local_data_mode(policy.local_only);
  const absl::Duration r = policy.flight_log_retention;
  record.mutable_flight_log_retention()->set_seconds(absl::ToInt64Seconds(r));
  return record;
}

bool IsDefault(const DataPolicy& policy) {
  const DataPolicy defaults;
  return policy.local_only == defaults.local_only &&
         policy.flight_log_retention == defaults.flight_log_retention;
}

}  // namespace

absl::Status CheckFlightLogRetention(absl::Duration retention,
                                     absl::string_view field) {
  if (retention <= absl::ZeroDuration() || retention > kMaxFlightLogRetention) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", absl::FormatDuration(retention),
        " is not in (0, 5 years] (at most ",
        absl::ToInt64Hours(kMaxFlightLogRetention) / 24, " days)"));
  }
  if (absl::Trunc(retention, absl::Seconds(1)) != retention) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", absl::FormatDuration(retention),
                     " is not a whole number of seconds"));
  }
  return absl::OkStatus();
}

OperatorSettings::OperatorSettings(const pseudonym::Pseudonymizer* pseudonyms,
                                   ledger::Ledger* ledger,
                                   ledger::Follower* follower,
                                   std::string region)
    : pseudonyms_(pseudonyms),
      ledger_(ledger),
      follower_(follower),
      region_(std::move(region)) {
  follower_->AddTable(
      kTable,
      [this](absl::string_view key, const std::optional<std::string>& value) {
        Apply(key, value);
      },
      [this] { Clear(); });
}

void OperatorSettings::Apply(absl::string_view key,
                             const std::optional<std::string>& value) {
  absl::MutexLock lock(&mu_);
  if (!value.has_value()) {
    by_pseudonym_.erase(std::string(key));
    size_.store(by_pseudonym_.size());
    return;
  }
  internal::StoredDataSettings record;
  DataPolicy policy;
  if (!record.ParseFromString(*value) ||
      key.size() != pseudonym::kPseudonymChars) {
    // A record this build cannot read: the model goes on without it (that
    // operator is on the defaults) rather than stopping at this entry. The
    // key is a pseudonym: safe to print.
    UTM_LOG(kWarning) << "operator settings: skipping the undecodable "
                         "record of table "
                      << kTable << " (" << value->size() << " bytes)";
    return;
  }
  policy.local_only = record.local_data_mode();
  const absl::Duration retention =
      absl::Seconds(record.flight_log_retention().seconds());
  if (CheckFlightLogRetention(retention, "").ok()) {
    policy.flight_log_retention = retention;
  }
  by_pseudonym_[std::string(key)] = policy;
  size_.store(by_pseudonym_.size());
}

void OperatorSettings::Clear() {
  absl::MutexLock lock(&mu_);
  by_pseudonym_.clear();
  size_.store(0);
}

size_t OperatorSettings::size() const { return size_.load(); }

DataPolicy OperatorSettings::Lookup(const std::string& pseudonym) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_pseudonym_.find(pseudonym);
  return it == by_pseudonym_.end() ? DataPolicy{} : it->second;
}

DataPolicy OperatorSettings::For(absl::string_view operator_id) const {
  if (pseudonyms_ == nullptr || size_.load() == 0) return DataPolicy{};
  return Lookup(pseudonyms_->Of(operator_id));
}

absl::Status OperatorSettings::CheckUsable(
    absl::string_view operator_id) const {
  if (pseudonyms_ == nullptr) {
    return absl::FailedPreconditionError(
        "data settings cannot be kept on this deployment: its replicas were "
        "given no shared pseudonym key (utmd --pseudonym-key)");
  }
  if (operator_id.empty()) {
    return absl::InvalidArgumentError(
        "the token has no subject: data settings are an operator's");
  }
  return absl::OkStatus();
}

absl::StatusOr<DataPolicy> OperatorSettings::Get(
    absl::string_view operator_id) const {
  UTM_RETURN_IF_ERROR(CheckUsable(operator_id));
  return Lookup(pseudonyms_->Of(operator_id));
}

absl::StatusOr<DataPolicy> OperatorSettings::Set(absl::string_view operator_id,
                                                 const SettingsChange& change) {
  UTM_RETURN_IF_ERROR(CheckUsable(operator_id));
  if (change.flight_log_retention) {
    UTM_RETURN_IF_ERROR(CheckFlightLogRetention(*change.flight_log_retention,
                                                "flight_log_retention"));
  }
  const std::string pseudonym = pseudonyms_->Of(operator_id);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (attempt > 0) UTM_RETURN_IF_ERROR(follower_->CatchUp());
    // The base before the model: the decision saw at least this much.
    const ledger::Position base = follower_->applied();
    DataPolicy next = Lookup(pseudonym);
    if (change.local_only) next.local_only = *change.local_only;
    if (change.flight_log_retention) {
      next.flight_log_retention = *change.flight_log_retention;
    }
    ledger::Guard guard;
    guard.base = base;
    guard.reads = {GuardKey(pseudonym)};
    guard.writes = {GuardKey(pseudonym)};
    std::vector<store::Mutation> mutations;
    mutations.push_back(
        IsDefault(next)
            ? store::Delete(kTable, pseudonym)
            : store::Put(kTable, pseudonym,
                         ToRecord(next, region_).SerializeAsString()));
    UTM_ASSIGN_OR_RETURN(
        ledger::CommitResult result,
        ledger_->CommitAndWait(std::move(guard), std::move(mutations)));
    if (result.status != ledger::CommitStatus::kCommitted) continue;
    // Read your writes: every For() after this answer has the change.
    UTM_RETURN_IF_ERROR(follower_->WaitApplied(result.position.seq));
    return Lookup(pseudonym);
  }
  return absl::UnavailableError(absl::StrCat(
      "these data settings changed on other replicas ", kMaxAttempts,
      " times while this change was being decided; retry"));
}

}  // namespace utm::fleet
