// Strategic coordination of flight intents (ASTM F3548-21), without gRPC.
//
// An operator files an intent — one or more 4-D volumes with a priority —
// and the core accepts it or says exactly what it conflicts with. Rules:
//  - A higher-priority intent may overlap lower-priority ones; a lower one
//    may not overlap a higher one; equal priorities may not overlap unless
//    IntentOptions::allow_equal_priority_overlap.
//  - Modifying an ACTIVATED intent is allowed as long as it adds no new
//    conflict: every intent it conflicts with afterwards it conflicted with
//    before (the F3548 rule for flights already in the air).
//  - NONCONFORMING and CONTINGENT intents are off-nominal: modifying them is
//    not deconflicted (the flight is already where it is), but they remain
//    obstacles to everyone else's planning.
//  - Only live intents (ACCEPTED, ACTIVATED, NONCONFORMING, CONTINGENT) take
//    part; ENDED and CANCELLED are terminal and kept for Get only.
//  - Every write bumps the version; a write that names a version other than
//    the current one gets ABORTED with the current version in the message.
//  - A non-empty request_id makes a write idempotent: a retry with the same
//    request returns the first outcome; the same id for a different request
//    gets ALREADY_EXISTS. Request ids are kept for request_id_retention.
//  - A conflict is a result, not an error: WriteOutcome lists each conflicting
//    intent (id, priority, state — never its owner), which volume of the
//    caller's meets which of theirs, and the common time window and altitude
//    band.
//
// Thread-safe: writes are serialised, reads share a lock.
//
// Typical usage:
//   IntentCore core(IntentOptions(), RealClock::Get());
//   UTM_ASSIGN_OR_RETURN(WriteOutcome out, core.File("op-1", request));
//   if (!out.accepted()) explain(out.conflicts);
#ifndef UTM_SERVICES_INTENT_INTENT_CORE_H_
#define UTM_SERVICES_INTENT_INTENT_CORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "geo/volume_index.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/ledger.h"
#include "services/common/registration_check.h"
#include "services/common/store.h"
#include "utm/v1/common.pb.h"

