#include "services/intent/intent_core.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/common/uuid.h"
#include "services/intent/intent_codec.h"
#include "services/intent/intent_states.h"
#include "utm/internal/intent_storage.pb.h"

namespace utm::intent {
namespace {

// Index keys: (handle << kVolumeBits) | volume index, with kOffNominalBit
// set for off-nominal volumes. max_volumes is capped below kOffNominalBit.
constexpr int kVolumeBits = 20;
constexpr uint64_t kOffNominalBit = uint64_t{1} << (kVolumeBits - 1);
constexpr uint64_t kIndexMask = kOffNominalBit - 1;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

// Every field that makes two requests the same request, exactly.
void AppendVolumes(std::string* out,
                   const std::vector<geo::Volume4D>& volumes) {
  for (const geo::Volume4D& v : volumes) {
    absl::StrAppend(out, "|", geo::DebugString(v.volume.footprint));
    absl::StrAppendFormat(out, "|%.17g|%.17g|%s|%s", v.volume.altitude.lower_m,
                          v.volume.altitude.upper_m, Rfc3339(v.time.start),
                          Rfc3339(v.time.end));
  }
}

void AppendAircraft(std::string* out, const AircraftDecl& aircraft) {
  absl::StrAppend(out, "|aircraft|", aircraft.serial, "|", aircraft.mass_g);
}

// Calls fn(key, volume) for every volume of `intent`, nominal and
// off-nominal, with its index key.
template <typename Fn>
void ForEachIndexKey(uint64_t handle, const Intent& intent, Fn fn) {
  for (size_t i = 0; i < intent.volumes.size(); ++i) {
    fn((handle << kVolumeBits) | i, intent.volumes[i]);
  }
  for (size_t i = 0; i < intent.off_nominal_volumes.size(); ++i) {
    fn((handle << kVolumeBits) | kOffNominalBit | i,
       intent.off_nominal_volumes[i]);
  }
}

// Intents by id, then constraints by id.
void SortById(std::vector<Conflict>* conflicts) {
  std::sort(conflicts->begin(), conflicts->end(),
            [](const Conflict& a, const Conflict& b) {
              return std::make_pair(a.is_constraint(), a.is_constraint()
                                                           ? a.constraint_id
                                                           : a.intent_id) <
                     std::make_pair(b.is_constraint(), b.is_constraint()
                                                           ? b.constraint_id
                                                           : b.intent_id);
            });
}

std::string ConflictKey(const Conflict& c) {
  return c.is_constraint() ? absl::StrCat("c/", c.constraint_id)
                           : absl::StrCat("i/", c.intent_id);
}

}  // namespace

const char* IntentStateName(IntentState state) {
  switch (state) {
    case IntentState::kAccepted:
      return "ACCEPTED";
    case IntentState::kActivated:
      return "ACTIVATED";
    case IntentState::kNonconforming:
      return "NONCONFORMING";
    case IntentState::kContingent:
      return "CONTINGENT";
    case IntentState::kEnded:
      return "ENDED";
    case IntentState::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

bool IsLive(IntentState state) {
  return state != IntentState::kEnded && state != IntentState::kCancelled;
}

std::string IntentCore::RequestKey(const std::string& owner,
                                   const std::string& request_id) {
  return absl::StrCat(owner, std::string(1, '\0'), request_id);
}

std::string IntentCore::EncodeIntentRecord(const Intent& intent,
                                           const std::string& region) {
  internal::StoredIntent stored;
  IntentToProto(intent, stored.mutable_intent());
  stored.set_region(region);
  return stored.SerializeAsString();
}

absl::StatusOr<Intent> IntentCore::DecodeIntentRecord(absl::string_view value) {
  internal::StoredIntent stored;
  if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("not a StoredIntent");
  }
  return IntentFromProto(stored.intent());
}

absl::StatusOr<IntentCore::RequestRecord> IntentCore::DecodeRequestRecord(
    absl::string_view value, absl::Time* created) {
  internal::StoredRequest stored;
  if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("stored request record is not a StoredRequest");
  }
  *created = absl::FromUnixMicros(stored.created_unix_micros());
  RequestRecord record;
  record.fingerprint = stored.fingerprint();
  if (stored.has_intent()) {
    absl::StatusOr<Intent> intent = IntentFromProto(stored.intent());
    if (!intent.ok()) return absl::DataLossError(intent.status().message());
    record.outcome.intent = *std::move(intent);
  }
  absl::StatusOr<std::vector<Conflict>> conflicts =
      ConflictsFromProto(stored.conflicts());
  absl::StatusOr<std::vector<Conflict>> advisories =
      ConflictsFromProto(stored.advisories());
  if (!conflicts.ok() || !advisories.ok()) {
    return absl::DataLossError("stored request conflicts");
  }
  record.outcome.conflicts = *std::move(conflicts);
  record.outcome.advisories = *std::move(advisories);
  return record;
}

IntentCore::IntentCore(IntentOptions options, const Clock* clock,
                       std::function<std::string()> new_id, store::Store* store)
    : options_(std::move(options)),
      clock_(clock),
      new_id_(new_id ? std::move(new_id) : RandomUuid),
      store_(store) {}

IntentCore::~IntentCore() { StopLedgerWork(); }

absl::Status IntentCore::ValidatePriority(int32_t priority) const {
  if (priority < options_.min_priority || priority > options_.max_priority) {
    return absl::InvalidArgumentError(
        absl::StrCat("priority: ", priority, " is outside [",
                     options_.min_priority, ", ", options_.max_priority, "]"));
  }
  return absl::OkStatus();
}

absl::Status IntentCore::ValidateAircraft(const AircraftDecl& aircraft) {
  // F3411-22a's UAS id is at most 20 characters; 64 leaves room for the
  // operators' own ids of unregistered aircraft.
  constexpr size_t kMaxSerialBytes = 64;
  constexpr int64_t kMaxMassG = 25000000;  // 25 t
  if (aircraft.serial.size() > kMaxSerialBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("aircraft.serial_number: ", aircraft.serial.size(),
                     " bytes; at most ", kMaxSerialBytes, " are allowed"));
  }
  for (size_t i = 0; i < aircraft.serial.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(aircraft.serial[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "aircraft.serial_number: byte ", i, " (0x",
          absl::Hex(c, absl::kZeroPad2),
          ") is not printable ASCII (spaces are not allowed either)"));
    }
  }
  if (aircraft.mass_g < 0 || aircraft.mass_g > kMaxMassG) {
    return absl::InvalidArgumentError(
        absl::StrCat("aircraft.mass_g: ", aircraft.mass_g, " is outside [0, ",
                     kMaxMassG, "] grams"));
  }
  return absl::OkStatus();
}

