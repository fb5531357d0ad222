#include "services/registry/registry_core.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "geo/status_macros.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/common/audit/case_reference.h"
#include "services/common/input_limits.h"
#include "services/common/log/log.h"
#include "services/common/volume_convert.h"
#include "services/registry/registration_record.h"
#include "services/remoteid/uas_id.h"

namespace utm::registry {
namespace {

// Maximum take-off mass bounds, grams. The upper bound is 25 t: above the
// heaviest aircraft any UAS registration scheme covers (EU 2019/947's
// specific and certified categories), so a larger value is a typo.
constexpr int64_t kMinMassG = 1;
constexpr int64_t kMaxMassG = 25'000'000;
constexpr size_t kMaxOperatorIdBytes = 128;
constexpr size_t kMaxOperatorRegistrationIdBytes = 64;
constexpr size_t kMaxMakeModelBytes = 128;
constexpr size_t kMaxReasonBytes = 256;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// 1..max bytes of printable ASCII (0x20..0x7E), naming the first bad byte.
absl::Status CheckPrintable(absl::string_view value, absl::string_view field,
                            size_t max) {
  if (value.empty())
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  return CheckPrintableAscii(value, field, max);
}

// At most `max` bytes of text without control characters (UTF-8 is fine).
absl::Status CheckFreeText(absl::string_view value, absl::string_view field,
                           size_t max) {
  UTM_RETURN_IF_ERROR(CheckText(value, field, max));
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: byte %d (0x%02x) is a control character", field, i, c));
    }
  }
  return absl::OkStatus();
}

// An id as shown in a message: as it is when short and printable, quoted
// otherwise (it may come from a caller).
std::string Shown(absl::string_view id) {
  if (id.size() <= kMaxQuoteBytes) {
    bool plain = true;
    for (char ch : id) {
      const unsigned char c = static_cast<unsigned char>(ch);
      if (c <= 0x20 || c > 0x7e || c == '"') plain = false;
    }
    if (plain) return std::string(id);
  }
  return QuoteForError(id);
}

// The caller-given fields of a registration (the output-only ones clear).
v1::AircraftRegistration InputFields(const v1::AircraftRegistration& r) {
  v1::AircraftRegistration in;
  in.set_serial_number(r.serial_number());
  in.set_mass_g(r.mass_g());
  in.set_operator_id(r.operator_id());
  in.set_operator_registration_id(r.operator_registration_id());
  in.set_make_model(r.make_model());
  in.set_ua_type(r.ua_type());
  if (r.has_expire_time()) *in.mutable_expire_time() = r.expire_time();
  return in;
}

bool SameInput(const v1::AircraftRegistration& a,
               const v1::AircraftRegistration& b) {
  return google::protobuf::util::MessageDifferencer::Equals(InputFields(a),
                                                            InputFields(b));
}

