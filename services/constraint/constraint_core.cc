#include "services/constraint/constraint_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/common/uuid.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_validation.h"
#include "services/intent/intent_codec.h"
#include "utm/internal/constraint_storage.pb.h"

namespace utm::constraint {

namespace {

constexpr char kMetaTable[] = "constraint_meta";
constexpr char kTickedKey[] = "ticked";

}  // namespace


ConstraintCore::ConstraintCore(ConstraintOptions options, const Clock* clock,
                               store::Store* store,
                               std::function<std::string()> new_id)
    : options_(std::move(options)),
      clock_(clock),
      store_(store),
      new_id_(new_id ? std::move(new_id) : RandomUuid),
      ticked_(clock->Now()),
      feed_(std::make_unique<LocalChangeFeed>(store,
                                              options_.change_log_retention)) {}

ConstraintCore::~ConstraintCore() = default;

void ConstraintCore::SetIntentLookup(IntentLookup lookup) {
  absl::MutexLock lock(&mu_);
  intent_lookup_ = std::move(lookup);
}

int64_t ConstraintCore::last_sequence() const {
  absl::ReaderMutexLock lock(&mu_);
  return feed_->last_sequence();
}

size_t ConstraintCore::constraint_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return registry_.size();
}

size_t ConstraintCore::watcher_count() const { return hub_.watcher_count(); }

WatchHub::QueueStats ConstraintCore::watch_queue_stats() const {
  return hub_.queue_stats();
}

// ---------------------------------------------------------------------------
// Recovery.

absl::Status ConstraintCore::Recover() {
  UTM_RETURN_IF_ERROR(withdrawn_.Recover(store_, clock_->Now()));
  if (store_ == nullptr) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  UTM_ASSIGN_OR_RETURN(std::vector<v1::Constraint> constraints,
                       ConstraintRegistry::ReadStored(store_));
  // The tick mark first: activity is re-evaluated from there (or from each
  // constraint's last update when no transition was ever logged).
  ticked_ = absl::InfinitePast();
  UTM_RETURN_IF_ERROR(store_->Scan(kMetaTable, [&](absl::string_view key,
                                                   absl::string_view value) {
    internal::StoredTick tick;
    if (key == kTickedKey && tick.ParseFromArray(value.data(), value.size()))
      ticked_ = TimeOf(tick.time());
  }));
  UTM_RETURN_IF_ERROR(registry_.Restore(constraints, ticked_, options_.limits,
                                        options_.max_volumes));
  UTM_RETURN_IF_ERROR(authorisations_.Recover());
  absl::Status decode;
  if (ticked_ == absl::InfinitePast()) ticked_ = clock_->Now();
  UTM_RETURN_IF_ERROR(feed_->Recover());
  hub_.SetDelivered(feed_->last_sequence());
  // Remembered requests.
  std::vector<std::pair<absl::Time, std::string>> order;
  UTM_RETURN_IF_ERROR(store_->Scan(
      kRequestsTable, [&](absl::string_view key, absl::string_view value) {
        std::optional<RequestRecord> record = DecodeRequest(value);
        if (!record) {
          decode.Update(absl::DataLossError("stored request: cannot decode"));
          return;
        }
        order.emplace_back(record->created, std::string(key));
        requests_[std::string(key)] = *std::move(record);
      }));
  UTM_RETURN_IF_ERROR(decode);
  std::sort(order.begin(), order.end());
  request_order_.assign(order.begin(), order.end());
  return absl::OkStatus();
}

std::string ConstraintCore::EncodeRequest(const RequestRecord& record) {
  internal::StoredConstraintRequest stored;
  stored.set_fingerprint(record.fingerprint);
  stored.set_created_unix_micros(absl::ToUnixMicros(record.created));
  stored.set_response(record.response);
  return stored.SerializeAsString();
}

std::optional<ConstraintCore::RequestRecord> ConstraintCore::DecodeRequest(
    absl::string_view value) {
  internal::StoredConstraintRequest stored;
  if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return std::nullopt;
  }
  RequestRecord record;
  record.fingerprint = stored.fingerprint();
  record.response = stored.response();
  record.created = absl::FromUnixMicros(stored.created_unix_micros());
  return record;
}

