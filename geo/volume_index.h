// A spatio-temporal index of 4-D volumes with exact query results.
//
// Each volume is filed under a 5-D box: the earth-centred (ECEF) box around
// its footprint's bounding cap, its altitude band and its time window. Using
// ECEF rather than latitude/longitude keeps the boxes tight and correct
// across the anti-meridian and at the poles. A query walks a Boost.Geometry
// R*-tree for candidate boxes and refines every candidate with the exact test
// of geo/intersect.h, so it returns exactly the volumes that intersect.
//
// Typical usage:
//   VolumeIndex index;
//   UTM_RETURN_IF_ERROR(index.Insert(42, volume));
//   for (VolumeIndex::Id id : index.Query(other)) { ... }
//
// Thread-compatible: const methods may run concurrently; writes need
// external synchronisation.
#ifndef UTM_GEO_VOLUME_INDEX_H_
#define UTM_GEO_VOLUME_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "geo/intersect.h"
#include "geo/volume.h"

namespace utm::geo {

class VolumeIndex {
 public:
  // Caller-chosen key of one volume (e.g. an intent's number and the
  // volume's position in it).
  using Id = uint64_t;

  VolumeIndex();
  ~VolumeIndex();
  VolumeIndex(VolumeIndex&&) noexcept;
  VolumeIndex& operator=(VolumeIndex&&) noexcept;
  VolumeIndex(const VolumeIndex&) = delete;
  VolumeIndex& operator=(const VolumeIndex&) = delete;

  // Adds a volume under `id`. ALREADY_EXISTS when the id is present.
  // REQUIRES: a validated volume.
  absl::Status Insert(Id id, const Volume4D& volume);

  // Adds many volumes at once. Into an empty index this packs the R-tree
  // (sort-tile-recursive), several times faster than one Insert() each and
  // with a better tree; otherwise it inserts one by one. ALREADY_EXISTS (and
  // nothing added) when an id is present or repeated.
  // REQUIRES: validated volumes.
  absl::Status InsertAll(std::vector<std::pair<Id, Volume4D>> volumes);

  // Removes the volume under `id`; false when there was none.
  bool Remove(Id id);

  size_t size() const;

  // The prepared footprint of the volume under `id` (with its edge index, if
  // any), or nullptr. Valid until that volume is removed or the index
  // changes.
  const PreparedFootprint* Prepared(Id id) const;

  // Ids, ascending, of the volumes that intersect `query` exactly.
  // REQUIRES: a validated volume.
  std::vector<Id> Query(const Volume4D& query) const;

  // One intersecting volume and where it meets the query.
  struct Hit {
    Id id;
    Overlap4D overlap;  // common time window and altitude band
  };

  // Like Query(), with the overlap of each hit (ascending id).
  std::vector<Hit> QueryOverlaps(const Volume4D& query) const;

  // Ids, ascending, whose boxes overlap the query's box: a superset of
  // Query(), for measuring how much the exact refinement removes.
  std::vector<Id> QueryCandidates(const Volume4D& query) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace utm::geo

#endif  // UTM_GEO_VOLUME_INDEX_H_
