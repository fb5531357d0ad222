#include "services/utmd/flags.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/redis/redis_client.h"

namespace utm::utmd {
namespace {

// Quoted and escaped, at most 64 bytes of it: the message stays one bounded
// line whatever was passed.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return absl::StrCat("\"", absl::CHexEscape(s), "\"");
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMax)), "...\"");
}

}  // namespace

absl::StatusOr<ServiceSet> ParseServices(const std::string& list) {
  ServiceSet set{false, false, false, false, false, false};
  const std::vector<absl::string_view> items = absl::StrSplit(list, ',');
  for (size_t i = 0; i < items.size(); ++i) {
    const absl::string_view item = items[i];
    if (item == "intent") {
      set.intent = true;
    } else if (item == "constraint") {
      set.constraint = true;
    } else if (item == "telemetry") {
      set.telemetry = true;
    } else if (item == "remoteid") {
      set.remoteid = true;
    } else if (item == "registry") {
      set.registry = true;
    } else if (item == "operator") {
      set.operator_data = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--services: ",
          item.empty() ? std::string("empty service")
                       : absl::StrCat("unknown service ", Quote(item)),
          " (item ", i + 1,
          "); expected intent, constraint, telemetry, remoteid, registry or "
          "operator"));
    }
  }
  return set;
}

bool AnyRedisFlag(const RedisFlags& flags) {
  return !flags.addr.empty() || !flags.password_file.empty() ||
         !flags.user.empty() || !flags.sentinels.empty() ||
         !flags.master.empty() || !flags.sentinel_password_file.empty() ||
         flags.connect_timeout_s != 0 || flags.command_timeout_s != 0;
}

namespace {

// A --redis-*-timeout in seconds: 0 keeps `fallback`; otherwise more than
// zero and at most 60 s.
absl::StatusOr<absl::Duration> Timeout(double seconds, const char* flag,
                                       absl::Duration fallback) {
  if (seconds == 0) return fallback;
  if (!(seconds > 0) || seconds > 60) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": ", seconds, " s; give more than 0 and at most 60 seconds"));
  }
  return absl::Seconds(seconds);
}

}  // namespace

absl::StatusOr<ledger::RedisLedgerOptions> RedisLedgerOptionsFrom(
    const RedisFlags& flags) {
  ledger::RedisLedgerOptions options;
  if (flags.addr.empty() && flags.sentinels.empty()) {
    return absl::InvalidArgumentError(
        "--store redis needs --redis HOST:PORT or --redis-sentinels "
        "H:P,H:P,... with --redis-master NAME");
  }
  if (!flags.addr.empty() && !flags.sentinels.empty()) {
    return absl::InvalidArgumentError(
        "--redis and --redis-sentinels exclude each other: give the primary's "
        "address, or the sentinels that find it");
  }
  if (!flags.sentinels.empty() && flags.master.empty()) {
    return absl::InvalidArgumentError(
        "--redis-sentinels needs --redis-master NAME (the name the sentinels "
        "monitor the primary under)");
  }
  if (flags.sentinels.empty() && !flags.master.empty()) {
    return absl::InvalidArgumentError(
        "--redis-master goes with --redis-sentinels");
  }
  if (!flags.addr.empty()) {
    absl::StatusOr<std::pair<std::string, int>> parsed =
        redis::ParseHostPort(flags.addr, "--redis");
    if (!parsed.ok()) return parsed.status();
    options.client.addr = flags.addr;
  } else {
    const std::vector<std::string> sentinels =
        absl::StrSplit(flags.sentinels, ',');
    for (size_t i = 0; i < sentinels.size(); ++i) {
      absl::StatusOr<std::pair<std::string, int>> parsed = redis::ParseHostPort(
          sentinels[i], absl::StrCat("--redis-sentinels[", i, "]"));
      if (!parsed.ok()) return parsed.status();
    }
    options.client.sentinels = sentinels;
    options.client.master_name = flags.master;
  }
  if (!flags.password_file.empty()) {
    absl::StatusOr<std::string> password =
        redis::ReadPasswordFile(flags.password_file);
    if (!password.ok()) {
      return absl::Status(password.status().code(),
                          absl::StrCat("--redis-password-file: ",
                                       password.status().message()));
    }
    options.client.password = *std::move(password);
  }
  if (!flags.user.empty() && flags.password_file.empty()) {
    return absl::InvalidArgumentError(
        "--redis-user needs --redis-password-file (the user's password)");
  }
  options.client.username = flags.user;
  if (!flags.sentinel_password_file.empty()) {
    if (flags.sentinels.empty()) {
      return absl::InvalidArgumentError(
          "--redis-sentinel-password-file goes with --redis-sentinels");
    }
    absl::StatusOr<std::string> password =
        redis::ReadPasswordFile(flags.sentinel_password_file);
    if (!password.ok()) {
      return absl::Status(password.status().code(),
                          absl::StrCat("--redis-sentinel-password-file: ",
                                       password.status().message()));
    }
    options.client.sentinel_password = *std::move(password);
  }
  absl::StatusOr<absl::Duration> connect =
      Timeout(flags.connect_timeout_s, "--redis-connect-timeout",
              options.client.connect_timeout);
  if (!connect.ok()) return connect.status();
  options.client.connect_timeout = *connect;
  absl::StatusOr<absl::Duration> command =
      Timeout(flags.command_timeout_s, "--redis-command-timeout",
              options.client.command_timeout);
  if (!command.ok()) return command.status();
  options.client.command_timeout = *command;
  options.wait_replicas = flags.wait_replicas;
  return options;
}

}  // namespace utm::utmd