// ---------------------------------------------------------------------------
// Writes.

template <typename Response, typename Request>
absl::StatusOr<Response> ConstraintCore::Write(const Caller& caller,
                                               const Request& request,
                                               absl::string_view method,
                                               const Decide<Response>& decide) {
  const std::string& request_id = request.request_id();
  if (request_id.size() > options_.max_request_id_bytes) {
    return Invalid("request_id",
                   absl::StrCat(request_id.size(), " bytes; at most ",
                                options_.max_request_id_bytes, " are allowed"));
  }
  // The fingerprint is stored with the request id: fields this server does
  // not know are left out, as they are from the constraint itself.
  Request known = request;
  known.DiscardUnknownFields();
  std::string fingerprint = absl::StrCat(method, "|");
  known.AppendToString(&fingerprint);
  const std::string key =
      request_id.empty()
          ? ""
          : absl::StrCat(caller.id.size(), ":", caller.id, "/", request_id);
  Response response;
  if (ledger_ != nullptr) {
    UTM_ASSIGN_OR_RETURN(
        std::string serialized,
        CommitThroughLedger([&](absl::Time now, int64_t* seq)
                                ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  return ProposeWrite(
                                      key, fingerprint, now, seq,
                                      [&](absl::Time at, Decision* d)
                                          -> absl::StatusOr<std::string> {
                                        UTM_ASSIGN_OR_RETURN(Response r,
                                                             decide(at, d));
                                        return r.SerializeAsString();
                                      });
                                }));
    if (!response.ParseFromString(serialized)) {
      return absl::InternalError("remembered response cannot be decoded");
    }
    return response;
  }
  store::Store::Ticket ticket = 0;
  int64_t sequence = 0;
  bool replayed = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    if (!key.empty()) {
      auto it = requests_.find(key);
      if (it != requests_.end()) {
        if (it->second.fingerprint != fingerprint) {
          return absl::AlreadyExistsError(
              absl::StrCat("request_id ", QuoteForError(request_id),
                           " was already used for a different request"));
        }
        if (!response.ParseFromString(it->second.response)) {
          return absl::InternalError("remembered response cannot be decoded");
        }
        // Answer only once the first outcome is durable.
        ticket = it->second.ticket;
        sequence = feed_->last_sequence();
        replayed = true;
      }
    }
    if (!replayed) {
      std::vector<store::Mutation> batch;
      std::vector<Change> changes;
      Decision decision;
      UTM_ASSIGN_OR_RETURN(response, decide(now, &decision));
      ApplyLocal(decision, now, &batch, &changes);
      for (Change& c : changes) feed_->Append(std::move(c), &batch);
      if (!key.empty()) {
        RequestRecord record{fingerprint, response.SerializeAsString(), now};
        if (store_ != nullptr) {
          batch.push_back(
              store::Put(kRequestsTable, key, EncodeRequest(record)));
        }
        requests_[key] = std::move(record);
        request_order_.emplace_back(now, key);
      }
      while (!request_order_.empty() &&
             request_order_.front().first <
                 now - options_.request_id_retention) {
        requests_.erase(request_order_.front().second);
        if (store_ != nullptr) {
          batch.push_back(
              store::Delete(kRequestsTable, request_order_.front().second));
        }
        request_order_.pop_front();
      }
      if (store_ != nullptr && !batch.empty()) {
        ticket = store_->Enqueue(std::move(batch));
        if (!key.empty()) requests_[key].ticket = ticket;
      }
      sequence = feed_->last_sequence();
    }
  }
  if (store_ != nullptr && ticket != 0)
    UTM_RETURN_IF_ERROR(store_->Wait(ticket));
  hub_.Deliver(sequence);
  return response;
}

