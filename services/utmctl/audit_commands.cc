#include "services/utmctl/audit_commands.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "services/common/audit/audit_chain.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "utm/v1/audit.grpc.pb.h"

namespace utm::ctl {
namespace {

using Client = ServiceClient<v1::AuditService>;
constexpr int kPage = 1000;  // the server's largest page

// Verifies lines one by one, and that the chain passes through `expected`
// (a head written down earlier) when one is given.
class Checker {
 public:
  explicit Checker(std::optional<audit::AuditHead> expected)
      : expected_(std::move(expected)) {}

  absl::Status Add(absl::string_view line) {
    if (absl::Status s = verifier_.Add(line); !s.ok()) return s;
    if (expected_ && verifier_.head().sequence == expected_->sequence &&
        verifier_.head().hash != expected_->hash) {
      return absl::DataLossError(absl::StrCat(
          "audit entry ", expected_->sequence, " has hash ",
          verifier_.head().hash, ", not the ", expected_->hash,
          " of --head: the log was rewritten up to there"));
    }
    return absl::OkStatus();
  }
  // After the last line.
  absl::Status Finish() const {
    if (expected_ && verifier_.head().sequence < expected_->sequence) {
      return absl::DataLossError(absl::StrCat(
          "the log ends at entry ", verifier_.head().sequence,
          " but --head is entry ", expected_->sequence, ": entries ",
          verifier_.head().sequence + 1, "..", expected_->sequence,
          " are missing from the end"));
    }
    return absl::OkStatus();
  }
  const audit::AuditVerifier& verifier() const { return verifier_; }

 private:
  std::optional<audit::AuditHead> expected_;
  audit::AuditVerifier verifier_;
};

// Prints the outcome; returns the exit code.
int Report(bool json, const audit::AuditVerifier& verifier,
           const absl::Status& status) {
  if (json) {
    nlohmann::json out;
    out["intact"] = status.ok();
    out["entries"] = verifier.count();
    out["head"] = {{"sequence", verifier.head().sequence},
                   {"hash", verifier.head().hash}};
    if (!status.ok()) out["error"] = std::string(status.message());
    std::cout << out.dump() << "\n";
  } else if (status.ok()) {
    std::cout << verifier.count() << " entries, chain intact, head "
              << audit::FormatHead(verifier.head()) << "\n";
  } else {
    std::cout << "BROKEN: " << status.message() << "\n";
  }
  return status.ok() ? 0 : kExitAuditBroken;
}

}  // namespace

AuditCommands::AuditCommands(CLI::App* app) {
  audit_ = app->add_subcommand(
      "audit", "Read and verify the audit log of disclosures (auditor)");
  audit_->require_subcommand(1);
  audit_->fallthrough();
  AddConnectionFlags(audit_, &options_);

  verify_ = audit_->add_subcommand(
      "verify",
      "Verify the hash chain: of a local audit.log (--file), or of the "
      "whole log read through utmd against the head it reports");
  verify_->add_option("--file", file_,
                      "A local audit.log (offline; no server, no token)")
      ->check(CLI::ExistingFile);
  verify_->add_option("--head", head_,
                      "\"<seq> <hash>\" printed by an earlier verify: the "
                      "chain must still pass through it");
  list_ = audit_->add_subcommand("list", "Print audit log entries");
  list_->add_option("--after", after_, "Entries after this sequence number")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  list_->add_option("--limit", limit_, "Entries to print at most")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  for (CLI::App* c : {verify_, list_}) c->fallthrough();
}

bool AuditCommands::parsed() const { return audit_->parsed(); }

int AuditCommands::Run() {
  if (verify_->parsed()) return Verify();
  if (list_->parsed()) return List();
  return kExitUsage;
}

int AuditCommands::Verify() {
  std::optional<audit::AuditHead> expected;
  if (!head_.empty()) {
    absl::StatusOr<audit::AuditHead> parsed = audit::ParseHead(head_, "--head");
    if (!parsed.ok()) {
      std::cerr << parsed.status().message() << "\n";
      return kExitUsage;
    }
    expected = *std::move(parsed);
  }
  Checker checker(expected);
  if (!file_.empty()) {
    std::ifstream in(file_, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in && !in.eof()) {
      std::cerr << file_ << ": cannot be read\n";
      return kExitIo;
    }
    const std::string text = content.str();
    size_t at = 0;
    while (at < text.size()) {
      const size_t end = text.find('\n', at);
      if (end == std::string::npos) {
        return Report(options_.json, checker.verifier(),
                      absl::DataLossError(absl::StrCat(
                          "audit entry ",
                          checker.verifier().head().sequence + 1, " (line ",
                          checker.verifier().count() + 1,
                          "): incomplete, no line end")));
      }
      if (absl::Status s = checker.Add(
              absl::string_view(text).substr(at, end - at));
          !s.ok()) {
        return Report(options_.json, checker.verifier(), s);
      }
      at = end + 1;
    }
    return Report(options_.json, checker.verifier(), checker.Finish());
  }

  Client client(options_);
  // Read until a page comes back empty; its head (read after the entries)
  // must be where the verified chain ends. An append between the two reads
  // shows as a head ahead: read again a few times before calling it a gap.
  for (int ahead = 0;;) {
    v1::ReadAuditLogRequest request;
    request.set_after_sequence(checker.verifier().head().sequence);
    request.set_page_size(kPage);
    v1::ReadAuditLogResponse response;
    const grpc::Status status =
        client.stub()->ReadAuditLog(client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::AuditEntry& entry : response.entries()) {
      if (absl::Status s = checker.Add(entry.line()); !s.ok()) {
        return Report(options_.json, checker.verifier(), s);
      }
    }
    if (response.entries_size() > 0) continue;
    audit::AuditHead reported;
    reported.sequence = response.head().sequence();
    reported.hash = response.head().hash();
    if (reported.sequence > checker.verifier().head().sequence && ++ahead < 3) {
      continue;
    }
    absl::Status s = audit::CheckHead(checker.verifier().head(), reported);
    if (s.ok()) s = checker.Finish();
    return Report(options_.json, checker.verifier(), s);
  }
}

int AuditCommands::List() {
  Client client(options_);
  int64_t after = after_;
  int64_t printed = 0;
  while (printed < limit_) {
    v1::ReadAuditLogRequest request;
    request.set_after_sequence(after);
    request.set_page_size(
        static_cast<int>(std::min<int64_t>(kPage, limit_ - printed)));
    v1::ReadAuditLogResponse response;
    const grpc::Status status =
        client.stub()->ReadAuditLog(client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::AuditEntry& e : response.entries()) {
      if (options_.json) {
        std::cout << ProtoJson(e) << "\n";
      } else {
        std::cout << e.sequence() << " "
                  << absl::FormatTime(
                         absl::RFC3339_sec,
                         absl::FromUnixSeconds(e.time().seconds()),
                         absl::UTCTimeZone())
                  << " " << e.action() << " subject=" << e.subject()
                  << " case=" << e.case_reference() << " target=" << e.target()
                  << " about=" << e.about() << " disclosed=" << e.disclosed()
                  << (e.redacted() ? " (redacted)" : "") << "\n";
      }
      after = e.sequence();
      ++printed;
    }
    if (response.entries_size() == 0) break;
  }
  return 0;
}

}  // namespace utm::ctl