absl::Status IntentCore::ValidateRequestId(
    const std::string& request_id) const {
  if (request_id.size() > options_.max_request_id_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: ", request_id.size(), " bytes; at most ",
                     options_.max_request_id_bytes, " are allowed"));
  }
  return absl::OkStatus();
}

absl::Status IntentCore::ValidateVolumes(
    const std::vector<geo::Volume4D>& volumes, absl::Time now,
    absl::string_view list) const {
  if (volumes.empty() && list == "volumes") {
    return absl::InvalidArgumentError(
        "volumes: an intent needs at least one volume");
  }
  const size_t most =
      std::min<size_t>(options_.max_volumes, static_cast<size_t>(kIndexMask));
  if (volumes.size() > most) {
    return absl::InvalidArgumentError(absl::StrCat(list, ": ", volumes.size(),
                                                   " volumes; at most ", most,
                                                   " are allowed"));
  }
  for (size_t i = 0; i < volumes.size(); ++i) {
    const std::string field = absl::StrCat(list, "[", i, "]");
    const geo::Volume4D& v = volumes[i];
    UTM_RETURN_IF_ERROR(geo::ValidateVolume4D(v, options_.limits, field));
    if (v.time.end == absl::InfiniteFuture()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".time_end: a flight intent must end"));
    }
    if (v.time.end < now) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".time_end: ", Rfc3339(v.time.end),
                       " is in the past (now ", Rfc3339(now), ")"));
    }
    if (v.time.start > now + options_.max_lead_time) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".time_start: ", Rfc3339(v.time.start), " is more than ",
          absl::FormatDuration(options_.max_lead_time), " ahead (now ",
          Rfc3339(now), ")"));
    }
    if (v.time.end - v.time.start > options_.max_volume_duration) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": lasts ", absl::FormatDuration(v.time.end - v.time.start),
          "; at most ", absl::FormatDuration(options_.max_volume_duration),
          " is allowed"));
    }
  }
  return absl::OkStatus();
}

IntentCore::ConflictSet IntentCore::Conflicts(
    const std::string& owner, const std::vector<geo::Volume4D>& volumes,
    int32_t priority, uint64_t self) const {
  std::map<uint64_t, Conflict> blocking, advisory;
  for (size_t i = 0; i < volumes.size(); ++i) {
    for (const geo::VolumeIndex::Hit& hit : index_.QueryOverlaps(volumes[i])) {
      const uint64_t handle = hit.id >> kVolumeBits;
      if (handle == self) continue;
      const Intent& other = entries_.at(handle)->intent;
      const bool blocks =
          other.priority > priority || (other.priority == priority &&
                                        !options_.allow_equal_priority_overlap);
      Conflict& c = (blocks ? blocking : advisory)[handle];
      c.intent_id = other.id;
      c.priority = other.priority;
      c.state = other.state;
      c.overlaps.push_back(VolumeOverlap{
          static_cast<int>(i), static_cast<int>(hit.id & kIndexMask),
          (hit.id & kOffNominalBit) != 0, hit.overlap.time,
          hit.overlap.altitude});
    }
  }
  auto sorted = [](std::map<uint64_t, Conflict>& by_handle) {
    std::vector<Conflict> out;
    out.reserve(by_handle.size());
    for (auto& [handle, c] : by_handle) out.push_back(std::move(c));
    SortById(&out);
    return out;
  };
  ConflictSet set{sorted(blocking), sorted(advisory)};
  if (constraint_checker_ != nullptr) {
    constraint_checker_->Check(owner, volumes, &set.blocking, &set.advisory);
  }
  return set;
}

