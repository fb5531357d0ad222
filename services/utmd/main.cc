// utmd: the UTM deconfliction server. One process serves every service of
// the product (or those --services lists) on its embedded store, or as one of
// many replicas sharing one Redis (--store redis); see README.md,
// docs/operations.md and docs/scaling.md.
//
// Start-up: the listen port is claimed first, so that a port in use fails at
// once (exit 1) rather than after the store has loaded; then the store is
// recovered (or, on Redis, the read models loaded from the ledger), then the
// server listens. Every line utmd prints goes to stderr. A malformed command
// line exits 2.
//
// Destruction runs in reverse order of declaration in main(): the server
// (drained first), then the follower (stopped before the cores it applies
// to), then the cores, then the ledger they commit through.
//
// Signals: SIGTERM or SIGINT end every watch and telemetry stream at once
// (UNAVAILABLE, with where to resume), then drain the server (new calls
// refused, unary calls in flight get --shutdown-grace) and exit 0.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit_service.h"
#include "services/common/audit/audit_log.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/dir_lock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/local_ledger.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/common/log/log.h"
#include "services/common/metrics/metrics.h"
#include "services/common/port_reservation.h"
#include "services/common/pseudonym.h"
#include "services/common/region.h"
#include "services/common/rpc_observer.h"
#include "services/common/server.h"
#include "services/common/store.h"
#include "services/common/store_crypto.h"
#include "services/common/uuid.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_service.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_service.h"
#include "services/intent/priority_policy.h"
#include "services/operator/audit_filter.h"
#include "services/operator/operator_settings.h"
#include "services/registry/registry_core.h"
#include "services/registry/registry_service.h"
#include "services/remoteid/remoteid_core.h"
#include "services/utmd/flags.h"
#include "services/utmd/http_wiring.h"
#include "services/utmd/ledger_health.h"
#include "services/utmd/ledger_hook.h"
#include "services/utmd/metrics_endpoint.h"
#include "services/utmd/metrics_wiring.h"
#include "services/utmd/observability.h"
#include "services/utmd/operator_data_tier.h"
#include "services/utmd/residency_check.h"
#include "services/utmd/rid_key.h"
#include "services/utmd/tactical_tier.h"

namespace {

// This process's id among the telemetry replicas: host, port and a random
// part, unique per start (a restarted replica is a new member).
std::string MemberId(int port) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::string id = utm::RandomUuid();
  return absl::StrCat(host[0] != '\0' ? host : "utmd", ":", port, "-",
                      id.substr(0, 8));
}

// A malformed command line: CLI11's own errors and the checks made after
// parsing alike.
constexpr int kExitFlags = 2;

// Names in gRPC health checking.
constexpr char kIntentHealth[] = "utm.v1.StrategicCoordination";
constexpr char kConstraintHealth[] = "utm.v1.ConstraintService";
constexpr char kTelemetryHealth[] = "utm.v1.TelemetryService";
constexpr char kRemoteIdHealth[] = "utm.v1.RemoteIdService";
constexpr char kOperatorHealth[] = "utm.v1.OperatorService";
constexpr char kRegistryHealth[] = "utm.v1.RegistryService";

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --max-volume-duration: "720h", "36h30m" (absl::ParseDuration) or whole
// days "30d"; more than zero and at most 366 days. Nullopt otherwise.
std::optional<absl::Duration> ParseVolumeDuration(const std::string& text) {
  absl::Duration d;
  int days = 0;
  if (!text.empty() && text.back() == 'd' &&
      absl::SimpleAtoi(text.substr(0, text.size() - 1), &days)) {
    d = absl::Hours(24) * days;
  } else if (!absl::ParseDuration(text, &d)) {
    return std::nullopt;
  }
  if (d <= absl::ZeroDuration() || d > absl::Hours(24 * 366)) {
    return std::nullopt;
  }
  return d;
}

// 1147 -> "1,147": counts in the start-up lines read at a glance.
std::string WithCommas(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return n < 0 ? "-" + digits : digits;
}

