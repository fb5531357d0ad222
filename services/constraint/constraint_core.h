// Airspace constraints (geofences, UAS zones, TFRs), their authorisations
// and their change log, without gRPC. The wire messages of
// proto/utm/v1/constraint.proto are the domain types: the core validates and
// fills them, and the adapter only authenticates and maps statuses.
//
// Rules:
//  - Authorities (callers with `authority`) publish, update and withdraw
//    their own constraints and grant and revoke authorisations on them;
//    `admin` callers may act on anyone's. Everyone may read.
//  - Intents meet a constraint only while it is active: inside a volume's
//    time range, the schedule's absolute window and (if any) one of its
//    weekly windows. PROHIBITED and REQUIRES_AUTHORISATION block unless an
//    unrevoked authorisation of the operator covers the overlap's time (the
//    part it covers becomes advisory); CONDITIONAL blocks the part above its
//    altitude ceiling and is advisory otherwise; ADVISORY never blocks.
//  - Only REQUIRES_AUTHORISATION constraints with self_unlock_allowed can be
//    self-unlocked, and only with `acknowledged`.
//  - Every write, schedule transition and expiry is an entry of the change
//    log with the next sequence number; watchers see the entries that
//    concern their area, in order, after they are durable. The log keeps the
//    last `change_log_retention` entries (across restarts) for resuming.
//  - Writes with a request_id are idempotent for `request_id_retention`.
//
// Thread-safe. The core calls the intent service (Overlapping) only outside
// its own lock; the intent service calls the core (Check) under its lock.
//
// The core is the facade and holds the rules; each job has its own class:
// ConstraintRegistry (the constraints in force, their index and schedule
// checks), Authorisations, ChangeFeed (the change log; LocalChangeFeed in
// one process), WatchHub (the watchers, fed from the feed) and
// WithdrawnHistory. Writes (Publish .. Revoke, Tick) are in
// constraint_core.cc, reads and Check in constraint_queries.cc. One lock,
// mu_, guards the registry, the authorisations, the feed and the hub's
// watchers; the hub takes it itself (watch_hub.h gives the lock order), and
// WithdrawnHistory's own lock is taken after it.
//
// Typical usage:
//   ConstraintCore core(ConstraintOptions(), RealClock::Get(), store);
//   UTM_RETURN_IF_ERROR(core.Recover());
//   intent_core.SetConstraintChecker(&core);
//   core.SetIntentLookup([&](const auto& v) { return intents.Overlapping(v);
//   });
//   ... a thread calls core.Tick() a few times a second ...
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_CORE_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_CORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "geo/volume_index.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/ledger.h"
#include "services/common/region.h"
#include "services/common/store.h"
#include "services/constraint/authorisations.h"
#include "services/constraint/change_feed.h"
#include "services/constraint/constraint_record.h"
#include "services/constraint/constraint_registry.h"
#include "services/constraint/limits.h"
#include "services/constraint/schedule.h"
#include "services/constraint/watch_hub.h"
#include "services/constraint/withdrawn_history.h"
#include "services/intent/intent_core.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

// Who is calling, from the adapter's authentication.
struct Caller {
  std::string id;          // the token's subject
  bool authority = false;  // may publish (utm.constraint_management)
  bool admin = false;      // may act on any authority's data (utm.admin)
};

struct ConstraintOptions {
  // Geometry limits of constraint volumes. DEFAULT: ConstraintLimits().
  geo::ValidationLimits limits = ConstraintLimits();
  // Most volumes in one constraint. DEFAULT: 1000.
  int max_volumes = 1000;
  // Change-log entries kept for resuming watchers. DEFAULT: 100,000.
  size_t change_log_retention = 100000;
  // Live events a watcher may have queued before it is told to resync
  // (snapshot events do not count). DEFAULT: 1024.
  size_t watcher_queue_limit = 1024;
  // How long a request_id is remembered. DEFAULT: 24 hours.
  absl::Duration request_id_retention = absl::Hours(24);
  // How long a withdrawn constraint stays readable (WITHDRAWN, with who
  // withdrew it and when) before it is purged. DEFAULT: 30 days.
  // REQUIRES: positive.
  absl::Duration withdrawn_retention = absl::Hours(24 * 30);
  // Longest request_id accepted, bytes. DEFAULT: 128.
  size_t max_request_id_bytes = 128;
  // Whether watchers are notified on a thread of the core's own, so that a
  // write returns once its events are queued, not once 10,000 streams have
  // been handed their next message. DEFAULT: true. With false, the writing
  // thread notifies (after releasing the core's lock): deterministic, for
  // tests.
  bool notify_thread = true;
  // Data residency: when set, Publish and Update refuse (FAILED_PRECONDITION,
  // nothing stored) a constraint with a volume outside the region. Not
  // owned; must outlive the core. DEFAULT: null, no region.
  const region::RegionPolicy* region = nullptr;
};

