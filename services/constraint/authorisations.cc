#include "services/constraint/authorisations.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/log/log.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_record.h"
#include "utm/internal/constraint_storage.pb.h"

namespace utm::constraint {

namespace {

constexpr char kAuthorisationsTable[] = "authorisations";

}  // namespace

std::vector<geo::TimeWindow> Subtract(std::vector<geo::TimeWindow> windows,
                                      std::vector<geo::TimeWindow> holes) {
  std::sort(holes.begin(), holes.end(),
            [](const geo::TimeWindow& a, const geo::TimeWindow& b) {
              return a.start < b.start;
            });
  for (const geo::TimeWindow& h : holes) {
    std::vector<geo::TimeWindow> next;
    for (const geo::TimeWindow& w : windows) {
      if (h.end < w.start || h.start > w.end) {
        next.push_back(w);
        continue;
      }
      if (w.start < h.start) next.push_back({w.start, h.start});
      if (h.end < w.end) next.push_back({h.end, w.end});
    }
    windows = std::move(next);
  }
  return windows;
}

absl::StatusOr<geo::TimeWindow> AuthorisationWindow(const v1::TimeWindow& w,
                                                    absl::Time now) {
  if (!w.has_start()) return Invalid("window.start", "required");
  if (!w.has_end()) return Invalid("window.end", "required");
  geo::TimeWindow out;
  UTM_ASSIGN_OR_RETURN(out.start, TimeFromProto(w.start(), "window.start"));
  UTM_ASSIGN_OR_RETURN(out.end, TimeFromProto(w.end(), "window.end"));
  if (out.end < out.start) return Invalid("window.end", "before the start");
  if (out.end <= now) return Invalid("window.end", "must be in the future");
  return out;
}

absl::Status Authorisations::Recover() {
  absl::Status decode;
  UTM_RETURN_IF_ERROR(store_->Scan(
      kAuthorisationsTable,
      [&](absl::string_view key, absl::string_view value) {
        internal::StoredAuthorisation stored;
        if (!stored.ParseFromArray(value.data(), value.size())) {
          decode.Update(absl::DataLossError(
              absl::StrCat("authorisation ", key, ": cannot decode")));
          return;
        }
        by_constraint_.emplace(stored.authorisation().constraint_id(),
                               stored.authorisation().id());
        authorisations_[stored.authorisation().id()] =
            std::move(*stored.mutable_authorisation());
      }));
  return decode;
}

v1::Authorisation Authorisations::Add(
    v1::Authorisation a, absl::Time now,
    const std::function<std::string()>& new_id,
    std::vector<store::Mutation>* batch) {
  a.set_id(NewId(new_id));
  *a.mutable_create_time() = TimeToProto(now);
  Upsert(a);
  Put(a, batch);
  return a;
}

std::string Authorisations::NewId(
    const std::function<std::string()>& new_id) const {
  std::string id = new_id();
  while (authorisations_.contains(id)) id = new_id();
  return id;
}

void Authorisations::Upsert(const v1::Authorisation& a) {
  auto [it, inserted] = authorisations_.insert_or_assign(a.id(), a);
  if (inserted) by_constraint_.emplace(a.constraint_id(), a.id());
}

void Authorisations::ApplyRecord(absl::string_view id,
                                 const std::optional<std::string>& value) {
  if (value) {
    internal::StoredAuthorisation stored;
    if (!stored.ParseFromString(*value)) {
      UTM_LOG(kWarning) << "authorisation " << id
                        << " in the ledger cannot be decoded";
      return;
    }
    Upsert(stored.authorisation());
    return;
  }
  auto it = authorisations_.find(id);
  if (it == authorisations_.end()) return;
  auto [begin, end] = by_constraint_.equal_range(it->second.constraint_id());
  for (auto b = begin; b != end; ++b) {
    if (b->second == it->first) {
      by_constraint_.erase(b);
      break;
    }
  }
  authorisations_.erase(it);
}

void Authorisations::Clear() {
  authorisations_.clear();
  by_constraint_.clear();
}

const char* Authorisations::table() { return kAuthorisationsTable; }

std::string Authorisations::Encode(const v1::Authorisation& a) {
  internal::StoredAuthorisation stored;
  *stored.mutable_authorisation() = a;
  return stored.SerializeAsString();
}

void Authorisations::Put(const v1::Authorisation& a,
                         std::vector<store::Mutation>* batch) const {
  if (store_ == nullptr) return;
  batch->push_back(store::Put(kAuthorisationsTable, a.id(), Encode(a)));
}

v1::Authorisation* Authorisations::Find(const std::string& id) {
  auto it = authorisations_.find(id);
  return it == authorisations_.end() ? nullptr : &it->second;
}

std::vector<geo::TimeWindow> Authorisations::Covered(
    const std::string& constraint_id, const std::string& operator_id) const {
  std::vector<geo::TimeWindow> out;
  auto [begin, end] = by_constraint_.equal_range(constraint_id);
  for (auto it = begin; it != end; ++it) {
    const v1::Authorisation& a = authorisations_.at(it->second);
    if (a.operator_id() != operator_id || a.has_revoke_time()) continue;
    out.push_back({TimeOf(a.window().start()), TimeOf(a.window().end())});
  }
  return out;
}

bool Authorisations::Authorised(const std::string& operator_id,
                                const std::string& constraint_id,
                                absl::Time t) const {
  for (const geo::TimeWindow& w : Covered(constraint_id, operator_id)) {
    if (Contains(w, t)) return true;
  }
  return false;
}

}  // namespace utm::constraint
