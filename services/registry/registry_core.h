// The aircraft registry, without gRPC: registrations by serial number, the
// rules of who may write and read them, and the registration check that
// intent activation and telemetry ask (registration::RegistrationChecker).
// The wire messages of proto/utm/v1/registry.proto are the domain types.
//
// Storage: the registrations are a read model of a ledger (table
// "registrations", key: serial number, value: a serialized
// v1::AircraftRegistration), in one process (LocalLedger over the store) as
// across replicas (RedisLedger): a write is decided on the model, committed
// with a guard on the key "registration/<serial>" (so two replicas
// registering one serial at once cannot both win: the second decides again
// and finds the first), and answered once this replica's follower has
// applied it, so a read right after a write sees it.
//
// Rules:
//  - Only registry authorities (Caller::registry) register and revoke.
//  - A serial number has at most one registration; version 0 registers a
//    new one (ALREADY_EXISTS while one is in force, replacing a revoked or
//    expired one), version N replaces version N (ABORTED when stale). A
//    retry of a write that was made (same content, same caller) answers the
//    stored registration again.
//  - Reads: the registry authority and the operator an aircraft is
//    registered to see its registration; law enforcement with a case
//    reference too, and the adapter records each such read in the audit log
//    before answering (GetResult::audited). Anyone else: PERMISSION_DENIED,
//    registered or not.
//  - CheckAircraft(): see registration_check.h; the threshold is
//    RegistryOptions::jurisdiction.
//
// Thread-safe.
//
// Typical usage:
//   RegistryCore registry(options, clock, ledger, &follower);  // AddTable
//   UTM_RETURN_IF_ERROR(follower.Start());
//   intent_core.SetRegistrationChecker(&registry);
//   registry.SetChangeObserver([&](const v1::AircraftRegistration& r) {...});
#ifndef UTM_SERVICES_REGISTRY_REGISTRY_CORE_H_
#define UTM_SERVICES_REGISTRY_REGISTRY_CORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/ledger.h"
#include "services/common/registration_check.h"
#include "utm/v1/registry.pb.h"

namespace utm::registry {

// Who is calling, from the adapter's authentication.
struct Caller {
  std::string id;                // the token's subject
  bool registry = false;         // utm.registry: a registry authority
  bool operator_ = false;        // utm.strategic_coordination
  bool law_enforcement = false;  // utm.law_enforcement
};

struct RegistryOptions {
  // The registration threshold. DEFAULT: none (not required).
  registration::Jurisdiction jurisdiction;
  // Most registrations held (in force or not). DEFAULT: 5,000,000 (the
  // FAA's register holds about a million drones). Across replicas a few
  // concurrent writes may pass it.
  size_t max_registrations = 5000000;
  // Times a write is decided again after another replica's commit moved
  // the key, before UNAVAILABLE. DEFAULT: 8.
  int max_attempts = 8;
  // Registrations one List call looks at before it answers the page so far
  // with a token (a page of mostly revoked or expired registrations, or of
  // everyone's, must not hold the model's lock for long). DEFAULT: 100,000.
  // REQUIRES: > 0.
  int list_scan_limit = 100000;
  // The data-residency region every written registration names
  // (AircraftRegistration.region; services/common/region.h). DEFAULT: none.
  std::string region;
};

class RegistryCore final : public registration::RegistrationChecker {
 public:
  // The ledger table, and the guard key of a serial number
  // (registration::RegistrationGuardKey, which intent activation reads).
  static constexpr char kTable[] = "registrations";
  static std::string GuardKey(absl::string_view serial_number);

  // `clock`, `ledger` and `follower` are not owned and must outlive the
  // core. Adds the table to `follower`: REQUIRES before follower->Start().
  RegistryCore(RegistryOptions options, const Clock* clock,
               ledger::Ledger* ledger, ledger::Follower* follower);
  ~RegistryCore() override;

  // Writes. INVALID_ARGUMENT naming the field, PERMISSION_DENIED,
  // ALREADY_EXISTS, ABORTED (stale version), NOT_FOUND,
  // FAILED_PRECONDITION (revoking a revoked one), RESOURCE_EXHAUSTED (the
  // registry is full), UNAVAILABLE (the ledger, or max_attempts decisions
  // overtaken by other replicas). A refusal about the stored state is said
  // only of a model caught up with the ledger during the call. Answered
  // once this replica applied the write. Blocks on the ledger: never call
  // with a lock held that the change observer takes.
  absl::StatusOr<v1::RegisterAircraftResponse> Register(
      const Caller& caller, const v1::RegisterAircraftRequest& request);
  absl::StatusOr<v1::RevokeRegistrationResponse> Revoke(
      const Caller& caller, const v1::RevokeRegistrationRequest& request);

