// The kinds of data utmd holds about an operator, as OperatorData sections
// (operator_data.h): its intents, its aircraft registrations, the
// privileged reads of its data, and its flights in the air (which hold
// nothing to export but bar erasure until they land).
#ifndef UTM_SERVICES_OPERATOR_DATA_SECTIONS_H_
#define UTM_SERVICES_OPERATOR_DATA_SECTIONS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/common/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/intent/intent_core.h"
#include "services/operator/flight_log.h"
#include "services/operator/operator_data.h"
#include "services/operator/operator_settings.h"
#include "services/registry/registry_core.h"
#include "services/remoteid/remoteid_core.h"

namespace utm::fleet {

// intents.json: every intent the operator filed that utmd still holds, in
// any state (FlightIntent in its JSON form, as docs/api.md describes it).
// Erased with IntentCore::EraseOwner: not while one is flying.
class IntentSection final : public DataSection {
 public:
  explicit IntentSection(intent::IntentCore* core) : core_(core) {}
  std::string Describe() const override;
  absl::Status Export(const std::string& operator_id,
                      const ArchiveSink& sink) override;
  absl::Status CheckErasable(const std::string& operator_id) override;
  absl::Status Erase(const std::string& operator_id,
                     const Pseudonyms& pseudonyms,
                     v1::EraseDataResponse* report) override;

 private:
  intent::IntentCore* const core_;
};

// registrations.json: the operator's aircraft registrations, in force or
// not (AircraftRegistration in its JSON form). Erasure removes those no
// longer in force and keeps those in force (RegistryCore::EraseOperator).
// The operator's registration numbers and its aircraft's serial numbers
// are identifiers of it.
class RegistrationSection final : public DataSection {
 public:
  explicit RegistrationSection(registry::RegistryCore* core) : core_(core) {}
  std::string Describe() const override;
  void Identifiers(const std::string& operator_id,
                   std::vector<std::string>* out) const override;
  absl::Status Export(const std::string& operator_id,
                      const ArchiveSink& sink) override;
  absl::Status Erase(const std::string& operator_id,
                     const Pseudonyms& pseudonyms,
                     v1::EraseDataResponse* report) override;

 private:
  registry::RegistryCore* const core_;
};

// privileged-reads.json: the audit log's entries about the operator — who
// was shown its data, under which case, what, when — at least
// `withhold_for` old (a jurisdiction may keep an investigation's reads
// from its subject for a time; the count of those withheld is given).
// Erasure replaces each of the operator's identifiers in them by its
// pseudonym (AuditLog::Redact): the law requires the entries to be kept.
class PrivilegedReadsSection final : public DataSection {
 public:
  // Entries listed at most (the newest).
  static constexpr size_t kMaxEntries = 100000;
  PrivilegedReadsSection(audit::AuditLog* log, absl::Duration withhold_for,
                         const Clock* clock)
      : log_(log), withhold_for_(withhold_for), clock_(clock) {}
  std::string Describe() const override;
  absl::Status Export(const std::string& operator_id,
                      const ArchiveSink& sink) override;
  absl::Status Erase(const std::string& operator_id,
                     const Pseudonyms& pseudonyms,
                     v1::EraseDataResponse* report) override;

 private:
  audit::AuditLog* const log_;
  const absl::Duration withhold_for_;
  const Clock* const clock_;
};

// flight-logs/<flight id>.geojson: each of the operator's flight logs, as
// `utmctl flight log --format geojson` writes it (flight_export.h). Erasure
// removes them all, those being recorded too.
class FlightLogSection final : public DataSection {
 public:
  explicit FlightLogSection(FlightLogs* logs) : logs_(logs) {}
  std::string Describe() const override;
  absl::Status Export(const std::string& operator_id,
                      const ArchiveSink& sink) override;
  absl::Status Erase(const std::string& operator_id,
                     const Pseudonyms& pseudonyms,
                     v1::EraseDataResponse* report) override;

 private:
  FlightLogs* const logs_;
};

// settings.json: the operator's data settings (Local Data Mode, flight-log
// retention). Erasure puts them back to the defaults, which removes their
// record.
class SettingsSection final : public DataSection {
 public:
  explicit SettingsSection(OperatorSettings* settings) : settings_(settings) {}
  std::string Describe() const override;
  absl::Status Export(const std::string& operator_id,
                      const ArchiveSink& sink) override;
  absl::Status Erase(const std::string& operator_id,
                     const Pseudonyms& pseudonyms,
                     v1::EraseDataResponse* report) override;

 private:
  OperatorSettings* const settings_;
};

// The operator's aircraft in the air: positions are live data only (never
// exported, never written), but an erasure waits until they have landed
// (no report for 60 s), so that nothing of the flight is recorded after it.
class LiveFlightsSection final : public DataSection {
 public:
  explicit LiveFlightsSection(const remoteid::RemoteIdCore* display)
      : display_(display) {}
  std::string Describe() const override { return ""; }
  absl::Status Export(const std::string&, const ArchiveSink&) override {
    return absl::OkStatus();
  }
  absl::Status CheckErasable(const std::string& operator_id) override;
  absl::Status Erase(const std::string&, const Pseudonyms&,
                     v1::EraseDataResponse*) override {
    return absl::OkStatus();
  }

 private:
  const remoteid::RemoteIdCore* const display_;
};

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_DATA_SECTIONS_H_
