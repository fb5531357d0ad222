#include "services/operator/data_sections.h"

#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "nlohmann/json.hpp"
#include "services/common/proto_json.h"
#include "services/common/volume_convert.h"
#include "services/intent/intent_codec.h"
#include "services/operator/flight_export.h"

namespace utm::fleet {
namespace {

using Json = nlohmann::json;

}  // namespace

std::string IntentSection::Describe() const {
  return "- `intents.json`: `{\"intents\": [...]}`, every flight intent of "
         "yours that utmd holds, in any state (FlightIntent, as the API "
         "returns it: volumes, priority, state, version, times, aircraft).\n";
}

absl::Status IntentSection::Export(const std::string& operator_id,
                                   const ArchiveSink& sink) {
  const std::vector<intent::IntentState> all = {
      intent::IntentState::kAccepted,      intent::IntentState::kActivated,
      intent::IntentState::kNonconforming, intent::IntentState::kContingent,
      intent::IntentState::kEnded,         intent::IntentState::kCancelled};
  Json intents = Json::array();
  std::string after;
  for (;;) {
    intent::IntentCore::OwnedPage page =
        core_->ListOwned(operator_id, all, after, 1000);
    for (const intent::Intent& i : page.intents) {
      v1::FlightIntent proto;
      intent::IntentToProto(i, &proto);
      intents.push_back(ProtoToJson(proto));
      after = i.id;
    }
    if (!page.more) break;
  }
  if (intents.empty()) return absl::OkStatus();
  return SendFile(sink, "intents.json",
                  Json{{"intents", std::move(intents)}}.dump(2) + "\n");
}

absl::Status IntentSection::CheckErasable(const std::string& operator_id) {
  intent::IntentCore::OwnedPage flying = core_->ListOwned(
      operator_id,
      {intent::IntentState::kActivated, intent::IntentState::kNonconforming,
       intent::IntentState::kContingent},
      "", 1);
  if (flying.intents.empty()) return absl::OkStatus();
  const intent::Intent& i = flying.intents.front();
  return absl::FailedPreconditionError(absl::StrCat(
      "intent ", i.id, " is ", intent::IntentStateName(i.state),
      ": a flight in progress must end first (utmctl intent end)"));
}

absl::Status IntentSection::Erase(const std::string& operator_id,
                                  const Pseudonyms& pseudonyms,
                                  v1::EraseDataResponse* report) {
  (void)pseudonyms;
  UTM_ASSIGN_OR_RETURN(int64_t erased, core_->EraseOwner(operator_id));
  report->set_intents_erased(report->intents_erased() + erased);
  return absl::OkStatus();
}

std::string RegistrationSection::Describe() const {
  return "- `registrations.json`: `{\"registrations\": [...]}`, the "
         "registrations of your aircraft, in force or not "
         "(AircraftRegistration, as the registry API returns it).\n";
}

absl::Status RegistrationSection::Export(const std::string& operator_id,
                                         const ArchiveSink& sink) {
  Json registrations = Json::array();
  for (const v1::AircraftRegistration& r :
       core_->OperatorRegistrations(operator_id)) {
    registrations.push_back(ProtoToJson(r));
  }
  if (registrations.empty()) return absl::OkStatus();
  return SendFile(
      sink, "registrations.json",
      Json{{"registrations", std::move(registrations)}}.dump(2) + "\n");
}

void RegistrationSection::Identifiers(const std::string& operator_id,
                                      std::vector<std::string>* out) const {
  for (const v1::AircraftRegistration& r :
       core_->OperatorRegistrations(operator_id)) {
    out->push_back(r.serial_number());
    out->push_back(r.operator_registration_id());
  }
}

absl::Status RegistrationSection::Erase(const std::string& operator_id,
                                        const Pseudonyms& pseudonyms,
                                        v1::EraseDataResponse* report) {
  (void)pseudonyms;
  UTM_ASSIGN_OR_RETURN(registry::RegistryCore::Erased erased,
                       core_->EraseOperator(operator_id));
  report->set_registrations_erased(report->registrations_erased() +
                                   erased.erased);
  for (std::string& serial : erased.kept) {
    report->add_registrations_kept(std::move(serial));
  }
  return absl::OkStatus();
}

std::string PrivilegedReadsSection::Describe() const {
  return "- `privileged-reads.json`: every time someone other than you "
         "(law enforcement, with a case reference) was shown your data: "
         "`{\"reads\": [{\"sequence\", \"time\", \"reader\", "
         "\"case_reference\", \"action\", \"target\", \"disclosed\"}], "
         "\"withheld\": N}`, as the audit log recorded them before the "
         "answer left; `withheld` reads are too recent to be shown yet.\n";
}

absl::Status PrivilegedReadsSection::Export(const std::string& operator_id,
                                            const ArchiveSink& sink) {
  UTM_ASSIGN_OR_RETURN(std::vector<audit::AuditEntry> entries,
                       audit::EntriesAbout(*log_, operator_id, kMaxEntries));
  if (entries.empty()) return absl::OkStatus();
  const absl::Time shown_before = clock_->Now() - withhold_for_;
  Json reads = Json::array();
  int64_t withheld = 0;
  for (const audit::AuditEntry& e : entries) {
    if (e.time > shown_before) {
      ++withheld;
      continue;
    }
    reads.push_back({{"sequence", e.sequence},
                     {"time", TimeToRfc3339(e.time)},
                     {"reader", e.event.subject},
                     {"case_reference", e.event.case_reference},
                     {"action", e.event.action},
                     {"target", e.event.target},
                     {"disclosed", e.event.disclosed}});
  }
  return SendFile(
      sink, "privileged-reads.json",
      Json{{"reads", std::move(reads)}, {"withheld", withheld}}.dump(2) + "\n");
}

absl::Status PrivilegedReadsSection::Erase(const std::string& operator_id,
                                           const Pseudonyms& pseudonyms,
                                           v1::EraseDataResponse* report) {
  (void)operator_id;
  // Entries count once however many of the identifiers they held.
  UTM_ASSIGN_OR_RETURN(int64_t redacted, log_->Redact(pseudonyms.replacements));
  report->set_audit_entries_pseudonymised(
      report->audit_entries_pseudonymised() + redacted);
  return absl::OkStatus();
}

std::string FlightLogSection::Describe() const {
  return "- `flight-logs/<flight id>.geojson`: each of your flight logs, a "
         "GeoJSON FeatureCollection whose Feature is the track as reported "
         "(a LineString of [lng, lat, alt_m], `coordTimes` the time of each "
         "point) with the flight, its intent's states and its alerts as "
         "properties (as `utmctl flight log --format geojson` writes it).\n";
}

absl::Status FlightLogSection::Export(const std::string& operator_id,
                                      const ArchiveSink& sink) {
  std::string token;
  do {
    UTM_ASSIGN_OR_RETURN(FlightLogs::Page page,
                         logs_->List(operator_id, 1000, token));
    for (const v1::FlightSummary& flight : page.flights) {
      absl::StatusOr<FlightLogs::Snapshot> snapshot =
          logs_->Open(operator_id, flight.flight_id());
      if (absl::IsNotFound(snapshot.status())) continue;  // removed meanwhile
      if (!snapshot.ok()) return snapshot.status();
      std::ostringstream out;
      std::unique_ptr<FlightExport> writer = NewFlightExport("geojson", &out);
      writer->Begin(snapshot->header);
      for (int i = 0; i < snapshot->chunks; ++i) {
        absl::StatusOr<std::vector<TrackPoint>> points =
            logs_->ReadChunk(flight.flight_id(), i);
        if (absl::IsNotFound(points.status())) break;
        if (!points.ok()) return points.status();
        v1::FlightTrackChunk chunk;
        for (const TrackPoint& p : *points) AddPoint(p, &chunk);
        writer->Points(chunk);
      }
      v1::FlightTrackChunk rest;
      for (const TrackPoint& p : snapshot->unwritten) AddPoint(p, &rest);
      if (rest.points_size() > 0) writer->Points(rest);
      writer->End();
      UTM_RETURN_IF_ERROR(SendFile(
          sink, absl::StrCat("flight-logs/", flight.flight_id(), ".geojson"),
          out.str()));
    }
    token = page.next_page_token;
  } while (!token.empty());
  return absl::OkStatus();
}

absl::Status FlightLogSection::Erase(const std::string& operator_id,
                                     const Pseudonyms& pseudonyms,
                                     v1::EraseDataResponse* report) {
  (void)pseudonyms;
  UTM_ASSIGN_OR_RETURN(int64_t erased, logs_->EraseOperator(operator_id));
  report->set_flight_logs_erased(report->flight_logs_erased() + erased);
  return absl::OkStatus();
}

std::string SettingsSection::Describe() const {
  return "- `settings.json`: your data settings: `local_data_mode` (nothing "
         "about your flights written anywhere) and `flight_log_retention_s` "
         "(how long flight logs are kept after a flight, seconds).\n";
}

absl::Status SettingsSection::Export(const std::string& operator_id,
                                     const ArchiveSink& sink) {
  absl::StatusOr<DataPolicy> policy = settings_->Get(operator_id);
  // A deployment without a pseudonym key keeps no settings: nothing to say.
  if (absl::IsFailedPrecondition(policy.status())) return absl::OkStatus();
  if (!policy.ok()) return policy.status();
  const Json json = {
      {"local_data_mode", policy->local_only},
      {"flight_log_retention_s",
       absl::ToInt64Seconds(policy->flight_log_retention)}};
  return SendFile(sink, "settings.json", json.dump(2) + "\n");
}

absl::Status SettingsSection::Erase(const std::string& operator_id,
                                    const Pseudonyms& pseudonyms,
                                    v1::EraseDataResponse* report) {
  (void)pseudonyms;
  absl::StatusOr<DataPolicy> policy = settings_->Get(operator_id);
  if (absl::IsFailedPrecondition(policy.status())) return absl::OkStatus();
  if (!policy.ok()) return policy.status();
  const DataPolicy defaults;
  if (policy->local_only == defaults.local_only &&
      policy->flight_log_retention == defaults.flight_log_retention) {
    return absl::OkStatus();  // no record
  }
  SettingsChange change;
  change.local_only = defaults.local_only;
  change.flight_log_retention = defaults.flight_log_retention;
  UTM_RETURN_IF_ERROR(settings_->Set(operator_id, change).status());
  report->set_settings_erased(true);
  return absl::OkStatus();
}

absl::Status LiveFlightsSection::CheckErasable(const std::string& operator_id) {
  const std::vector<remoteid::RemoteIdCore::OperatorFlight> flying =
      display_->OperatorFlights(operator_id, 1);
  if (flying.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "aircraft ", flying.front().aircraft_id,
      " is flying (it reported in the last 60 s): a flight in progress must "
      "end first"));
}

}  // namespace utm::fleet