// One watch stream's view of the change log. Created by Watch(); the
// consumer calls ConstraintCore::NextEvent() until it returns false, after
// the core has called `notify`.
class Watcher;

// Events are immutable and shared by every watcher they go to.
using EventPtr = std::shared_ptr<const v1::ConstraintEvent>;

class ConstraintCore final : public intent::ConstraintChecker {
 public:
  // `clock` and `store` are not owned. Without a store nothing is retained;
  // with one, Recover() must run before anything else. `new_id` makes ids;
  // DEFAULT (null): random UUIDv4.
  ConstraintCore(ConstraintOptions options, const Clock* clock,
                 store::Store* store = nullptr,
                 std::function<std::string()> new_id = nullptr);
  ~ConstraintCore() override;

  // Loads constraints, authorisations, the change log and remembered
  // requests. DATA_LOSS for records that cannot be decoded.
  absl::Status Recover();

  // Where the core finds the intents a constraint cuts through (normally
  // IntentCore::Overlapping). Called without the core's lock held. Set
  // before serving; unset, no intent is ever reported as affected.
  using IntentLookup = std::function<std::vector<intent::OverlappingIntent>(
      const std::vector<geo::Volume4D>&)>;
  void SetIntentLookup(IntentLookup lookup);

  // Writes. INVALID_ARGUMENT with the field's path for malformed input,
  // PERMISSION_DENIED for a caller who may not, NOT_FOUND, ABORTED for a
  // stale version, ALREADY_EXISTS for a reused request_id (or a re-published
  // source id), UNAVAILABLE when the store fails.
  absl::StatusOr<v1::PublishConstraintResponse> Publish(
      const Caller& caller, const v1::PublishConstraintRequest& request);
  absl::StatusOr<v1::UpdateConstraintResponse> Update(
      const Caller& caller, const v1::UpdateConstraintRequest& request);
  absl::StatusOr<v1::WithdrawConstraintResponse> Withdraw(
      const Caller& caller, const v1::WithdrawConstraintRequest& request);
  absl::StatusOr<v1::GrantAuthorisationResponse> Grant(
      const Caller& caller, const v1::GrantAuthorisationRequest& request);
  absl::StatusOr<v1::SelfUnlockResponse> SelfUnlock(
      const Caller& caller, const v1::SelfUnlockRequest& request);
  absl::StatusOr<v1::RevokeAuthorisationResponse> Revoke(
      const Caller& caller, const v1::RevokeAuthorisationRequest& request);

  // Reads.
  absl::StatusOr<v1::GetConstraintResponse> Get(
      const v1::GetConstraintRequest& request) const;
  absl::StatusOr<v1::QueryConstraintsResponse> Query(
      const v1::QueryConstraintsRequest& request) const;
  absl::StatusOr<v1::ListAuthorisationsResponse> ListAuthorisations(
      const Caller& caller, const v1::ListAuthorisationsRequest& request) const;
  absl::StatusOr<v1::CheckPositionResponse> CheckPosition(
      const Caller& caller, const v1::CheckPositionRequest& request) const;

  // Opens a watch: the snapshot of the area (since_sequence 0), or the
  // changes after since_sequence, then live changes. `notify` runs (quickly,
  // never blocking, possibly under the core's lock) whenever events become
  // available after NextEvent() returned false. INVALID_ARGUMENT for a bad
  // area.
  absl::StatusOr<std::shared_ptr<Watcher>> Watch(
      const Caller& caller, const v1::WatchConstraintsRequest& request,
      std::function<void()> notify);
  // Takes the watcher's next event; false when none is queued (`notify`
  // runs when one is). Call from one thread at a time per watcher, never
  // from inside `notify` while holding a lock `notify` takes.
  bool NextEvent(Watcher* watcher, EventPtr* event);
  // Stops a watch; no `notify` runs after it returns.
  void Unwatch(Watcher* watcher);

