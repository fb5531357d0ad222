// Operators' data settings, without gRPC: Local Data Mode and flight-log
// retention, per operator, set by the operator itself and asked by every
// part of utmd that would write about a flight (DataPolicies::For).
//
// Storage: a read model of a ledger (table "operator_settings"), in one
// process (LocalLedger over the store) as across replicas (RedisLedger), so a
// change made on one replica applies on every replica from its next write,
// and survives restarts. Each record is keyed by the operator's keyed
// pseudonym (services/common/pseudonym.h), never its id, and its value
// (internal::StoredDataSettings, utm/internal/operator_settings_storage.proto)
// names no one: a Local-Data-Mode operator's id appears in
// no file and no Redis key because of its setting. An operator on the
// defaults has no record (setting the defaults back removes it).
//
// Without a pseudonymizer (replicas given no shared --pseudonym-key) nothing
// can be kept: Get and Set answer FAILED_PRECONDITION and For() answers the
// defaults.
//
// Thread-safe. For() takes a reader lock and, when any operator has a
// record, one HMAC of the id (a few microseconds; see pseudonym.h).
//
// Typical usage:
//   OperatorSettings settings(&pseudonyms, ledger, &follower);  // AddTable
//   UTM_RETURN_IF_ERROR(follower.Start());
//   settings.Set("alice", {.local_only = true});
//   if (settings.For("alice").local_only) ...  // write nothing
#ifndef UTM_SERVICES_OPERATOR_OPERATOR_SETTINGS_H_
#define UTM_SERVICES_OPERATOR_OPERATOR_SETTINGS_H_

#include <atomic>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/ledger.h"
#include "services/common/pseudonym.h"
#include "services/operator/data_policy.h"

namespace utm::fleet {

// The longest a flight log may be kept: 5 years (of 365.25 days, rounded
// up to whole days).
inline constexpr absl::Duration kMaxFlightLogRetention = absl::Hours(24 * 1827);

// A change to an operator's settings: unset fields keep their value.
struct SettingsChange {
  std::optional<bool> local_only = std::nullopt;
  std::optional<absl::Duration> flight_log_retention = std::nullopt;
};

// OK when `retention` is a whole number of seconds in
// (0, kMaxFlightLogRetention]; INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckFlightLogRetention(absl::Duration retention,
                                     absl::string_view field);

class OperatorSettings final : public DataPolicies {
 public:
  static constexpr char kTable[] = "operator_settings";

  // Not owned; must outlive the settings. `pseudonyms` may be null (nothing
  // can be kept; see the file comment). Adds the table to `follower`:
  // REQUIRES before follower->Start(). Every record written names `region`,
  // the deployment's data-residency region (services/common/region.h; ""
  // without one).
  OperatorSettings(const pseudonym::Pseudonymizer* pseudonyms,
                   ledger::Ledger* ledger, ledger::Follower* follower,
                   std::string region = "");

  // DataPolicies: `operator_id`'s settings as this replica's model holds
  // them; the defaults for an operator without a record.
  DataPolicy For(absl::string_view operator_id) const override;

  // `operator_id`'s settings. FAILED_PRECONDITION without a pseudonymizer;
  // INVALID_ARGUMENT for an empty id.
  absl::StatusOr<DataPolicy> Get(absl::string_view operator_id) const;

  // Applies `change` and answers the settings now in force, once this
  // replica's model has them (a For() after it sees them). INVALID_ARGUMENT
  // naming the field ("flight_log_retention"),
  // FAILED_PRECONDITION without a pseudonymizer, UNAVAILABLE when the ledger
  // is down or other replicas changed the same operator's settings
  // `kMaxAttempts` times meanwhile. Blocks on the ledger.
  absl::StatusOr<DataPolicy> Set(absl::string_view operator_id,
                                 const SettingsChange& change);

  // Operators with a record (not on the defaults).
  size_t size() const;

  static constexpr int kMaxAttempts = 8;

 private:
  void Apply(absl::string_view key, const std::optional<std::string>& value);
  void Clear();
  absl::Status CheckUsable(absl::string_view operator_id) const;
  DataPolicy Lookup(const std::string& pseudonym) const;

  const pseudonym::Pseudonymizer* const pseudonyms_;
  ledger::Ledger* const ledger_;
  ledger::Follower* const follower_;
  const std::string region_;

  mutable absl::Mutex mu_;
  // By pseudonym.
  absl::flat_hash_map<std::string, DataPolicy> by_pseudonym_
      ABSL_GUARDED_BY(mu_);
  // by_pseudonym_.size(), read without the lock: For() skips the HMAC
  // while nobody has a record.
  std::atomic<size_t> size_{0};
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_OPERATOR_SETTINGS_H_