  // A read's answer and, when it is a disclosure to law enforcement under
  // a case reference, the fact that the adapter must audit it first.
  struct GetResult {
    v1::GetRegistrationResponse response;
    // The read is allowed only by law enforcement's case reference: the
    // adapter records it (AuditEvent action "registration") before
    // answering, and answers nothing when it cannot.
    bool audited = false;
    // False (only ever with `audited`): no registration under that serial
    // number; law enforcement learns that too, so the adapter audits it
    // ("not registered") and then answers NOT_FOUND.
    bool found = true;
  };
  // PERMISSION_DENIED for a caller who may not read it (registered or
  // not); NOT_FOUND to the registry authority for an unknown serial number
  // (law enforcement with a case reference: `found` false, see above);
  // INVALID_ARGUMENT for a malformed serial number or case reference.
  absl::StatusOr<GetResult> Get(
      const Caller& caller, const v1::GetRegistrationRequest& request) const;
  // Registrations in serial-number order: the registry authority's all
  // (or `operator_id`'s), an operator's its own (PERMISSION_DENIED naming
  // operator_id when it asks for another's); anyone else PERMISSION_DENIED.
  // A page may hold fewer than page_size and still carry a token (at most
  // RegistryOptions::list_scan_limit registrations are looked at per call);
  // the token is the serial number the next page starts after.
  absl::StatusOr<v1::ListRegistrationsResponse> List(
      const Caller& caller, const v1::ListRegistrationsRequest& request) const;

  // registration::RegistrationChecker.
  absl::Status CheckAircraft(absl::string_view operator_id,
                             absl::string_view aircraft_id,
                             int64_t declared_mass_g,
                             absl::string_view field) const override;

  // Called with each registration as applied (on every replica, on the
  // follower's thread, without the core's lock): telemetry raises or clears
  // its revocation alerts from it. Set before the follower starts.
  using ChangeObserver = std::function<void(const v1::AircraftRegistration&)>;
  void SetChangeObserver(ChangeObserver observer);

  // Tells the change observer, once, of each registration whose
  // expire_time has passed since it was applied (not revoked, not replaced
  // since): telemetry alerts the operator of an aircraft flying on it as
  // for a revocation. Call about once a second (utmd does).
  void NotifyLapsed();

  // Every registration of `operator_id` (in force or not), in serial-number
  // order: for the operator's data export. No access rule: the caller is
  // the operator itself.
  std::vector<v1::AircraftRegistration> OperatorRegistrations(
      const std::string& operator_id) const;

  // An operator's erasure: its registrations no longer in force (revoked,
  // or expired) are deleted through the ledger, on every replica; those in
  // force are kept — the registry's record of an aircraft that may fly,
  // kept under aviation law, not the operator's to erase — and named in
  // `kept`. UNAVAILABLE as the writes.
  struct Erased {
    int64_t erased = 0;
    std::vector<std::string> kept;  // serial numbers still in force
  };
  absl::StatusOr<Erased> EraseOperator(const std::string& operator_id);

  const RegistryOptions& options() const { return options_; }
  size_t size() const;

  // The registration of `serial_number` as this replica holds it, with no
  // access rule: for the server's own use (a Remote ID details answer that
  // is itself privileged and audited), never to answer a caller directly.
  std::optional<v1::AircraftRegistration> Find(
      absl::string_view serial_number) const;

 private:
  // The follower's handlers.
  void Apply(absl::string_view key, const std::optional<std::string>& value);
  void Clear();
  // Removes `r` from by_operator_ and lapses_.
  void Unindex(const v1::AircraftRegistration& r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What a write decided on the model: the record to commit, or (a retry
  // of a write already made) the stored record to answer again.
  struct Decision {
    v1::AircraftRegistration record;
    bool write = true;
  };
  // Called with mu_ held, given the serial's record (null: none) and the
  // number of registrations held.
  using Decide = std::function<absl::StatusOr<Decision>(
      const v1::AircraftRegistration* existing, size_t held, absl::Time now)>;
  // Decides (under mu_) and commits until the decision holds, then answers
  // the record as this replica's model has it.
  absl::StatusOr<v1::AircraftRegistration> Write(absl::string_view serial,
                                                 const Decide& decide);
  // Commits `r` as the new record of its serial, decided on `base`, and
  // waits until this replica applied it. True when committed; false when
  // the guard failed (kMoved/kReload): catch up and decide again.
  absl::StatusOr<bool> CommitRecord(const ledger::Position& base,
                                    const v1::AircraftRegistration& r);

  const RegistryOptions options_;
  const Clock* const clock_;
  ledger::Ledger* const ledger_;
  ledger::Follower* const follower_;
  ChangeObserver observer_;

  mutable absl::Mutex mu_;
  // By serial number, ordered for List's pages.
  std::map<std::string, v1::AircraftRegistration> registrations_
      ABSL_GUARDED_BY(mu_);
  // Serial numbers by operator_id, so that an operator's pages are read
  // without scanning everyone's.
  std::map<std::string, std::set<std::string>> by_operator_
      ABSL_GUARDED_BY(mu_);
  // Registrations that will lapse (not revoked, with an expire_time), by
  // when, until NotifyLapsed tells of them.
  std::multimap<absl::Time, std::string> lapses_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::registry

#endif  // UTM_SERVICES_REGISTRY_REGISTRY_CORE_H_
