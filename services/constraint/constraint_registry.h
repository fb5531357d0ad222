// The constraints in force (published, not withdrawn) by id: each one's
// current Record, what was last announced about it (active, expired), its
// volumes in a spatial index, its pending schedule check, and its source
// key (authority, format, original id) so a data set is not published
// twice. Persists the current version of each in the store table
// "constraints" (key: constraint id; value: internal.StoredConstraint) and
// rebuilds itself from there on restart.
//
// Knows nothing of the change log, watchers or authorisations: the core
// decides what a write means and tells the registry what to hold.
//
// Not thread-safe: ConstraintCore keeps it ABSL_GUARDED_BY its mu_ (a
// shared lock for the const members, an exclusive one for the others).
//
// Typical usage (under the core's lock):
//   UTM_ASSIGN_OR_RETURN(std::vector<v1::Constraint> stored,
//                        ConstraintRegistry::ReadStored(store));
//   UTM_RETURN_IF_ERROR(registry.Restore(stored, ticked, limits, max));
//   Entry* e = registry.Add(record, source_key, now);
//   registry.Put(*e, &batch);
//   for (geo::VolumeIndex::Id id : registry.index().Query(area))
//     registry.entry(ConstraintRegistry::HandleOf(id)).record ...
#ifndef UTM_SERVICES_CONSTRAINT_CONSTRAINT_REGISTRY_H_
#define UTM_SERVICES_CONSTRAINT_CONSTRAINT_REGISTRY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "geo/volume_index.h"
#include "services/common/store.h"
#include "services/constraint/constraint_record.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

// A constraint in force.
struct Entry {
  uint64_t handle = 0;
  std::shared_ptr<const Record> record;
  bool active = false;                        // as last announced
  bool expired = false;                       // announced as expired
  absl::Time timer = absl::InfiniteFuture();  // its key in the timers
};

class ConstraintRegistry {
 public:
  // The volume index holds volume i of the entry with handle h under the
  // id (h << kVolumeBits) | i.
  static constexpr int kVolumeBits = 20;
  static constexpr uint64_t kVolumeMask = (uint64_t{1} << kVolumeBits) - 1;
  static uint64_t HandleOf(geo::VolumeIndex::Id id) {
    return id >> kVolumeBits;
  }
  static int VolumeOf(geo::VolumeIndex::Id id) {
    return static_cast<int>(id & kVolumeMask);
  }
  // The key that makes (authority, source format, original id) unique.
  static std::string SourceKey(const std::string& authority_id,
                               const v1::ConstraintSource& source);

  // `store` is not owned; null: nothing is persisted. `region`: the region
  // code written into every stored record (StoredConstraint.region; data
  // residency), empty for none.
  ConstraintRegistry(store::Store* store, std::string region)
      : store_(store), region_(std::move(region)) {}

  // Recovery, in two steps so the core can read its tick mark in between:
  // the stored constraints (DATA_LOSS for one that cannot be decoded), then
  // the entries rebuilt from them, their activity evaluated from
  // max(ticked, update time) and their schedule checks set. Records are
  // trusted (see MakeRecord) and checked against `limits`/`max_volumes`
  // only for what is not geometry.
  static absl::StatusOr<std::vector<v1::Constraint>> ReadStored(
      store::Store* store);
  absl::Status Restore(const std::vector<v1::Constraint>& constraints,
                       absl::Time ticked, const geo::ValidationLimits& limits,
                       int max_volumes);

  // Lookups. Pointers stay valid until the entry is removed.
  size_t size() const { return entries_.size(); }
  bool Contains(const std::string& id) const {
    return handle_by_id_.contains(id);
  }
  Entry* FindEntry(const std::string& id);
  const Entry* FindEntry(const std::string& id) const;
  // NOT_FOUND naming the id, or the current version.
  absl::StatusOr<const Record*> Find(const std::string& id) const;
  // The constraint id published under `source_key`, or null.
  const std::string* FindSource(const std::string& source_key) const;
  // REQUIRES: `handle` is held (from the index).
  const Entry& entry(uint64_t handle) const { return *entries_.at(handle); }
  const geo::VolumeIndex& index() const { return index_; }

  // A new entry for `record` (with its id set), indexed and, unless
  // expired at `now`, scheduled; `source_key` (may be empty) is reserved.
  Entry* Add(std::shared_ptr<const Record> record,
             const std::string& source_key, absl::Time now);
  // `record` becomes the entry's current version (same id), re-indexed and
  // re-scheduled from `now`.
  void Replace(Entry* entry, std::shared_ptr<const Record> record,
               absl::Time now);
  // Drops the entry (and its source key) and queues its deletion from the
  // store on `batch`. `entry` is dangling afterwards.
  void Remove(Entry* entry, std::vector<store::Mutation>* batch);
  // Queues the entry's current version for the store on `batch`.
  void Put(const Entry& entry, std::vector<store::Mutation>* batch) const;

  // Replicated mode, where the registry is a read model of the ledger. A
  // record of the table as the ledger holds it: the constraint with what was
  // announced about it and the instant its transitions are logged up to.
  static const char* table();
  // The record carries this registry's region (data residency).
  std::string EncodeReplicated(const Record& record, bool active, bool expired,
                               absl::Time checked_until) const;
  // Applies one record of the table (`value` set: the constraint's current
  // version, added or replacing the held one; nullopt: removed). A record
  // that cannot be decoded is reported on stderr and skipped.
  void ApplyRecord(absl::string_view id,
                   const std::optional<std::string>& value,
                   const geo::ValidationLimits& limits, int max_volumes);
  void Clear();
  // The entries whose schedule check is due at `now`, with the instant it
  // is due, earliest first; nothing is changed (PopDue() takes them).
  std::vector<std::pair<absl::Time, const Entry*>> Due(absl::Time now) const;
  // When a check of `record` is next due after `after` (what Schedule()
  // sets): its next candidate transition, or its expiry unless `expired`.
  static absl::Time NextCheck(const Record& record, bool expired,
                              absl::Time after);

  // Schedule checks. Schedule() (re)sets the entry's next check after
  // `after` (its next candidate transition, or its expiry); PopDue() takes
  // the earliest check due at `now` of an entry still held, clearing the
  // entry's timer; false when none is due.
  void Schedule(Entry* entry, absl::Time after);
  bool PopDue(absl::Time now, absl::Time* when, Entry** entry);

 private:
  void Index(Entry* entry);
  void Unindex(Entry* entry);
  void CancelTimer(Entry* entry);

  store::Store* const store_;
  const std::string region_;
  // Entries by handle, and handles by id.
  absl::flat_hash_map<uint64_t, std::unique_ptr<Entry>> entries_;
  absl::flat_hash_map<std::string, uint64_t> handle_by_id_;
  // SourceKey() -> constraint id.
  absl::flat_hash_map<std::string, std::string> by_source_;
  uint64_t next_handle_ = 1;
  // Constraint volumes, keyed as above.
  geo::VolumeIndex index_;
  // Pending schedule checks: (when, handle), earliest first.
  std::multimap<absl::Time, uint64_t> timers_;
};

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_CONSTRAINT_REGISTRY_H_