  // Emits due schedule transitions and expiries (durably, then to
  // watchers) and heartbeats to idle watchers. Call a few times a second;
  // returns the number of change-log entries written.
  absl::StatusOr<int> Tick();

  // intent::ConstraintChecker.
  void Check(const std::string& operator_id,
             const std::vector<geo::Volume4D>& volumes,
             std::vector<intent::Conflict>* blocking,
             std::vector<intent::Conflict>* advisory) const override;

  // Replicated mode (several utmd processes sharing one Redis): the core's
  // state (constraints, authorisations, the withdrawn history, the change
  // log and remembered requests) is a read model of `ledger`, kept current
  // by `follower`. A write is decided on the model and committed through the
  // ledger with a guard: every write of this tier reads and writes one key
  // (so the change log is numbered without gaps across replicas, as in one
  // process) and writes the area keys of the airspace the constraint leaves
  // and takes, so an intent decided concurrently on another replica without
  // it is decided again. Watchers on every replica are fed the changes as
  // the follower applies them; schedule transitions are logged once,
  // whichever replica's Tick() commits them first. Neither is owned; the
  // ledger must outlive the core and the follower must be stopped before
  // the core is destroyed. Call before follower->Start() (which loads the
  // model: Recover() is not called). In constraint_replica.cc.
  void UseLedger(ledger::Ledger* ledger, ledger::Follower* follower);
  // The table of remembered requests in the store and the ledger.
  static constexpr char kRequestsTable[] = "constraint_requests";
  // Times a write was decided again because another replica changed the
  // constraint tier meanwhile (replicated mode).
  int64_t ledger_retries() const { return ledger_retries_.load(); }

  // For tests, benchmarks and logs.
  int64_t last_sequence() const;
  size_t constraint_count() const;
  size_t watcher_count() const;
  WatchHub::QueueStats watch_queue_stats() const;

 private:
  // A remembered request: its fingerprint and answer (serialized), when it
  // was first answered, and the store ticket that makes it durable.
  struct RequestRecord {
    std::string fingerprint;
    std::string response;
    absl::Time created;
    store::Store::Ticket ticket = 0;
  };
  // A remembered request as the store and the ledger hold it
  // (internal.StoredConstraintRequest), and back; nullopt for a record that
  // cannot be decoded.
  static std::string EncodeRequest(const RequestRecord& record);
  static std::optional<RequestRecord> DecodeRequest(absl::string_view value);

  // What one write changes, decided on the model without changing it:
  // applied to the model at once in one process (ApplyLocal), or committed
  // through the ledger and applied by every replica's follower
  // (constraint_replica.cc).
  struct Decision {
    // Publish, Update: the constraint's new current version, the volumes it
    // replaces (none when new) and, when new, its source key.
    std::shared_ptr<const Record> upsert;
    std::vector<geo::Volume4D> previous;
    std::string source_key;
    // Withdraw: the constraint removed, and its WITHDRAWN view.
    std::shared_ptr<const Record> withdrawn;
    v1::Constraint withdrawn_view;
    // Grant, SelfUnlock, Revoke: the authorisation as it is to be kept.
    std::optional<v1::Authorisation> authorisation;
  };
  template <typename Response>
  using Decide = std::function<absl::StatusOr<Response>(absl::Time now,
                                                        Decision* decision)>;

