#include "services/constraint/change_feed.h"

#include <iostream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/status_macros.h"
#include "services/common/log/log.h"
#include "services/common/volume_convert.h"
#include "services/constraint/limits.h"

namespace utm::constraint {

namespace {

constexpr const char* kLogTable = kChangeLogTable;

std::string LogKey(int64_t sequence) { return ChangeLogKey(sequence); }

}  // namespace

std::string ChangeLogKey(int64_t sequence) {
  return absl::StrFormat("%020d", sequence);
}

internal::StoredChange EncodeChange(const Change& change) {
  internal::StoredChange stored;
  stored.set_sequence(change.sequence);
  *stored.mutable_time() = TimeToProto(change.time);
  stored.set_constraint_id(change.constraint_id);
  for (const geo::Volume4D& v : change.volumes) {
    *stored.add_volumes() = VolumeToProto(v);
  }
  switch (change.kind) {
    case Change::Kind::kUpsert:
      *stored.mutable_upsert() = change.record->proto;
      stored.mutable_upsert()->set_active(change.active);
      break;
    case Change::Kind::kRemoved:
      stored.set_removed(change.removed_reason);
      break;
    case Change::Kind::kActivity: {
      v1::ConstraintActivityChanged* a = stored.mutable_activity();
      a->set_constraint_id(change.constraint_id);
      a->set_active(change.active);
      if (change.next_change != absl::InfiniteFuture()) {
        *a->mutable_next_change_time() = TimeToProto(change.next_change);
      }
      break;
    }
    case Change::Kind::kAffected:
      stored.set_intents_affected(true);
      for (const auto& [owner, ids] : change.affected) {
        internal::AffectedOwner* o = stored.add_affected();
        o->set_owner(owner);
        for (const std::string& id : ids) o->add_intent_ids(id);
      }
      break;
  }
  return stored;
}

absl::StatusOr<std::shared_ptr<const Change>> DecodeChange(
    const internal::StoredChange& stored) {
  const int64_t sequence = stored.sequence();
  const VolumeConvertOptions trusted = StoredConstraintConvertOptions();
  auto change = std::make_shared<Change>();
  change->sequence = sequence;
  change->time = TimeOf(stored.time());
  change->constraint_id = stored.constraint_id();
  for (const v1::Volume4D& v : stored.volumes()) {
    absl::StatusOr<geo::Volume4D> volume =
        VolumeFromProto(v, trusted, "volumes");
    if (!volume.ok()) {
      return absl::DataLossError(
          absl::StrCat("change ", sequence, ": ", volume.status().message()));
    }
    change->volumes.push_back(*std::move(volume));
  }
  switch (stored.change_case()) {
    case internal::StoredChange::kUpsert: {
      change->kind = Change::Kind::kUpsert;
      auto record = std::make_shared<Record>();
      record->proto = stored.upsert();
      record->proto.clear_active();
      for (const v1::Volume4D& v : stored.upsert().volumes()) {
        absl::StatusOr<geo::Volume4D> volume =
            VolumeFromProto(v, trusted, "volumes");
        if (!volume.ok()) {
          return absl::DataLossError(absl::StrCat("change ", sequence, ": ",
                                                  volume.status().message()));
        }
        record->volumes.push_back(*std::move(volume));
      }
      change->record = std::move(record);
      change->active = stored.upsert().active();
      break;
    }
    case internal::StoredChange::kRemoved:
      change->kind = Change::Kind::kRemoved;
      change->removed_reason = stored.removed();
      break;
    case internal::StoredChange::kActivity:
      change->kind = Change::Kind::kActivity;
      change->active = stored.activity().active();
      if (stored.activity().has_next_change_time()) {
        change->next_change = TimeOf(stored.activity().next_change_time());
      }
      break;
    case internal::StoredChange::kIntentsAffected:
      change->kind = Change::Kind::kAffected;
      for (const internal::AffectedOwner& o : stored.affected()) {
        change->affected[o.owner()].assign(o.intent_ids().begin(),
                                           o.intent_ids().end());
      }
      break;
    default:
      return absl::DataLossError(
          absl::StrCat("change ", sequence, ": unknown kind"));
  }
  return std::shared_ptr<const Change>(std::move(change));
}

absl::Status LocalChangeFeed::Recover() {
  if (store_ == nullptr) return absl::OkStatus();
  absl::Status decode;
  // The change log, in sequence order.
  std::map<int64_t, internal::StoredChange> changes;
  UTM_RETURN_IF_ERROR(store_->Scan(
      kLogTable, [&](absl::string_view key, absl::string_view value) {
        internal::StoredChange stored;
        if (!stored.ParseFromArray(value.data(), value.size())) {
          decode.Update(absl::DataLossError(
              absl::StrCat("change ", key, ": cannot decode")));
          return;
        }
        changes[stored.sequence()] = std::move(stored);
      }));
  UTM_RETURN_IF_ERROR(decode);
  for (auto& [sequence, stored] : changes) {
    absl::StatusOr<std::shared_ptr<const Change>> change = DecodeChange(stored);
    if (!change.ok()) return change.status();
    log_.push_back(*std::move(change));
    last_sequence_ = sequence;
  }
  return absl::OkStatus();
}

int64_t LocalChangeFeed::Append(Change change,
                                std::vector<store::Mutation>* batch) {
  change.sequence = ++last_sequence_;
  if (store_ != nullptr) {
    batch->push_back(store::Put(kLogTable, LogKey(change.sequence),
                                EncodeChange(change).SerializeAsString()));
  }
  log_.push_back(std::make_shared<const Change>(std::move(change)));
  return last_sequence_;
}

void LocalChangeFeed::Read(
    int64_t after, int64_t up_to,
    absl::FunctionRef<void(const std::shared_ptr<const Change>&)> fn) const {
  if (up_to <= after) return;
  const int64_t first = first_retained();
  for (int64_t s = after + 1; s <= up_to; ++s) fn(log_[s - first]);
}

void LocalChangeFeed::Trim(int64_t up_to) {
  std::vector<store::Mutation> trim;
  while (log_.size() > retention_ && log_.front()->sequence <= up_to) {
    if (store_ != nullptr) {
      trim.push_back(store::Delete(kLogTable, LogKey(log_.front()->sequence)));
    }
    log_.pop_front();
  }
  if (!trim.empty()) store_->Enqueue(std::move(trim));
}

void ReplicaChangeFeed::ApplyRecord(absl::string_view key,
                                    const std::optional<std::string>& value) {
  int64_t sequence = 0;
  if (!absl::SimpleAtoi(key, &sequence)) {
    UTM_LOG(kWarning) << "change log key " << key << " is not a sequence";
    return;
  }
  if (!value) {
    log_.erase(sequence);
    return;
  }
  internal::StoredChange stored;
  absl::StatusOr<std::shared_ptr<const Change>> change =
      stored.ParseFromString(*value)
          ? DecodeChange(stored)
          : absl::DataLossError(absl::StrCat("change ", key, ": cannot decode"));
  if (!change.ok()) {
    UTM_LOG(kWarning) << change.status();
    return;
  }
  log_[sequence] = *std::move(change);
}

int64_t ReplicaChangeFeed::Append(Change change, std::vector<store::Mutation>*) {
  change.sequence = last_sequence() + 1;
  const int64_t sequence = change.sequence;
  log_[sequence] = std::make_shared<const Change>(std::move(change));
  return sequence;
}

void ReplicaChangeFeed::Read(
    int64_t after, int64_t up_to,
    absl::FunctionRef<void(const std::shared_ptr<const Change>&)> fn) const {
  for (auto it = log_.upper_bound(after);
       it != log_.end() && it->first <= up_to; ++it) {
    fn(it->second);
  }
}

}  // namespace utm::constraint