void ConstraintCore::ApplyLocal(const Decision& d, absl::Time now,
                                std::vector<store::Mutation>* batch,
                                std::vector<Change>* changes) {
  if (d.upsert != nullptr) {
    Entry* e = registry_.FindEntry(d.upsert->id());
    if (e != nullptr) {
      registry_.Replace(e, d.upsert, now);
    } else {
      e = registry_.Add(d.upsert, d.source_key, now);
    }
    PutVersion(*e, d.previous, now, batch, changes);
  }
  if (d.withdrawn != nullptr) {
    Entry* e = registry_.FindEntry(d.withdrawn->id());
    withdrawn_.Add(d.withdrawn_view, d.withdrawn->volumes,
                   d.withdrawn_view.withdrawn_by(),
                   d.withdrawn_view.withdraw_reason(), now,
                   store_ != nullptr ? batch : nullptr);
    if (e != nullptr) registry_.Remove(e, batch);
    Change change;
    change.time = now;
    change.kind = Change::Kind::kRemoved;
    change.constraint_id = d.withdrawn->id();
    change.volumes = d.withdrawn->volumes;
    change.removed_reason = v1::CONSTRAINT_REMOVED_REASON_WITHDRAWN;
    changes->push_back(std::move(change));
  }
  if (d.authorisation) {
    authorisations_.Upsert(*d.authorisation);
    authorisations_.Put(*d.authorisation, batch);
  }
}

absl::StatusOr<Entry*> ConstraintCore::OwnedEntry(const Caller& caller,
                                                  const std::string& id,
                                                  int64_t version) {
  Entry* entry = registry_.FindEntry(id);
  if (entry == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("constraint ", QuoteForError(id), " not found"));
  }
  if (!caller.admin && entry->record->proto.authority().id() != caller.id) {
    return absl::PermissionDeniedError(
        absl::StrCat("constraint ", id, " was published by another authority"));
  }
  if (version != entry->record->proto.version()) {
    return absl::AbortedError(absl::StrCat(
        "constraint ", id, " is at version ", entry->record->proto.version(),
        ", not ", version, "; read it again"));
  }
  return entry;
}

namespace {

absl::Status RequireAuthority(const Caller& caller) {
  if (caller.authority || caller.admin) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "only an authority (scope utm.constraint_management) may do this");
}

}  // namespace

absl::StatusOr<v1::PublishConstraintResponse> ConstraintCore::Publish(
    const Caller& caller, const v1::PublishConstraintRequest& request) {
  UTM_RETURN_IF_ERROR(RequireAuthority(caller));
  UTM_RETURN_IF_ERROR(CheckFields(request));
  UTM_ASSIGN_OR_RETURN(std::shared_ptr<const Record> validated,
                       MakeRecord(request.constraint(), "constraint",
                                  options_.limits, options_.max_volumes));
  if (options_.region != nullptr) {
    UTM_RETURN_IF_ERROR(options_.region->CheckVolumes(validated->volumes,
                                                      "constraint.volumes"));
  }
  std::shared_ptr<const Record> published;
  UTM_ASSIGN_OR_RETURN(
      v1::PublishConstraintResponse response,
      (Write<v1::PublishConstraintResponse>(
          caller, request, "publish",
          [&](absl::Time now, Decision* d) ABSL_NO_THREAD_SAFETY_ANALYSIS
          -> absl::StatusOr<v1::PublishConstraintResponse> {
            const v1::ConstraintSource& source = validated->proto.source();
            std::string source_key;
            if (!source.original_id().empty()) {
              source_key = ConstraintRegistry::SourceKey(caller.id, source);
              if (const std::string* existing =
                      registry_.FindSource(source_key)) {
                return absl::AlreadyExistsError(absl::StrCat(
                    "constraint ", *existing, " already has source id ",
                    QuoteForError(source.original_id()),
                    " from this authority"));
              }
            }
            if (now > validated->last_active) {
              return Invalid("constraint.volumes",
                             "the constraint is over: its last volume or its "
                             "schedule ended before now");
            }
            auto record = std::make_shared<Record>(*validated);
            std::string id = new_id_();
            while (registry_.Contains(id)) id = new_id_();
            v1::Constraint& p = record->proto;
            p.set_id(id);
            p.set_version(1);
            p.mutable_authority()->set_id(caller.id);
            *p.mutable_create_time() = TimeToProto(now);
            *p.mutable_update_time() = TimeToProto(now);
            if (p.source().format() == v1::SOURCE_FORMAT_UNSPECIFIED) {
              p.mutable_source()->set_format(v1::SOURCE_FORMAT_MANUAL);
            }
            d->upsert = record;
            d->source_key = source_key;
            published = record;
            v1::PublishConstraintResponse out;
            *out.mutable_constraint() = View(*record, now);
            return out;
          })));
  if (published != nullptr) {
    UTM_RETURN_IF_ERROR(
        ReportAffected(published, response.mutable_affected_intents()));
  }
  return response;
}