absl::Status CheckRegistration(const v1::AircraftRegistration& r,
                               absl::Time now) {
  UTM_RETURN_IF_ERROR(remoteid::CheckSerialNumber(
      r.serial_number(), "registration.serial_number"));
  if (r.mass_g() < kMinMassG || r.mass_g() > kMaxMassG) {
    return absl::InvalidArgumentError(
        absl::StrCat("registration.mass_g: ", r.mass_g(), " g, must be ",
                     kMinMassG, "..", kMaxMassG));
  }
  UTM_RETURN_IF_ERROR(CheckPrintable(
      r.operator_id(), "registration.operator_id", kMaxOperatorIdBytes));
  UTM_RETURN_IF_ERROR(CheckPrintable(r.operator_registration_id(),
                                     "registration.operator_registration_id",
                                     kMaxOperatorRegistrationIdBytes));
  UTM_RETURN_IF_ERROR(CheckFreeText(r.make_model(), "registration.make_model",
                                    kMaxMakeModelBytes));
  UTM_RETURN_IF_ERROR(CheckEnum(v1::UaType_descriptor(), r.ua_type(),
                                "registration.ua_type",
                                /*allow_unspecified=*/true));
  if (r.has_expire_time()) {
    UTM_ASSIGN_OR_RETURN(
        absl::Time expire,
        TimeFromProto(r.expire_time(), "registration.expire_time"));
    if (expire <= now) {
      return absl::InvalidArgumentError(
          absl::StrCat("registration.expire_time: ", FormatUtc(expire),
                       " is not in the future (now ", FormatUtc(now), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status RequireRegistry(const Caller& caller, absl::string_view what) {
  if (caller.registry) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(Shown(caller.id), " may not ", what,
                   ": registry authorities only (scope utm.registry)"));
}

}  // namespace

std::string RegistryCore::GuardKey(absl::string_view serial_number) {
  return registration::RegistrationGuardKey(serial_number);
}

RegistryCore::RegistryCore(RegistryOptions options, const Clock* clock,
                           ledger::Ledger* ledger, ledger::Follower* follower)
    : options_(std::move(options)),
      clock_(clock),
      ledger_(ledger),
      follower_(follower) {
  follower_->AddTable(
      kTable,
      [this](absl::string_view key, const std::optional<std::string>& value) {
        Apply(key, value);
      },
      [this] { Clear(); });
}

RegistryCore::~RegistryCore() = default;

void RegistryCore::SetChangeObserver(ChangeObserver observer) {
  observer_ = std::move(observer);
}

size_t RegistryCore::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return registrations_.size();
}

std::optional<v1::AircraftRegistration> RegistryCore::Find(
    absl::string_view serial_number) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = registrations_.find(std::string(serial_number));
  if (it == registrations_.end()) return std::nullopt;
  return it->second;
}

void RegistryCore::Apply(absl::string_view key,
                         const std::optional<std::string>& value) {
  if (!value.has_value()) {
    absl::MutexLock lock(&mu_);
    auto it = registrations_.find(std::string(key));
    if (it == registrations_.end()) return;
    Unindex(it->second);
    registrations_.erase(it);
    return;
  }
  v1::AircraftRegistration r;
  if (!r.ParseFromString(*value) || r.serial_number() != key) {
    // A record this build cannot read: the model goes on without it rather
    // than stopping every replica at the same entry.
    UTM_LOG(kWarning) << "registry: skipping the undecodable record "
                      << QuoteForError(key) << " of table " << kTable << " ("
                      << value->size() << " bytes)";
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    v1::AircraftRegistration& slot = registrations_[std::string(key)];
    if (!slot.serial_number().empty()) Unindex(slot);
    slot = r;
    by_operator_[r.operator_id()].insert(r.serial_number());
    if (!r.has_revoke_time() && r.has_expire_time()) {
      absl::StatusOr<absl::Time> lapse =
          TimeFromProto(r.expire_time(), "expire_time");
      if (lapse.ok()) lapses_.emplace(*lapse, r.serial_number());
    }
  }
  if (observer_) observer_(r);
}

void RegistryCore::NotifyLapsed() {
  const absl::Time now = clock_->Now();
  std::vector<v1::AircraftRegistration> lapsed;
  {
    absl::MutexLock lock(&mu_);
    while (!lapses_.empty() && lapses_.begin()->first <= now) {
      auto it = registrations_.find(lapses_.begin()->second);
      if (it != registrations_.end()) lapsed.push_back(it->second);
      lapses_.erase(lapses_.begin());
    }
  }
  if (!observer_) return;
  for (const v1::AircraftRegistration& r : lapsed) observer_(r);
}

void RegistryCore::Clear() {
  absl::MutexLock lock(&mu_);
  registrations_.clear();
  by_operator_.clear();
  lapses_.clear();
}

void RegistryCore::Unindex(const v1::AircraftRegistration& r) {
  if (!r.has_revoke_time() && r.has_expire_time()) {
    absl::StatusOr<absl::Time> lapse =
        TimeFromProto(r.expire_time(), "expire_time");
    if (lapse.ok()) {
      auto [from, to] = lapses_.equal_range(*lapse);
      for (auto l = from; l != to; ++l) {
        if (l->second == r.serial_number()) {
          lapses_.erase(l);
          break;
        }
      }
    }
  }
  auto it = by_operator_.find(r.operator_id());
  if (it == by_operator_.end()) return;
  it->second.erase(r.serial_number());
  if (it->second.empty()) by_operator_.erase(it);
}

absl::StatusOr<bool> RegistryCore::CommitRecord(
    const ledger::Position& base, const v1::AircraftRegistration& r) {
  ledger::Guard guard;
  guard.base = base;
  guard.reads = {GuardKey(r.serial_number())};
  guard.writes = {GuardKey(r.serial_number())};
  std::vector<store::Mutation> mutations;
  mutations.push_back(
      store::Put(kTable, r.serial_number(), r.SerializeAsString()));
  UTM_ASSIGN_OR_RETURN(
      ledger::CommitResult result,
      ledger_->CommitAndWait(std::move(guard), std::move(mutations)));
  if (result.status != ledger::CommitStatus::kCommitted) return false;
  // Read your writes: the answer, and any read after it, come from a model
  // that has the entry.
  UTM_RETURN_IF_ERROR(follower_->WaitApplied(result.position.seq));
  return true;
}

absl::StatusOr<v1::AircraftRegistration> RegistryCore::Write(
    absl::string_view serial, const Decide& decide) {
  const std::string key(serial);
  bool fresh = false;  // decided on a model caught up during this call
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      UTM_RETURN_IF_ERROR(follower_->CatchUp());
      fresh = true;
    }
    // The base before the model: the decision saw at least this much.
    const ledger::Position base = follower_->applied();
    absl::StatusOr<Decision> decision;
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = registrations_.find(key);
      decision = decide(it == registrations_.end() ? nullptr : &it->second,
                        registrations_.size(), clock_->Now());
    }
    if (!decision.ok()) {
      // ALREADY_EXISTS, ABORTED, NOT_FOUND... are said only of a model
      // caught up with the ledger: this replica may be behind another.
      if (fresh) return decision.status();
      continue;
    }
    if (!decision->write) {
      // A retry of a write already made: confirm nothing moved since.
      if (fresh) return std::move(decision->record);
      continue;
    }
    UTM_ASSIGN_OR_RETURN(bool committed, CommitRecord(base, decision->record));
    if (!committed) continue;
    absl::ReaderMutexLock lock(&mu_);
    auto it = registrations_.find(key);
    if (it == registrations_.end()) {
      return absl::InternalError(absl::StrCat(
          "registration of ", key, " committed but not in the model"));
    }
    return it->second;
  }
  return absl::UnavailableError(
      absl::StrCat("the registration of ", key, " changed on other replicas ",
                   options_.max_attempts,
                   " times while this write was being decided; "
                   "retry"));
}

