// ConstraintCore's reads: Get, Query, ListAuthorisations, CheckPosition,
// and Check (the intent core's question: which active constraints does a
// flight meet, blocking or advisory). All take the core's lock shared.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <variant>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_validation.h"

namespace utm::constraint {

namespace {

constexpr int kVolumeBits = ConstraintRegistry::kVolumeBits;
constexpr uint64_t kVolumeMask = ConstraintRegistry::kVolumeMask;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

int TypeRank(v1::ConstraintType t) { return static_cast<int>(t); }

}  // namespace

// ---------------------------------------------------------------------------
// Reads.

absl::StatusOr<v1::GetConstraintResponse> ConstraintCore::Get(
    const v1::GetConstraintRequest& request) const {
  UTM_RETURN_IF_ERROR(CheckFields(request));
  absl::ReaderMutexLock lock(&mu_);
  const Entry* entry = registry_.FindEntry(request.constraint_id());
  if (entry == nullptr) {
    if (std::optional<v1::Constraint> withdrawn =
            withdrawn_.Get(request.constraint_id(), clock_->Now())) {
      v1::GetConstraintResponse out;
      *out.mutable_constraint() = *std::move(withdrawn);
      return out;
    }
    return absl::NotFoundError(absl::StrCat(
        "constraint ", QuoteForError(request.constraint_id()), " not found"));
  }
  v1::GetConstraintResponse out;
  *out.mutable_constraint() = View(*entry->record, clock_->Now());
  return out;
}

absl::StatusOr<v1::QueryConstraintsResponse> ConstraintCore::Query(
    const v1::QueryConstraintsRequest& request) const {
  UTM_RETURN_IF_ERROR(CheckFields(request));
  if (!request.has_area()) return Invalid("area", "required");
  VolumeConvertOptions convert;
  convert.limits = options_.limits;
  convert.open_bounds = true;
  UTM_ASSIGN_OR_RETURN(geo::Volume4D area,
                       VolumeFromProto(request.area(), convert, "area"));
  if (request.page_size() < 0) return Invalid("page_size", "negative");
  const int page_size = request.page_size() == 0
                            ? kDefaultPageSize
                            : std::min(request.page_size(), kMaxPageSize);
  const std::set<int> types(request.types().begin(), request.types().end());
  absl::ReaderMutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  std::vector<const Record*> found;
  std::set<uint64_t> seen;
  for (geo::VolumeIndex::Id id : registry_.index().Query(area)) {
    const uint64_t handle = id >> kVolumeBits;
    if (!seen.insert(handle).second) continue;
    const Record* r = registry_.entry(handle).record.get();
    if (!types.empty() && !types.count(r->type())) continue;
    if (r->id() <= request.page_token()) continue;
    found.push_back(r);
  }
  std::sort(found.begin(), found.end(),
            [](const Record* a, const Record* b) { return a->id() < b->id(); });
  std::vector<v1::Constraint> withdrawn;
  if (request.include_withdrawn()) {
    withdrawn = withdrawn_.Query(area, types, request.page_token(),
                                 static_cast<size_t>(page_size) + 1, now);
  }
  // Both in id order (an id is never in both): merged, one page.
  v1::QueryConstraintsResponse out;
  size_t i = 0, j = 0;
  while (out.constraints_size() < page_size &&
         (i < found.size() || j < withdrawn.size())) {
    if (j == withdrawn.size() ||
        (i < found.size() && found[i]->id() < withdrawn[j].id())) {
      *out.add_constraints() = View(*found[i++], now);
    } else {
      *out.add_constraints() = std::move(withdrawn[j++]);
    }
  }
  if (i < found.size() || j < withdrawn.size()) {
    out.set_next_page_token(out.constraints(out.constraints_size() - 1).id());
  }
  return out;
}

absl::StatusOr<v1::ListAuthorisationsResponse>
ConstraintCore::ListAuthorisations(
    const Caller& caller, const v1::ListAuthorisationsRequest& request) const {
  UTM_RETURN_IF_ERROR(CheckFields(request));
  if (request.page_size() < 0) return Invalid("page_size", "negative");
  const int page_size = request.page_size() == 0
                            ? kDefaultPageSize
                            : std::min(request.page_size(), kMaxPageSize);
  // Token: "<create unix micros>/<id>" of the last one returned.
  std::optional<std::pair<int64_t, std::string>> after;
  if (!request.page_token().empty()) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(request.page_token(), absl::MaxSplits('/', 1));
    int64_t micros;
    if (!absl::SimpleAtoi(parts.first, &micros) || parts.second.empty()) {
      return Invalid("page_token", "not a token from this service");
    }
    after = std::make_pair(micros, parts.second);
  }
  absl::ReaderMutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  std::vector<
      std::pair<std::pair<int64_t, std::string>, const v1::Authorisation*>>
      found;
  for (const auto& [id, a] : authorisations_.all()) {
    if (!request.constraint_id().empty() &&
        a.constraint_id() != request.constraint_id()) {
      continue;
    }
    if (!request.operator_id().empty() &&
        a.operator_id() != request.operator_id()) {
      continue;
    }
    bool visible = caller.admin || a.operator_id() == caller.id ||
                   a.granted_by() == caller.id;
    if (!visible) {
      const Entry* c = registry_.FindEntry(a.constraint_id());
      visible = c != nullptr && c->record->proto.authority().id() == caller.id;
    }
    if (!visible) continue;
    const absl::Time end = TimeOf(a.window().end());
    if (!request.include_inactive() && (a.has_revoke_time() || end < now)) {
      continue;
    }
    const int64_t micros =
        a.create_time().seconds() * 1000000 + a.create_time().nanos() / 1000;
    std::pair<int64_t, std::string> key(micros, id);
    if (after && !(key < *after)) continue;  // newest first
    found.emplace_back(std::move(key), &a);
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  v1::ListAuthorisationsResponse out;
  for (size_t i = 0; i < found.size() && i < static_cast<size_t>(page_size);
       ++i) {
    *out.add_authorisations() = *found[i].second;
  }
  if (found.size() > static_cast<size_t>(page_size)) {
    const auto& last = found[page_size - 1].first;
    out.set_next_page_token(absl::StrCat(last.first, "/", last.second));
  }
  return out;
}

absl::StatusOr<v1::CheckPositionResponse> ConstraintCore::CheckPosition(
    const Caller& caller, const v1::CheckPositionRequest& request) const {
  if (!request.has_position()) return Invalid("position", "required");
  const geo::LatLng p{request.position().lat_deg(),
                      request.position().lng_deg()};
  UTM_RETURN_IF_ERROR(geo::ValidateLatLng(p, "position"));
  if (!(request.radius_m() >= 0 && request.radius_m() <= 50000)) {
    return Invalid("radius_m", "must be between 0 and 50000 metres");
  }
  std::optional<double> altitude;
  if (request.has_altitude()) {
    if (request.altitude().reference() != v1::ALTITUDE_REFERENCE_W84) {
      return Invalid("altitude.reference",
                     absl::StrCat("must be W84 (metres above the WGS84 "
                                  "ellipsoid), not ",
                                  request.altitude().reference()));
    }
    if (!std::isfinite(request.altitude().value_m())) {
      return Invalid("altitude.value_m", "not a number");
    }
    altitude = request.altitude().value_m();
  }
  absl::Time t = clock_->Now();
  if (request.has_time()) {
    UTM_ASSIGN_OR_RETURN(t, TimeFromProto(request.time(), "time"));
  }
  geo::Volume4D query;
  query.volume.footprint = geo::Circle{p, std::max(request.radius_m(), 0.01)};
  query.volume.altitude = {options_.limits.min_altitude_m,
                           options_.limits.max_altitude_m};
  query.time = {t, t};
  const geo::PreparedFootprint point =
      geo::PrepareFootprint(geo::Circle{p, 0.001});

  absl::ReaderMutexLock lock(&mu_);
  struct Best {
    const Record* record = nullptr;
    double horizontal = 0;
    double vertical = 0;
  };
  std::map<uint64_t, Best> best;
  const geo::VolumeIndex& index = registry_.index();
  for (const geo::VolumeIndex::Hit& hit : index.QueryOverlaps(query)) {
    const uint64_t handle = hit.id >> kVolumeBits;
    const Record* r = registry_.entry(handle).record.get();
    const geo::Volume4D& v = r->volumes[hit.id & kVolumeMask];
    double horizontal = 0;
    if (const auto* c = std::get_if<geo::Circle>(&v.volume.footprint)) {
      horizontal =
          std::max(0.0, geo::GeodesicDistance(p, c->center) - c->radius_m);
    } else if (!geo::FootprintsIntersect(point, *index.Prepared(hit.id))) {
      // Outside the outer ring or inside a hole: to the nearest edge.
      horizontal = geo::DistanceToPolygonBoundary(
          p, std::get<geo::Polygon>(v.volume.footprint));
    }
    double vertical = 0;
    if (altitude) {
      vertical = std::max({0.0, v.volume.altitude.lower_m - *altitude,
                           *altitude - v.volume.altitude.upper_m});
    }
    auto [it, inserted] =
        best.try_emplace(handle, Best{r, horizontal, vertical});
    if (!inserted &&
        std::make_pair(horizontal + vertical, horizontal) <
            std::make_pair(it->second.horizontal + it->second.vertical,
                           it->second.horizontal)) {
      it->second = Best{r, horizontal, vertical};
    }
  }
  v1::CheckPositionResponse out;
  std::vector<Best> applicable, nearby;
  for (const auto& [handle, b] : best) {
    const bool inside = b.horizontal == 0 && b.vertical == 0;
    if (inside && b.record->ActiveAt(t)) {
      applicable.push_back(b);
    } else if (b.horizontal <= request.radius_m()) {
      nearby.push_back(b);
    }
  }
  std::sort(
      applicable.begin(), applicable.end(), [](const Best& a, const Best& b) {
        return std::make_pair(TypeRank(a.record->type()), a.record->id()) <
               std::make_pair(TypeRank(b.record->type()), b.record->id());
      });
  std::sort(nearby.begin(), nearby.end(), [](const Best& a, const Best& b) {
    return std::make_tuple(a.horizontal, a.vertical, a.record->id()) <
           std::make_tuple(b.horizontal, b.vertical, b.record->id());
  });
  auto add = [&](const Best& b, v1::ConstraintHit* hit) {
    *hit->mutable_constraint() = View(*b.record, t);
    hit->set_horizontal_distance_m(b.horizontal);
    hit->set_vertical_distance_m(b.vertical);
    hit->set_authorised(
        authorisations_.Authorised(caller.id, b.record->id(), t));
  };
  for (const Best& b : applicable) add(b, out.add_applicable());
  for (const Best& b : nearby) add(b, out.add_nearby());
  return out;
}

// ---------------------------------------------------------------------------
// Deconfliction of intents.

void ConstraintCore::Check(const std::string& operator_id,
                           const std::vector<geo::Volume4D>& volumes,
                           std::vector<intent::Conflict>* blocking,
                           std::vector<intent::Conflict>* advisory) const {
  absl::ReaderMutexLock lock(&mu_);
  // By (constraint id, reason): the overlaps.
  std::map<std::pair<std::string, v1::ConflictReason>, intent::Conflict> found;
  auto add = [&](const Record& r, v1::ConflictReason reason, int volume_index,
                 int other_index, const geo::TimeWindow& time,
                 const geo::AltitudeBand& band) {
    intent::Conflict& c = found[{r.id(), reason}];
    c.constraint_id = r.id();
    c.constraint_type = r.type();
    c.constraint_reason = reason;
    c.overlaps.push_back(
        intent::VolumeOverlap{volume_index, other_index, false, time, band});
  };
  for (size_t i = 0; i < volumes.size(); ++i) {
    for (const geo::VolumeIndex::Hit& hit :
         registry_.index().QueryOverlaps(volumes[i])) {
      const Record& r = *registry_.entry(hit.id >> kVolumeBits).record;
      const int j = static_cast<int>(hit.id & kVolumeMask);
      const std::vector<geo::TimeWindow> windows =
          ActiveWindows(r.schedule, hit.overlap.time);
      if (windows.empty()) continue;
      geo::AltitudeBand band = hit.overlap.altitude;
      std::optional<geo::AltitudeBand> allowed_band;  // advisory part
      v1::ConflictReason blocking_reason = v1::CONFLICT_REASON_UNSPECIFIED;
      v1::ConflictReason advisory_reason =
          v1::CONFLICT_REASON_CONSTRAINT_ADVISORY;
      switch (r.type()) {
        case v1::CONSTRAINT_TYPE_PROHIBITED:
          blocking_reason = v1::CONFLICT_REASON_CONSTRAINT_PROHIBITED;
          break;
        case v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION:
          blocking_reason =
              v1::CONFLICT_REASON_CONSTRAINT_AUTHORISATION_REQUIRED;
          break;
        case v1::CONSTRAINT_TYPE_CONDITIONAL:
          advisory_reason = v1::CONFLICT_REASON_CONSTRAINT_CONDITIONAL;
          if (r.ceiling_m && band.upper_m > *r.ceiling_m) {
            blocking_reason =
                v1::CONFLICT_REASON_CONSTRAINT_CONDITIONS_VIOLATED;
            if (band.lower_m < *r.ceiling_m) {
              allowed_band = geo::AltitudeBand{band.lower_m, *r.ceiling_m};
            }
            band.lower_m = std::max(band.lower_m, *r.ceiling_m);
          }
          break;
        default:
          break;
      }
      if (blocking_reason == v1::CONFLICT_REASON_UNSPECIFIED) {
        for (const geo::TimeWindow& w : windows) {
          add(r, advisory_reason, static_cast<int>(i), j, w, band);
        }
        continue;
      }
      if (allowed_band) {
        for (const geo::TimeWindow& w : windows) {
          add(r, advisory_reason, static_cast<int>(i), j, w, *allowed_band);
        }
      }
      // Authorisations of this operator cover parts of the windows.
      const std::vector<geo::TimeWindow> covered =
          authorisations_.Covered(r.id(), operator_id);
      const std::vector<geo::TimeWindow> uncovered = Subtract(windows, covered);
      for (const geo::TimeWindow& w : uncovered) {
        add(r, blocking_reason, static_cast<int>(i), j, w, band);
      }
      if (!covered.empty()) {
        for (const geo::TimeWindow& w : windows) {
          for (const geo::TimeWindow& c : covered) {
            std::optional<geo::TimeWindow> part = geo::TimeOverlap(w, c);
            if (part) {
              add(r, v1::CONFLICT_REASON_CONSTRAINT_ADVISORY,
                  static_cast<int>(i), j, *part, band);
            }
          }
        }
      }
    }
  }
  for (auto& [key, c] : found) {
    const bool blocks =
        key.second == v1::CONFLICT_REASON_CONSTRAINT_PROHIBITED ||
        key.second == v1::CONFLICT_REASON_CONSTRAINT_AUTHORISATION_REQUIRED ||
        key.second == v1::CONFLICT_REASON_CONSTRAINT_CONDITIONS_VIOLATED;
    std::sort(
        c.overlaps.begin(), c.overlaps.end(),
        [](const intent::VolumeOverlap& a, const intent::VolumeOverlap& b) {
          return std::make_tuple(a.volume_index, a.other_volume_index,
                                 a.time.start) <
                 std::make_tuple(b.volume_index, b.other_volume_index,
                                 b.time.start);
        });
    (blocks ? blocking : advisory)->push_back(std::move(c));
  }
}

}  // namespace utm::constraint
