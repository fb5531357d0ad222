#include "services/constraint/withdrawn_history.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/intersect.h"
#include "services/common/log/log.h"
#include "services/common/volume_convert.h"
#include "services/constraint/limits.h"

namespace utm::constraint {
namespace {

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

WithdrawnHistory::WithdrawnHistory(absl::Duration retention)
    : retention_(retention) {}

absl::Status WithdrawnHistory::Recover(store::Store* store, absl::Time now) {
  if (store == nullptr) return absl::OkStatus();
  absl::Status status;
  std::vector<store::Mutation> purge;
  absl::MutexLock lock(&mu_);
  absl::Status scan = store->Scan(
      kTable, [&](absl::string_view key, absl::string_view value) {
        if (!status.ok()) return;
        absl::StatusOr<Entry> e = Decode(key, value);
        if (!e.ok()) {
          status = e.status();
          return;
        }
        if (!Visible(*e, now)) {
          purge.push_back(store::Delete(kTable, std::string(key)));
          return;
        }
        entries_[std::string(key)] = *std::move(e);
      });
  if (!scan.ok()) return scan;
  if (!status.ok()) return status;
  if (!purge.empty()) return store->Commit(std::move(purge));
  return absl::OkStatus();
}

absl::StatusOr<WithdrawnHistory::Entry> WithdrawnHistory::Decode(
    absl::string_view key, absl::string_view value) {
  Entry e;
  if (!e.constraint.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("withdrawn constraint ", key, ": cannot decode"));
  }
  e.withdrawn = TimeOf(e.constraint.withdraw_time());
  const VolumeConvertOptions trusted = StoredConstraintConvertOptions();
  for (const v1::Volume4D& v : e.constraint.volumes()) {
    absl::StatusOr<geo::Volume4D> volume =
        VolumeFromProto(v, trusted, "volumes");
    if (!volume.ok()) {
      return absl::DataLossError(absl::StrCat(
          "withdrawn constraint ", key, ": ", volume.status().message()));
    }
    e.volumes.push_back(*std::move(volume));
  }
  return e;
}

v1::Constraint WithdrawnHistory::Withdrawn(v1::Constraint last,
                                           const std::string& by,
                                           const std::string& reason,
                                           absl::Time now) {
  last.set_state(v1::CONSTRAINT_STATE_WITHDRAWN);
  last.set_active(false);
  *last.mutable_withdraw_time() = TimeToProto(now);
  last.set_withdrawn_by(by);
  last.set_withdraw_reason(reason);
  return last;
}

std::vector<std::string> WithdrawnHistory::Purgeable(absl::Time now) const {
  std::vector<std::string> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, e] : entries_) {
    if (!Visible(e, now)) out.push_back(id);
  }
  return out;
}

void WithdrawnHistory::ApplyRecord(absl::string_view id,
                                   const std::optional<std::string>& value) {
  absl::MutexLock lock(&mu_);
  if (!value) {
    entries_.erase(std::string(id));
    return;
  }
  absl::StatusOr<Entry> e = Decode(id, *value);
  if (!e.ok()) {
    UTM_LOG(kWarning) << e.status();
    return;
  }
  entries_[std::string(id)] = *std::move(e);
}

void WithdrawnHistory::Clear() {
  absl::MutexLock lock(&mu_);
  entries_.clear();
}

v1::Constraint WithdrawnHistory::Add(v1::Constraint last,
                                     std::vector<geo::Volume4D> volumes,
                                     const std::string& by,
                                     const std::string& reason, absl::Time now,
                                     std::vector<store::Mutation>* batch) {
  last = Withdrawn(std::move(last), by, reason, now);
  absl::MutexLock lock(&mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (Visible(it->second, now)) {
      ++it;
      continue;
    }
    if (batch != nullptr) batch->push_back(store::Delete(kTable, it->first));
    it = entries_.erase(it);
  }
  if (batch != nullptr) {
    batch->push_back(store::Put(kTable, last.id(), last.SerializeAsString()));
  }
  entries_[last.id()] = Entry{last, std::move(volumes), now};
  return last;
}

std::optional<v1::Constraint> WithdrawnHistory::Get(const std::string& id,
                                                    absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || !Visible(it->second, now)) return std::nullopt;
  return it->second.constraint;
}

std::vector<v1::Constraint> WithdrawnHistory::Query(
    const geo::Volume4D& area, const std::set<int>& types,
    const std::string& after_id, size_t limit, absl::Time now) const {
  std::vector<v1::Constraint> out;
  absl::MutexLock lock(&mu_);
  for (auto it = entries_.upper_bound(after_id);
       it != entries_.end() && out.size() < limit; ++it) {
    const Entry& e = it->second;
    if (!Visible(e, now)) continue;
    if (!types.empty() && !types.count(e.constraint.type())) continue;
    for (const geo::Volume4D& v : e.volumes) {
      if (geo::Intersect(area, v).has_value()) {
        out.push_back(e.constraint);
        break;
      }
    }
  }
  return out;
}

size_t WithdrawnHistory::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace utm::constraint