absl::StatusOr<v1::RegisterAircraftResponse> RegistryCore::Register(
    const Caller& caller, const v1::RegisterAircraftRequest& request) {
  UTM_RETURN_IF_ERROR(RequireRegistry(caller, "register aircraft"));
  const v1::AircraftRegistration& in = request.registration();
  UTM_RETURN_IF_ERROR(CheckRegistration(in, clock_->Now()));
  if (request.version() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("version: ", request.version(), " is negative"));
  }
  const int64_t version = request.version();
  const std::string serial = in.serial_number();
  const std::string shown = Shown(serial);
  auto decide = [&](const v1::AircraftRegistration* existing, size_t held,
                    absl::Time now) -> absl::StatusOr<Decision> {
    // The write already made by this caller with this content: answered
    // again, not made twice.
    if (existing != nullptr && !existing->has_revoke_time() &&
        existing->registered_by() == caller.id && SameInput(*existing, in) &&
        (version == 0 ? InForce(*existing, now)
                      : existing->version() == version + 1)) {
      Decision d;
      d.record = *existing;
      d.write = false;
      return d;
    }
    if (version == 0) {
      if (existing != nullptr && InForce(*existing, now)) {
        return absl::AlreadyExistsError(absl::StrCat(
            "registration.serial_number: ", shown,
            " is already registered (version ", existing->version(),
            "); give that version to replace it"));
      }
    } else {
      if (existing == nullptr) {
        return absl::NotFoundError(
            absl::StrCat("registration.serial_number: ", shown,
                         " is not registered; version 0 registers it"));
      }
      if (existing->version() != version) {
        return absl::AbortedError(absl::StrCat(
            "version: ", version, " is stale; the registration of ", shown,
            " is at version ", existing->version(), "; read it again"));
      }
    }
    if (existing == nullptr && held >= options_.max_registrations) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the registry holds ", held, " registrations, at most ",
                       options_.max_registrations));
    }
    Decision d;
    d.record = InputFields(in);
    d.record.set_version(existing == nullptr ? 1 : existing->version() + 1);
    d.record.set_registered_by(caller.id);
    d.record.set_region(options_.region);
    *d.record.mutable_register_time() = TimeToProto(now);
    return d;
  };
  UTM_ASSIGN_OR_RETURN(v1::AircraftRegistration stored, Write(serial, decide));
  v1::RegisterAircraftResponse response;
  *response.mutable_registration() = std::move(stored);
  return response;
}

