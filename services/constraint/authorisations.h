// Authorisations: an operator's exemption from one constraint for a time
// window, granted by the constraint's authority or, for a
// REQUIRES_AUTHORISATION constraint that allows it, taken by the operator
// (self-unlock). A revoked authorisation is kept (with its revoke time and
// reason) but covers nothing. Persisted in the store table
// "authorisations" (key: authorisation id; value:
// internal.StoredAuthorisation) and reloaded on restart.
//
// Deconfliction asks Covered(): the windows in which an operator may enter
// a constraint; the part of an overlap inside them is advisory, the rest
// (Subtract()) still blocks. Who may grant, self-unlock or revoke is the
// core's rule (it knows callers and constraints).
//
// Not thread-safe: ConstraintCore keeps it ABSL_GUARDED_BY its mu_.
//
// Typical usage (under the core's lock):
//   v1::Authorisation a = authorisations.Add(std::move(a), now, new_id,
//                                            &batch);
//   std::vector<geo::TimeWindow> covered =
//       authorisations.Covered(constraint_id, operator_id);
//   for (geo::TimeWindow w : Subtract(windows, covered)) ... blocks ...
#ifndef UTM_SERVICES_CONSTRAINT_AUTHORISATIONS_H_
#define UTM_SERVICES_CONSTRAINT_AUTHORISATIONS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/volume.h"
#include "services/common/store.h"
#include "utm/v1/constraint.pb.h"

namespace utm::constraint {

// `windows` minus the union of `holes`; all closed, `windows` ordered and
// disjoint. The remaining pieces are closed too (they share their ends with
// the holes: touching counts, as everywhere in deconfliction).
std::vector<geo::TimeWindow> Subtract(std::vector<geo::TimeWindow> windows,
                                      std::vector<geo::TimeWindow> holes);

// The window of a grant or self-unlock request: both ends required, in
// order, ending after `now`. INVALID_ARGUMENT naming "window.start" or
// "window.end".
absl::StatusOr<geo::TimeWindow> AuthorisationWindow(const v1::TimeWindow& w,
                                                    absl::Time now);

class Authorisations {
 public:
  // `store` is not owned; null: nothing is persisted.
  explicit Authorisations(store::Store* store) : store_(store) {}

  // Loads the stored authorisations. DATA_LOSS for one that cannot be
  // decoded. REQUIRES: a store.
  absl::Status Recover();

  // Assigns `a` an id (from `new_id`, unused here) and its creation time,
  // keeps it and queues it for the store on `batch`.
  v1::Authorisation Add(v1::Authorisation a, absl::Time now,
                        const std::function<std::string()>& new_id,
                        std::vector<store::Mutation>* batch);
  // An id no authorisation has, from `new_id`.
  std::string NewId(const std::function<std::string()>& new_id) const;
  // Keeps `a` (new, or a changed version of one held), with nothing queued:
  // the replicated mode, where the ledger is the storage.
  void Upsert(const v1::Authorisation& a);
  // One record of the store table applied (`value` set: put; nullopt:
  // deleted), for the replicated mode's read model. A record that cannot
  // be decoded is reported on stderr and skipped.
  void ApplyRecord(absl::string_view id,
                   const std::optional<std::string>& value);
  void Clear();
  // The table's name, and a record as it is stored there.
  static const char* table();
  static std::string Encode(const v1::Authorisation& a);

  // Queues `a` (changed in place, e.g. revoked) for the store on `batch`.
  void Put(const v1::Authorisation& a,
           std::vector<store::Mutation>* batch) const;
  // The authorisation with this id, or null. Valid until the next Add().
  v1::Authorisation* Find(const std::string& id);
  // Every authorisation, by id (revoked and past ones too).
  const absl::flat_hash_map<std::string, v1::Authorisation>& all() const {
    return authorisations_;
  }

  // The windows in which `operator_id` holds an unrevoked authorisation for
  // the constraint.
  std::vector<geo::TimeWindow> Covered(const std::string& constraint_id,
                                       const std::string& operator_id) const;
  // Whether one of them contains `t`.
  bool Authorised(const std::string& operator_id,
                  const std::string& constraint_id, absl::Time t) const;

 private:
  store::Store* const store_;
  // Authorisations by id, and ids by constraint id.
  absl::flat_hash_map<std::string, v1::Authorisation> authorisations_;
  std::multimap<std::string, std::string> by_constraint_;
};

}  // namespace utm::constraint

#endif  // UTM_SERVICES_CONSTRAINT_AUTHORISATIONS_H_
