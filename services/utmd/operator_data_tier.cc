#include "services/utmd/operator_data_tier.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace utm::utmd {

std::string KeyedPseudonym(const std::string& key,
                           const std::string& operator_id) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(operator_id.data()),
       operator_id.size(), mac, &size);
  return absl::StrCat(
      "op-", absl::BytesToHexString(
                 absl::string_view(reinterpret_cast<const char*>(mac), size))
                 .substr(0, 24));
}

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
  sections_.push_back(std::make_unique<fleet::PrivilegedReadsSection>(
      o.audit, o.export_reads_after, o.clock));
  std::vector<fleet::DataSection*> order;
  for (const auto& section : sections_) order.push_back(section.get());
  data_ = std::make_unique<fleet::OperatorData>(
      std::move(order), std::move(o.pseudonym), o.store, o.clock);
}

}  // namespace utm::utmd