absl::StatusOr<v1::RevokeRegistrationResponse> RegistryCore::Revoke(
    const Caller& caller, const v1::RevokeRegistrationRequest& request) {
  UTM_RETURN_IF_ERROR(RequireRegistry(caller, "revoke registrations"));
  UTM_RETURN_IF_ERROR(
      remoteid::CheckSerialNumber(request.serial_number(), "serial_number"));
  if (request.reason().empty()) {
    return absl::InvalidArgumentError(
        "reason: required (shown to the operator in the alert)");
  }
  UTM_RETURN_IF_ERROR(
      CheckFreeText(request.reason(), "reason", kMaxReasonBytes));
  const std::string serial = request.serial_number();
  const std::string shown = Shown(serial);
  auto decide = [&](const v1::AircraftRegistration* existing, size_t,
                    absl::Time now) -> absl::StatusOr<Decision> {
    if (existing == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("serial_number: ", shown, " is not registered"));
    }
    if (existing->has_revoke_time()) {
      if (existing->revoked_by() == caller.id &&
          existing->revoke_reason() == request.reason()) {
        Decision d;
        d.record = *existing;
        d.write = false;
        return d;
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "serial_number: the registration of ", shown,
          " was already revoked at ", FormatUtc(existing->revoke_time())));
    }
    Decision d;
    d.record = *existing;
    d.record.set_version(existing->version() + 1);
    *d.record.mutable_revoke_time() = TimeToProto(now);
    d.record.set_revoked_by(caller.id);
    d.record.set_revoke_reason(request.reason());
    d.record.set_region(options_.region);
    return d;
  };
  UTM_ASSIGN_OR_RETURN(v1::AircraftRegistration stored, Write(serial, decide));
  v1::RevokeRegistrationResponse response;
  *response.mutable_registration() = std::move(stored);
  return response;
}

absl::StatusOr<RegistryCore::GetResult> RegistryCore::Get(
    const Caller& caller, const v1::GetRegistrationRequest& request) const {
  UTM_RETURN_IF_ERROR(
      remoteid::CheckSerialNumber(request.serial_number(), "serial_number"));
  if (!request.case_reference().empty()) {
    UTM_RETURN_IF_ERROR(
        audit::CheckCaseReference(request.case_reference(), "case_reference"));
  }
  const std::string& serial = request.serial_number();
  GetResult result;
  bool found = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = registrations_.find(serial);
    if (it != registrations_.end()) {
      found = true;
      *result.response.mutable_registration() = it->second;
    }
  }
  if (caller.registry) {
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("serial_number: ", serial, " is not registered"));
    }
    return result;
  }
  if (found && caller.operator_ &&
      result.response.registration().operator_id() == caller.id) {
    return result;
  }
  if (caller.law_enforcement && !request.case_reference().empty()) {
    result.audited = true;
    result.found = found;
    return result;
  }
  // The same answer whether or not the serial number is registered.
  if (caller.law_enforcement) {
    return absl::PermissionDeniedError(absl::StrCat(
        "case_reference: required: ", Shown(caller.id),
        " may read registrations only under a warrant, subpoena or court "
        "order"));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      Shown(caller.id), " may not read the registration of ", serial,
      ": the registry authority, the operator it is registered to or law "
      "enforcement with a case reference only"));
}

