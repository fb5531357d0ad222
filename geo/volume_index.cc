#include "geo/volume_index.h"

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/iterator/function_output_iterator.hpp>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "geo/intersect.h"

namespace utm::geo {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

// Dimensions: ECEF x, y, z (metres), altitude (metres), time (Unix seconds).
using Point5 = bg::model::point<double, 5, bg::cs::cartesian>;
using Box5 = bg::model::box<Point5>;
using Value = std::pair<Box5, VolumeIndex::Id>;
using RTree = bgi::rtree<Value, bgi::rstar<16>>;

// Infinite times are clamped to ±3e12 s (about 95,000 years) so that the
// R*-tree's area and margin arithmetic stays finite.
constexpr double kTimeLimitS = 3e12;

double TimeKey(absl::Time t) {
  if (t == absl::InfiniteFuture()) return kTimeLimitS;
  if (t == absl::InfinitePast()) return -kTimeLimitS;
  // Exact to the microsecond and monotonic, so closed-interval overlap
  // between keys is never lost to rounding.
  return std::clamp(static_cast<double>(absl::ToUnixMicros(t)) * 1e-6,
                    -kTimeLimitS, kTimeLimitS);
}

Box5 BoxOf(const PreparedFootprint& fp, const AltitudeBand& altitude,
           const TimeWindow& time) {
  // Every point of the footprint lies within cap.radius_m of the cap centre
  // along the surface, hence within that distance in a straight line.
  const Vec3& c = fp.cap_center_ecef;
  const double r = fp.cap.radius_m;
  Box5 box;
  bg::set<bg::min_corner, 0>(box, c.x - r);
  bg::set<bg::max_corner, 0>(box, c.x + r);
  bg::set<bg::min_corner, 1>(box, c.y - r);
  bg::set<bg::max_corner, 1>(box, c.y + r);
  bg::set<bg::min_corner, 2>(box, c.z - r);
  bg::set<bg::max_corner, 2>(box, c.z + r);
  bg::set<bg::min_corner, 3>(box, altitude.lower_m);
  bg::set<bg::max_corner, 3>(box, altitude.upper_m);
  bg::set<bg::min_corner, 4>(box, TimeKey(time.start));
  bg::set<bg::max_corner, 4>(box, TimeKey(time.end));
  return box;
}

struct Entry {
  PreparedFootprint footprint;
  AltitudeBand altitude;
  TimeWindow time;
  Box5 box;
};

Entry MakeEntry(Footprint footprint, const AltitudeBand& altitude,
                const TimeWindow& time) {
  Entry entry{PrepareFootprint(std::move(footprint)), altitude, time, Box5()};
  entry.box = BoxOf(entry.footprint, entry.altitude, entry.time);
  return entry;
}

}  // namespace

struct VolumeIndex::Impl {
  RTree tree;
  absl::flat_hash_map<Id, Entry> entries;

  template <typename Fn>
  void ForEachCandidate(const Box5& box, Fn fn) const {
    tree.query(bgi::intersects(box),
               boost::iterators::make_function_output_iterator(
                   [&](const Value& v) { fn(v.second); }));
  }
};

VolumeIndex::VolumeIndex() : impl_(std::make_unique<Impl>()) {}
VolumeIndex::~VolumeIndex() = default;
VolumeIndex::VolumeIndex(VolumeIndex&&) noexcept = default;
VolumeIndex& VolumeIndex::operator=(VolumeIndex&&) noexcept = default;

absl::Status VolumeIndex::Insert(Id id, const Volume4D& volume) {
  if (impl_->entries.contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("volume ", id, " is already in the index"));
  }
  Entry entry =
      MakeEntry(volume.volume.footprint, volume.volume.altitude, volume.time);
  impl_->tree.insert(Value(entry.box, id));
  impl_->entries.emplace(id, std::move(entry));
  return absl::OkStatus();
}

absl::Status VolumeIndex::InsertAll(
    std::vector<std::pair<Id, Volume4D>> volumes) {
  absl::flat_hash_map<Id, Entry> fresh;
  fresh.reserve(volumes.size());
  std::vector<Value> values;
  values.reserve(volumes.size());
  for (auto& [id, volume] : volumes) {
    if (impl_->entries.contains(id) || fresh.contains(id)) {
      return absl::AlreadyExistsError(
          absl::StrCat("volume ", id, " is already in the index"));
    }
    Entry entry = MakeEntry(std::move(volume.volume.footprint),
                            volume.volume.altitude, volume.time);
    values.emplace_back(entry.box, id);
    fresh.emplace(id, std::move(entry));
  }
  if (impl_->entries.empty()) {
    impl_->tree = RTree(values.begin(), values.end());  // packing
  } else {
    for (const Value& v : values) impl_->tree.insert(v);
  }
  impl_->entries.merge(fresh);
  return absl::OkStatus();
}

bool VolumeIndex::Remove(Id id) {
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end()) return false;
  impl_->tree.remove(Value(it->second.box, id));
  impl_->entries.erase(it);
  return true;
}

size_t VolumeIndex::size() const { return impl_->entries.size(); }

const PreparedFootprint* VolumeIndex::Prepared(Id id) const {
  auto it = impl_->entries.find(id);
  return it == impl_->entries.end() ? nullptr : &it->second.footprint;
}

std::vector<VolumeIndex::Hit> VolumeIndex::QueryOverlaps(
    const Volume4D& query) const {
  const PreparedFootprint q = PrepareFootprint(query.volume.footprint);
  std::vector<Hit> out;
  impl_->ForEachCandidate(
      BoxOf(q, query.volume.altitude, query.time), [&](Id id) {
        const Entry& e = impl_->entries.at(id);
        // The box test already compared closed time and altitude intervals
        // (with times in microseconds); compare them exactly here.
        const std::optional<TimeWindow> time = TimeOverlap(e.time, query.time);
        if (!time) return;
        const std::optional<AltitudeBand> altitude =
            AltitudeOverlap(e.altitude, query.volume.altitude);
        if (!altitude) return;
        if (FootprintsIntersect(e.footprint, q)) {
          out.push_back(Hit{id, Overlap4D{*time, *altitude}});
        }
      });
  std::sort(out.begin(), out.end(),
            [](const Hit& a, const Hit& b) { return a.id < b.id; });
  return out;
}

std::vector<VolumeIndex::Id> VolumeIndex::Query(const Volume4D& query) const {
  std::vector<Id> out;
  for (const Hit& hit : QueryOverlaps(query)) out.push_back(hit.id);
  return out;
}

std::vector<VolumeIndex::Id> VolumeIndex::QueryCandidates(
    const Volume4D& query) const {
  const PreparedFootprint q = PrepareFootprint(query.volume.footprint);
  std::vector<Id> out;
  impl_->ForEachCandidate(BoxOf(q, query.volume.altitude, query.time),
                          [&](Id id) { out.push_back(id); });
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace utm::geo
