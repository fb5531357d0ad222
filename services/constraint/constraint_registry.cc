#include "services/constraint/constraint_registry.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/common/log/log.h"
#include "services/common/volume_convert.h"
#include "utm/internal/constraint_storage.pb.h"

namespace utm::constraint {

namespace {

constexpr char kConstraintsTable[] = "constraints";

}  // namespace

std::string ConstraintRegistry::SourceKey(const std::string& authority_id,
                                          const v1::ConstraintSource& source) {
  return absl::StrCat(authority_id, "\n", source.format(), "\n",
                      source.original_id());
}

absl::StatusOr<std::vector<v1::Constraint>> ConstraintRegistry::ReadStored(
    store::Store* store) {
  absl::Status decode;
  // Trusted records: decoded with the widest limits, since they were valid
  // when written and the configuration may have changed since.
  std::vector<v1::Constraint> constraints;
  UTM_RETURN_IF_ERROR(store->Scan(
      kConstraintsTable, [&](absl::string_view key, absl::string_view value) {
        internal::StoredConstraint stored;
        if (!stored.ParseFromArray(value.data(), value.size())) {
          decode.Update(absl::DataLossError(
              absl::StrCat("constraint ", key, ": cannot decode")));
          return;
        }
        constraints.push_back(std::move(*stored.mutable_constraint()));
      }));
  UTM_RETURN_IF_ERROR(decode);
  return constraints;
}

absl::Status ConstraintRegistry::Restore(
    const std::vector<v1::Constraint>& constraints, absl::Time ticked,
    const geo::ValidationLimits& limits, int max_volumes) {
  // One packed build of the index (as Index() files them).
  std::vector<std::pair<geo::VolumeIndex::Id, geo::Volume4D>> to_index;
  for (const v1::Constraint& c : constraints) {
    absl::StatusOr<std::shared_ptr<const Record>> record =
        MakeRecord(c, "constraint", limits, max_volumes, /*trusted=*/true);
    if (!record.ok()) {
      return absl::DataLossError(absl::StrCat("stored constraint ", c.id(),
                                              ": ", record.status().message()));
    }
    auto entry = std::make_unique<Entry>();
    entry->handle = next_handle_++;
    entry->record = *std::move(record);
    const absl::Time update_time = TimeOf(c.update_time());
    const absl::Time from = std::max(ticked, update_time);
    entry->active = entry->record->ActiveAt(from);
    entry->expired = from > entry->record->last_active;
    handle_by_id_[c.id()] = entry->handle;
    if (!c.source().original_id().empty()) {
      by_source_[SourceKey(c.authority().id(), c.source())] = c.id();
    }
    Entry* e = entry.get();
    entries_[e->handle] = std::move(entry);
    for (size_t i = 0; i < e->record->volumes.size(); ++i) {
      to_index.emplace_back((e->handle << kVolumeBits) | i,
                            e->record->volumes[i]);
    }
    if (!e->expired) Schedule(e, from);
  }
  return index_.InsertAll(std::move(to_index));
}

Entry* ConstraintRegistry::FindEntry(const std::string& id) {
  auto it = handle_by_id_.find(id);
  if (it == handle_by_id_.end()) return nullptr;
  return entries_.at(it->second).get();
}

const Entry* ConstraintRegistry::FindEntry(const std::string& id) const {
  auto it = handle_by_id_.find(id);
  if (it == handle_by_id_.end()) return nullptr;
  return entries_.at(it->second).get();
}

absl::StatusOr<const Record*> ConstraintRegistry::Find(
    const std::string& id) const {
  auto it = handle_by_id_.find(id);
  if (it == handle_by_id_.end()) {
    return absl::NotFoundError(
        absl::StrCat("constraint ", QuoteForError(id), " not found"));
  }
  return entries_.at(it->second)->record.get();
}

const std::string* ConstraintRegistry::FindSource(
    const std::string& source_key) const {
  auto it = by_source_.find(source_key);
  return it == by_source_.end() ? nullptr : &it->second;
}

Entry* ConstraintRegistry::Add(std::shared_ptr<const Record> record,
                               const std::string& source_key, absl::Time now) {
  auto entry = std::make_unique<Entry>();
  entry->handle = next_handle_++;
  entry->record = std::move(record);
  entry->active = entry->record->ActiveAt(now);
  entry->expired = now > entry->record->last_active;
  Entry* e = entry.get();
  entries_[e->handle] = std::move(entry);
  handle_by_id_[e->record->id()] = e->handle;
  if (!source_key.empty()) by_source_[source_key] = e->record->id();
  Index(e);
  if (!e->expired) Schedule(e, now);
  return e;
}

void ConstraintRegistry::Replace(Entry* e, std::shared_ptr<const Record> record,
                                 absl::Time now) {
  Unindex(e);
  e->record = std::move(record);
  e->active = e->record->ActiveAt(now);
  e->expired = now > e->record->last_active;
  Index(e);
  Schedule(e, now);
}

void ConstraintRegistry::Remove(Entry* e, std::vector<store::Mutation>* batch) {
  // Keeps the record alive until its id is no longer needed.
  const std::shared_ptr<const Record> record = e->record;
  Unindex(e);
  CancelTimer(e);
  const v1::ConstraintSource& source = record->proto.source();
  if (!source.original_id().empty()) {
    by_source_.erase(SourceKey(record->proto.authority().id(), source));
  }
  handle_by_id_.erase(record->id());
  entries_.erase(e->handle);
  if (store_ != nullptr && batch != nullptr) {
    batch->push_back(store::Delete(kConstraintsTable, record->id()));
  }
}

void ConstraintRegistry::Put(const Entry& entry,
                             std::vector<store::Mutation>* batch) const {
  if (store_ == nullptr) return;
  internal::StoredConstraint stored;
  *stored.mutable_constraint() = entry.record->proto;
  stored.set_region(region_);
  batch->push_back(store::Put(kConstraintsTable, entry.record->id(),
                              stored.SerializeAsString()));
}

void ConstraintRegistry::Index(Entry* entry) {
  const auto& volumes = entry->record->volumes;
  for (size_t i = 0; i < volumes.size(); ++i) {
    (void)index_.Insert((entry->handle << kVolumeBits) | i, volumes[i]);
  }
}

void ConstraintRegistry::Unindex(Entry* entry) {
  for (size_t i = 0; i < entry->record->volumes.size(); ++i) {
    index_.Remove((entry->handle << kVolumeBits) | i);
  }
}

void ConstraintRegistry::CancelTimer(Entry* entry) {
  if (entry->timer == absl::InfiniteFuture()) return;
  auto [begin, end] = timers_.equal_range(entry->timer);
  for (auto it = begin; it != end; ++it) {
    if (it->second == entry->handle) {
      timers_.erase(it);
      break;
    }
  }
  entry->timer = absl::InfiniteFuture();
}

absl::Time ConstraintRegistry::NextCheck(const Record& record, bool expired,
                                         absl::Time after) {
  absl::Time next = record.NextCandidate(after);
  // Expiry is a transition too: the instant after the last active one.
  if (!expired && record.last_active != absl::InfiniteFuture()) {
    next = std::min(next, std::max(after + absl::Nanoseconds(1),
                                   record.last_active + absl::Nanoseconds(1)));
  }
  return next;
}

void ConstraintRegistry::Schedule(Entry* entry, absl::Time after) {
  CancelTimer(entry);
  entry->timer = NextCheck(*entry->record, entry->expired, after);
  if (entry->timer != absl::InfiniteFuture()) {
    timers_.emplace(entry->timer, entry->handle);
  }
}

std::vector<std::pair<absl::Time, const Entry*>> ConstraintRegistry::Due(
    absl::Time now) const {
  std::vector<std::pair<absl::Time, const Entry*>> out;
  for (auto it = timers_.begin(); it != timers_.end() && it->first <= now;
       ++it) {
    auto e = entries_.find(it->second);
    if (e != entries_.end()) out.emplace_back(it->first, e->second.get());
  }
  return out;
}

const char* ConstraintRegistry::table() { return kConstraintsTable; }

std::string ConstraintRegistry::EncodeReplicated(
    const Record& record, bool active, bool expired,
    absl::Time checked_until) const {
  internal::StoredConstraint stored;
  *stored.mutable_constraint() = record.proto;
  stored.set_region(region_);
  stored.set_announced_active(active);
  stored.set_expired(expired);
  *stored.mutable_checked_until() = TimeToProto(checked_until);
  return stored.SerializeAsString();
}

void ConstraintRegistry::ApplyRecord(absl::string_view id,
                                     const std::optional<std::string>& value,
                                     const geo::ValidationLimits& limits,
                                     int max_volumes) {
  Entry* held = FindEntry(std::string(id));
  if (!value) {
    if (held != nullptr) Remove(held, nullptr);
    return;
  }
  internal::StoredConstraint stored;
  if (!stored.ParseFromString(*value)) {
    UTM_LOG(kWarning) << "constraint " << id
                      << " in the ledger cannot be decoded";
    return;
  }
  const absl::Time checked_until = TimeOf(stored.checked_until());
  if (held == nullptr ||
      held->record->proto.version() != stored.constraint().version()) {
    absl::StatusOr<std::shared_ptr<const Record>> record =
        MakeRecord(stored.constraint(), "constraint", limits, max_volumes,
                   /*trusted=*/true);
    if (!record.ok()) {
      UTM_LOG(kWarning) << "constraint " << id
                        << " in the ledger: " << record.status();
      return;
    }
    if (held == nullptr) {
      const v1::Constraint& c = stored.constraint();
      held = Add(*std::move(record),
                 c.source().original_id().empty()
                     ? ""
                     : SourceKey(c.authority().id(), c.source()),
                 checked_until);
    } else {
      Replace(held, *std::move(record), checked_until);
    }
  }
  held->active = stored.announced_active();
  held->expired = stored.expired();
  if (held->expired) {
    CancelTimer(held);
  } else {
    Schedule(held, checked_until);
  }
}

void ConstraintRegistry::Clear() {
  entries_.clear();
  handle_by_id_.clear();
  by_source_.clear();
  index_ = geo::VolumeIndex();
  timers_.clear();
}

bool ConstraintRegistry::PopDue(absl::Time now, absl::Time* when,
                                Entry** entry) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    const auto [due, handle] = *timers_.begin();
    timers_.erase(timers_.begin());
    auto it = entries_.find(handle);
    if (it == entries_.end()) continue;
    Entry* e = it->second.get();
    e->timer = absl::InfiniteFuture();
    *when = due;
    *entry = e;
    return true;
  }
  return false;
}

}  // namespace utm::constraint