namespace utm::intent {

enum class IntentState {
  kAccepted,
  kActivated,
  kNonconforming,
  kContingent,
  kEnded,
  kCancelled,
};

const char* IntentStateName(IntentState state);  // "ACCEPTED", ...

// Whether the state takes part in deconfliction.
bool IsLive(IntentState state);

struct Intent {
  std::string id;     // UUID, assigned on filing
  std::string owner;  // authenticated operator
  int32_t priority = 0;
  IntentState state = IntentState::kAccepted;
  std::vector<geo::Volume4D> volumes;
  // Where a NONCONFORMING or CONTINGENT flight actually is (F3548
  // off-nominal volumes); empty otherwise. Obstacles like `volumes`.
  std::vector<geo::Volume4D> off_nominal_volumes;
  int64_t version = 0;   // 1 on filing, +1 on every write
  bool retained = true;  // FileRequest::retain
  absl::Time created;
  absl::Time updated;
  // The aircraft that flies it (v1::FlightAircraft): its serial number
  // (or the operator's id for it) and declared mass, grams (0: not
  // declared). Checked against the registry at activation.
  std::string aircraft_serial;
  int64_t aircraft_mass_g = 0;
};

// Where one volume of the caller's intent meets one volume of another.
struct VolumeOverlap {
  int volume_index = 0;            // in the caller's intent
  int other_volume_index = 0;      // in the conflicting intent
  bool other_off_nominal = false;  // ... in its off_nominal_volumes
  geo::TimeWindow time;            // common closed time window
  geo::AltitudeBand altitude;      // common closed altitude band
};

// Another intent or a constraint that a write meets. Carries no owner
// identity.
struct Conflict {
  std::string intent_id;  // the other intent; empty for a constraint
  int32_t priority = 0;
  IntentState state = IntentState::kAccepted;
  // Set instead of `intent_id` when the other entity is a constraint.
  std::string constraint_id;
  v1::ConstraintType constraint_type = v1::CONSTRAINT_TYPE_UNSPECIFIED;
  v1::ConflictReason constraint_reason = v1::CONFLICT_REASON_UNSPECIFIED;
  std::vector<VolumeOverlap> overlaps;  // ordered by (volume, other volume)
  bool is_constraint() const { return !constraint_id.empty(); }
};

// What the intent core asks of the constraint service: the constraints that
// volumes meet while the constraints are active, split into those that block
// the operator and those that do not (advisory and conditional airspace, or
// overlaps an authorisation covers). `overlaps[].volume_index` refers to
// `volumes`, `other_volume_index` to the constraint's volumes; every list is
// ordered by constraint id. Implementations are thread-safe and never call
// back into the IntentCore (it calls them under its lock).
class ConstraintChecker {
 public:
  virtual ~ConstraintChecker() = default;
  virtual void Check(const std::string& operator_id,
                     const std::vector<geo::Volume4D>& volumes,
                     std::vector<Conflict>* blocking,
                     std::vector<Conflict>* advisory) const = 0;
};

// A live intent that some volumes meet, owner included: for telling owners
// that a new constraint cuts through their accepted intents.
struct OverlappingIntent {
  std::string intent_id;
  std::string owner;
  int32_t priority = 0;
  IntentState state = IntentState::kAccepted;
  // `volume_index` refers to the query volumes, `other_volume_index` to the
  // intent's (nominal or off-nominal) volumes.
  std::vector<VolumeOverlap> overlaps;
};

// The result of a write: the intent as stored, or the conflicts that kept it
// from being stored (nothing changed then).
struct WriteOutcome {
  std::optional<Intent> intent;
  // Blocking: intents ordered by id, then constraints ordered by id.
  std::vector<Conflict> conflicts;
  // Overlaps that do not block (lower-priority intents, or equal ones where
  // allowed; advisory or conditional constraints, or authorised overlaps),
  // for the caller's awareness; ordered as `conflicts`.
  std::vector<Conflict> advisories;
  bool accepted() const { return intent.has_value(); }
};

// The aircraft an operator says flies an intent (v1::FlightAircraft).
struct AircraftDecl {
  // Serial number, or the operator's own id for an unregistered aircraft;
  // at most 64 printable ASCII bytes; may be empty.
  std::string serial;
  // Declared mass, grams, [0, 25,000,000]; 0: not declared.
  int64_t mass_g = 0;
};

struct FileRequest {
  std::string request_id;  // optional; see the file comment
  int32_t priority = 0;
  std::vector<geo::Volume4D> volumes;
  // False: nothing about the intent (nor the request id) goes to the store,
  // and it is forgotten as soon as it is over (the operator flies without
  // anything being retained).
  bool retain = true;
  // The aircraft that will fly it.
  AircraftDecl aircraft = {};
};

struct ModifyRequest {
  std::string request_id;
  std::string intent_id;
  int64_t version = 0;  // the version the caller last saw
  int32_t priority = 0;
  std::vector<geo::Volume4D> volumes;
  // A new aircraft; unset keeps the current one.
  std::optional<AircraftDecl> aircraft = std::nullopt;
};

// A state change: activate, end, cancel, or an owner's declaration of
// NONCONFORMING / CONTINGENT. The rules are in intent_states.h.
struct TransitionRequest {
  std::string request_id;
  std::string intent_id;
  int64_t version = 0;
  IntentState to = IntentState::kActivated;
  // With NONCONFORMING or CONTINGENT: where the flight is now; at least one,
  // replacing any declared before. Must be empty for any other target state;
  // cleared on leaving them.
  std::vector<geo::Volume4D> off_nominal_volumes;
  // Only when activating an ACCEPTED intent: new nominal volumes (empty keeps
  // the current ones) and priority (unset keeps it), checked as a
  // modification would be and applied with the activation in one write.
  std::vector<geo::Volume4D> volumes = {};
  std::optional<int32_t> priority = std::nullopt;
  // Only when activating an ACCEPTED intent: the aircraft that flies it,
  // replacing the one filed (unset keeps it).
  std::optional<AircraftDecl> aircraft = std::nullopt;
};

struct IntentOptions {
  // Whether intents of equal priority may overlap. DEFAULT: false (F3548).
  bool allow_equal_priority_overlap = false;
  // Most volumes in one intent. DEFAULT: 100.
  int max_volumes = 100;
  // Farthest ahead a volume may start. DEFAULT: 30 days (F3548).
  absl::Duration max_lead_time = absl::Hours(24 * 30);
  // Longest a single volume may last. DEFAULT: 30 days, the F3548 planning
  // horizon: F3548 sets no limit of its own on a volume's length, and real
  // operations (multi-day survey and long-endurance flights) file volumes of
  // several days.
  absl::Duration max_volume_duration = absl::Hours(24 * 30);
  // Priorities accepted. DEFAULT: [0, 1000].
  int32_t min_priority = 0;
  int32_t max_priority = 1000;
  // How long a request_id is remembered. DEFAULT: 24 hours.
  absl::Duration request_id_retention = absl::Hours(24);
  // How long an intent is kept once it is over: after it is ENDED or
  // CANCELLED, or after the end of its last volume, whatever its state. Then
  // it is forgotten, in memory and in the store (Get says NOT_FOUND). Runs
  // with the writes, so it costs nothing while nothing is written.
  // DEFAULT: 24 hours.
  absl::Duration intent_retention = absl::Hours(24);
  // Longest request_id accepted, bytes. DEFAULT: 128.
  size_t max_request_id_bytes = 128;
  // Geometry limits for every volume.
  geo::ValidationLimits limits;
  // Data residency: the region code written into every stored intent record
  // (StoredIntent.region), so that a store moved to another region's
  // deployment is refused at start-up. DEFAULT: empty, no region.
  std::string region;
};

// The view of an intent given to a caller: the owner sees everything; other
// operators see volumes, priority and state, with `owner` cleared.
struct IntentView {
  Intent intent;
  bool owned_by_caller = false;
};

class IntentCore {
 public:
  // `clock` and `store` are not owned and must outlive the core. `new_id`
  // makes intent ids; DEFAULT (null): random UUIDv4. Without a store nothing
  // is retained; with one, every write is durable before it returns (and
  // UNAVAILABLE is returned when the store fails), and Recover() must run
  // before anything else.
  IntentCore(IntentOptions options, const Clock* clock,
             std::function<std::string()> new_id = nullptr,
             store::Store* store = nullptr);
  ~IntentCore();