void ConstraintCore::PutVersion(const Entry& entry,
                                std::vector<geo::Volume4D> previous,
                                absl::Time now,
                                std::vector<store::Mutation>* batch,
                                std::vector<Change>* changes) {
  registry_.Put(entry, batch);
  Change change;
  change.time = now;
  change.kind = Change::Kind::kUpsert;
  change.constraint_id = entry.record->id();
  change.record = entry.record;
  change.active = entry.active;
  change.volumes = std::move(previous);
  changes->push_back(std::move(change));
}

absl::StatusOr<v1::UpdateConstraintResponse> ConstraintCore::Update(
    const Caller& caller, const v1::UpdateConstraintRequest& request) {
  UTM_RETURN_IF_ERROR(RequireAuthority(caller));
  UTM_RETURN_IF_ERROR(CheckFields(request));
  UTM_ASSIGN_OR_RETURN(std::shared_ptr<const Record> validated,
                       MakeRecord(request.constraint(), "constraint",
                                  options_.limits, options_.max_volumes));
  if (options_.region != nullptr) {
    UTM_RETURN_IF_ERROR(options_.region->CheckVolumes(validated->volumes,
                                                      "constraint.volumes"));
  }
  std::shared_ptr<const Record> updated;
  UTM_ASSIGN_OR_RETURN(
      v1::UpdateConstraintResponse response,
      (Write<v1::UpdateConstraintResponse>(
          caller, request, "update",
          [&](absl::Time now, Decision* d) ABSL_NO_THREAD_SAFETY_ANALYSIS
          -> absl::StatusOr<v1::UpdateConstraintResponse> {
            UTM_ASSIGN_OR_RETURN(Entry * e,
                                 OwnedEntry(caller, request.constraint().id(),
                                            request.constraint().version()));
            const Record& old = *e->record;
            if (now > validated->last_active) {
              return Invalid("constraint.volumes",
                             "the constraint would be over: withdraw it "
                             "instead");
            }
            auto record = std::make_shared<Record>(*validated);
            v1::Constraint& p = record->proto;
            // Identity, provenance key and history are kept.
            p.set_id(old.id());
            p.set_version(old.proto.version() + 1);
            p.mutable_authority()->set_id(old.proto.authority().id());
            *p.mutable_create_time() = old.proto.create_time();
            *p.mutable_update_time() = TimeToProto(now);
            *p.mutable_source() = old.proto.source();
            d->previous = old.volumes;
            d->upsert = record;
            updated = record;
            v1::UpdateConstraintResponse out;
            *out.mutable_constraint() = View(*record, now);
            return out;
          })));
  if (updated != nullptr) {
    UTM_RETURN_IF_ERROR(
        ReportAffected(updated, response.mutable_affected_intents()));
  }
  return response;
}

absl::StatusOr<v1::WithdrawConstraintResponse> ConstraintCore::Withdraw(
    const Caller& caller, const v1::WithdrawConstraintRequest& request) {
  UTM_RETURN_IF_ERROR(RequireAuthority(caller));
  UTM_RETURN_IF_ERROR(CheckFields(request));
  return Write<v1::WithdrawConstraintResponse>(
      caller, request, "withdraw",
      [&](absl::Time now, Decision* d) ABSL_NO_THREAD_SAFETY_ANALYSIS
      -> absl::StatusOr<v1::WithdrawConstraintResponse> {
        UTM_ASSIGN_OR_RETURN(
            Entry * e,
            OwnedEntry(caller, request.constraint_id(), request.version()));
        d->withdrawn = e->record;
        d->withdrawn_view = WithdrawnHistory::Withdrawn(
            View(*e->record, now), caller.id, request.reason(), now);
        v1::WithdrawConstraintResponse out;
        *out.mutable_constraint() = d->withdrawn_view;
        return out;
      });
}