// "71 ms" below 10 s, "12.3 s" above.
std::string HumanDuration(absl::Duration d) {
  if (d < absl::Seconds(10)) {
    return absl::StrCat(absl::ToInt64Milliseconds(d), " ms");
  }
  return absl::StrFormat("%.1f s", absl::ToDoubleSeconds(d));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"utmd: UTM airspace deconfliction server"};
  app.set_version_flag(
      "--version", absl::StrCat("utmd " UTM_VERSION, utm::utmd::BuildSuffix()));
  utm::ServerOptions options;
  std::string data_dir = "utmd-data";
  double grace_s = 10;
  std::string auth_mode = "dev";
  std::string public_key_file;
  utm::intent::IntentOptions intent_options;
  utm::store::StoreOptions store_options;
  bool no_sync = false;
  app.add_option("--listen", options.listen_address,
                 "host:port to serve gRPC on (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir,
                 "Directory for durable state (created if missing)")
      ->capture_default_str();
  app.add_option("--shutdown-grace", grace_s,
                 "Seconds calls in flight get to finish on SIGTERM")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--auth", auth_mode,
                 "dev: HS256 tokens signed with <data-dir>/dev-signing-key "
                 "(mint them with `utmctl token`); keys: RS256/ES256 tokens "
                 "of an identity provider, verified with --jwks or "
                 "--jwt-public-key")
      ->check(CLI::IsMember({"dev", "keys"}))
      ->capture_default_str();
  CLI::Option* public_key_option =
      app.add_option("--jwt-public-key", public_key_file,
                     "PEM public key of the token issuer (with --auth keys)")
          ->check(CLI::ExistingFile);
  std::string jwks_file;
  app.add_option("--jwks", jwks_file,
                 "JSON Web Key Set file of the identity provider (with --auth "
                 "keys): the key is chosen by each token's kid, and the file "
                 "is reread when it changes")
      ->check(CLI::ExistingFile)
      ->excludes(public_key_option);
  double jwks_refresh_s = 30;
  app.add_option("--jwks-refresh", jwks_refresh_s,
                 "Seconds between checks of the --jwks file for changes (a "
                 "token with an unknown kid checks at once, at most once a "
                 "second)")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  utm::auth::VerifierOptions verifier_options;
  std::vector<std::string> issuers, audiences;
  app.add_option("--jwt-issuer", issuers,
                 "Accepted token issuer (iss), repeatable; with --auth keys. "
                 "Default: utmd");
  app.add_option("--jwt-audience", audiences,
                 "Accepted token audience (aud), repeatable; with --auth "
                 "keys. Default: utmd");
  app.add_option("--tls-cert", options.tls_cert_file,
                 "PEM certificate chain: serve TLS (with --tls-key)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", options.tls_key_file,
                 "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--store", store_options.backend,
                 "embedded: memory + fsync'd log and snapshots in "
                 "<data-dir>/store; memory: nothing is retained; redis: one "
                 "of many replicas sharing intents and constraints through "
                 "the Redis of --redis or --redis-sentinels")
      ->check(CLI::IsMember({"embedded", "memory", "redis"}))
      ->capture_default_str();
  utm::utmd::RedisFlags redis_flags;
  app.add_option("--redis", redis_flags.addr,
                 "HOST:PORT of the Redis primary (with --store redis)");
  app.add_option("--redis-password-file", redis_flags.password_file,
                 "File whose first line is the Redis password (AUTH)");
  app.add_option("--redis-user", redis_flags.user,
                 "Redis ACL user (with --redis-password-file); default: the "
                 "default user");
  app.add_option("--redis-sentinels", redis_flags.sentinels,
                 "H:P,H:P,... of Redis Sentinels that find the primary, "
                 "instead of --redis (with --redis-master)");
  app.add_option("--redis-master", redis_flags.master,
                 "The name the Sentinels monitor the primary under");
  app.add_option("--redis-sentinel-password-file",
                 redis_flags.sentinel_password_file,
                 "File whose first line is the password of the Sentinels "
                 "themselves (AUTH to them); default: none");
  app.add_option("--redis-connect-timeout", redis_flags.connect_timeout_s,
                 "Seconds to connect to Redis (or a Sentinel) before the "
                 "attempt fails; default 0.5");
  app.add_option("--redis-command-timeout", redis_flags.command_timeout_s,
                 "Seconds a Redis command may take before it fails with "
                 "UNAVAILABLE; default 2");
  app.add_option("--redis-wait-replicas", redis_flags.wait_replicas,
                 "Redis replicas that must confirm each write (WAIT) before "
                 "it is acknowledged; a write they do not confirm within 1 s "
                 "answers UNAVAILABLE (retry with the same request id)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  std::string services_flag =
      "intent,constraint,telemetry,remoteid,registry,operator";
  app.add_option("--services", services_flag,
                 "Comma list of the gRPC services to serve: intent, "
                 "constraint, telemetry, remoteid, registry, operator (every "
                 "process keeps the intents, constraints and registrations "
                 "the others check against)")
      ->capture_default_str();
  utm::registry::RegistryOptions registry_options;
  app.add_option("--registration-threshold-g",
                 registry_options.jurisdiction.threshold_g,
                 "Aircraft heavier than this many grams must be registered "
                 "to activate an intent or stream positions (the US and the "
                 "EU: 250); 0: registration is not required")
      ->check(CLI::Range(int64_t{0}, int64_t{25000000}))
      ->capture_default_str();
  app.add_flag("--salvage", store_options.salvage,
               "Start even though the store is damaged: move its files to "
               "<data-dir>/store/damaged-<time>/ and continue from the longest "
               "valid prefix of each (writes after the damage are lost)");
  std::string store_key_spec;
  std::string store_old_key_spec;
  app.add_option("--store-key", store_key_spec,
                 "Encrypt the embedded store at rest (AES-256-GCM) with the "
                 "key in FILE (32 raw bytes or 64 hex characters, mode 0600) "
                 "or in env:NAME (64 hex characters); a store written under "
                 "another key refuses to start");
  app.add_option("--store-old-key", store_old_key_spec,
                 "Key rotation: the key the store was written under until "
                 "now (FILE or env:NAME, or none for a store in the clear); "
                 "its files are rewritten under --store-key at start-up");
  std::string pseudonym_key_spec;
  app.add_option("--pseudonym-key", pseudonym_key_spec,
                 "Key (FILE of 32 raw bytes or 64 hex characters, mode 0600, "
                 "or env:NAME) under which operators' data settings are kept "
                 "by keyed pseudonym; default <data-dir>/pseudonym-key, made "
                 "when missing. Replicas sharing Redis must all be given the "
                 "same one (without it they keep no settings)");
  app.add_flag("--no-sync", no_sync,
               "Do not fsync the log (survives a process crash, not a power "
               "cut; for benchmarks)");
  utm::remoteid::RemoteIdOptions rid_options;
  app.add_flag("--rid-public-operator-location",
               rid_options.public_operator_location,
               "Show where each remote pilot is in the Remote ID display (as "
               "US 14 CFR Part 89 makes public); otherwise only law "
               "enforcement with a case reference sees it");
  int rid_retention_s = 3600;
  app.add_option("--rid-details-retention", rid_retention_s,
                 "Seconds a Remote ID flight's identity is kept after its "
                 "last fix, for law enforcement (ASTM F3411-22a: at most a "
                 "day)")
      ->check(CLI::Range(60, 86400))
      ->capture_default_str();
  int64_t export_reads_after_s = 0;
  app.add_option("--export-reads-after", export_reads_after_s,
                 "Seconds before a privileged read of an operator's data is "
                 "listed in its data export (younger ones are only counted: "
                 "an investigation kept from its subject for a time)")
      ->check(CLI::Range(int64_t{0}, int64_t{5} * 365 * 86400))
      ->capture_default_str();
  app.add_flag("--allow-equal-priority-overlap",
               intent_options.allow_equal_priority_overlap,
               "Let intents of equal priority overlap (F3548 says no)");
  utm::intent::PriorityBands priority_bands;
  app.add_option("--max-operator-priority", priority_bands.max_operator,
                 "Highest intent priority any operator token may take")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--max-public-safety-priority",
                 priority_bands.max_public_safety,
                 "Highest priority for tokens with scope "
                 "utm.priority.public_safety")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--max-priority", priority_bands.max_priority,
                 "Highest priority of all, for tokens with scope "
                 "utm.priority.emergency")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--max-volumes", intent_options.max_volumes,
                 "Most volumes in one flight intent")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  int max_lead_days = 30;
  app.add_option("--max-lead-days", max_lead_days,
                 "How far ahead a flight may start, days (F3548: 30)")
      ->check(CLI::Range(1, 366))
      ->capture_default_str();
  app.add_option("--max-vertices", intent_options.limits.max_vertices,
                 "Most vertices in one polygon")
      ->check(CLI::Range(3, 100000))
      ->capture_default_str();
  std::string max_volume_duration = "30d";
  app.add_option("--max-volume-duration", max_volume_duration,
                 "Longest a single intent volume may last: 30d, 120h, 90m "
                 "... (F3548 sets no limit; the default is its 30-day "
                 "planning horizon)")
      ->check([](const std::string& text) -> std::string {
        return ParseVolumeDuration(text)
                   ? ""
                   : "expected a duration (30d, 120h, 90m) in (0, 366d]";
      })
      ->capture_default_str();
  double max_area_km2 = intent_options.limits.max_area_m2 / 1e6;
  app.add_option("--max-area-km2", max_area_km2,
                 "Largest footprint, km² (InterUSS DSS: 2,500)")
      ->check(CLI::Range(0.001, 2500.0))
      ->capture_default_str();
  utm::constraint::ConstraintOptions constraint_options;
  app.add_option("--watch-queue-limit", constraint_options.watcher_queue_limit,
                 "Live events a watch stream may have queued before it is "
                 "told to resync")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--constraint-log-retention",
                 constraint_options.change_log_retention,
                 "Constraint change-log entries kept for resuming watchers")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  double withdrawn_retention_days = 30;
  app.add_option("--withdrawn-retention-days", withdrawn_retention_days,
                 "Days a withdrawn constraint stays readable (state "
                 "WITHDRAWN, who withdrew it and when) before it is purged")
      ->check(CLI::Range(0.001, 3650.0))
      ->capture_default_str();
  double intent_retention_h = 24;
  app.add_option("--intent-retention-hours", intent_retention_h,
                 "Hours an intent is kept once it is over (ended, cancelled "
                 "or past its last volume); then it is forgotten")
      ->check(CLI::Range(0.0, 24.0 * 365))
      ->capture_default_str();
  // Data residency (services/common/region.h): both or neither.
  std::string region_code;
  std::string region_boundary_file;
  bool require_home_region = false;
  app.add_option("--region", region_code,
                 "Region this deployment serves, e.g. EU-DE (2..16 of "
                 "A-Z 0-9 -; with --region-boundary): writes outside it, or "
                 "from tokens of another home_region, are refused");
  app.add_option("--region-boundary", region_boundary_file,
                 "GeoJSON file (Polygon, MultiPolygon or a FeatureCollection "
                 "of them, WGS84) of the --region's boundary");
  app.add_flag("--require-home-region", require_home_region,
               "With --region: refuse writes from tokens without a "
               "home_region claim (by default they are accepted)");
  utm::utmd::ObservabilityFlags observability;
  utm::utmd::AddObservabilityFlags(&app, &observability);
  // The live airspace map (services/utmd/http_wiring.h).
  utm::utmd::MapFlags map_flags;
  utm::utmd::AddMapFlags(&app, &map_flags);
  // Debian's Abseil is built without NDEBUG, which leaves mutex deadlock
  // detection on for every lock: 15% of the CPU of a 10,000-stream watch
  // fan-out (perf). Tests keep it on; the server does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, the version or the error
    return code == 0 ? 0 : kExitFlags;
  }
  if (absl::Status s = utm::utmd::ConfigureLog(observability); !s.ok()) {
    UTM_LOG(kError) << s.message();
    return kExitFlags;
  }
  // What utmd measures about itself (served on --metrics). Declared before
  // everything that records into it, so it outlives them.
  utm::metrics::Catalog metric_catalog;
  utm::RpcStats rpc_stats(&metric_catalog);
  options.rpc_stats = &rpc_stats;
  store_options.sync_seconds = metric_catalog.AddHistogram(
      "utmd_store_sync_seconds",
      "Time to write and sync one group commit of the embedded store.", {},
      utm::metrics::Histogram::LatencyBounds());
  store_options.group_size = metric_catalog.AddHistogram(
      "utmd_store_group_size",
      "Write batches carried by one group commit of the embedded store.", {},
      utm::metrics::Histogram::SizeBounds());
  const absl::StatusOr<utm::utmd::ServiceSet> services =
      utm::utmd::ParseServices(services_flag);
  if (!services.ok()) {
    UTM_LOG(kError) << services.status().message();
    return kExitFlags;
  }
  const bool on_redis = store_options.backend == "redis";
  redis_flags.store = store_options.backend;
  std::optional<utm::ledger::RedisLedgerOptions> redis_options;
  if (on_redis) {
    absl::StatusOr<utm::ledger::RedisLedgerOptions> parsed =
        utm::utmd::RedisLedgerOptionsFrom(redis_flags);
    if (!parsed.ok()) {
      UTM_LOG(kError) << parsed.status().message();
      return kExitFlags;
    }
    redis_options = *std::move(parsed);
    redis_options->client.round_trip_seconds = metric_catalog.AddHistogram(
        "utmd_redis_round_trip_seconds",
        "Redis round trips (commands sent, replies read), in seconds.", {},
        utm::metrics::Histogram::LatencyBounds());
    if (store_options.salvage || no_sync) {
      UTM_LOG(kError) << "--salvage and --no-sync are about the embedded "
                         "store; Redis's own settings decide durability with "
                         "--store redis";
      return kExitFlags;
    }
    if (!store_key_spec.empty() || !store_old_key_spec.empty()) {
      UTM_LOG(kError)
          << "--store-key and --store-old-key encrypt the "
             "embedded store; with --store redis the data is in Redis";
      return kExitFlags;
    }
  } else if (utm::utmd::AnyRedisFlag(redis_flags) ||
             redis_flags.wait_replicas != 0) {
    UTM_LOG(kError)
        << "--redis, --redis-password-file, --redis-user, "
           "--redis-sentinels, --redis-master, "
           "--redis-sentinel-password-file, --redis-connect-timeout, "
           "--redis-command-timeout and --redis-wait-replicas need "
           "--store redis";
    return kExitFlags;
  }
  // The store key: loaded here, never printed.
  if (!store_key_spec.empty()) {
    absl::StatusOr<std::string> key =
        utm::store::crypto::LoadKey(store_key_spec);
    if (!key.ok()) {
      UTM_LOG(kError) << "--store-key: " << key.status().message();
      return kExitFlags;
    }
    store_options.key = *std::move(key);
  }
  if (store_old_key_spec == "none") {
    store_options.old_key = "";
  } else if (!store_old_key_spec.empty()) {
    absl::StatusOr<std::string> key =
        utm::store::crypto::LoadKey(store_old_key_spec);
    if (!key.ok()) {
      UTM_LOG(kError) << "--store-old-key: " << key.status().message();
      return kExitFlags;
    }
    store_options.old_key = *std::move(key);
  }
  std::optional<utm::region::RegionPolicy> region_policy;
  std::string region_note;  // said once the port is claimed
  if (region_code.empty() != region_boundary_file.empty()) {
    UTM_LOG(kError) << "--region and --region-boundary go together: give "
                       "both (a deployment serving one region) or neither";
    return kExitFlags;
  }
  if (!region_code.empty()) {
    absl::StatusOr<utm::region::RegionPolicy> loaded =
        utm::region::RegionPolicy::Load(region_code, region_boundary_file,
                                        require_home_region);
    if (!loaded.ok()) {
      UTM_LOG(kError) << loaded.status().message();
      return kExitFlags;
    }
    region_policy = *std::move(loaded);
    intent_options.region = region_policy->code();
    registry_options.region = region_policy->code();
    constraint_options.region = &*region_policy;
    region_note = absl::StrCat(
        "serving region ", region_policy->code(), " (",
        region_policy->boundary().polygons().size(), " polygon(s), ",
        region_policy->boundary().vertex_count(), " vertices from ",
        region_boundary_file, "); writes outside it are refused",
        require_home_region ? ", tokens must name their home region" : "");
  } else {
    if (require_home_region) {
      UTM_LOG(kError) << "--require-home-region needs --region and "
                         "--region-boundary";
      return kExitFlags;
    }
    region_note =
        "no --region: serving everywhere (no data residency boundary)";
  }
  intent_options.max_lead_time = absl::Hours(24 * max_lead_days);
  intent_options.max_volume_duration =
      *ParseVolumeDuration(max_volume_duration);
  intent_options.intent_retention = absl::Hours(intent_retention_h);
  constraint_options.withdrawn_retention =
      absl::Hours(24) * withdrawn_retention_days;
  intent_options.limits.max_area_m2 = max_area_km2 * 1e6;
  intent_options.max_priority = priority_bands.max_priority;
  const absl::StatusOr<utm::intent::PriorityPolicy> priorities =
      utm::intent::PriorityPolicy::Create(priority_bands);
  if (!priorities.ok()) {
    UTM_LOG(kError) << priorities.status().message();
    return 1;
  }

  // Block the stop signals in every thread (gRPC's included) and take them
  // synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The port first: a port in use fails the start before anything slow.
  absl::StatusOr<utm::PortReservation> port =
      utm::PortReservation::Claim(options.listen_address);
  if (!port.ok()) {
    UTM_LOG(kError) << port.status().message();
    return 1;
  }
  // Said once the port is claimed: a busy port's error comes first.
  UTM_LOG(kInfo) << region_note;

  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    UTM_LOG(kError) << "cannot create --data-dir " << data_dir << ": "
                    << error.message();
    return 1;
  }

  // One server per data directory, for its whole life: a second one would
  // accept the same airspace.
  absl::StatusOr<utm::DirLock> data_dir_lock = utm::DirLock::Acquire(data_dir);
  if (!data_dir_lock.ok()) {
    UTM_LOG(kError) << data_dir_lock.status().message();
    return 1;
  }

  const utm::Clock* clock = utm::RealClock::Get();
  absl::StatusOr<std::unique_ptr<utm::auth::Verifier>> verifier;
  if (auth_mode == "dev") {
    absl::StatusOr<std::string> secret =
        utm::auth::LoadOrCreateDevKey(data_dir);
    if (!secret.ok()) {
      UTM_LOG(kError) << secret.status();
      return 1;
    }
    if (!issuers.empty() || !audiences.empty() || !jwks_file.empty() ||
        !public_key_file.empty()) {
      // utmctl mints dev tokens for iss = aud = "utmd" with its own key.
      UTM_LOG(kError) << "--jwt-issuer, --jwt-audience, --jwks and "
                         "--jwt-public-key need --auth keys";
      return 1;
    }
    verifier = utm::auth::Verifier::FromHmacSecret(*secret, {}, clock);
  } else {
    if (!issuers.empty()) verifier_options.issuers = issuers;
    if (!audiences.empty()) verifier_options.audiences = audiences;
    if (!jwks_file.empty()) {
      utm::auth::JwksFileOptions jwks_options;
      jwks_options.check_interval = absl::Seconds(jwks_refresh_s);
      // Logs the kids in force, and every reload.
      verifier = utm::auth::Verifier::FromJwksFile(jwks_file, verifier_options,
                                                   clock, jwks_options);
    } else if (!public_key_file.empty()) {
      absl::StatusOr<std::string> pem = ReadFile(public_key_file);
      if (!pem.ok()) {
        UTM_LOG(kError) << pem.status();
        return 1;
      }
      verifier =
          utm::auth::Verifier::FromPublicKeyPem(*pem, verifier_options, clock);
    } else {
      UTM_LOG(kError) << "--auth keys needs --jwks or --jwt-public-key";
      return 1;
    }
  }
  if (!verifier.ok()) {
    UTM_LOG(kError) << verifier.status();
    return 1;
  }

  // The shared ledger first: the cores commit through it, so it outlives
  // them.
  std::unique_ptr<utm::ledger::RedisLedger> redis_ledger;
  utm::ledger::Ledger* ledger = nullptr;
  // Only the test build (utmd_unguarded_for_test) keeps a wrapper here
  // (services/utmd/ledger_hook.h).
  std::unique_ptr<utm::ledger::Ledger> hooked;
  std::unique_ptr<utm::audit::AuditLog> audit;
  const absl::Time recovery_start = absl::Now();
  if (on_redis) {
    const std::string where =
        redis_options->client.sentinels.empty()
            ? redis_options->client.addr
            : absl::StrCat("the primary '", redis_options->client.master_name,
                           "' of Sentinels ", redis_flags.sentinels);
    UTM_LOG(kInfo) << "port " << port->port()
                   << " claimed; loading from Redis at " << where;
    absl::StatusOr<std::unique_ptr<utm::ledger::RedisLedger>> opened =
        utm::ledger::RedisLedger::Open(*redis_options);
    if (!opened.ok()) {
      UTM_LOG(kError) << "Redis at " << where << ": " << opened.status();
      return 1;
    }
    redis_ledger = *std::move(opened);
    ledger = redis_ledger.get();
    // Data residency: a Redis kept under another region (or, without
    // --region, under any) is refused before anything is loaded from it.
    if (absl::Status s = utm::utmd::CheckRedisRegion(
            redis_options->client, redis_options->prefix + "region", ledger,
            region_policy ? &*region_policy : nullptr,
            absl::StrCat("Redis at ", where));
        !s.ok()) {
      UTM_LOG(kError) << s.message();
      return 1;
    }
    ledger = utm::utmd::HookSharedLedger(ledger, &hooked);
    absl::StatusOr<std::unique_ptr<utm::audit::AuditLog>> opened_audit =
        utm::audit::OpenRedisAuditLog(redis_options->client,
                                      redis_options->prefix + "audit");
    if (!opened_audit.ok()) {
      UTM_LOG(kError) << "the audit log in Redis: " << opened_audit.status();
      return 1;
    }
    audit = *std::move(opened_audit);
    absl::StatusOr<std::string> key = utm::utmd::RidSessionKeyFromRedis(
        redis_options->client, redis_options->prefix + "rid:session-key");
    if (!key.ok()) {
      UTM_LOG(kError) << "the Remote ID session key in Redis: " << key.status();
      return 1;
    }
    rid_options.session_key = *std::move(key);
  } else {
    absl::StatusOr<std::unique_ptr<utm::audit::AuditLog>> opened_audit =
        utm::audit::OpenFileAuditLog(data_dir + "/audit.log");
    if (!opened_audit.ok()) {
      UTM_LOG(kError) << opened_audit.status().message();
      return 1;
    }
    audit = *std::move(opened_audit);
    absl::StatusOr<std::string> key =
        utm::utmd::RidSessionKeyFromFile(data_dir);
    if (!key.ok()) {
      UTM_LOG(kError) << key.status().message();
      return 1;
    }
    rid_options.session_key = *std::move(key);
    store_options.dir = data_dir + "/store";
    store_options.sync = !no_sync;
    UTM_LOG(kInfo) << "port " << port->port() << " claimed; recovering "
                   << (store_options.backend == "memory"
                           ? "nothing (--store memory)"
                           : store_options.dir);
  }
  // Operators' data settings are kept by keyed pseudonym: in one process
  // under <data-dir>/pseudonym-key unless told otherwise; replicas only
  // under a key they all share, given to each.
  std::optional<utm::pseudonym::Pseudonymizer> pseudonyms;
  if (!on_redis || !pseudonym_key_spec.empty()) {
    absl::StatusOr<std::string> key =
        utm::pseudonym::LoadKey(pseudonym_key_spec, data_dir);
    absl::StatusOr<utm::pseudonym::Pseudonymizer> made =
        key.ok() ? utm::pseudonym::Pseudonymizer::Create(*std::move(key))
                 : key.status();
    if (!made.ok()) {
      UTM_LOG(kError) << made.status().message();
      return pseudonym_key_spec.empty() ? 1 : kExitFlags;
    }
    pseudonyms.emplace(*std::move(made));
  } else {
    UTM_LOG(kWarning)
        << "no --pseudonym-key: operators' data settings "
           "(Local Data Mode, flight-log retention) are not kept on "
           "these replicas";
  }
  // No local store on Redis: the ledger is the storage.
  std::unique_ptr<utm::store::Store> store;
  if (!on_redis) {
    absl::StatusOr<std::unique_ptr<utm::store::Store>> opened =
        utm::store::OpenStore(store_options);
    if (!opened.ok()) {
      UTM_LOG(kError) << opened.status();
      return 1;
    }
    store = *std::move(opened);
    // Data residency: a store of another region's deployment (or, without
    // --region, one kept under a region) is refused before it is served;
    // nothing in it is touched (services/utmd/residency_check.h).
    if (absl::Status s = utm::utmd::CheckStoredRegions(
            store.get(), region_policy ? &*region_policy : nullptr,
            store_options.backend == "memory" ? "memory" : store_options.dir);
        !s.ok()) {
      UTM_LOG(kError) << s.message();
      return 1;
    }
  }
  utm::intent::IntentCore intent_core(intent_options, clock, nullptr,
                                      store.get());
  if (!on_redis) {
    if (absl::Status s = intent_core.Recover(); !s.ok()) {
      UTM_LOG(kError) << s;
      return 1;
    }
  }
  utm::constraint::ConstraintCore constraint_core(constraint_options, clock,
                                                  store.get());
  if (!on_redis) {
    if (absl::Status s = constraint_core.Recover(); !s.ok()) {
      UTM_LOG(kError) << s;
      return 1;
    }
  }
  // Intents are deconflicted against constraints; constraints report the
  // intents they cut through.
  intent_core.SetConstraintChecker(&constraint_core);
  constraint_core.SetIntentLookup(
      [&intent_core](const std::vector<utm::geo::Volume4D>& volumes) {
        return intent_core.Overlapping(volumes);
      });
  // The aircraft registry is a read model of a ledger: the shared one on
  // Redis, in one process a ledger of its own over the store (its table and
  // position only). Declared before the followers, which apply entries to
  // it until they stop.
  std::unique_ptr<utm::ledger::LocalLedger> registry_ledger;
  std::optional<utm::registry::RegistryCore> registry;
  // Operators' data settings: a read model of the same ledger as the
  // registry's (services/operator/operator_settings.h).
  std::optional<utm::fleet::OperatorSettings> settings;
  // After the cores, so that it is destroyed (and stopped) before them: its
  // thread applies the ledger's entries to them. The cores register their
  // tables before Start() loads them.
  std::optional<utm::ledger::Follower> follower;
  std::optional<utm::ledger::Follower> registry_follower;  // one process
  if (on_redis) {
    follower.emplace(ledger);
    intent_core.UseLedger(ledger, &*follower);
    constraint_core.UseLedger(ledger, &*follower);
    registry.emplace(registry_options, clock, ledger, &*follower);
    settings.emplace(pseudonyms ? &*pseudonyms : nullptr, ledger, &*follower,
                     intent_options.region);
    if (absl::Status s = follower->Start(); !s.ok()) {
      UTM_LOG(kError) << "loading from Redis: " << s;
      return 1;
    }
  } else {
    absl::StatusOr<std::unique_ptr<utm::ledger::LocalLedger>> opened =
        utm::ledger::LocalLedger::Open(store.get());
    if (!opened.ok()) {
      UTM_LOG(kError) << "the registry's ledger: " << opened.status();
      return 1;
    }
    registry_ledger = *std::move(opened);
    registry_follower.emplace(registry_ledger.get());
    registry.emplace(registry_options, clock, registry_ledger.get(),
                     &*registry_follower);
    settings.emplace(pseudonyms ? &*pseudonyms : nullptr, registry_ledger.get(),
                     &*registry_follower, intent_options.region);
    if (absl::Status s = registry_follower->Start(); !s.ok()) {
      UTM_LOG(kError) << "loading the registry: " << s;
      return 1;
    }
  }
  // Where registration is required, activation asks the registry (and
  // telemetry, below, when it starts tracking an aircraft).
  if (registry_options.jurisdiction.required()) {
    intent_core.SetRegistrationChecker(&*registry);
  }
  const absl::Duration recovery_time = absl::Now() - recovery_start;
  if (on_redis) {
    UTM_LOG(kInfo) << "loaded "
                   << WithCommas(static_cast<int64_t>(intent_core.live_count()))
                   << " live intents and "
                   << WithCommas(static_cast<int64_t>(
                          constraint_core.constraint_count()))
                   << " constraints from Redis (entry "
                   << WithCommas(static_cast<int64_t>(follower->applied().seq))
                   << ") in " << HumanDuration(recovery_time);
  } else if (std::optional<utm::store::RecoveryStats> stats =
                 utm::store::GetRecoveryStats(*store)) {
    if (!stats->salvaged_to.empty()) {
      UTM_LOG(kWarning) << "SALVAGED a damaged store; the damaged files are in "
                        << stats->salvaged_to << ":";
      for (const std::string& note : stats->salvage_notes) {
        UTM_LOG(kWarning) << "  " << note;
      }
    } else if (store_options.salvage) {
      UTM_LOG(kInfo) << "--salvage: the store is not damaged, nothing to do";
    }
    UTM_LOG(kInfo)
        << "recovered "
        << WithCommas(static_cast<int64_t>(intent_core.live_count()))
        << " live intents and "
        << WithCommas(static_cast<int64_t>(constraint_core.constraint_count()))
        << " constraints from " << store_options.dir << " in "
        << HumanDuration(recovery_time) << " (snapshot "
        << WithCommas(static_cast<int64_t>(stats->snapshot_records))
        << " records, log "
        << WithCommas(static_cast<int64_t>(stats->log_batches)) << " batches"
        << (stats->created ? ", a new store"
            : stats->clean ? ", closed cleanly"
                           : ", after a crash")
        << (stats->torn_tail_bytes > 0
                ? absl::StrCat(", dropped a torn tail of ",
                               stats->torn_tail_bytes, " bytes")
                : "")
        << (stats->key_id.empty()
                ? ""
                : absl::StrCat(", encrypted with key ", stats->key_id))
        << (stats->rekeyed ? ", rewritten under the new key" : "") << ")";
  }
  // Local Data Mode: intents filed without retention (refused on Redis),
  // and disclosures audited as the fact of the read only.
  intent_core.SetLocalDataMode([&settings](const std::string& owner) {
    return settings->For(owner).local_only;
  });
  const utm::audit::AuditSink audit_sink =
      utm::fleet::WithholdLocalData(audit->Sink(), &*settings);
  utm::intent::IntentService intent_service(&intent_core, verifier->get(),
                                            audit_sink, intent_options.limits,
                                            *priorities);

  utm::constraint::ConstraintService constraint_service(&constraint_core,
                                                        verifier->get());
  if (region_policy) {
    intent_service.SetRegionPolicy(&*region_policy);
    constraint_service.SetRegionPolicy(&*region_policy);
  }
  // Schedule transitions, expiries and watch heartbeats.
  utm::constraint::Ticker ticker(&constraint_core, absl::Milliseconds(200));

  // The tactical tier: positions in, alerts out; the Remote ID display;
  // operators' fleets (services/utmd/tactical_tier.h).
  rid_options.details_retention = absl::Seconds(rid_retention_s);
  utm::utmd::TacticalOptions tactical_options;
  tactical_options.clock = clock;
  tactical_options.verifier = verifier->get();
  tactical_options.intents = &intent_core;
  tactical_options.constraints = &constraint_core;
  tactical_options.registry = &*registry;
  tactical_options.audit = audit_sink;
  tactical_options.settings = &*settings;
  // Flight logs ask each operator's settings (Local Data Mode, retention).
  tactical_options.data_policies = &*settings;
  tactical_options.registration_required =
      registry_options.jurisdiction.required();
  tactical_options.remote_id = rid_options;
  if (region_policy) tactical_options.region = &*region_policy;
  tactical_options.services = *services;
  if (on_redis) {
    tactical_options.redis = redis_options->client;
    tactical_options.member_id = MemberId(port->port());
  }
  // Flight logs in the embedded store, or in Redis shared by the replicas;
  // none with --store memory (nothing is kept).
  if (store_options.backend == "embedded") {
    tactical_options.flight_log_store = store.get();
  }
  if (on_redis) {
    utm::fleet::RedisFlightLogOptions flight_log_redis;
    flight_log_redis.client = redis_options->client;
    flight_log_redis.prefix = redis_options->prefix;
    tactical_options.flight_log_redis = std::move(flight_log_redis);
  }
  // The live map is fed by the tactical tier's observers: declared before
  // the tier, so that it outlives it.
  utm::utmd::MapWiring map_wiring(map_flags, clock, &constraint_core,
                                  &intent_core);
  map_wiring.Hook(&tactical_options);
  absl::StatusOr<std::unique_ptr<utm::utmd::TacticalTier>> tactical =
      utm::utmd::TacticalTier::Start(std::move(tactical_options));
  if (!tactical.ok()) {
    UTM_LOG(kError) << "Remote ID: " << tactical.status().message();
    return 2;
  }
  // The map's Remote ID layer: only when the Remote ID service is served.
  if (services->remoteid) map_wiring.ShowRemoteId((*tactical)->display());

  // Operators' own data, whole: export and erasure
  // (services/utmd/operator_data_tier.h); what the law keeps is kept under
  // the keyed pseudonyms of --pseudonym-key (none: no erasure).
  utm::utmd::OperatorDataOptions data_options;
  data_options.clock = clock;
  data_options.intents = &intent_core;
  data_options.registry = &*registry;
  data_options.audit = audit.get();
  data_options.display = (*tactical)->display();
  data_options.flight_logs = (*tactical)->flight_logs();
  data_options.settings = &*settings;
  data_options.store = store.get();
  data_options.ledger = ledger;  // null in one process
  if (pseudonyms) {
    data_options.pseudonym = [p = &*pseudonyms](const std::string& id) {
      return absl::StrCat("op-", p->Of(id).substr(0, 24));
    };
  }
  data_options.export_reads_after = absl::Seconds(export_reads_after_s);
  utm::utmd::OperatorDataTier operator_data(std::move(data_options));
  (*tactical)->fleet()->SetOperatorData(operator_data.data());

  // Only the listed services are served and named in health checking; the
  // cores behind the others run anyway (their read models are needed).
  std::vector<grpc::Service*> served;
  std::vector<std::string> writing_names;  // those that need the store
  std::vector<std::string> served_names;
  if (services->intent) {
    served.push_back(&intent_service);
    writing_names.push_back(kIntentHealth);
  }
  if (services->constraint) {
    served.push_back(&constraint_service);
    writing_names.push_back(kConstraintHealth);
  }
  served_names = writing_names;
  if (services->telemetry) {
    served.push_back((*tactical)->telemetry());
    served_names.push_back(kTelemetryHealth);
  }
  if (services->remoteid) {
    served.push_back((*tactical)->remote_id());
    served_names.push_back(kRemoteIdHealth);
  }
  utm::registry::RegistryService registry_service(&*registry, verifier->get(),
                                                  audit_sink);
  if (region_policy) registry_service.SetRegionPolicy(&*region_policy);
  if (services->registry) {
    served.push_back(&registry_service);
    served_names.push_back(kRegistryHealth);
  }
  if (services->operator_data) {
    served.push_back((*tactical)->fleet());
    served_names.push_back(kOperatorHealth);
  }
  // The audit log, read-only, for auditors: served whatever the services.
  utm::audit::AuditService audit_service(audit.get(), verifier->get());
  served.push_back(&audit_service);
  served_names.push_back("utm.v1.AuditService");
  // The server as a whole ("") follows the writing services when it serves
  // any: a telemetry-only process keeps nothing and goes on without them.
  if (!writing_names.empty()) writing_names.push_back("");

  // Metrics read the cores at each scrape; the endpoint is declared after
  // them, so it stops before they go.
  utm::utmd::MetricSources metric_sources;
  metric_sources.intents = &intent_core;
  metric_sources.constraints = &constraint_core;
  metric_sources.telemetry = (*tactical)->telemetry();
  utm::utmd::AddServiceMetrics(&metric_catalog, metric_sources);
  std::unique_ptr<utm::utmd::MetricsEndpoint> metrics_endpoint;
  if (!observability.metrics.empty()) {
    absl::StatusOr<std::unique_ptr<utm::utmd::MetricsEndpoint>> started =
        utm::utmd::MetricsEndpoint::Start(observability.metrics,
                                          &metric_catalog);
    if (!started.ok()) {
      UTM_LOG(kError) << started.status().message();
      return 1;
    }
    metrics_endpoint = *std::move(started);
    UTM_LOG(kInfo) << "metrics on http://"
                   << observability.metrics.substr(
                          0, observability.metrics.rfind(':'))
                   << ":" << metrics_endpoint->port() << "/metrics";
  }

  options.listen_address = port->address();  // port 0 resolved
  port->Release();
  absl::StatusOr<std::unique_ptr<utm::Server>> server =
      utm::Server::Start(options, served);
  if (!server.ok()) {
    UTM_LOG(kError) << server.status();
    return 1;
  }
  // Health: each served service by name; writes need the store (or Redis),
  // so a failed store makes the strategic and constraint services (and the
  // server as a whole) NOT_SERVING, while tactical telemetry, which keeps
  // nothing, goes on.
  for (const std::string& name : served_names) {
    (*server)->SetServingStatus(name, true);
  }
  // The store may fail on its writer thread until it is destroyed, after the
  // server: the callback reaches the server only while it exists.
  struct HealthTarget {
    absl::Mutex mu;
    utm::Server* server ABSL_GUARDED_BY(mu) = nullptr;
  };
  auto health = std::make_shared<HealthTarget>();
  {
    absl::MutexLock lock(&health->mu);
    health->server = server->get();
  }
  if (store != nullptr) {
    store->OnFailure([health, writing_names](const absl::Status& failure) {
      UTM_LOG(kWarning) << failure.message()
                        << "; health is NOT_SERVING for writes";
      absl::MutexLock lock(&health->mu);
      if (health->server == nullptr) return;
      for (const std::string& name : writing_names) {
        health->server->SetServingStatus(name, false);
      }
    });
  }
  // On Redis: NOT_SERVING while it does not answer, SERVING again when it
  // does. Stopped before the server shuts down (which marks all NOT_SERVING).
  std::optional<utm::utmd::LedgerHealth> ledger_health;
  if (on_redis) {
    ledger_health.emplace(
        ledger, absl::Milliseconds(500),
        [server = server->get(), writing_names](bool reachable) {
          for (const std::string& name : writing_names) {
            server->SetServingStatus(name, reachable);
          }
        });
  }
  if (absl::Status s = map_wiring.Start(verifier->get(), options.tls_cert_file,
                                        options.tls_key_file);
      !s.ok()) {
    UTM_LOG(kError) << s.message();
    return 1;
  }
  const std::string host =
      options.listen_address.substr(0, options.listen_address.rfind(':'));
  UTM_LOG(kInfo) << "listening on " << host << ":" << (*server)->port()
                 << " (data in " << data_dir
                 << (on_redis ? ", store redis" : "") << ", auth " << auth_mode
                 << (options.tls_cert_file.empty() ? ", plaintext" : ", TLS")
                 << ")";

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const absl::Time stop_start = absl::Now();
  UTM_LOG(kInfo)
      << strsignal(signal_number)
      << ": ending watch and telemetry streams, draining calls for up "
         "to "
      << grace_s << " s";
  if (ledger_health) ledger_health->Stop();
  // Streams never end by themselves: told where to resume, their clients
  // move to the next server instead of holding the stop for the grace.
  constraint_service.EndStreams();
  (*tactical)->EndStreams();
  map_wiring.Shutdown();
  (*server)->Shutdown(absl::Seconds(grace_s));
  (*tactical)->fleet()->WaitForErasures();
  // Leaves the member set: the other replicas take its regions over.
  (*tactical)->StopClusters();
  {
    absl::MutexLock lock(&health->mu);
    health->server = nullptr;
  }
  // Nothing calls into the cores any more but the follower: stop it before
  // they go.
  intent_core.StopLedgerWork();
  if (follower) follower->Stop();
  if (registry_follower) registry_follower->Stop();
  UTM_LOG(kInfo) << "stopped after "
                 << absl::StrFormat("%.1f s", absl::ToDoubleSeconds(
                                                  absl::Now() - stop_start));
  return 0;
}