  // Loads every intent and remembered request from the store. Call once,
  // before serving. DATA_LOSS for records that cannot be decoded.
  absl::Status Recover();

  // Receives the answer of an asynchronous write.
  using Done = std::function<void(absl::StatusOr<WriteOutcome>)>;

  // Asynchronous forms of File, Modify and Transition: `done` runs exactly
  // once, when the outcome is durable or on error — possibly on the store's
  // writer thread, so it must be quick and must not block. Servers use these
  // so that a thread never waits for the disk.
  void FileAsync(const std::string& owner, const FileRequest& request,
                 Done done);
  void ModifyAsync(const std::string& owner, const ModifyRequest& request,
                   Done done);
  void TransitionAsync(const std::string& owner,
                       const TransitionRequest& request, Done done);

  // INVALID_ARGUMENT for malformed input (field paths as on the wire:
  // "volumes[1].time_end: ..."); ALREADY_EXISTS for a reused request_id.
  absl::StatusOr<WriteOutcome> File(const std::string& owner,
                                    const FileRequest& request);

  // Also NOT_FOUND, PERMISSION_DENIED (another operator's intent),
  // ABORTED (stale version), FAILED_PRECONDITION (ENDED or CANCELLED).
  absl::StatusOr<WriteOutcome> Modify(const std::string& owner,
                                      const ModifyRequest& request);

  // The transitions and their checks are in intent_states.h (anything else
  // is FAILED_PRECONDITION; a malformed request INVALID_ARGUMENT).
  // Activation of an ACCEPTED intent is re-checked against the intents live
  // now, as filing was, and may be rejected with conflicts. A declaration of
  // NONCONFORMING or CONTINGENT lists in `advisories` every intent and
  // constraint its off-nominal volumes meet (volume_index into
  // off_nominal_volumes).
  absl::StatusOr<WriteOutcome> Transition(const std::string& owner,
                                          const TransitionRequest& request);