void ConstraintCore::AffectedBy(
    const Record& r, const std::vector<intent::OverlappingIntent>& found,
    google::protobuf::RepeatedPtrField<v1::Conflict>* out,
    std::map<std::string, std::vector<std::string>>* by_owner) const {
  const Record* record = &r;
  out->Clear();
  by_owner->clear();
  for (const intent::OverlappingIntent& o : found) {
    bool blocking = false;
    v1::Conflict conflict;
    conflict.mutable_intent()->set_id(o.intent_id);
    conflict.mutable_intent()->set_priority(o.priority);
    conflict.mutable_intent()->set_state(intent::StateToProto(o.state));
    for (const intent::VolumeOverlap& overlap : o.overlaps) {
      // volume_index: the constraint's volume; other_volume_index: the
      // intent's (as PublishConstraintResponse documents).
      std::vector<geo::TimeWindow> windows =
          ActiveWindows(record->schedule, overlap.time);
      if (windows.empty()) continue;
      geo::AltitudeBand band = overlap.altitude;
      bool blocks = false;
      switch (record->type()) {
        case v1::CONSTRAINT_TYPE_PROHIBITED:
        case v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION:
          blocks = true;
          break;
        case v1::CONSTRAINT_TYPE_CONDITIONAL:
          blocks = record->ceiling_m && band.upper_m > *record->ceiling_m;
          break;
        default:
          break;
      }
      if (blocks) {
        const std::vector<geo::TimeWindow> covered =
            authorisations_.Covered(record->id(), o.owner);
        if (Subtract(windows, covered).empty()) blocks = false;
      }
      blocking = blocking || blocks;
      for (const geo::TimeWindow& w : windows) {
        v1::VolumeOverlap* vo = conflict.add_overlaps();
        vo->set_volume_index(overlap.volume_index);
        vo->set_other_volume_index(overlap.other_volume_index);
        vo->set_other_off_nominal(overlap.other_off_nominal);
        *vo->mutable_time_overlap()->mutable_start() = TimeToProto(w.start);
        *vo->mutable_time_overlap()->mutable_end() = TimeToProto(w.end);
        vo->mutable_altitude_overlap()->mutable_lower()->set_value_m(
            band.lower_m);
        vo->mutable_altitude_overlap()->mutable_lower()->set_reference(
            v1::ALTITUDE_REFERENCE_W84);
        vo->mutable_altitude_overlap()->mutable_upper()->set_value_m(
            band.upper_m);
        vo->mutable_altitude_overlap()->mutable_upper()->set_reference(
            v1::ALTITUDE_REFERENCE_W84);
      }
    }
    if (conflict.overlaps().empty()) continue;
    conflict.set_reason(
        !blocking ? (record->type() == v1::CONSTRAINT_TYPE_CONDITIONAL
                         ? v1::CONFLICT_REASON_CONSTRAINT_CONDITIONAL
                         : v1::CONFLICT_REASON_CONSTRAINT_ADVISORY)
        : record->type() == v1::CONSTRAINT_TYPE_PROHIBITED
            ? v1::CONFLICT_REASON_CONSTRAINT_PROHIBITED
        : record->type() == v1::CONSTRAINT_TYPE_CONDITIONAL
            ? v1::CONFLICT_REASON_CONSTRAINT_CONDITIONS_VIOLATED
            : v1::CONFLICT_REASON_CONSTRAINT_AUTHORISATION_REQUIRED);
    *out->Add() = std::move(conflict);
    if (blocking) (*by_owner)[o.owner].push_back(o.intent_id);
  }
  // Still there? A withdrawal in between makes the report moot.
  if (!registry_.Contains(record->id())) by_owner->clear();
}

