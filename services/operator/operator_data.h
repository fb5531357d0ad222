// An operator's data, whole, without gRPC: everything utmd holds about one
// operator as the files of one archive (OperatorService.ExportData), and
// its erasure (OperatorService.EraseData). "Your drone, your data, your
// control": docs/privacy.md.
//
// Each kind of data utmd keeps is a DataSection (intents, registrations,
// the privileged reads of the operator's data, ...: data_sections.h); the
// OperatorData runs them in order. An export is a README describing every
// file, then each section's files, then manifest.json (every file, its size
// and SHA-256). An erasure first asks every section whether it may erase
// (a flight in progress must end first: FAILED_PRECONDITION, nothing
// erased), then erases section by section, then compacts the store so that
// nothing erased remains in its files — or, on a shared ledger (replicas on
// Redis), forgets the ledger's history up to its latest entry
// (Ledger::ForgetHistory), so that the feed of old entries keeps nothing
// the sections deleted through it; replicas then reload their read models. A
// failure part-way leaves the sections before it erased; erasing again finishes
// the rest (each section is idempotent).
//
// Thread-safe when the sections are.
//
// Typical usage:
//   OperatorData data({&intents, &registrations, &reads}, pseudonym, store);
//   UTM_RETURN_IF_ERROR(data.Export("alice", sink));
//   UTM_ASSIGN_OR_RETURN(v1::EraseDataResponse done, data.Erase("alice"));
#ifndef UTM_SERVICES_OPERATOR_OPERATOR_DATA_H_
#define UTM_SERVICES_OPERATOR_OPERATOR_DATA_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/ledger/ledger.h"
#include "services/common/store.h"
#include "utm/v1/operator.pb.h"

namespace utm::fleet {

// Receives the archive: `data` is appended to the file `path` (the pieces
// of one file come in a row). A non-OK answer (the client went away) stops
// the export with that status.
using ArchiveSink =
    std::function<absl::Status(const std::string& path, std::string data)>;

// What an erasure puts in place of an operator's identifiers where data
// must be kept: each identifier that names the operator — its id first,
// then others the sections know (its operator registration numbers, its
// aircraft's serial numbers) — with its keyed pseudonym.
struct Pseudonyms {
  std::vector<std::pair<std::string, std::string>> replacements;
  // The operator id's pseudonym.
  const std::string& of_operator() const { return replacements.front().second; }
};

// One kind of data utmd holds about operators.
class DataSection {
 public:
  virtual ~DataSection() = default;

  // What the README says of the section's files: one Markdown list item
  // per file ("- `intents.json`: ...").
  virtual std::string Describe() const = 0;

  // Writes the operator's data as the section's files (none when there is
  // nothing: the README still describes them).
  virtual absl::Status Export(const std::string& operator_id,
                              const ArchiveSink& sink) = 0;

  // OK when the operator's data may be erased now; FAILED_PRECONDITION
  // saying why not.
  virtual absl::Status CheckErasable(const std::string& operator_id) {
    (void)operator_id;
    return absl::OkStatus();
  }

  // Identifiers other than its id that name the operator in what this
  // section holds (appended to `out`), for the pseudonyms of an erasure.
  // Asked before anything is erased.
  virtual void Identifiers(const std::string& operator_id,
                           std::vector<std::string>* out) const {
    (void)operator_id;
    (void)out;
  }

  // Erases the operator's data durably, replacing its identifiers by their
  // pseudonyms where data must be kept, and says what it did in `report`.
  // Erasing what is already erased is OK and does nothing.
  virtual absl::Status Erase(const std::string& operator_id,
                             const Pseudonyms& pseudonyms,
                             v1::EraseDataResponse* report) = 0;
};

class OperatorData {
 public:
  // `sections` (not owned) in export and erasure order; `pseudonym` maps an
  // identifier to its keyed pseudonym; `store` (not owned; may be null) is
  // compacted after an erasure; `ledger` (not owned; null but on a shared
  // ledger) has its history forgotten after an erasure.
  OperatorData(std::vector<DataSection*> sections,
               std::function<std::string(const std::string&)> pseudonym,
               store::Store* store, const Clock* clock,
               ledger::Ledger* ledger = nullptr);

  // The operator's archive, into `sink`: README.md, the sections' files,
  // manifest.json.
  absl::Status Export(const std::string& operator_id,
                      const ArchiveSink& sink) const;

  // Erases the operator's data; see the file comment.
  absl::StatusOr<v1::EraseDataResponse> Erase(
      const std::string& operator_id) const;

 private:
  const std::vector<DataSection*> sections_;
  const std::function<std::string(const std::string&)> pseudonym_;
  store::Store* const store_;
  const Clock* const clock_;
  ledger::Ledger* const ledger_;
};

// Pieces of at most this many bytes reach an ArchiveSink (SendFile).
inline constexpr size_t kArchivePieceBytes = size_t{1} << 20;

// Sends `data` to `sink` as `path` in pieces of at most kArchivePieceBytes.
absl::Status SendFile(const ArchiveSink& sink, const std::string& path,
                      absl::string_view data);

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_OPERATOR_DATA_H_