  // NOT_FOUND when there is no such intent. `reveal_owner` keeps the owner
  // in the view for a caller who is not the owner (law enforcement; the
  // caller of this method is responsible for auditing that).
  absl::StatusOr<IntentView> Get(const std::string& caller,
                                 const std::string& intent_id,
                                 bool reveal_owner = false) const;

  // The version of an intent (+1 on every write, so a changed intent has a
  // new one), or nullopt when there is none. Copies nothing: for callers
  // that cache what Get returned (the telemetry service, per report).
  std::optional<int64_t> Version(const std::string& intent_id) const;

  // Live intents with a volume that intersects `area`, ordered by id.
  // `reveal_owner` as for Get(). REQUIRES: a validated volume.
  std::vector<IntentView> Query(const std::string& caller,
                                const geo::Volume4D& area,
                                bool reveal_owner = false) const;

  size_t live_count() const;

  // One page of an owner's intents: see ListOwned().
  struct OwnedPage {
    std::vector<Intent> intents;  // ordered by id
    bool more = false;            // more follow the last one
  };
  // The intents `owner` filed that the core still holds (terminal ones
  // until forgotten, see IntentOptions::intent_retention), whose state is
  // in `states` (empty: ACCEPTED, ACTIVATED, NONCONFORMING and CONTINGENT),
  // with an id greater than `after_id` (empty: from the first), at most
  // `limit` of them, ordered by id. Costs O(log n + the owner's intents
  // skipped by the filter + limit). Defined in intent_list.cc.
  OwnedPage ListOwned(const std::string& owner,
                      const std::vector<IntentState>& states,
                      const std::string& after_id, size_t limit) const;

  // Forgets every intent of `owner`, whatever its state, and every request
  // record it made, in memory and (durably, before it returns) in the
  // store: an operator's erasure. ACCEPTED intents stop being obstacles.
  // Returns how many intents were erased. FAILED_PRECONDITION naming the
  // intent, and nothing erased, while one is ACTIVATED, NONCONFORMING or
  // CONTINGENT (a flight in progress must end first); UNAVAILABLE when the
  // store fails. The store's files still hold the records until it
  // compacts (store::Store::Compact). Defined in intent_list.cc.
  //
  // Replicated mode: the deletions are committed through the ledger on the
  // caught-up read model, guarded by every erased intent key and request
  // key (a concurrent activation, modification or retried request on
  // another replica makes the erasure decide again), in commits of at most
  // kEraseBatch records, the first of which checks every intent of the
  // owner (so a refusal erases nothing; a flight activated between two
  // commits stops the rest, and erasing again finishes). The intents the
  // replica has expired but not yet deleted go with them. The ledger's
  // history still holds the erased records until Ledger::ForgetHistory
  // (the operator data erasure calls it once every section has erased).
  // UNAVAILABLE when the ledger is down or the intents kept changing.
  absl::StatusOr<int64_t> EraseOwner(const std::string& owner);

  // Replicated mode: most records an erasure deletes in one ledger commit.
  static constexpr size_t kEraseBatch = 500;

  // The options the core was built with; immutable.
  const IntentOptions& options() const { return options_; }

  // Makes every later write also check `checker` (not owned; must outlive
  // the core). Call before serving; null turns the check off.
  void SetConstraintChecker(const ConstraintChecker* checker);
  // Makes activation (of an ACCEPTED intent) ask `checker` whether the
  // owner may fly the intent's aircraft: FAILED_PRECONDITION, and the
  // intent stays ACCEPTED, when not. Not owned; call before serving; null
  // turns the check off. The checker is called under the core's lock and
  // must not call back into it.
  void SetRegistrationChecker(const registration::RegistrationChecker* checker);