absl::StatusOr<v1::ListRegistrationsResponse> RegistryCore::List(
    const Caller& caller, const v1::ListRegistrationsRequest& request) const {
  if (!request.operator_id().empty()) {
    UTM_RETURN_IF_ERROR(CheckPrintable(request.operator_id(), "operator_id",
                                       kMaxOperatorIdBytes));
  }
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size: ", request.page_size(), ", must be 0..", kMaxPageSize));
  }
  if (!request.page_token().empty()) {
    // Tokens are the last serial number of the page before.
    if (!remoteid::CheckSerialNumber(request.page_token(), "page_token").ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token: ", QuoteForError(request.page_token()),
                       " is not a token this server issued"));
    }
  }
  std::string operator_filter;
  if (caller.registry) {
    operator_filter = request.operator_id();
  } else if (caller.operator_) {
    if (!request.operator_id().empty() && request.operator_id() != caller.id) {
      return absl::PermissionDeniedError(
          absl::StrCat("operator_id: ", Shown(caller.id),
                       " may list only its own registrations"));
    }
    operator_filter = caller.id;
  } else {
    return absl::PermissionDeniedError(absl::StrCat(
        Shown(caller.id),
        " may not list registrations: the registry authority (scope "
        "utm.registry) or an operator (scope utm.strategic_coordination) "
        "only"));
  }
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  const absl::Time now = clock_->Now();
  v1::ListRegistrationsResponse response;
  absl::ReaderMutexLock lock(&mu_);
  // Adds `r` when it passes the filter; false once the page is full and
  // another would follow (the token then names the page's last).
  auto take = [&](const v1::AircraftRegistration& r) {
    if (!request.include_inactive() && !InForce(r, now)) return true;
    if (response.registrations_size() == page_size) {
      response.set_next_page_token(
          response.registrations(page_size - 1).serial_number());
      return false;
    }
    *response.add_registrations() = r;
    return true;
  };
  // Registrations looked at per call: a page of mostly inactive ones ends
  // early, with a token, rather than hold the model's lock for long.
  int budget = options_.list_scan_limit;
  auto out_of_budget = [&](const std::string& serial) {
    if (--budget >= 0) return false;
    // The page so far, and the next starts after the last one looked at.
    response.set_next_page_token(serial);
    return true;
  };
  if (operator_filter.empty()) {
    auto it = request.page_token().empty()
                  ? registrations_.begin()
                  : registrations_.upper_bound(request.page_token());
    std::string last;
    for (; it != registrations_.end(); ++it) {
      if (out_of_budget(last)) break;
      last = it->first;
      if (!take(it->second)) break;
    }
    return response;
  }
  auto op = by_operator_.find(operator_filter);
  if (op == by_operator_.end()) return response;
  const std::set<std::string>& serials = op->second;
  auto it = request.page_token().empty()
                ? serials.begin()
                : serials.upper_bound(request.page_token());
  std::string last;
  for (; it != serials.end(); ++it) {
    if (out_of_budget(last)) break;
    last = *it;
    auto r = registrations_.find(*it);
    if (r != registrations_.end() && !take(r->second)) break;
  }
  return response;
}

