// Fuzz target: every request of utmd's services (strategic coordination,
// constraints, telemetry) through the cores' validation and conversion, the
// way the gRPC adapters (services/*/*_service.cc) call them, without gRPC and
// on the memory store.
//
// The input is a binary utm.fuzz.Session (fuzz_session.proto): calls by
// callers holding some scopes, the simulated clock moving between them, the
// services' periodic work, and restarts in which new cores recover from the
// store. Ids are deterministic ("intent-1", "constraint-1", ...) so that seeds
// can modify, activate and withdraw what they filed.
//
// Besides crashes, leaks and UB, one property is checked: a restart recovers
// whatever the cores stored (Recover() never refuses their own records).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "fuzz_session.pb.h"
#include "geo/volume.h"
#include "google/protobuf/stubs/logging.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/input_limits.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/limits.h"
#include "services/intent/intent_codec.h"
#include "services/intent/intent_core.h"
#include "services/telemetry/live_airspace.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::fuzz {
namespace {

constexpr int kMaxCalls = 64;
constexpr uint32_t kMaxAdvanceMs = 24 * 3600 * 1000;

using auth::Scope;

bool Has(const Call& call, Scope s) {
  return (call.scopes() >> static_cast<int>(s)) & 1;
}

std::string Subject(const Call& call) {
  return call.subject().empty() ? "op-1" : call.subject();
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "requests fuzzer: %s\n", what.c_str());
  std::abort();
}

// Ids handed out so far; they go on across restarts, as random ids would
// not repeat.
struct Ids {
  int64_t intents = 0;
  int64_t constraints = 0;
};

// The cores of one utmd process, wired as services/utmd/main.cc wires them,
// on a store that outlives it (so that a new Process can recover).
class Process {
 public:
  Process(store::Store* store, const Clock* clock, Ids* ids) {
    intent::IntentOptions intent_options;  // utmd's defaults
    limits_ = intent_options.limits;
    intents_ = std::make_unique<intent::IntentCore>(
        intent_options, clock,
        [ids] { return absl::StrCat("intent-", ++ids->intents); }, store);
    if (absl::Status s = intents_->Recover(); !s.ok()) {
      Fail(absl::StrCat("intent recovery: ", s.ToString()));
    }
    constraint::ConstraintOptions constraint_options;
    constraint_options.notify_thread = false;  // deterministic
    constraints_ = std::make_unique<constraint::ConstraintCore>(
        constraint_options, clock, store,
        [ids] { return absl::StrCat("constraint-", ++ids->constraints); });
    if (absl::Status s = constraints_->Recover(); !s.ok()) {
      Fail(absl::StrCat("constraint recovery: ", s.ToString()));
    }
    intents_->SetConstraintChecker(constraints_.get());
    constraints_->SetIntentLookup(
        [this](const std::vector<geo::Volume4D>& volumes) {
          return intents_->Overlapping(volumes);
        });
    airspace_ = std::make_unique<telemetry::LiveAirspace>(intents_.get(),
                                                          constraints_.get());
    telemetry_ = std::make_unique<telemetry::TelemetryCore>(
        telemetry::TelemetryOptions(), clock, airspace_.get());
  }

  ~Process() {
    for (const auto& w : watchers_) constraints_->Unwatch(w.get());
  }

  void Run(const Call& call) {
    switch (call.request_case()) {
      case Call::kFileIntent:
      case Call::kModifyIntent:
      case Call::kActivateIntent:
      case Call::kEndIntent:
      case Call::kCancelIntent:
      case Call::kSetIntentState:
      case Call::kGetIntent:
      case Call::kQueryIntents:
      case Call::kListIntents:
        RunIntent(call);
        break;
      case Call::kPositionBatch:
      case Call::kWatchAlerts:
        RunTelemetry(call);
        break;
      case Call::REQUEST_NOT_SET:
        break;
      default:
        RunConstraint(call);
        break;
    }
    DrainWatchers();
  }

  void Tick() {
    (void)constraints_->Tick();
    (void)telemetry_->Tick();
    DrainWatchers();
  }

 private:
  // IntentService::Volumes.
  absl::StatusOr<std::vector<geo::Volume4D>> Volumes(
      const google::protobuf::RepeatedPtrField<v1::Volume4D>& volumes,
      absl::string_view field) const {
    VolumeConvertOptions convert;
    convert.limits = limits_;
    std::vector<geo::Volume4D> out;
    for (int i = 0; i < volumes.size(); ++i) {
      absl::StatusOr<geo::Volume4D> v = VolumeFromProto(
          volumes[i], convert, absl::StrCat(field, "[", i, "]"));
      if (!v.ok()) return v.status();
      out.push_back(*std::move(v));
    }
    return out;
  }

  // What the adapter sends back, so that the codec runs too.
  static void Answer(const absl::StatusOr<intent::WriteOutcome>& out) {
    if (!out.ok()) return;
    v1::FileIntentResponse response;
    if (out->accepted()) {
      intent::IntentToProto(*out->intent, response.mutable_intent());
    } else {
      intent::ConflictsToProto(out->conflicts, 0,
                               response.mutable_rejection()->mutable_conflicts());
    }
    intent::ConflictsToProto(out->advisories, 0, response.mutable_advisories());
  }