  // Called with the intent after each accepted state change (Transition and
  // TransitionAsync: activation, end, cancellation, the off-nominal
  // states), once durable and outside the core's lock, before the caller is
  // answered; a retried request may repeat it (same version). For flight
  // logs. Set before serving; must be quick, must not block, may call Get.
  // On a ledger (UseLedger) every replica calls it as it applies an entry
  // that changes an intent's state, whichever replica wrote it (the writer
  // too, once, before its caller is answered); on the follower's thread,
  // and again for every intent when the model is reloaded (a replica
  // that fell behind the feed).
  using StateObserver = std::function<void(const Intent& intent)>;
  void SetStateObserver(StateObserver observer) {
    state_observer_ = std::move(observer);
  }
  // Called with the intent after each accepted filing and modification (a
  // new intent, or new volumes, priority or aircraft for one), which the
  // StateObserver is not told of; otherwise as the StateObserver: once
  // durable, outside the core's lock, before the caller is answered, maybe
  // repeated for a retried request, and on a ledger by every replica as it
  // applies such an entry. For the live map. Set before serving; must be
  // quick, must not block, may call Get. DEFAULT: none.
  void SetFilingObserver(StateObserver observer) {
    filing_observer_ = std::move(observer);
  }
  // Whether an owner has Local Data Mode on (the operator's data settings,
  // services/operator/operator_settings.h): its new intents are filed as
  // if FileRequest::retain were false, whatever the request says; on a
  // ledger (replicas sharing Redis), where every intent is stored, filing is
  // refused with FAILED_PRECONDITION naming Local Data Mode. Intents filed
  // before it was switched on stay as filed. Asked once per filing, not
  // under the core's lock; must be thread-safe and quick. Set before
  // serving. DEFAULT: nobody.
  void SetLocalDataMode(std::function<bool(const std::string& owner)> local);

  // Replicated mode (several utmd processes sharing one Redis): the core's
  // state is a read model of `ledger`, kept current by `follower` (the
  // tables "intents" and "requests"). A write is decided on that model and
  // committed through the ledger with a guard naming the airspace it looked
  // at (geo/area_keys.h), the intent and the request id; when another
  // replica changed any of them after the model's position, the write is
  // decided again on the fresh state (a bounded number of times, with
  // jitter). Filing without retention is refused (the ledger is storage).
  // Neither is owned; the ledger must outlive the core, and the follower
  // (which calls into the core from its thread) must be stopped before the
  // core is destroyed. REQUIRES: a core built without a store, before
  // follower->Start() (which loads the model: Recover() is not called).
  void UseLedger(ledger::Ledger* ledger, ledger::Follower* follower);
  // Replicated mode: FileAsync, ModifyAsync and TransitionAsync run on the
  // core's own threads (a write waits for the ledger's round trips, and a
  // server's threads must not), at most this many at once. Ends them:
  // writes not started answer UNAVAILABLE, started ones finish. Call before
  // the follower stops (the destructor does it too).
  static constexpr int kLedgerWorkers = 16;
  void StopLedgerWork();

  // Writes decided again because the airspace, the intent or the request
  // changed on another replica meanwhile (replicated mode).
  int64_t ledger_retries() const { return ledger_retries_.load(); }

  // Table names in the store and the ledger.
  static constexpr char kIntentsTable[] = "intents";
  static constexpr char kRequestsTable[] = "requests";

  // Live intents with a volume that meets one of `volumes`, owners included,
  // ordered by id. For the constraint service only; never shown to callers.
  std::vector<OverlappingIntent> Overlapping(
      const std::vector<geo::Volume4D>& volumes) const;

 private:
  struct Entry {
    uint64_t handle;
    Intent intent;
  };
  struct RequestRecord {
    std::string fingerprint;
    WriteOutcome outcome;
    store::Store::Ticket ticket = 0;  // of the batch that stored it
  };