absl::Status ConstraintCore::ReportAffected(
    const std::shared_ptr<const Record>& record,
    google::protobuf::RepeatedPtrField<v1::Conflict>* affected_out) {
  IntentLookup lookup;
  {
    absl::ReaderMutexLock lock(&mu_);
    lookup = intent_lookup_;
  }
  if (!lookup) return absl::OkStatus();
  // Outside the lock: an intent filed after the constraint became visible
  // is refused by Check(); one filed before is found here.
  std::vector<intent::OverlappingIntent> found = lookup(record->volumes);
  if (found.empty()) return absl::OkStatus();
  if (ledger_ != nullptr) {
    return CommitThroughLedger(
               [&](absl::Time now, int64_t* seq)
                   ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::StatusOr<Proposal> {
                 std::map<std::string, std::vector<std::string>> by_owner;
                 AffectedBy(*record, found, affected_out, &by_owner);
                 Proposal p;
                 if (by_owner.empty()) return p;
                 Change change;
                 change.time = now;
                 change.kind = Change::Kind::kAffected;
                 change.constraint_id = record->id();
                 change.affected = std::move(by_owner);
                 ProposeChange(std::move(change), seq, &p);
                 return p;
               })
        .status();
  }
  store::Store::Ticket ticket = 0;
  int64_t sequence = 0;
  {
    absl::MutexLock lock(&mu_);
    std::map<std::string, std::vector<std::string>> by_owner;
    AffectedBy(*record, found, affected_out, &by_owner);
    if (by_owner.empty()) return absl::OkStatus();
    std::vector<store::Mutation> batch;
    Change change;
    change.time = clock_->Now();
    change.kind = Change::Kind::kAffected;
    change.constraint_id = record->id();
    change.affected = std::move(by_owner);
    feed_->Append(std::move(change), &batch);
    if (store_ != nullptr) ticket = store_->Enqueue(std::move(batch));
    sequence = feed_->last_sequence();
  }
  if (store_ != nullptr) UTM_RETURN_IF_ERROR(store_->Wait(ticket));
  hub_.Deliver(sequence);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Authorisations.

absl::StatusOr<v1::GrantAuthorisationResponse> ConstraintCore::Grant(
    const Caller& caller, const v1::GrantAuthorisationRequest& request) {
  UTM_RETURN_IF_ERROR(RequireAuthority(caller));
  UTM_RETURN_IF_ERROR(CheckFields(request));
  UTM_RETURN_IF_ERROR(
      AuthorisationWindow(request.window(), clock_->Now()).status());
  return Write<v1::GrantAuthorisationResponse>(
      caller, request, "grant",
      [&](absl::Time now, Decision* d) ABSL_NO_THREAD_SAFETY_ANALYSIS
      -> absl::StatusOr<v1::GrantAuthorisationResponse> {
        UTM_ASSIGN_OR_RETURN(const Record* found,
                             registry_.Find(request.constraint_id()));
        const Record& record = *found;
        if (!caller.admin && record.proto.authority().id() != caller.id) {
          return absl::PermissionDeniedError(
              absl::StrCat("constraint ", record.id(),
                           " was published by another authority"));
        }
        if (record.type() == v1::CONSTRAINT_TYPE_ADVISORY) {
          return absl::FailedPreconditionError(
              absl::StrCat("constraint ", record.id(),
                           " is ADVISORY: it never blocks, nothing to unlock"));
        }
        v1::Authorisation a;
        a.set_constraint_id(record.id());
        a.set_operator_id(request.operator_id());
        a.set_kind(v1::AUTHORISATION_KIND_GRANTED);
        *a.mutable_window() = request.window();
        a.set_granted_by(caller.id);
        a.set_reference(request.reference());
        a.set_id(authorisations_.NewId(new_id_));
        *a.mutable_create_time() = TimeToProto(now);
        v1::GrantAuthorisationResponse out;
        *out.mutable_authorisation() = a;
        d->authorisation = std::move(a);
        return out;
      });
}

absl::StatusOr<v1::SelfUnlockResponse> ConstraintCore::SelfUnlock(
    const Caller& caller, const v1::SelfUnlockRequest& request) {
  UTM_RETURN_IF_ERROR(CheckFields(request));
  if (!request.acknowledged()) {
    return Invalid("acknowledged",
                   "must be true: the pilot has read the message for pilots "
                   "and the conditions");
  }
  UTM_RETURN_IF_ERROR(
      AuthorisationWindow(request.window(), clock_->Now()).status());
  return Write<v1::SelfUnlockResponse>(
      caller, request, "self_unlock",
      [&](absl::Time now, Decision* d) ABSL_NO_THREAD_SAFETY_ANALYSIS
      -> absl::StatusOr<v1::SelfUnlockResponse> {
        UTM_ASSIGN_OR_RETURN(const Record* found,
                             registry_.Find(request.constraint_id()));
        const Record& record = *found;
        if (record.type() != v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION ||
            !record.proto.self_unlock_allowed()) {
          return absl::PermissionDeniedError(absl::StrCat(
              "constraint ", record.id(), " is ",
              v1::ConstraintType_Name(record.type()),
              record.type() == v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION
                  ? " without self-unlock"
                  : "",
              ": only its authority can grant access"));
        }
        v1::Authorisation a;
        a.set_constraint_id(record.id());
        a.set_operator_id(caller.id);
        a.set_kind(v1::AUTHORISATION_KIND_SELF_UNLOCK);
        *a.mutable_window() = request.window();
        a.set_granted_by(caller.id);
        a.set_id(authorisations_.NewId(new_id_));
        *a.mutable_create_time() = TimeToProto(now);
        v1::SelfUnlockResponse out;
        *out.mutable_authorisation() = a;
        d->authorisation = std::move(a);
        return out;
      });
}

absl::StatusOr<v1::RevokeAuthorisationResponse> ConstraintCore::Revoke(
    const Caller& caller, const v1::RevokeAuthorisationRequest& request) {
  UTM_RETURN_IF_ERROR(CheckFields(request));
  return Write<v1::RevokeAuthorisationResponse>(
      caller, request, "revoke",
      [&](absl::Time now, Decision* d) ABSL_NO_THREAD_SAFETY_ANALYSIS
      -> absl::StatusOr<v1::RevokeAuthorisationResponse> {
        const v1::Authorisation* found =
            authorisations_.Find(request.authorisation_id());
        if (found == nullptr) {
          return absl::NotFoundError(absl::StrCat(
              "authorisation ", QuoteForError(request.authorisation_id()),
              " not found"));
        }
        v1::Authorisation a = *found;
        bool allowed = caller.admin;
        if (a.kind() == v1::AUTHORISATION_KIND_SELF_UNLOCK &&
            a.operator_id() == caller.id) {
          allowed = true;
        }
        const Entry* c = registry_.FindEntry(a.constraint_id());
        if ((caller.authority || caller.admin) && c != nullptr &&
            c->record->proto.authority().id() == caller.id) {
          allowed = true;
        }
        if (caller.authority && c == nullptr && a.granted_by() == caller.id) {
          allowed = true;  // its constraint was withdrawn
        }
        if (!allowed) {
          return absl::PermissionDeniedError(absl::StrCat(
              "authorisation ", a.id(),
              " can be revoked only by the constraint's "
              "authority (or by its operator, for a self-unlock)"));
        }
        v1::RevokeAuthorisationResponse out;
        if (!a.has_revoke_time()) {
          *a.mutable_revoke_time() = TimeToProto(now);
          a.set_revoke_reason(request.reason());
          d->authorisation = a;
        }
        *out.mutable_authorisation() = a;
        return out;
      });
}

// ---------------------------------------------------------------------------
// Watching.

absl::StatusOr<std::shared_ptr<Watcher>> ConstraintCore::Watch(
    const Caller& caller, const v1::WatchConstraintsRequest& request,
    std::function<void()> notify) {
  if (!request.has_area()) return Invalid("area", "required");
  VolumeConvertOptions convert;
  convert.limits = options_.limits;
  convert.open_bounds = true;
  UTM_ASSIGN_OR_RETURN(geo::Volume4D area,
                       VolumeFromProto(request.area(), convert, "area"));
  if (request.since_sequence() < 0) {
    return Invalid("since_sequence", "negative");
  }
  absl::Duration heartbeat = absl::Seconds(15);
  if (request.has_heartbeat_interval()) {
    heartbeat = absl::Seconds(request.heartbeat_interval().seconds()) +
                absl::Nanoseconds(request.heartbeat_interval().nanos());
    heartbeat = std::clamp(heartbeat, absl::Seconds(1), absl::Seconds(60));
  }
  if (follower_ != nullptr) {
    // The client may come from a replica further along: have everything
    // committed before it asked, so that its sequence is known here.
    UTM_RETURN_IF_ERROR(follower_->CatchUp());
    // A snapshot shows the model: wait until what it has applied is
    // confirmed durable, so a snapshot does not show a change a failover
    // would lose (bounded: the storage's replicas may be down).
    absl::MutexLock lock(&mu_);
    if (!undelivered_.empty()) {
      const uint64_t target = undelivered_.back().first;
      auto confirmed = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return undelivered_.empty() || undelivered_.front().first > target;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&confirmed),
                                absl::Seconds(2))) {
        return absl::UnavailableError(
            "the latest constraint changes are not confirmed durable by the "
            "storage's replicas yet; retry");
      }
    }
  }
  return hub_.Watch(caller.id, area, heartbeat, request.since_sequence(),
                    std::move(notify));
}

