#include "services/utmd/operator_data_tier.h"

#include <utility>

namespace utm::utmd {

OperatorDataTier::OperatorDataTier(OperatorDataOptions o) {
  // Flights in the air bar an erasure first; then what is kept, newest
  // kind of record first; the audit log last, so that an erasure stopped
  // part-way never leaves pseudonymised entries about data still held.
  sections_.push_back(std::make_unique<fleet::LiveFlightsSection>(o.display));
  sections_.push_back(std::make_unique<fleet::IntentSection>(o.intents));
  if (o.flight_logs != nullptr) {
    sections_.push_back(
        std::make_unique<fleet::FlightLogSection>(o.flight_logs));
  }
  sections_.push_back(std::make_unique<fleet::RegistrationSection>(o.registry));
  if (o.settings != nullptr) {
    sections_.push_back(std::make_unique<fleet::SettingsSection>(o.settings));
  }
  sections_.push_back(std::make_unique<fleet::PrivilegedReadsSection>(
      o.audit, o.export_reads_after, o.clock));
  std::vector<fleet::DataSection*> order;
  for (const auto& section : sections_) order.push_back(section.get());
  data_ = std::make_unique<fleet::OperatorData>(
      std::move(order), std::move(o.pseudonym), o.store, o.clock, o.ledger);
}

}  // namespace utm::utmd
