// utmd seen from outside, end to end on real processes: its Prometheus
// endpoint scraped and parsed while it works (every family present, and
// moving under load), its JSON log, the request id a client receives and
// finds in that log, and what the log must not say.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/volume_convert.h"
#include "tests/telemetry_test_util.h"
#include "tests/utmd_redis_fixture.h"
#include "utm/v1/constraint.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// GET http://127.0.0.1:port/path; the body, or "" (and a test failure).
std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    return "";
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(::write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[65536];
  for (int i = 0; i < 10000; ++i) {  // bounded: ~650 MB at most
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200") ||
              absl::StartsWith(response, "HTTP/1.0 200"))
      << response.substr(0, 200);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// A scrape, parsed: each series as printed ("name{a=\"b\"}") to its value,
// and each family's declared TYPE.
struct Scrape {
  std::map<std::string, double> series;
  std::map<std::string, std::string> types;

  // The sum of the series of `name` (exactly, with any labels) whose labels
  // contain every one of `having`.
  double Sum(const std::string& name,
             const std::vector<std::string>& having = {}) const {
    double sum = 0;
    for (const auto& [key, value] : series) {
      const std::string family = key.substr(0, key.find('{'));
      if (family != name) continue;
      bool all = true;
      for (const std::string& h : having)
        all = all && absl::StrContains(key, h);
      if (all) sum += value;
    }
    return sum;
  }
  bool Has(const std::string& name) const {
    for (const auto& [key, value] : series) {
      if (key.substr(0, key.find('{')) == name) return true;
    }
    return false;
  }
};

// Parses the Prometheus text format strictly enough to catch a malformed
// line: every sample line is "series value", every value a number.
Scrape Parse(const std::string& text) {
  Scrape scrape;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    if (absl::StartsWith(line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      EXPECT_EQ(parts.size(), 4u) << line;
      if (parts.size() == 4) scrape.types[parts[2]] = parts[3];
      continue;
    }
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    double value = 0;
    const absl::string_view number = line.substr(space + 1);
    if (number == "Nan" || number == "NaN") continue;  // the exposer's own
    EXPECT_TRUE(absl::SimpleAtod(number, &value)) << line;
    scrape.series[std::string(line.substr(0, space))] = value;
  }
  return scrape;
}

// "metrics on http://127.0.0.1:PORT/metrics" in a log: PORT, or 0.
int MetricsPort(const std::string& log) {
  const std::string marker = "metrics on http://127.0.0.1:";
  const size_t at = log.find(marker);
  if (at == std::string::npos) return 0;
  int port = 0;
  const std::string rest = log.substr(at + marker.size());
  (void)absl::SimpleAtoi(rest.substr(0, rest.find('/')), &port);
  return port;
}

constexpr char kPrivateOperator[] = "op-7731-private";
constexpr double kBadLatitude = 95.4321;

class UtmdObservabilityTest : public UtmdRedisTest {
 protected:
  // A utmd on its embedded store (not Redis), with the fixture's dev key.
  UtmdProcess* StartEmbedded(std::vector<std::string> extra) {
    const std::filesystem::path data =
        dir_ / absl::StrCat("embedded-", started_++);
    std::filesystem::create_directories(data);
    std::filesystem::copy_file(dir_ / "key" / "dev-signing-key",
                               data / "dev-signing-key");
    std::vector<std::string> flags = {"--data-dir", data.string(),
                                      "--shutdown-grace", "1"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    absl::StatusOr<std::unique_ptr<UtmdProcess>> p =
        UtmdProcess::Start(binary_, flags, (data / "utmd.log").string());
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    replicas_.push_back(*std::move(p));
    return replicas_.back().get();
  }

  // A filing refused as INVALID_ARGUMENT whose error names its latitude,
  // from kPrivateOperator; the request id the client was given.
  std::string FileRefused(const std::string& address) {
    v1::FileIntentRequest bad =
        CircleFiling("refused-1", geo::LatLng{47.0, 8.0}, "AC-9");
    bad.mutable_volumes(0)
        ->mutable_volume()
        ->mutable_outline_circle()
        ->mutable_center()
        ->set_lat_deg(kBadLatitude);
    auto context =
        Context(Token(kPrivateOperator, {auth::Scope::kStrategicCoordination}));
    v1::FileIntentResponse response;
    const grpc::Status s =
        Strategic(address)->FileIntent(context.get(), bad, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("95.4321"));
    std::string id;
    for (const auto* metadata : {&context->GetServerInitialMetadata(),
                                 &context->GetServerTrailingMetadata()}) {
      auto it = metadata->find("x-request-id");
      if (it != metadata->end()) {
        id = std::string(it->second.data(), it->second.size());
      }
    }
    return id;
  }
};

TEST_F(UtmdObservabilityTest, MetricsArePresentAndMoveUnderLoad) {
  UtmdProcess* utmd = StartEmbedded({"--metrics", "127.0.0.1:0"});
  ASSERT_NE(utmd, nullptr);
  const int port = MetricsPort(utmd->Log());
  ASSERT_GT(port, 0) << utmd->Log();
  const Scrape before = Parse(HttpGet(port, "/metrics"));

  // Load: filings (five accepted, one refused), a constraint watcher, an
  // alert watcher, and two aircraft closing head on.
  const std::string alice =
      Token("alice", {auth::Scope::kStrategicCoordination});
  for (int i = 0; i < 5; ++i) {
    File(utmd->address(), alice,
         CircleFiling(absl::StrCat("ok-", i), geo::LatLng{47.0 + 0.01 * i, 8.0},
                      "AC-1"));
  }
  FileRefused(utmd->address());

  auto channel =
      grpc::CreateChannel(utmd->address(), grpc::InsecureChannelCredentials());
  auto constraints = v1::ConstraintService::NewStub(channel);
  v1::WatchConstraintsRequest watch;
  *watch.mutable_area() = CircleFiling("w", {47.0, 8.0}, "x", 5000).volumes(0);
  auto watch_context = Context(
      Token("tower", {auth::Scope::kConformanceMonitoring}), absl::Seconds(30));
  auto watch_stream = constraints->WatchConstraints(watch_context.get(), watch);
  v1::ConstraintEvent first;
  ASSERT_TRUE(watch_stream->Read(&first));  // the snapshot: it is watching

  auto telemetry = v1::TelemetryService::NewStub(channel);
  v1::WatchAlertsRequest alerts;
  *alerts.mutable_area() = watch.area();
  auto alerts_context = Context(
      Token("tower", {auth::Scope::kConformanceMonitoring}), absl::Seconds(30));
  auto alerts_stream = telemetry->WatchAlerts(alerts_context.get(), alerts);

  const geo::LatLng centre{47.2, 8.2};
  const geo::LatLng west = geo::GeodesicDestination(centre, 270, 300);
  const geo::LatLng east = geo::GeodesicDestination(centre, 90, 300);
  auto fly_context = Context(alice, absl::Seconds(30));
  auto fly = telemetry->StreamPositions(fly_context.get());
  for (int seq = 1; seq <= 3; ++seq) {
    v1::PositionBatch batch;
    batch.set_batch_seq(seq);
    *batch.add_reports() = test_util::ReportAt("A1", west, absl::Now(), 10);
    *batch.add_reports() = test_util::ReportAt("B1", east, absl::Now(), -10);
    ASSERT_TRUE(fly->Write(batch));
    absl::SleepFor(absl::Milliseconds(200));
  }

  // Bounded wait for the alert to be counted (the reports are processed on
  // the stream's own pace).
  Scrape after;
  for (int i = 0; i < 50; ++i) {
    after = Parse(HttpGet(port, "/metrics"));
    if (after.Sum("utmd_alerts_raised_total", {"kind=\"conflict_predicted\""}) >
            0 &&
        after.Sum("utmd_watchers", {"stream=\"alerts\""}) == 1) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }

  // Per call: counts, codes and latencies.
  const std::vector<std::string> file = {"grpc_method=\"FileIntent\""};
  EXPECT_EQ(after.types["grpc_server_started_total"], "counter");
  EXPECT_EQ(after.types["grpc_server_handling_seconds"], "histogram");
  EXPECT_EQ(after.Sum("grpc_server_started_total", file) -
                before.Sum("grpc_server_started_total", file),
            6);
  EXPECT_EQ(after.Sum("grpc_server_handled_total",
                      {"grpc_method=\"FileIntent\"", "grpc_code=\"OK\""}),
            5);
  EXPECT_EQ(
      after.Sum("grpc_server_handled_total", {"grpc_method=\"FileIntent\"",
                                              "grpc_code=\"InvalidArgument\""}),
      1);
  EXPECT_EQ(after.Sum("grpc_server_handling_seconds_count", file), 6);
  EXPECT_GT(after.Sum("grpc_server_handling_seconds_sum", file), 0);
  // The store: five filings, synced in group commits.
  EXPECT_GT(after.Sum("utmd_store_sync_seconds_count"),
            before.Sum("utmd_store_sync_seconds_count"));
  EXPECT_GE(after.Sum("utmd_store_group_size_sum") -
                before.Sum("utmd_store_group_size_sum"),
            5);
  EXPECT_EQ(after.Sum("utmd_live_intents"), 5);
  // Watchers and their queues.
  EXPECT_EQ(after.Sum("utmd_watchers", {"stream=\"constraints\""}), 1);
  EXPECT_EQ(after.Sum("utmd_watchers", {"stream=\"alerts\""}), 1);
  EXPECT_TRUE(after.Has("utmd_watch_queued_events"));
  EXPECT_TRUE(after.Has("utmd_watch_longest_queue"));
  EXPECT_EQ(after.Sum("utmd_position_streams"), 1);
  EXPECT_TRUE(after.Has("utmd_position_reports_waiting"));
  // The tactical tier.
  EXPECT_EQ(after.Sum("utmd_live_tracks"), 2);
  EXPECT_EQ(after.Sum("utmd_position_reports_total", {"accepted"}) -
                before.Sum("utmd_position_reports_total", {"accepted"}),
            6);
  EXPECT_GT(after.Sum("utmd_detector_pairs_total"),
            before.Sum("utmd_detector_pairs_total"));
  EXPECT_GE(
      after.Sum("utmd_alerts_raised_total", {"kind=\"conflict_predicted\""}),
      1);
  EXPECT_GE(after.Sum("utmd_open_alerts"), 1);

  fly->WritesDone();
  fly_context->TryCancel();
  watch_context->TryCancel();
  alerts_context->TryCancel();
}

TEST_F(UtmdObservabilityTest, RedisRoundTripsAreMeasured) {
  UtmdProcess* replica = StartReplica({"--metrics", "127.0.0.1:0"});
  ASSERT_NE(replica, nullptr);
  const int port = MetricsPort(replica->Log());
  ASSERT_GT(port, 0) << replica->Log();
  const Scrape before = Parse(HttpGet(port, "/metrics"));
  File(replica->address(),
       Token("alice", {auth::Scope::kStrategicCoordination}),
       CircleFiling("r-1", {47.0, 8.0}, "AC-1"));
  const Scrape after = Parse(HttpGet(port, "/metrics"));
  EXPECT_EQ(after.types.at("utmd_redis_round_trip_seconds"), "histogram");
  EXPECT_GT(after.Sum("utmd_redis_round_trip_seconds_count"),
            before.Sum("utmd_redis_round_trip_seconds_count"));
  EXPECT_GT(after.Sum("utmd_redis_round_trip_seconds_sum"), 0);
  // No store of its own on Redis: its histograms stay empty.
  EXPECT_EQ(after.Sum("utmd_store_sync_seconds_count"), 0);

  // Every family the Grafana dashboard and the operator's guide name is
  // one utmd serves (this replica serves them all, some still empty).
  for (const char* doc :
       {"k8s/grafana/utmd-dashboard.json", "docs/operations.md"}) {
    std::ifstream in(std::string(UTM_SOURCE_DIR) + "/" + doc);
    ASSERT_TRUE(in) << doc;
    std::stringstream text;
    text << in.rdbuf();
    const std::regex family("\\b((utmd|grpc_server)_[a-z_]+)");
    std::string body = text.str();
    // The guide: its "Metrics" section (other sections name files and
    // targets such as utmd_unguarded_for_test).
    if (const size_t at = body.find("## Metrics"); at != std::string::npos) {
      body = body.substr(at, body.find("## Logs", at) - at);
    }
    int named = 0;
    for (auto it = std::sregex_iterator(body.begin(), body.end(), family);
         it != std::sregex_iterator(); ++it) {
      std::string name = (*it)[1];
      for (const char* suffix : {"_bucket", "_count", "_sum"}) {
        if (absl::EndsWith(name, suffix) &&
            after.types.count(name.substr(0, name.size() - strlen(suffix)))) {
          name = name.substr(0, name.size() - strlen(suffix));
        }
      }
      ++named;
      EXPECT_TRUE(after.types.count(name))
          << doc << " names " << name << ", which /metrics does not serve";
    }
    EXPECT_GE(named, 15) << doc;
  }
}

TEST_F(UtmdObservabilityTest, JsonLogCarriesTheRequestIdAndNothingPrivate) {
  UtmdProcess* utmd =
      StartEmbedded({"--log-format", "json", "--log-level", "debug"});
  ASSERT_NE(utmd, nullptr);
  File(utmd->address(),
       Token(kPrivateOperator, {auth::Scope::kStrategicCoordination}),
       CircleFiling("ok-1", {47.0, 8.0}, "AC-1"));
  const std::string id = FileRefused(utmd->address());
  ASSERT_EQ(id.size(), 32u) << "no x-request-id in the response";
  ASSERT_EQ(utmd->Terminate(), 0);

  const std::string log = utmd->Log();
  int lines = 0;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (line.empty()) continue;
    ++lines;
    const nlohmann::json json =
        nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(json.is_object()) << "not one JSON object: " << line;
    for (const char* key : {"time", "level", "logger", "msg"}) {
      EXPECT_TRUE(json.contains(key)) << key << " missing: " << line;
    }
    if (json.value("request_id", "") == id) {
      found = true;
      EXPECT_EQ(json.value("code", ""), "INVALID_ARGUMENT") << line;
      EXPECT_EQ(json.value("method", ""),
                "/utm.v1.StrategicCoordination/FileIntent");
      EXPECT_EQ(json.value("level", ""), "info");
      EXPECT_FALSE(json.contains("error")) << line;
    }
  }
  EXPECT_GE(lines, 5);  // start-up, one line per call (debug), the stop
  EXPECT_TRUE(found) << "no log line with request id " << id << ":\n" << log;
  // Neither the caller's identity nor the refused coordinates.
  EXPECT_THAT(log, Not(HasSubstr(kPrivateOperator)));
  EXPECT_THAT(log, Not(HasSubstr("95.4321")));
}

TEST_F(UtmdObservabilityTest, LogSensitiveShowsWhatIsOtherwiseWithheld) {
  // The check above, inverted: with --log-sensitive the refusal's text (and
  // the coordinates in it) is logged, so its absence above is the default's
  // doing, not an artefact of the test.
  UtmdProcess* utmd =
      StartEmbedded({"--log-format", "json", "--log-sensitive"});
  ASSERT_NE(utmd, nullptr);
  const std::string id = FileRefused(utmd->address());
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(utmd->Terminate(), 0);
  EXPECT_THAT(utmd->Log(), HasSubstr("95.4321"));
}

TEST_F(UtmdObservabilityTest, AClientsRequestIdIsKeptAndABadOneReplaced) {
  UtmdProcess* utmd = StartEmbedded({"--log-level", "debug"});
  ASSERT_NE(utmd, nullptr);
  auto strategic = Strategic(utmd->address());
  auto ask = [&](const std::string& sent) {
    grpc::ClientContext context;
    if (!sent.empty()) context.AddMetadata("x-request-id", sent);
    v1::GetIntentRequest request;
    request.set_intent_id("00000000-0000-4000-8000-000000000000");
    v1::GetIntentResponse response;
    strategic->GetIntent(&context, request, &response);  // UNAUTHENTICATED
    for (const auto* metadata : {&context.GetServerInitialMetadata(),
                                 &context.GetServerTrailingMetadata()}) {
      auto it = metadata->find("x-request-id");
      if (it != metadata->end()) {
        return std::string(it->second.data(), it->second.size());
      }
    }
    return std::string();
  };
  EXPECT_EQ(ask("proxy-abc.123_X"), "proxy-abc.123_X");
  const std::string replaced = ask("bad id with spaces");
  EXPECT_EQ(replaced.size(), 32u);
  EXPECT_EQ(ask(std::string(65, 'a')).size(), 32u);  // too long
  const std::string fresh1 = ask(""), fresh2 = ask("");
  EXPECT_EQ(fresh1.size(), 32u);
  EXPECT_NE(fresh1, fresh2);
  // The text log names it too: "request_id=proxy-abc.123_X".
  EXPECT_THAT(utmd->Log(), HasSubstr("request_id=proxy-abc.123_X"));
}

}  // namespace
}  // namespace utm::testing