bool ConstraintCore::NextEvent(Watcher* w, EventPtr* event) {
  return hub_.NextEvent(w, event);
}

void ConstraintCore::Unwatch(Watcher* w) { hub_.Unwatch(w); }

absl::StatusOr<int> ConstraintCore::Tick() {
  if (ledger_ != nullptr) return TickThroughLedger();
  store::Store::Ticket ticket = 0;
  int64_t sequence = 0;
  int written = 0;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    std::vector<store::Mutation> batch;
    absl::Time when;
    Entry* e;
    while (registry_.PopDue(now, &when, &e)) {
      const Record& r = *e->record;
      const bool active = r.ActiveAt(when);
      if (active != e->active) {
        e->active = active;
        Change change;
        change.time = when;
        change.kind = Change::Kind::kActivity;
        change.constraint_id = r.id();
        change.volumes = r.volumes;
        change.active = active;
        // The next real transition, skipping candidates that change nothing.
        absl::Time next = r.NextCandidate(when);
        for (int i = 0; i < 1000 && next != absl::InfiniteFuture() &&
                        r.ActiveAt(next) == active;
             ++i) {
          next = r.NextCandidate(next);
        }
        change.next_change = next;
        feed_->Append(std::move(change), &batch);
        ++written;
      }
      if (when > r.last_active && !e->expired) {
        e->expired = true;
        Change change;
        change.time = when;
        change.kind = Change::Kind::kRemoved;
        change.constraint_id = r.id();
        change.volumes = r.volumes;
        change.removed_reason = v1::CONSTRAINT_REMOVED_REASON_EXPIRED;
        feed_->Append(std::move(change), &batch);
        ++written;
      }
      if (!e->expired) registry_.Schedule(e, when);
    }
    if (written > 0) ticked_ = now;
    if (store_ != nullptr && !batch.empty()) {
      internal::StoredTick tick;
      *tick.mutable_time() = TimeToProto(now);
      batch.push_back(
          store::Put(kMetaTable, kTickedKey, tick.SerializeAsString()));
      ticket = store_->Enqueue(std::move(batch));
    }
    sequence = feed_->last_sequence();
  }
  if (ticket != 0) UTM_RETURN_IF_ERROR(store_->Wait(ticket));
  hub_.Deliver(sequence);
  hub_.Heartbeat();
  return written;
}

}  // namespace utm::constraint