  absl::Status ValidateVolumes(const std::vector<geo::Volume4D>& volumes,
                               absl::Time now,
                               absl::string_view field = "volumes") const;
  absl::Status ValidatePriority(int32_t priority) const;
  static absl::Status ValidateAircraft(const AircraftDecl& aircraft);
  absl::Status ValidateRequestId(const std::string& request_id) const;
  struct ConflictSet {
    std::vector<Conflict> blocking;
    std::vector<Conflict> advisory;
  };
  // The live intents that `volumes` at `priority` meet, split into those it
  // may not overlap and those it may; skipping `self` (the handle of the
  // intent being changed, or 0).
  // Constraint conflicts of `owner` are appended after the intents'.
  ConflictSet Conflicts(const std::string& owner,
                        const std::vector<geo::Volume4D>& volumes,
                        int32_t priority, uint64_t self) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Schedules when `intent` (of `handle`) may be forgotten.
  void ScheduleExpiry(uint64_t handle, const Intent& intent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the intents due by `now` (their store deletes go with the next
  // batch).
  void ExpireIntents(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A replayed outcome, nullopt for a new request, or ALREADY_EXISTS.
  // Sets `ticket` to the store ticket of the replayed outcome.
  absl::StatusOr<std::optional<WriteOutcome>> Replay(
      const std::string& owner, const std::string& request_id,
      const std::string& fingerprint, absl::Time now,
      store::Store::Ticket* ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Remembers the outcome of a request (when it has an id) and queues the
  // write to the store: the intent when it changed, the request record, and
  // deletions of expired request records. Returns the store ticket, or 0.
  store::Store::Ticket Remember(const std::string& owner,
                                const std::string& request_id,
                                const std::string& fingerprint,
                                const WriteOutcome& outcome, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What a write request names, for the replicated mode's guard: the intent
  // it changes (empty when filing), its volume lists, and where decide()
  // leaves the guard key of the registration it checked (an activation;
  // empty when it checked none).
  struct Touched {
    std::string intent_id;
    std::vector<const std::vector<geo::Volume4D>*> volumes;
    const std::string* registration_key = nullptr;
  };
  // The frame of every write. Under the lock: replays a retried request, or
  // runs `decide` (which applies the write to memory and returns its
  // outcome) and remembers and queues the outcome to the store. Then,
  // outside the lock, answers `done` once it is durable.
  void WriteAsync(const std::string& owner, const std::string& request_id,
                  const std::string& fingerprint, absl::Time now,
                  const Touched& touched,
                  const std::function<absl::StatusOr<WriteOutcome>()>& decide,
                  Done done);
  // WriteAsync in replicated mode: decide on the read model, commit through
  // the ledger under a guard, decide again when the guard fails. In
  // intent_replica.cc.
  void WriteThroughLedger(
      const std::string& owner, const std::string& request_id,
      const std::string& fingerprint, absl::Time now, const Touched& touched,
      const std::function<absl::StatusOr<WriteOutcome>()>& decide, Done done);
  // EraseOwner in replicated mode (intent_replica.cc).
  absl::StatusOr<int64_t> EraseOwnerThroughLedger(const std::string& owner);
  // The guard of a decided write: its object keys, and the footprints it
  // read and changed, collected under the lock before the model changes;
  // Finish() adds their area keys outside it.
  struct GuardParts {
    ledger::Guard guard;
    std::vector<geo::Footprint> read;
    std::vector<geo::Footprint> written;
    ledger::Guard Finish() &&;
  };
  GuardParts GuardFor(const std::string& owner, const std::string& request_id,
                      const Touched& touched, const WriteOutcome& outcome) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The follower's handlers: apply one record of the ledger to the model.
  void ApplyIntentRecord(absl::string_view id,
                         const std::optional<std::string>& value);
  void ApplyRequestRecord(absl::string_view key,
                          const std::optional<std::string>& value);
  void ClearIntents();
  void ClearRequests();
  // Forgets an intent in memory (index, maps).
  void EraseIntent(uint64_t handle) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Validate a request and start its write. An error returned here has not
  // been passed to `done` (which is then still the caller's); on OK, `done`
  // has been handed to WriteAsync.
  absl::Status FileImpl(const std::string& owner, const FileRequest& request,
                        Done& done);
  absl::Status ModifyImpl(const std::string& owner,
                          const ModifyRequest& request, Done& done);
  absl::Status TransitionImpl(const std::string& owner,
                              const TransitionRequest& request, Done& done);
  absl::StatusOr<Entry*> OwnedEntry(const std::string& owner,
                                    const std::string& intent_id,
                                    int64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records as the store (and the ledger) holds them.
  static std::string RequestKey(const std::string& owner,
                                const std::string& request_id);
  static std::string EncodeIntentRecord(const Intent& intent,
                                        const std::string& region);
  static absl::StatusOr<Intent> DecodeIntentRecord(absl::string_view value);
  static absl::StatusOr<RequestRecord> DecodeRequestRecord(
      absl::string_view value, absl::Time* created);
  // The records a write's outcome changes: the intent when it changed and
  // the request record (both unless the write is about an intent without
  // retention), and deletions of expired records, which it takes from
  // expired_requests_ and expired_intents_.
  std::vector<store::Mutation> OutcomeMutations(const std::string& owner,
                                                const std::string& request_id,
                                                const std::string& fingerprint,
                                                const WriteOutcome& outcome,
                                                absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes `intent` the current version of its id in memory (indexes, the
  // owner map, expiry), whether the id is new or not. With `defer_index`,
  // its volumes are appended there instead of indexed, for one
  // packed build of the index (Recover()).
  void PutIntent(Intent intent,
                 std::vector<std::pair<geo::VolumeIndex::Id, geo::Volume4D>>*
                     defer_index = nullptr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds or removes all volumes (nominal and off-nominal) of an intent.
  void IndexIntent(uint64_t handle, const Intent& intent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnindexIntent(uint64_t handle, const Intent& intent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  IntentView ViewFor(const std::string& caller, const Intent& intent,
                     bool reveal_owner = false) const;

  const IntentOptions options_;
  const Clock* const clock_;
  const std::function<std::string()> new_id_;
  store::Store* const store_;
  const ConstraintChecker* constraint_checker_ = nullptr;
  const registration::RegistrationChecker* registration_checker_ = nullptr;
  StateObserver state_observer_;   // set before serving
  StateObserver filing_observer_;  // set before serving
  std::function<bool(const std::string& owner)> local_data_mode_;
  ledger::Ledger* ledger_ = nullptr;
  ledger::Follower* follower_ = nullptr;
  std::atomic<int64_t> ledger_retries_{0};
  // Replicated mode: the threads the Async forms run on (intent_replica.cc).
  // Returns false when they have stopped.
  bool RunOnLedgerWorker(std::function<void()> work);
  absl::Mutex work_mu_;
  std::deque<std::function<void()>> work_ ABSL_GUARDED_BY(work_mu_);
  bool work_stopping_ ABSL_GUARDED_BY(work_mu_) = false;
  std::vector<std::thread> workers_;

  mutable absl::Mutex mu_;
  // Every intent ever filed (terminal ones too), by internal handle.
  absl::flat_hash_map<uint64_t, std::unique_ptr<Entry>> entries_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint64_t> handle_by_id_ ABSL_GUARDED_BY(mu_);
  // Every entry's intent by (owner, id), for ListOwned(). The intent lives
  // in its Entry (owned by entries_), so the pointer is stable until the
  // entry is erased, which erases it here too.
  std::map<std::pair<std::string, std::string>, const Intent*> by_owner_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;
  // Volumes of live intents, keyed by (handle << 20) | index, with bit 19
  // set for off-nominal volumes.
  geo::VolumeIndex index_ ABSL_GUARDED_BY(mu_);
  // Idempotency records by owner + '\0' + request_id, and their keys in the
  // order they were made, for expiry.
  absl::flat_hash_map<std::string, RequestRecord> requests_
      ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> request_order_
      ABSL_GUARDED_BY(mu_);
  // Expired request keys still to be deleted from the store.
  std::vector<std::string> expired_requests_ ABSL_GUARDED_BY(mu_);
  // When each intent may be forgotten: (time, handle, version of the intent
  // it was computed for); a later write pushes a new entry and makes the
  // old one stale. Earliest first.
  struct Expiry {
    absl::Time at;
    uint64_t handle;
    int64_t version;
    bool operator>(const Expiry& o) const { return at > o.at; }
  };
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>>
      expiries_ ABSL_GUARDED_BY(mu_);
  // Whether the write being decided (under mu_, between decide() and
  // Remember()) may reach the store: false for a request about an intent
  // filed without retention.
  bool write_retain_ ABSL_GUARDED_BY(mu_) = true;
  // Forgotten intents still to be deleted from the store.
  std::vector<std::string> expired_intents_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::intent

#endif  // UTM_SERVICES_INTENT_INTENT_CORE_H_