  // IntentService: the scope checks of Caller(), then the core.
  void RunIntent(const Call& call) {
    const std::string subject = Subject(call);
    const bool may_write = Has(call, Scope::kStrategicCoordination);
    const bool may_read = may_write ||
                          Has(call, Scope::kConformanceMonitoring) ||
                          Has(call, Scope::kLawEnforcement) ||
                          Has(call, Scope::kAdmin);
    const bool reveal = Has(call, Scope::kLawEnforcement);
    auto transition = [&](const auto& r, intent::IntentState to) {
      if (!may_write) return;
      Answer(intents_->Transition(
          subject, {r.request_id(), r.intent_id(), r.version(), to, {}}));
    };
    switch (call.request_case()) {
      case Call::kFileIntent: {
        if (!may_write) return;
        const v1::FileIntentRequest& r = call.file_intent();
        absl::StatusOr<std::vector<geo::Volume4D>> volumes =
            Volumes(r.volumes(), "volumes");
        if (!volumes.ok()) return;
        Answer(intents_->File(subject, {r.request_id(), r.priority(),
                                        *std::move(volumes),
                                        !r.no_retention()}));
        return;
      }
      case Call::kModifyIntent: {
        if (!may_write) return;
        const v1::ModifyIntentRequest& r = call.modify_intent();
        absl::StatusOr<std::vector<geo::Volume4D>> volumes =
            Volumes(r.volumes(), "volumes");
        if (!volumes.ok()) return;
        Answer(intents_->Modify(subject, {r.request_id(), r.intent_id(),
                                          r.version(), r.priority(),
                                          *std::move(volumes)}));
        return;
      }
      case Call::kActivateIntent:
        transition(call.activate_intent(), intent::IntentState::kActivated);
        return;
      case Call::kEndIntent:
        transition(call.end_intent(), intent::IntentState::kEnded);
        return;
      case Call::kCancelIntent:
        transition(call.cancel_intent(), intent::IntentState::kCancelled);
        return;
      case Call::kSetIntentState: {
        if (!may_write) return;
        const v1::SetIntentStateRequest& r = call.set_intent_state();
        absl::StatusOr<intent::IntentState> to =
            intent::StateFromProto(r.state());
        if (!to.ok()) return;
        absl::StatusOr<std::vector<geo::Volume4D>> off_nominal =
            Volumes(r.off_nominal_volumes(), "off_nominal_volumes");
        if (!off_nominal.ok()) return;
        Answer(intents_->Transition(
            subject, {r.request_id(), r.intent_id(), r.version(), *to,
                      *std::move(off_nominal)}));
        return;
      }
      case Call::kGetIntent: {
        if (!may_read) return;
        absl::StatusOr<intent::IntentView> view =
            intents_->Get(subject, call.get_intent().intent_id(), reveal);
        if (!view.ok()) return;
        v1::GetIntentResponse response;
        if (view->owned_by_caller || reveal) {
          intent::IntentToProto(view->intent, response.mutable_intent());
        } else {
          intent::ViewToProto(*view, response.mutable_redacted());
        }
        return;
      }
      case Call::kQueryIntents: {
        if (!may_read) return;
        const v1::QueryIntentsRequest& r = call.query_intents();
        if (!r.has_area() || r.page_size() < 0) return;
        VolumeConvertOptions query;
        query.limits = limits_;
        query.open_bounds = true;
        absl::StatusOr<geo::Volume4D> area =
            VolumeFromProto(r.area(), query, "area");
        if (!area.ok()) return;
        for (int s : r.states()) {
          if (!intent::StateFromProto(static_cast<v1::IntentState>(s)).ok()) {
            return;
          }
        }
        v1::QueryIntentsResponse response;
        for (const intent::IntentView& view : intents_->Query(subject, *area)) {
          intent::ViewToProto(view, response.add_intents());
        }
        return;
      }
      case Call::kListIntents: {
        if (!may_write) return;
        const v1::ListIntentsRequest& r = call.list_intents();
        if (r.page_size() < 0 || r.page_token().size() > kMaxPageTokenBytes ||
            r.states_size() > kMaxEnumFilters) {
          return;
        }
        std::vector<intent::IntentState> states;
        for (int s : r.states()) {
          absl::StatusOr<intent::IntentState> state =
              intent::StateFromProto(static_cast<v1::IntentState>(s));
          if (!state.ok()) return;
          states.push_back(*state);
        }
        const int page_size =
            r.page_size() == 0 ? 100 : std::min(r.page_size(), 1000);
        const intent::IntentCore::OwnedPage page = intents_->ListOwned(
            subject, states, r.page_token(), static_cast<size_t>(page_size));
        v1::ListIntentsResponse response;
        for (const intent::Intent& intent : page.intents) {
          intent::IntentToProto(intent, response.add_intents());
        }
        return;
      }
      default:
        return;
    }
  }