void IntentCore::SetLocalDataMode(
    std::function<bool(const std::string& owner)> local) {
  local_data_mode_ = std::move(local);
}

void IntentCore::SetRegistrationChecker(
    const registration::RegistrationChecker* checker) {
  absl::MutexLock lock(&mu_);
  registration_checker_ = checker;
}

void IntentCore::SetConstraintChecker(const ConstraintChecker* checker) {
  absl::MutexLock lock(&mu_);
  constraint_checker_ = checker;
}

std::vector<OverlappingIntent> IntentCore::Overlapping(
    const std::vector<geo::Volume4D>& volumes) const {
  absl::ReaderMutexLock lock(&mu_);
  std::map<std::string, OverlappingIntent> by_id;
  for (size_t i = 0; i < volumes.size(); ++i) {
    for (const geo::VolumeIndex::Hit& hit : index_.QueryOverlaps(volumes[i])) {
      const Intent& other = entries_.at(hit.id >> kVolumeBits)->intent;
      OverlappingIntent& o = by_id[other.id];
      o.intent_id = other.id;
      o.owner = other.owner;
      o.priority = other.priority;
      o.state = other.state;
      o.overlaps.push_back(VolumeOverlap{
          static_cast<int>(i), static_cast<int>(hit.id & kIndexMask),
          (hit.id & kOffNominalBit) != 0, hit.overlap.time,
          hit.overlap.altitude});
    }
  }
  std::vector<OverlappingIntent> out;
  out.reserve(by_id.size());
  for (auto& [id, o] : by_id) out.push_back(std::move(o));
  return out;
}

void IntentCore::ScheduleExpiry(uint64_t handle, const Intent& intent) {
  absl::Time over;
  if (intent.state == IntentState::kEnded ||
      intent.state == IntentState::kCancelled) {
    over = intent.updated;  // when it became so
  } else {
    over = absl::InfinitePast();
    for (const auto* volumes : {&intent.volumes, &intent.off_nominal_volumes}) {
      for (const geo::Volume4D& v : *volumes) over = std::max(over, v.time.end);
    }
    if (over == absl::InfiniteFuture()) return;  // never over by time
  }
  // Not retained: forgotten as soon as it is over.
  expiries_.push({intent.retained ? over + options_.intent_retention : over,
                  handle, intent.version});
}

void IntentCore::ExpireIntents(absl::Time now) {
  while (!expiries_.empty() && expiries_.top().at <= now) {
    const Expiry e = expiries_.top();
    expiries_.pop();
    auto it = entries_.find(e.handle);
    if (it == entries_.end() || it->second->intent.version != e.version) {
      continue;  // forgotten already, or changed since: a later entry rules
    }
    if ((store_ != nullptr || ledger_ != nullptr) &&
        it->second->intent.retained) {
      expired_intents_.push_back(it->second->intent.id);
    }
    EraseIntent(e.handle);
  }
}

void IntentCore::EraseIntent(uint64_t handle) {
  auto it = entries_.find(handle);
  if (it == entries_.end()) return;
  const Intent& intent = it->second->intent;
  if (IsLive(intent.state)) UnindexIntent(handle, intent);
  handle_by_id_.erase(intent.id);
  by_owner_.erase(std::make_pair(intent.owner, intent.id));
  entries_.erase(it);
}

absl::StatusOr<std::optional<WriteOutcome>> IntentCore::Replay(
    const std::string& owner, const std::string& request_id,
    const std::string& fingerprint, absl::Time now,
    store::Store::Ticket* ticket) {
  // Forget what has passed its retention.
  while (!request_order_.empty() &&
         request_order_.front().first + options_.request_id_retention < now) {
    requests_.erase(request_order_.front().second);
    expired_requests_.push_back(std::move(request_order_.front().second));
    request_order_.pop_front();
  }
  if (request_id.empty()) return std::nullopt;
  auto it = requests_.find(RequestKey(owner, request_id));
  if (it == requests_.end()) return std::nullopt;
  if (it->second.fingerprint != fingerprint) {
    return absl::AlreadyExistsError(absl::StrCat(
        "request_id ", QuoteForError(request_id),
        " was already used for a different request; use a new id for a "
        "new request"));
  }
  // A retry may race the first attempt's sync: answer only once durable.
  *ticket = it->second.ticket;
  return it->second.outcome;
}