absl::Status RegistryCore::CheckAircraft(absl::string_view operator_id,
                                         absl::string_view aircraft_id,
                                         int64_t declared_mass_g,
                                         absl::string_view field) const {
  const registration::Jurisdiction& j = options_.jurisdiction;
  if (!j.required()) return absl::OkStatus();
  const absl::Time now = clock_->Now();
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = aircraft_id.empty()
                  ? registrations_.end()
                  : registrations_.find(std::string(aircraft_id));
    if (it != registrations_.end()) {
      const v1::AircraftRegistration& r = it->second;
      // Whose it is stays unsaid, and so do another operator's revocations.
      if (r.operator_id() != operator_id) {
        return absl::FailedPreconditionError(
            absl::StrCat(field, ": ", Shown(aircraft_id),
                         " is registered to another operator"));
      }
      if (r.has_revoke_time()) {
        return absl::FailedPreconditionError(
            absl::StrCat(field, ": the registration of ", Shown(aircraft_id),
                         " was revoked at ", FormatUtc(r.revoke_time()), ": ",
                         r.revoke_reason()));
      }
      if (!InForce(r, now)) {  // not revoked: expired
        return absl::FailedPreconditionError(
            absl::StrCat(field, ": the registration of ", Shown(aircraft_id),
                         " expired at ", FormatUtc(r.expire_time())));
      }
      return absl::OkStatus();
    }
  }
  // Not registered: only aircraft at or below the threshold fly (FAA 14 CFR
  // 48.15, EU 2019/947 Art. 14: registration above 250 g).
  if (declared_mass_g > 0 && declared_mass_g <= j.threshold_g) {
    return absl::OkStatus();
  }
  const std::string rule = absl::StrCat("aircraft above ", j.threshold_g,
                                        " g must be registered here");
  if (aircraft_id.empty()) {
    if (declared_mass_g <= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": no aircraft named and no mass declared; ", rule));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": no aircraft named; ", rule,
                     " (declared mass: ", declared_mass_g, " g)"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      field, ": ", Shown(aircraft_id), " is not registered; ", rule,
      declared_mass_g > 0
          ? absl::StrCat(" (declared mass: ", declared_mass_g, " g)")
          : std::string(" (no mass declared)")));
}

}  // namespace utm::registry

namespace utm::registry {

std::vector<v1::AircraftRegistration> RegistryCore::OperatorRegistrations(
    const std::string& operator_id) const {
  std::vector<v1::AircraftRegistration> out;
  absl::ReaderMutexLock lock(&mu_);
  auto serials = by_operator_.find(operator_id);
  if (serials == by_operator_.end()) return out;
  for (const std::string& serial : serials->second) {
    auto it = registrations_.find(serial);
    if (it != registrations_.end()) out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<RegistryCore::Erased> RegistryCore::EraseOperator(
    const std::string& operator_id) {
  Erased result;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) UTM_RETURN_IF_ERROR(follower_->CatchUp());
    const ledger::Position base = follower_->applied();
    const absl::Time now = clock_->Now();
    ledger::Guard guard;
    guard.base = base;
    std::vector<store::Mutation> deletes;
    std::vector<std::string> kept;
    for (const v1::AircraftRegistration& r :
         OperatorRegistrations(operator_id)) {
      if (InForce(r, now)) {
        kept.push_back(r.serial_number());
        continue;
      }
      guard.reads.push_back(GuardKey(r.serial_number()));
      guard.writes.push_back(GuardKey(r.serial_number()));
      deletes.push_back(store::Delete(kTable, r.serial_number()));
    }
    result.kept = std::move(kept);
    if (deletes.empty()) return result;
    const int64_t count = static_cast<int64_t>(deletes.size());
    UTM_ASSIGN_OR_RETURN(
        ledger::CommitResult committed,
        ledger_->CommitAndWait(std::move(guard), std::move(deletes)));
    if (committed.status != ledger::CommitStatus::kCommitted) continue;
    UTM_RETURN_IF_ERROR(follower_->WaitApplied(committed.position.seq));
    result.erased += count;
    return result;
  }
  return absl::UnavailableError(absl::StrCat(
      "the registrations of ", operator_id, " changed on other replicas ",
      options_.max_attempts, " times while they were being erased; retry"));
}

}  // namespace utm::registry
