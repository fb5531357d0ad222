// `utmctl token` and `utmctl intent ...`: mint dev tokens, and file, change
// and read flight intents on a utmd server.
#ifndef UTM_SERVICES_UTMCTL_INTENT_COMMANDS_H_
#define UTM_SERVICES_UTMCTL_INTENT_COMMANDS_H_

#include <grpcpp/support/status.h>

#include <cstdint>
#include <string>
#include <vector>

#include "services/utmctl/area_flags.h"
#include "services/utmctl/connection.h"
#include "services/utmctl/volume_file.h"

namespace utm::ctl {

// Exit codes beyond those in geo_commands.h / health_command.h
// (docs/utmctl.md has the full table).
inline constexpr int kExitRejected = 1;  // the intent conflicts
inline constexpr int kExitStale = 3;     // ABORTED: re-read and retry
inline constexpr int kExitDenied = 4;    // UNAUTHENTICATED / PERMISSION_DENIED
inline constexpr int kExitNotFound = 5;  // NOT_FOUND
inline constexpr int kExitState = 6;     // FAILED_PRECONDITION / ALREADY_EXISTS
inline constexpr int kExitServer = 70;   // any other server error

// Prints a failed call's status and returns its exit code in the table of
// docs/utmctl.md (shared by `intent` and `constraint`).
int ExitForStatus(const grpc::Status& status);

struct TokenOptions {
  std::string data_dir = "utmd-data";
  std::string role;
  // Scope wire names granted on top of the role's (auth::ParseScope).
  std::vector<std::string> scopes;
  std::string subject;
  int64_t ttl_s = 3600;
  // The token's home_region claim (e.g. "EU-DE"); none when empty.
  std::string home_region;
};

// Prints a dev-mode token signed with <data_dir>/dev-signing-key. Fails
// (exit 66) if there is no key there: only utmd creates it.
int Token(const TokenOptions& options);

// The connection flags, and how volume files are read.
struct IntentOptions : ConnectionOptions {
  VolumeFileOptions input;
  // `file`: FileIntentRequest.no_retention (nothing about the intent is
  // written to disk; it is forgotten once over).
  bool no_retention = false;
  // `get`, `query`: the warrant, subpoena or court order id under which law
  // enforcement asks for owners (GetIntentRequest.case_reference). DEFAULT:
  // empty, no owners of others' intents shown.
  std::string case_reference;
  // `file`, `modify`, `activate`: the aircraft that flies the intent
  // (FlightAircraft): its serial number and declared mass, grams. Unset
  // (empty, -1): none given (file), the current one kept (modify, activate).
  std::string aircraft_serial;
  int64_t aircraft_mass_g = -1;
};

// `file`: FILE is a volume file (FileIntentRequest JSON or GeoJSON);
// `priority` and `request_id` override the file's when set (>= 0 /
// non-empty); `start` (--start: now, +DURATION or RFC 3339; empty: as in the
// file) shifts every volume so the first starts then.
int IntentFile(const IntentOptions& options, const std::string& file,
               int priority, const std::string& request_id,
               const std::string& start = "");
int IntentModify(const IntentOptions& options, const std::string& intent_id,
                 int64_t version, const std::string& file, int priority,
                 const std::string& request_id, const std::string& start = "");
// ActivateIntent. The volumes of a volume file (`file` non-empty) and a
// `priority` >= 0 change with the activation, in one write; the file's own
// priority is not used.
int IntentActivate(const IntentOptions& options, const std::string& intent_id,
                   int64_t version, const std::string& file, int priority,
                   const std::string& request_id);
// `action`: end, cancel.
int IntentTransition(const IntentOptions& options, const std::string& action,
                     const std::string& intent_id, int64_t version,
                     const std::string& request_id);
int IntentGet(const IntentOptions& options, const std::string& intent_id);
// The area is the first volume of `area.file` (read like intent files) or
// `area.bbox` (all altitudes and times); exactly one is set.
int IntentQuery(const IntentOptions& options, const AreaFlags& area);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_INTENT_COMMANDS_H_