store::Store::Ticket IntentCore::Remember(const std::string& owner,
                                          const std::string& request_id,
                                          const std::string& fingerprint,
                                          const WriteOutcome& outcome,
                                          absl::Time now) {
  std::string key;
  if (!request_id.empty()) {
    key = RequestKey(owner, request_id);
    requests_[key] = RequestRecord{fingerprint, outcome, 0};
    request_order_.emplace_back(now, key);
  }
  if (store_ == nullptr) {
    expired_requests_.clear();
    return 0;
  }
  std::vector<store::Mutation> batch =
      OutcomeMutations(owner, request_id, fingerprint, outcome, now);
  // An intent filed without retention never reaches the store, nor does
  // the record of a request about it (which holds a copy of it).
  if (!write_retain_) key.clear();
  write_retain_ = true;
  if (batch.empty()) return 0;
  const store::Store::Ticket ticket = store_->Enqueue(std::move(batch));
  if (!key.empty()) requests_[key].ticket = ticket;
  return ticket;
}

std::vector<store::Mutation> IntentCore::OutcomeMutations(
    const std::string& owner, const std::string& request_id,
    const std::string& fingerprint, const WriteOutcome& outcome,
    absl::Time now) {
  std::vector<store::Mutation> batch;
  if (write_retain_) {
    if (outcome.accepted()) {
      batch.push_back(
          store::Put(kIntentsTable, outcome.intent->id,
                     EncodeIntentRecord(*outcome.intent, options_.region)));
    }
    if (!request_id.empty()) {
      internal::StoredRequest stored;
      stored.set_owner(owner);
      stored.set_request_id(request_id);
      stored.set_fingerprint(fingerprint);
      stored.set_created_unix_micros(absl::ToUnixMicros(now));
      if (outcome.accepted())
        IntentToProto(*outcome.intent, stored.mutable_intent());
      const int32_t own = outcome.accepted() ? outcome.intent->priority : 0;
      ConflictsToProto(outcome.conflicts, own, stored.mutable_conflicts());
      ConflictsToProto(outcome.advisories, own, stored.mutable_advisories());
      batch.push_back(store::Put(kRequestsTable, RequestKey(owner, request_id),
                                 stored.SerializeAsString()));
    }
  }
  for (std::string& expired : expired_requests_) {
    batch.push_back(store::Delete(kRequestsTable, std::move(expired)));
  }
  expired_requests_.clear();
  for (std::string& expired : expired_intents_) {
    batch.push_back(store::Delete(kIntentsTable, std::move(expired)));
  }
  expired_intents_.clear();
  return batch;
}

void IntentCore::WriteAsync(
    const std::string& owner, const std::string& request_id,
    const std::string& fingerprint, absl::Time now, const Touched& touched,
    const std::function<absl::StatusOr<WriteOutcome>()>& decide, Done done) {
  if (ledger_ != nullptr) {
    WriteThroughLedger(owner, request_id, fingerprint, now, touched, decide,
                       std::move(done));
    return;
  }
  store::Store::Ticket ticket = 0;
  absl::StatusOr<WriteOutcome> result = [&]() -> absl::StatusOr<WriteOutcome> {
    absl::MutexLock lock(&mu_);
    // Intents over for their retention go with this write's batch.
    ExpireIntents(now);
    UTM_ASSIGN_OR_RETURN(std::optional<WriteOutcome> replay,
                         Replay(owner, request_id, fingerprint, now, &ticket));
    if (replay) return *std::move(replay);
    write_retain_ = true;  // decide() may say otherwise
    UTM_ASSIGN_OR_RETURN(WriteOutcome outcome, decide());
    if (outcome.accepted()) PutIntent(*outcome.intent);
    ticket = Remember(owner, request_id, fingerprint, outcome, now);
    return outcome;
  }();
  if (!result.ok() || ticket == 0) {
    done(std::move(result));
    return;
  }
  // Answered once durable, outside the core's lock, so that concurrent
  // writes share a sync.
  store_->OnDurable(ticket, [outcome = *std::move(result),
                             done = std::move(done)](absl::Status s) mutable {
    if (s.ok()) {
      done(std::move(outcome));
    } else {
      done(s);
    }
  });
}

