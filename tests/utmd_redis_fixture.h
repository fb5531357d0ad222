// A fixture for end-to-end tests of utmd on Redis: a real redis-server
// (AOF on, fsync always) and real utmd processes with --store redis on
// loopback ports, all sharing one dev signing key so that one token works on
// every replica, and gRPC stubs to reach them.
//
// The utmd binaries are the ones CMake built (UTM_UTMD_BINARY,
// UTM_UTMD_UNGUARDED_BINARY), or $UTMD_BINARY and $UTMD_UNGUARDED_BINARY
// when set; without them, or without redis-server, tests skip.
#ifndef UTM_TESTS_UTMD_REDIS_FIXTURE_H_
#define UTM_TESTS_UTMD_REDIS_FIXTURE_H_

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/latlng.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/utmd_process.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm::testing {

#ifndef UTM_UTMD_BINARY
#define UTM_UTMD_BINARY ""
#endif
#ifndef UTM_UTMD_UNGUARDED_BINARY
#define UTM_UTMD_UNGUARDED_BINARY ""
#endif

class UtmdRedisTest : public ::testing::Test {
 protected:
  // $name when set, else the path CMake compiled in.
  static std::string FromEnv(const char* name, const char* built) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : built;
  }

  void SetUp() override {
    if (!RedisServerAvailable()) {
      GTEST_SKIP() << "redis-server is not installed (/usr/bin/redis-server)";
    }
    binary_ = FromEnv("UTMD_BINARY", UTM_UTMD_BINARY);
    unguarded_ = FromEnv("UTMD_UNGUARDED_BINARY", UTM_UTMD_UNGUARDED_BINARY);
    if (binary_.empty()) GTEST_SKIP() << "UTMD_BINARY is not set";
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("utmd-redis-test-", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    RedisServerOptions redis_options;
    redis_options.appendonly = true;
    redis_options.appendfsync = "always";
    redis_options.dir = (dir_ / "redis").string();
    std::filesystem::create_directories(redis_options.dir);
    absl::StatusOr<std::unique_ptr<RedisServer>> redis =
        RedisServer::Start(redis_options);
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    std::filesystem::create_directories(dir_ / "key");
    absl::StatusOr<std::string> secret =
        auth::LoadOrCreateDevKey((dir_ / "key").string());
    ASSERT_TRUE(secret.ok()) << secret.status();
    secret_ = *secret;
  }

  void TearDown() override {
    replicas_.clear();  // before Redis: they would only log its absence
    redis_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A pseudonym key file to give every replica (--pseudonym-key): 64 hex
  // characters, all `digit`, mode 0600, in the test's directory.
  std::string PseudonymKeyFile(char digit) const {
    const std::string path = (dir_ / "pseudonym.key").string();
    {
      std::ofstream out(path);
      out << std::string(64, digit) << "\n";
    }
    EXPECT_EQ(::chmod(path.c_str(), 0600), 0) << path;
    return path;
  }

  // Starts a replica on Redis with `extra` flags (e.g. --services); its data
  // directory holds the shared dev key. `binary` empty: $UTMD_BINARY.
  UtmdProcess* StartReplica(std::vector<std::string> extra = {},
                            std::string binary = "") {
    absl::StatusOr<std::unique_ptr<UtmdProcess>> p =
        TryStartReplica(std::move(extra), std::move(binary));
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    replicas_.push_back(*std::move(p));
    return replicas_.back().get();
  }

  // The same, for a start that may fail: the error holds the tail of the
  // replica's log. The process is the caller's.
  absl::StatusOr<std::unique_ptr<UtmdProcess>> TryStartReplica(
      std::vector<std::string> extra = {}, std::string binary = "") {
    const int i = started_++;
    const std::filesystem::path data = dir_ / absl::StrCat("replica-", i);
    std::filesystem::create_directories(data);
    std::filesystem::copy_file(
        dir_ / "key" / "dev-signing-key", data / "dev-signing-key",
        std::filesystem::copy_options::overwrite_existing);
    std::vector<std::string> flags = {"--data-dir",       data.string(),
                                      "--store",          "redis",
                                      "--redis",          redis_->addr(),
                                      "--shutdown-grace", "1"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return UtmdProcess::Start(
        binary.empty() ? binary_ : binary, flags,
        (dir_ / absl::StrCat("replica-", i, ".log")).string());
  }

  std::string Token(const std::string& subject, std::vector<auth::Scope> scopes) {
    auth::MintOptions mint;
    mint.subject = subject;
    mint.scopes = std::move(scopes);
    return *auth::MintHmacToken(secret_, mint, RealClock::Get());
  }

  static std::unique_ptr<v1::StrategicCoordination::Stub> Strategic(
      const std::string& address) {
    return v1::StrategicCoordination::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }

  // A filing of one circle of `radius_m` around `centre`, 400-600 m WGS84,
  // from now for 30 minutes.
  static v1::FileIntentRequest CircleFiling(const std::string& request_id,
                                            const geo::LatLng& centre,
                                            const std::string& aircraft,
                                            double radius_m = 120) {
    v1::FileIntentRequest r;
    r.set_request_id(request_id);
    r.mutable_aircraft()->set_serial_number(aircraft);
    v1::Volume4D* v = r.add_volumes();
    v1::Circle* c = v->mutable_volume()->mutable_outline_circle();
    c->mutable_center()->set_lat_deg(centre.lat_deg);
    c->mutable_center()->set_lng_deg(centre.lng_deg);
    c->set_radius_m(radius_m);
    v->mutable_volume()->mutable_altitude_lower()->set_value_m(400);
    v->mutable_volume()->mutable_altitude_lower()->set_reference(
        v1::ALTITUDE_REFERENCE_W84);
    v->mutable_volume()->mutable_altitude_upper()->set_value_m(600);
    v->mutable_volume()->mutable_altitude_upper()->set_reference(
        v1::ALTITUDE_REFERENCE_W84);
    *v->mutable_time_start() = TimeToProto(absl::Now());
    *v->mutable_time_end() = TimeToProto(absl::Now() + absl::Minutes(30));
    return r;
  }

  // Files through `address` and answers the intent's id ("" and a test
  // failure when refused); retried (bounded) while a replica that has just
  // loaded or reloaded its read model answers UNAVAILABLE.
  static std::string File(const std::string& address, const std::string& token,
                          const v1::FileIntentRequest& request) {
    auto strategic = Strategic(address);
    v1::FileIntentResponse filed;
    grpc::Status s;
    for (int attempt = 0; attempt < 50; ++attempt) {
      filed.Clear();
      s = strategic->FileIntent(Context(token).get(), request, &filed);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_TRUE(s.ok()) << address << ": " << s.error_message();
    EXPECT_TRUE(filed.has_intent()) << filed.DebugString();
    return filed.intent().id();
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const std::string& token, absl::Duration deadline = absl::Seconds(5)) {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      c->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    c->set_deadline(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(deadline));
    return c;
  }

  // What grpc.health.v1 Check says for `service` ("" for the server), as
  // `utmctl health` asks: SERVING, NOT_SERVING, or the gRPC error's code name
  // (NOT_FOUND for a service the server does not name).
  static std::string Health(const std::string& address,
                            const std::string& service = "") {
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    if (!status.ok()) return absl::StrCat("error ", status.error_code());
    return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
        response.status());
  }

  // Polls Health() every 100 ms until it says `want`, at most `limit`.
  static bool AwaitHealth(const std::string& address, const std::string& want,
                          absl::Duration limit,
                          const std::string& service = "") {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (Health(address, service) == want) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return Health(address, service) == want;
  }

  std::string binary_;
  std::string unguarded_;
  std::filesystem::path dir_;
  std::string secret_;
  std::unique_ptr<RedisServer> redis_;
  std::vector<std::unique_ptr<UtmdProcess>> replicas_;
  int started_ = 0;  // replicas started, for their directories and logs
};

}  // namespace utm::testing

#endif  // UTM_TESTS_UTMD_REDIS_FIXTURE_H_