  // ConstraintService::Authenticate, then the core.
  void RunConstraint(const Call& call) {
    constraint::Caller caller;
    caller.id = Subject(call);
    caller.authority = Has(call, Scope::kConstraintManagement);
    caller.admin = Has(call, Scope::kAdmin);
    const bool authority = caller.authority || caller.admin;
    const bool pilot = Has(call, Scope::kStrategicCoordination);
    const bool reader = call.scopes() & 63;
    constraint::ConstraintCore& core = *constraints_;
    switch (call.request_case()) {
      case Call::kPublishConstraint:
        if (authority) (void)core.Publish(caller, call.publish_constraint());
        return;
      case Call::kUpdateConstraint:
        if (authority) (void)core.Update(caller, call.update_constraint());
        return;
      case Call::kWithdrawConstraint:
        if (authority) (void)core.Withdraw(caller, call.withdraw_constraint());
        return;
      case Call::kGetConstraint:
        if (reader) (void)core.Get(call.get_constraint());
        return;
      case Call::kQueryConstraints:
        if (reader) (void)core.Query(call.query_constraints());
        return;
      case Call::kGrantAuthorisation:
        if (authority) (void)core.Grant(caller, call.grant_authorisation());
        return;
      case Call::kSelfUnlock:
        if (pilot) (void)core.SelfUnlock(caller, call.self_unlock());
        return;
      case Call::kListAuthorisations:
        if (reader) {
          (void)core.ListAuthorisations(caller, call.list_authorisations());
        }
        return;
      case Call::kRevokeAuthorisation:
        if (authority || pilot) {
          (void)core.Revoke(caller, call.revoke_authorisation());
        }
        return;
      case Call::kWatchConstraints: {
        if (!reader) return;
        absl::StatusOr<std::shared_ptr<constraint::Watcher>> watcher =
            core.Watch(caller, call.watch_constraints(), [] {});
        if (watcher.ok()) watchers_.push_back(*std::move(watcher));
        return;
      }
      case Call::kCheckPosition:
        if (reader) (void)core.CheckPosition(caller, call.check_position());
        return;
      default:
        return;
    }
  }

  // TelemetryService: StreamPositions and WatchAlerts.
  void RunTelemetry(const Call& call) {
    if (call.has_position_batch()) {
      if (!Has(call, Scope::kStrategicCoordination)) return;
      const v1::PositionBatch& batch = call.position_batch();
      if (batch.reports_size() > 1000) return;  // max_batch_reports
      (void)telemetry_->Ingest(Subject(call), batch.reports());
      return;
    }
    const v1::WatchAlertsRequest& r = call.watch_alerts();
    if ((call.scopes() & 63) == 0 || !r.has_area()) return;
    absl::StatusOr<geo::Volume4D> area =
        VolumeFromProto(r.area(), telemetry::WatchAreaConvertOptions(), "area");
    if (!area.ok()) return;
    std::vector<telemetry::AlertChange> open = telemetry_->OpenAlerts();
    for (const telemetry::AlertChange& change : open) {
      (void)change.alert.ByteSizeLong();
    }
  }

  void DrainWatchers() {
    constraint::EventPtr event;
    for (const auto& w : watchers_) {
      while (constraints_->NextEvent(w.get(), &event)) {
        (void)event->ByteSizeLong();
      }
    }
  }

  geo::ValidationLimits limits_;
  std::unique_ptr<intent::IntentCore> intents_;
  std::unique_ptr<constraint::ConstraintCore> constraints_;
  std::unique_ptr<telemetry::LiveAirspace> airspace_;
  std::unique_ptr<telemetry::TelemetryCore> telemetry_;
  std::vector<std::shared_ptr<constraint::Watcher>> watchers_;
};

}  // namespace
}  // namespace utm::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Inputs that are not UTF-8 are refused by the parser, as on the wire;
  // protobuf's log line for each would only slow the fuzzer down.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  using namespace utm;
  fuzz::Session session;
  if (!session.ParseFromArray(data, static_cast<int>(size))) return 0;

  store::StoreOptions store_options;
  store_options.backend = "memory";
  absl::StatusOr<std::unique_ptr<store::Store>> store =
      store::OpenStore(store_options);
  if (!store.ok()) fuzz::Fail(store.status().ToString());
  // Monday 2027-03-01 10:00 UTC, as the seeds assume.
  SimulatedClock clock(absl::FromCivil(absl::CivilMinute(2027, 3, 1, 10, 0),
                                       absl::UTCTimeZone()));
  fuzz::Ids ids;
  auto process = std::make_unique<fuzz::Process>(store->get(), &clock, &ids);
  int calls = 0;
  for (const fuzz::Call& call : session.calls()) {
    if (++calls > fuzz::kMaxCalls) break;
    clock.Advance(absl::Milliseconds(
        std::min(call.advance_ms(), fuzz::kMaxAdvanceMs)));
    process->Run(call);
    if (call.tick()) process->Tick();
    if (call.restart()) {
      process.reset();
      process = std::make_unique<fuzz::Process>(store->get(), &clock, &ids);
    }
  }
  return 0;
}