  template <typename Response, typename Request>
  absl::StatusOr<Response> Write(const Caller& caller, const Request& request,
                                 absl::string_view method,
                                 const Decide<Response>& decide);
  // Applies `decision` to the model (one process) and queues its records and
  // changes.
  void ApplyLocal(const Decision& decision, absl::Time now,
                  std::vector<store::Mutation>* batch,
                  std::vector<Change>* changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The affected-intents report of a constraint just written: fills `out`
  // and the blocking intents by owner. Empty when the constraint is gone.
  void AffectedBy(const Record& record,
                  const std::vector<intent::OverlappingIntent>& found,
                  google::protobuf::RepeatedPtrField<v1::Conflict>* out,
                  std::map<std::string, std::vector<std::string>>* by_owner)
      const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Replicated mode (constraint_replica.cc). A proposal: the records one
  // write commits, the airspace it changes and its answer.
  struct Proposal {
    std::vector<store::Mutation> mutations;
    std::vector<geo::Footprint> area;
    std::string response;
    // The answer of an earlier attempt of the same request (nothing to
    // write): given once the ledger confirms what this replica applied.
    bool replayed = false;
  };
  using Propose =
      std::function<absl::StatusOr<Proposal>(absl::Time now, int64_t* seq)>;
  // Proposes under mu_ on the model (with the next change sequence in
  // `seq`), commits under the guard, applies; decides again when another
  // replica wrote meanwhile. Returns the proposal's response.
  absl::StatusOr<std::string> CommitThroughLedger(const Propose& propose);
  // The proposal of a write (a request replayed, or `decide`'s decision).
  absl::StatusOr<Proposal> ProposeWrite(
      const std::string& key, const std::string& fingerprint, absl::Time now,
      int64_t* seq,
      const std::function<absl::StatusOr<std::string>(absl::Time, Decision*)>&
          decide) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds `change` (numbered ++*seq) to `p`, with the trim of the change
  // that falls out of the retention.
  void ProposeChange(Change change, int64_t* seq, Proposal* p) const;
  absl::StatusOr<int> TickThroughLedger();
  // The follower's handlers.
  void ApplyRequestRecord(absl::string_view key,
                          const std::optional<std::string>& value);
  void ClearModel();
  absl::StatusOr<Entry*> OwnedEntry(const Caller& caller, const std::string& id,
                                    int64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Computes affected intents for a just-written constraint, logs and
  // delivers them.
  absl::Status ReportAffected(
      const std::shared_ptr<const Record>& record,
      google::protobuf::RepeatedPtrField<v1::Conflict>* affected_out);
  // Queues the entry's (new) current version for the store and its upsert
  // for the change log; `previous` are the volumes it replaces.
  void PutVersion(const Entry& entry, std::vector<geo::Volume4D> previous,
                  absl::Time now, std::vector<store::Mutation>* batch,
                  std::vector<Change>* changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ConstraintOptions options_;
  const Clock* const clock_;
  store::Store* const store_;
  const std::function<std::string()> new_id_;
  IntentLookup intent_lookup_;
  // Withdrawn constraints kept as history (its own lock, taken after mu_).
  WithdrawnHistory withdrawn_{options_.withdrawn_retention};

  mutable absl::Mutex mu_;
  // Live (not withdrawn) constraints: records, index, schedule checks.
  ConstraintRegistry registry_ ABSL_GUARDED_BY(mu_){
      store_, options_.region != nullptr ? options_.region->code() : ""};
  // Schedule transitions are logged up to here (persisted in the store).
  absl::Time ticked_ ABSL_GUARDED_BY(mu_);

  // Operators' exemptions from constraints.
  Authorisations authorisations_ ABSL_GUARDED_BY(mu_){store_};

  // The change log: sequences assigned, changes retained for resuming.
  // (A ReplicaChangeFeed in replicated mode.)
  std::unique_ptr<ChangeFeed> feed_ ABSL_PT_GUARDED_BY(mu_);

  // The watchers, fed from `feed_`; they share mu_ (see watch_hub.h).
  WatchHub hub_{
      WatchHub::Options{options_.watcher_queue_limit, options_.notify_thread},
      clock_, &mu_, feed_.get(), &registry_};

  // Idempotency records by caller + '\0' + request_id, and their keys in
  // the order they were made.
  absl::flat_hash_map<std::string, RequestRecord> requests_
      ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> request_order_
      ABSL_GUARDED_BY(mu_);

  // Replicated mode: set once by UseLedger(), before serving.
  ledger::Ledger* ledger_ = nullptr;
  ledger::Follower* follower_ = nullptr;
  ReplicaChangeFeed* replica_feed_ ABSL_PT_GUARDED_BY(mu_) = nullptr;
  // The model was cleared for a reload: watchers resync once it is loaded.
  bool reloaded_ ABSL_GUARDED_BY(mu_) = false;
  // Entries applied whose changes watchers have not been handed because the
  // ledger has not confirmed them durable yet: (ledger sequence, the change
  // log's last sequence once it was applied), oldest first.
  std::deque<std::pair<uint64_t, int64_t>> undelivered_ ABSL_GUARDED_BY(mu_);
  // Hands watchers every change of the entries up to `ledger_seq`, which is
  // durable (a follower's watermark, or a commit of this replica).
  void ReleaseDurable(uint64_t ledger_seq) ABSL_LOCKS_EXCLUDED(mu_);
  std::atomic<int64_t> ledger_retries_{0};
};

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_CORE_H_
