// Withdrawn constraints kept readable as history.
//
// A withdrawn constraint restricts nothing, but regulators and operators
// still need to see what was in force, who withdrew it and when (an incident
// review, a flight that was planned against it). WithdrawnHistory keeps the
// last content of each withdrawn constraint, marked WITHDRAWN with its
// withdrawal time, subject and reason, for a retention period, in memory and
// in the store table "constraint_withdrawn" (key: constraint id; value: the
// serialized utm.v1.Constraint). Past the retention an entry is invisible at
// once and deleted from the store with the next withdrawal or at the next
// start.
//
// Knows nothing of live constraints: ConstraintCore asks it for ids it does
// not hold, and hands it each constraint it withdraws.
//
// Typical usage:
//   WithdrawnHistory history(absl::Hours(24 * 30));
//   UTM_RETURN_IF_ERROR(history.Recover(store, clock->Now()));
//   history.Add(last_view, record->volumes, caller.id, request.reason(), now,
//               &batch);  // then commit the batch
//   std::optional<v1::Constraint> c = history.Get(id, now);
//
// Thread-safe: an internal lock, never held while calling out.
#ifndef UTM_SERVICES_CONSTRAINT_WITHDRAWN_HISTORY_H_
#define UTM_SERVICES_CONSTRAINT_WITHDRAWN_HISTORY_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "services/common/store.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

class WithdrawnHistory {
 public:
  // The store table of the history.
  static constexpr char kTable[] = "constraint_withdrawn";

  // `retention`: how long after its withdrawal a constraint stays readable.
  // REQUIRES: positive.
  explicit WithdrawnHistory(absl::Duration retention);

  // Loads the table; entries past the retention at `now` are not loaded and
  // are deleted from the store. Call once, before anything else. DATA_LOSS
  // for a record that cannot be decoded. A null store: nothing to load.
  absl::Status Recover(store::Store* store, absl::Time now);

  // Records `last` (the constraint's view just before its withdrawal) as
  // WITHDRAWN by `by` at `now` for `reason`, with `volumes` (its volumes, for
  // queries), and returns that view. When `batch` is not null, appends the
  // record's Put and the Deletes of entries past the retention to it (the
  // caller commits it with the withdrawal).
  v1::Constraint Add(v1::Constraint last, std::vector<geo::Volume4D> volumes,
                     const std::string& by, const std::string& reason,
                     absl::Time now, std::vector<store::Mutation>* batch);

  // Replicated mode, where the history is a read model of the ledger: the
  // view Add() records (a pure function), the ids past the retention at
  // `now` (for the write that deletes them), one record of kTable applied
  // (`value` set: put, decoded as Recover() does; nullopt: deleted) and the
  // model emptied for a reload. ApplyRecord() reports a record it cannot
  // decode on stderr and skips it.
  static v1::Constraint Withdrawn(v1::Constraint last, const std::string& by,
                                  const std::string& reason, absl::Time now);
  std::vector<std::string> Purgeable(absl::Time now) const;
  void ApplyRecord(absl::string_view id,
                   const std::optional<std::string>& value);
  void Clear();

  // The withdrawn constraint `id`, unless unknown or past the retention.
  std::optional<v1::Constraint> Get(const std::string& id,
                                    absl::Time now) const;

  // Withdrawn constraints within the retention at `now` with a volume
  // intersecting `area`, of one of `types` (empty: any), with an id greater
  // than `after_id`, ordered by id, at most `limit`.
  std::vector<v1::Constraint> Query(const geo::Volume4D& area,
                                    const std::set<int>& types,
                                    const std::string& after_id, size_t limit,
                                    absl::Time now) const;

  // Entries held (some may be past the retention, not yet purged).
  size_t size() const;

 private:
  struct Entry {
    v1::Constraint constraint;
    std::vector<geo::Volume4D> volumes;
    absl::Time withdrawn;
  };
  // Decodes a record of kTable (the entry's view and volumes).
  static absl::StatusOr<Entry> Decode(absl::string_view key,
                                      absl::string_view value);
  bool Visible(const Entry& e, absl::Time now) const {
    return now - e.withdrawn < retention_;
  }

  const absl::Duration retention_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_WITHDRAWN_HISTORY_H_