namespace {

// Runs an asynchronous write and waits for its answer.
absl::StatusOr<WriteOutcome> Await(
    const std::function<void(IntentCore::Done)>& start) {
  absl::Notification answered;
  absl::StatusOr<WriteOutcome> result;
  start([&](absl::StatusOr<WriteOutcome> r) {
    result = std::move(r);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

}  // namespace

namespace {

// `done`, telling `observer` first of an accepted write.
IntentCore::Done TellingObserver(const IntentCore::StateObserver& observer,
                                 IntentCore::Done done) {
  return
      [observer, done = std::move(done)](absl::StatusOr<WriteOutcome> outcome) {
        if (outcome.ok() && outcome->accepted()) observer(*outcome->intent);
        done(std::move(outcome));
      };
}

}  // namespace

void IntentCore::FileAsync(const std::string& owner, const FileRequest& request,
                           Done done) {
  // On a ledger every replica tells the observer as it applies the entry.
  if (filing_observer_ && ledger_ == nullptr) {
    done = TellingObserver(filing_observer_, std::move(done));
  }
  if (ledger_ != nullptr &&
      RunOnLedgerWorker([this, owner, request, done]() mutable {
        if (absl::Status s = FileImpl(owner, request, done); !s.ok()) done(s);
      })) {
    return;
  }
  if (absl::Status s = FileImpl(owner, request, done); !s.ok()) done(s);
}

void IntentCore::ModifyAsync(const std::string& owner,
                             const ModifyRequest& request, Done done) {
  if (filing_observer_ && ledger_ == nullptr) {
    done = TellingObserver(filing_observer_, std::move(done));
  }
  if (ledger_ != nullptr &&
      RunOnLedgerWorker([this, owner, request, done]() mutable {
        if (absl::Status s = ModifyImpl(owner, request, done); !s.ok()) done(s);
      })) {
    return;
  }
  if (absl::Status s = ModifyImpl(owner, request, done); !s.ok()) done(s);
}

void IntentCore::TransitionAsync(const std::string& owner,
                                 const TransitionRequest& request, Done done) {
  // On a ledger every replica, this one included, tells the observer when
  // it applies the change (ApplyIntentRecord): not here too.
  if (state_observer_ && ledger_ == nullptr) {
    done = [observer = state_observer_,
            done = std::move(done)](absl::StatusOr<WriteOutcome> outcome) {
      if (outcome.ok() && outcome->accepted()) observer(*outcome->intent);
      done(std::move(outcome));
    };
  }
  if (ledger_ != nullptr &&
      RunOnLedgerWorker([this, owner, request, done]() mutable {
        if (absl::Status s = TransitionImpl(owner, request, done); !s.ok()) {
          done(s);
        }
      })) {
    return;
  }
  if (absl::Status s = TransitionImpl(owner, request, done); !s.ok()) done(s);
}

absl::StatusOr<WriteOutcome> IntentCore::File(const std::string& owner,
                                              const FileRequest& request) {
  return Await([&](Done done) { FileAsync(owner, request, std::move(done)); });
}

absl::StatusOr<WriteOutcome> IntentCore::Modify(const std::string& owner,
                                                const ModifyRequest& request) {
  return Await(
      [&](Done done) { ModifyAsync(owner, request, std::move(done)); });
}

absl::StatusOr<WriteOutcome> IntentCore::Transition(
    const std::string& owner, const TransitionRequest& request) {
  return Await(
      [&](Done done) { TransitionAsync(owner, request, std::move(done)); });
}

absl::Status IntentCore::Recover() {
  if (store_ == nullptr) return absl::OkStatus();
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  absl::Status decode = absl::OkStatus();
  std::vector<std::pair<geo::VolumeIndex::Id, geo::Volume4D>> to_index;
  absl::Status s = store_->Scan(
      kIntentsTable, [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<Intent> intent = DecodeIntentRecord(value);
        if (!intent.ok()) {
          decode.Update(absl::DataLossError(absl::StrCat(
              "stored intent ", key, ": ", intent.status().message())));
          return;
        }
        PutIntent(*std::move(intent), &to_index);
      });
  if (!s.ok()) return s;
  if (!decode.ok()) return decode;
  // One packed build of the index is several times faster than inserting
  // each volume.
  UTM_RETURN_IF_ERROR(index_.InsertAll(std::move(to_index)));
  ExpireIntents(now);  // deleted from the store with the next write
  std::vector<std::pair<absl::Time, std::string>> order;
  s = store_->Scan(kRequestsTable, [&](absl::string_view key,
                                       absl::string_view value) {
    absl::Time created;
    absl::StatusOr<RequestRecord> record = DecodeRequestRecord(value, &created);
    if (!record.ok()) {
      decode.Update(record.status());
      return;
    }
    if (created + options_.request_id_retention < now) {
      expired_requests_.emplace_back(key);
      return;
    }
    requests_[std::string(key)] = *std::move(record);
    order.emplace_back(created, std::string(key));
  });
  if (!s.ok()) return s;
  if (!decode.ok()) return decode;
  std::sort(order.begin(), order.end());
  request_order_.assign(order.begin(), order.end());
  return absl::OkStatus();
}

absl::StatusOr<IntentCore::Entry*> IntentCore::OwnedEntry(
    const std::string& owner, const std::string& intent_id, int64_t version) {
  auto it = handle_by_id_.find(intent_id);
  if (it == handle_by_id_.end()) {
    return absl::NotFoundError(
        absl::StrCat("intent ", QuoteForError(intent_id), " does not exist"));
  }
  Entry* entry = entries_.at(it->second).get();
  if (entry->intent.owner != owner) {
    return absl::PermissionDeniedError(
        absl::StrCat("intent ", intent_id, " belongs to another operator"));
  }
  if (!IsLive(entry->intent.state)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "intent ", intent_id, " is ", IntentStateName(entry->intent.state),
        "; it can no longer change"));
  }
  if (entry->intent.version != version) {
    return absl::AbortedError(absl::StrCat(
        "intent ", intent_id, " is at version ", entry->intent.version,
        ", not ", version, "; read it again and retry"));
  }
  return entry;
}

void IntentCore::IndexIntent(uint64_t handle, const Intent& intent) {
  // Keys are unique by construction: a handle is never reused, and an
  // intent's volumes are unindexed before they are replaced.
  ForEachIndexKey(handle, intent, [&](uint64_t key, const geo::Volume4D& v) {
    (void)index_.Insert(key, v);
  });
}

void IntentCore::UnindexIntent(uint64_t handle, const Intent& intent) {
  ForEachIndexKey(handle, intent, [&](uint64_t key, const geo::Volume4D&) {
    index_.Remove(key);
  });
}

void IntentCore::PutIntent(
    Intent intent,
    std::vector<std::pair<geo::VolumeIndex::Id, geo::Volume4D>>* defer_index) {
  uint64_t handle;
  Entry* entry;
  auto it = handle_by_id_.find(intent.id);
  if (it == handle_by_id_.end()) {
    handle = next_handle_++;
    auto fresh = std::make_unique<Entry>();
    fresh->handle = handle;
    entry = fresh.get();
    entries_[handle] = std::move(fresh);
    handle_by_id_[intent.id] = handle;
  } else {
    handle = it->second;
    entry = entries_.at(handle).get();
    if (IsLive(entry->intent.state)) UnindexIntent(handle, entry->intent);
    by_owner_.erase(std::make_pair(entry->intent.owner, entry->intent.id));
  }
  entry->intent = std::move(intent);
  if (IsLive(entry->intent.state)) {
    if (defer_index == nullptr) {
      IndexIntent(handle, entry->intent);
    } else {
      ForEachIndexKey(handle, entry->intent,
                      [&](uint64_t key, const geo::Volume4D& v) {
                        defer_index->emplace_back(key, v);
                      });
    }
  }
  by_owner_.emplace(std::make_pair(entry->intent.owner, entry->intent.id),
                    &entry->intent);
  ScheduleExpiry(handle, entry->intent);
}

absl::Status IntentCore::FileImpl(const std::string& owner,
                                  const FileRequest& request, Done& done) {
  const absl::Time now = clock_->Now();
  UTM_RETURN_IF_ERROR(ValidateRequestId(request.request_id));
  UTM_RETURN_IF_ERROR(ValidatePriority(request.priority));
  UTM_RETURN_IF_ERROR(ValidateVolumes(request.volumes, now));
  UTM_RETURN_IF_ERROR(ValidateAircraft(request.aircraft));
  bool retain = request.retain;
  if (local_data_mode_ && local_data_mode_(owner)) {
    if (ledger_ != nullptr) {
      return absl::FailedPreconditionError(
          "Local Data Mode is on for this operator, and this deployment's "
          "replicas share every intent through Redis, where it would be "
          "stored: intents cannot be filed here without being kept (fly "
          "telemetry-only, or turn Local Data Mode off)");
    }
    retain = false;  // whatever the request says
  }
  if (ledger_ != nullptr && !retain) {
    return absl::FailedPreconditionError(
        "retain: false is not available on this deployment: its replicas "
        "share intents through Redis, so an intent is always stored there "
        "until it is forgotten (see intent retention)");
  }
  std::string fingerprint =
      absl::StrCat("file|", request.priority, "|", retain ? "retain" : "none");
  AppendVolumes(&fingerprint, request.volumes);
  AppendAircraft(&fingerprint, request.aircraft);

  WriteAsync(
      owner, request.request_id, fingerprint, now,
      Touched{"", {&request.volumes}, nullptr},
      [&]() -> absl::StatusOr<WriteOutcome> {
        write_retain_ = retain;
        WriteOutcome outcome;
        ConflictSet found =
            Conflicts(owner, request.volumes, request.priority, /*self=*/0);
        outcome.conflicts = std::move(found.blocking);
        outcome.advisories = std::move(found.advisory);
        if (outcome.conflicts.empty()) {
          Intent intent;
          intent.id = new_id_();
          while (handle_by_id_.contains(intent.id)) intent.id = new_id_();
          intent.owner = owner;
          intent.priority = request.priority;
          intent.state = IntentState::kAccepted;
          intent.volumes = request.volumes;
          intent.version = 1;
          intent.retained = retain;
          intent.created = now;
          intent.updated = now;
          intent.aircraft_serial = request.aircraft.serial;
          intent.aircraft_mass_g = request.aircraft.mass_g;
          outcome.intent = std::move(intent);
        }
        return outcome;
      },
      std::move(done));
  return absl::OkStatus();
}

absl::Status IntentCore::ModifyImpl(const std::string& owner,
                                    const ModifyRequest& request, Done& done) {
  const absl::Time now = clock_->Now();
  UTM_RETURN_IF_ERROR(ValidateRequestId(request.request_id));
  UTM_RETURN_IF_ERROR(ValidatePriority(request.priority));
  UTM_RETURN_IF_ERROR(ValidateVolumes(request.volumes, now));
  if (request.aircraft)
    UTM_RETURN_IF_ERROR(ValidateAircraft(*request.aircraft));
  std::string fingerprint =
      absl::StrCat("modify|", request.intent_id, "|", request.version, "|",
                   request.priority);
  AppendVolumes(&fingerprint, request.volumes);
  if (request.aircraft) AppendAircraft(&fingerprint, *request.aircraft);

  WriteAsync(
      owner, request.request_id, fingerprint, now,
      Touched{request.intent_id, {&request.volumes}, nullptr},
      [&]() -> absl::StatusOr<WriteOutcome> {
        UTM_ASSIGN_OR_RETURN(Entry * entry, OwnedEntry(owner, request.intent_id,
                                                       request.version));
        write_retain_ = entry->intent.retained;
        const Intent& intent = entry->intent;

        WriteOutcome outcome;
        ConflictSet after =
            Conflicts(owner, request.volumes, request.priority, entry->handle);
        outcome.advisories = std::move(after.advisory);
        switch (intent.state) {
          case IntentState::kAccepted:
            outcome.conflicts = std::move(after.blocking);
            break;
          case IntentState::kActivated: {
            // In the air: only conflicts it did not already have block it; the
            // ones it keeps are reported as advisories.
            // The same holds for constraints published after take-off.
            absl::flat_hash_set<std::string> before;
            for (const Conflict& c : Conflicts(owner, intent.volumes,
                                               intent.priority, entry->handle)
                                         .blocking) {
              before.insert(ConflictKey(c));
            }
            for (Conflict& c : after.blocking) {
              (before.contains(ConflictKey(c)) ? outcome.advisories
                                               : outcome.conflicts)
                  .push_back(std::move(c));
            }
            break;
          }
          default:
            // NONCONFORMING / CONTINGENT: off-nominal, not deconflicted; what
            // it meets is reported as advisories.
            for (Conflict& c : after.blocking) {
              outcome.advisories.push_back(std::move(c));
            }
            break;
        }
        SortById(&outcome.advisories);
        if (outcome.conflicts.empty()) {
          Intent next = intent;
          next.volumes = request.volumes;
          next.priority = request.priority;
          if (request.aircraft) {
            next.aircraft_serial = request.aircraft->serial;
            next.aircraft_mass_g = request.aircraft->mass_g;
          }
          ++next.version;
          next.updated = now;
          outcome.intent = std::move(next);
        }
        return outcome;
      },
      std::move(done));
  return absl::OkStatus();
}

absl::Status IntentCore::TransitionImpl(const std::string& owner,
                                        const TransitionRequest& request,
                                        Done& done) {
  const absl::Time now = clock_->Now();
  UTM_RETURN_IF_ERROR(ValidateRequestId(request.request_id));
  UTM_RETURN_IF_ERROR(CheckTransitionRequest(request));
  UTM_RETURN_IF_ERROR(
      ValidateVolumes(request.off_nominal_volumes, now, "off_nominal_volumes"));
  if (!request.volumes.empty()) {
    UTM_RETURN_IF_ERROR(ValidateVolumes(request.volumes, now));
  }
  if (request.priority)
    UTM_RETURN_IF_ERROR(ValidatePriority(*request.priority));
  if (request.aircraft)
    UTM_RETURN_IF_ERROR(ValidateAircraft(*request.aircraft));
  std::string fingerprint =
      absl::StrCat("transition|", request.intent_id, "|", request.version, "|",
                   IntentStateName(request.to));
  AppendVolumes(&fingerprint, request.off_nominal_volumes);
  // Only requests that carry them say so: the fingerprints of requests
  // remembered before activation could carry them stay the same.
  if (!request.volumes.empty()) {
    absl::StrAppend(&fingerprint, "|volumes");
    AppendVolumes(&fingerprint, request.volumes);
  }
  if (request.priority) absl::StrAppend(&fingerprint, "|p", *request.priority);
  if (request.aircraft) AppendAircraft(&fingerprint, *request.aircraft);

  // The guard key of the registration an activation checked: decided
  // again on each attempt, since the intent's serial number may have moved.
  std::string registration_key;
  WriteAsync(
      owner, request.request_id, fingerprint, now,
      Touched{request.intent_id,
              {&request.volumes, &request.off_nominal_volumes},
              &registration_key},
      [&]() -> absl::StatusOr<WriteOutcome> {
        registration_key.clear();
        UTM_ASSIGN_OR_RETURN(Entry * entry, OwnedEntry(owner, request.intent_id,
                                                       request.version));
        write_retain_ = entry->intent.retained;
        const Intent& intent = entry->intent;
        UTM_RETURN_IF_ERROR(CheckTransition(intent, request));
        const std::vector<geo::Volume4D>& volumes =
            request.volumes.empty() ? intent.volumes : request.volumes;
        const int32_t priority = request.priority.value_or(intent.priority);
        WriteOutcome outcome;
        if (intent.state == IntentState::kAccepted &&
            request.to == IntentState::kActivated) {
          // Intents filed since may have higher priority; check again before
          // the flight takes off (with its new volumes, if any: exactly the
          // check of a modification of an ACCEPTED intent). First whether
          // the aircraft may fly at all.
          if (registration_checker_ != nullptr) {
            const std::string& serial = request.aircraft
                                            ? request.aircraft->serial
                                            : intent.aircraft_serial;
            const int64_t mass = request.aircraft ? request.aircraft->mass_g
                                                  : intent.aircraft_mass_g;
            UTM_RETURN_IF_ERROR(registration_checker_->CheckAircraft(
                owner, serial, mass,
                serial.empty() ? "aircraft" : "aircraft.serial_number"));
            // Across replicas the answer came from this replica's model of
            // the registry: the commit must find the registration unchanged
            // since (a revocation, a registration to another operator, a
            // new one of an aircraft that passed as unregistered and light
            // all change it). An aircraft without a serial number names no
            // registration, and its answer rests on the declared mass and
            // the threshold alone: nothing to read. In one process the
            // check reads the registry's model under its lock while this
            // core's lock holds the write, and a revocation is answered
            // only once that model has it: an activation decided first is
            // ordered before it, one asked after it is refused.
            if (!serial.empty()) {
              registration_key = registration::RegistrationGuardKey(serial);
            }
          }
          ConflictSet found =
              Conflicts(owner, volumes, priority, entry->handle);
          outcome.conflicts = std::move(found.blocking);
          outcome.advisories = std::move(found.advisory);
        } else if (IsOffNominal(request.to)) {
          // A declaration is never refused: everything the aircraft's
          // off-nominal volumes meet is for the owner's information.
          ConflictSet found = Conflicts(owner, request.off_nominal_volumes,
                                        intent.priority, entry->handle);
          outcome.advisories = std::move(found.blocking);
          for (Conflict& c : found.advisory) {
            outcome.advisories.push_back(std::move(c));
          }
          SortById(&outcome.advisories);
        }
        if (outcome.conflicts.empty()) {
          Intent next = intent;
          if (!request.volumes.empty()) next.volumes = request.volumes;
          next.priority = priority;
          if (request.aircraft) {
            next.aircraft_serial = request.aircraft->serial;
            next.aircraft_mass_g = request.aircraft->mass_g;
          }
          next.state = request.to;
          next.off_nominal_volumes = request.off_nominal_volumes;
          ++next.version;
          next.updated = now;
          outcome.intent = std::move(next);
        }
        return outcome;
      },
      std::move(done));
  return absl::OkStatus();
}

IntentView IntentCore::ViewFor(const std::string& caller, const Intent& intent,
                               bool reveal_owner) const {
  IntentView view{intent, intent.owner == caller};
  if (!view.owned_by_caller && !reveal_owner) view.intent.owner.clear();
  return view;
}

absl::StatusOr<IntentView> IntentCore::Get(const std::string& caller,
                                           const std::string& intent_id,
                                           bool reveal_owner) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = handle_by_id_.find(intent_id);
  if (it == handle_by_id_.end()) {
    return absl::NotFoundError(
        absl::StrCat("intent ", QuoteForError(intent_id), " does not exist"));
  }
  return ViewFor(caller, entries_.at(it->second)->intent, reveal_owner);
}

std::optional<int64_t> IntentCore::Version(const std::string& intent_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = handle_by_id_.find(intent_id);
  if (it == handle_by_id_.end()) return std::nullopt;
  return entries_.at(it->second)->intent.version;
}

std::vector<IntentView> IntentCore::Query(const std::string& caller,
                                          const geo::Volume4D& area,
                                          bool reveal_owner) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<uint64_t> handles;
  for (geo::VolumeIndex::Id id : index_.Query(area)) {
    handles.push_back(id >> kVolumeBits);
  }
  handles.erase(std::unique(handles.begin(), handles.end()), handles.end());
  std::vector<IntentView> out;
  out.reserve(handles.size());
  for (uint64_t handle : handles) {
    out.push_back(ViewFor(caller, entries_.at(handle)->intent, reveal_owner));
  }
  std::sort(out.begin(), out.end(),
            [](const IntentView& a, const IntentView& b) {
              return a.intent.id < b.intent.id;
            });
  return out;
}

size_t IntentCore::live_count() const {
  absl::ReaderMutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [handle, entry] : entries_) n += IsLive(entry->intent.state);
  return n;
}

}  // namespace utm::intent
