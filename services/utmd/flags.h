// The flags of utmd that need more than CLI11's checks: which gRPC services
// a process serves (--services) and how it reaches Redis (--store redis and
// the --redis* flags). Pure: nothing here opens a connection.
//
// Typical usage (main.cc):
//   UTM_ASSIGN_OR_RETURN(ServiceSet services, ParseServices(services_flag));
//   UTM_ASSIGN_OR_RETURN(ledger::RedisLedgerOptions options,
//                        RedisLedgerOptionsFrom(redis_flags));
#ifndef UTM_SERVICES_UTMD_FLAGS_H_
#define UTM_SERVICES_UTMD_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/common/ledger/redis_ledger.h"

namespace utm::utmd {

// The gRPC services a process registers (and names in health checking).
// Every process keeps the intent and constraint read models whatever it
// serves: the telemetry tier checks conformance and geofences against them.
struct ServiceSet {
  bool intent = true;
  bool constraint = true;
  bool telemetry = true;
  bool remoteid = true;
  bool registry = true;
  bool operator_data = true;  // "operator": OperatorService
};

// Parses --services: a comma list of intent, constraint, telemetry,
// remoteid, registry and operator (at least one; repeats are harmless).
// INVALID_ARGUMENT naming the flag and the bad item, e.g. `--services:
// unknown service "telemtry" (item 2); expected intent, constraint,
// telemetry, remoteid, registry or operator`.
absl::StatusOr<ServiceSet> ParseServices(const std::string& list);

// The --redis* flags as given (empty: not given).
struct RedisFlags {
  std::string store;           // --store: embedded, memory or redis
  std::string addr;            // --redis HOST:PORT
  std::string password_file;   // --redis-password-file
  std::string user;            // --redis-user
  std::string sentinels;       // --redis-sentinels H:P,H:P,...
  std::string master;          // --redis-master
  int wait_replicas = 0;       // --redis-wait-replicas
  std::string sentinel_password_file;  // --redis-sentinel-password-file
  double connect_timeout_s = 0;        // --redis-connect-timeout (0: default)
  double command_timeout_s = 0;        // --redis-command-timeout (0: default)
};

// True when any --redis* flag other than --redis-wait-replicas was given:
// main refuses them without --store redis.
bool AnyRedisFlag(const RedisFlags& flags);

// Checks the --redis* flags against --store and builds the ledger's options
// (the client options of the audit log are its `client`). Reads the
// password file. INVALID_ARGUMENT naming the flag: --store redis without
// --redis or --redis-sentinels, or with both; --redis-sentinels without
// --redis-master (or the master without sentinels); a malformed address
// (`--redis-sentinels[1] "x": missing :port`); --redis-user without
// --redis-password-file. The password file's error (NOT_FOUND, PERMISSION_DENIED,
// INVALID_ARGUMENT for an empty one) prefixed with the flag's name.
// REQUIRES: flags.store is "redis".
absl::StatusOr<ledger::RedisLedgerOptions> RedisLedgerOptionsFrom(
    const RedisFlags& flags);

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_FLAGS_H_
