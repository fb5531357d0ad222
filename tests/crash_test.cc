// Crash safety, end to end: a child utmd is killed with SIGKILL in the middle
// of a stream of concurrent intent filings and restarted on the same data
// directory. Every acknowledged filing must be there, and retrying every
// filing with its request id must neither lose nor duplicate any.
//
// The utmd binary comes from $UTMD_BINARY (set by CTest).
#include <fcntl.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "utm/v1/strategic.grpc.pb.h"

extern char** environ;

namespace utm {
namespace {

namespace fs = std::filesystem;

struct Child {
  pid_t pid = -1;
  int port = 0;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts utmd on a free loopback port; its output goes to `log`.
Child StartUtmd(const std::string& binary, const fs::path& data_dir,
                const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const std::string dir = data_dir.string();
  std::vector<const char*> argv = {binary.c_str(), "--listen",  "127.0.0.1:0",
                                   "--data-dir",   dir.c_str(), nullptr};
  Child child;
  const int rc = posix_spawn(&child.pid, binary.c_str(), &actions, nullptr,
                             const_cast<char* const*>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << binary << ": " << strerror(rc);
    return child;
  }
  const std::regex listening("utmd: listening on 127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 400; ++i) {  // up to 20 s
    std::smatch m;
    const std::string out = ReadAll(log);
    if (std::regex_search(out, m, listening)) {
      child.port = std::stoi(m[1]);
      return child;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "utmd did not start: " << ReadAll(log);
  return child;
}

void Stop(Child& child, int signal) {
  if (child.pid <= 0) return;
  kill(child.pid, signal);
  int status;
  waitpid(child.pid, &status, 0);
  child.pid = -1;
}

struct Filing {
  std::string request_id;
  v1::FileIntentRequest request;
  std::string acked_id;  // empty unless the server acknowledged it
};

class CrashTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* binary = std::getenv("UTMD_BINARY");
    if (binary == nullptr) GTEST_SKIP() << "UTMD_BINARY is not set";
    binary_ = binary;
    dir_ = fs::path(testing::TempDir()) / ("crash-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // utmd (--auth dev) and this test share the key in the data directory.
    const std::string secret =
        *auth::LoadOrCreateDevKey((dir_ / "data").string());
    auth::MintOptions mint;
    mint.subject = "crash-tester";
    mint.scopes = {auth::Scope::kStrategicCoordination};
    token_ = *auth::MintHmacToken(secret, mint, RealClock::Get());
  }
  void TearDown() override {
    Stop(child_, SIGKILL);
    fs::remove_all(dir_);
  }

  std::unique_ptr<v1::StrategicCoordination::Stub> Stub() {
    return v1::StrategicCoordination::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", child_.port),
                            grpc::InsecureChannelCredentials()));
  }
  std::unique_ptr<grpc::ClientContext> Context() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    c->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
    return c;
  }

  // A filing at its own spot on a 250 m grid, so none conflicts with another.
  static v1::FileIntentRequest Request(const std::string& request_id, int row,
                                       int col) {
    const absl::Time now = absl::Now();
    geo::Volume4D v{
        geo::Volume3D{
            geo::Circle{geo::GeodesicDestination(
                            geo::GeodesicDestination(geo::test_util::kZurich,
                                                     90, col * 250.0),
                            0, row * 250.0),
                        50},
            {500, 600}},
        {now + absl::Minutes(10), now + absl::Minutes(40)}};
    v1::FileIntentRequest request;
    request.set_request_id(request_id);
    *request.add_volumes() = VolumeToProto(v);
    return request;
  }

  std::string binary_;
  fs::path dir_;
  std::string token_;
  Child child_;
};

TEST_F(CrashTest, AcknowledgedFilingsSurviveSigkillAndNoneIsDuplicated) {
  child_ = StartUtmd(binary_, dir_ / "data", dir_ / "first.log");
  ASSERT_GT(child_.port, 0);

  constexpr int kWriters = 4;
  constexpr int kMaxPerWriter = 2000;  // bound; the kill comes much sooner
  constexpr int kKillAfterAcks = 400;
  std::vector<std::vector<Filing>> filings(kWriters);
  std::atomic<int> acks{0};
  std::atomic<bool> killed{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto stub = Stub();
      for (int i = 0; i < kMaxPerWriter; ++i) {
        Filing f;
        f.request_id = absl::StrCat("w", w, "-", i);
        f.request = Request(f.request_id, w * 25 + i / 100, i % 100);
        v1::FileIntentResponse response;
        const grpc::Status status =
            stub->FileIntent(Context().get(), f.request, &response);
        if (status.ok()) {
          ASSERT_TRUE(response.has_intent()) << response.DebugString();
          f.acked_id = response.intent().id();
          ++acks;
        }
        filings[w].push_back(std::move(f));
        if (!status.ok()) {
          ASSERT_TRUE(killed.load()) << status.error_message();
          return;  // the server is gone
        }
      }
    });
  }
  for (int i = 0; i < 600 && acks.load() < kKillAfterAcks; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  killed = true;
  Stop(child_, SIGKILL);  // mid-stream: writers have calls in flight
  for (std::thread& t : writers) t.join();
  ASSERT_GE(acks.load(), kKillAfterAcks / 2);

  child_ = StartUtmd(binary_, dir_ / "data", dir_ / "second.log");
  ASSERT_GT(child_.port, 0);
  auto stub = Stub();
  int acked = 0, unacked = 0;
  std::map<std::string, std::string> id_by_request;
  for (const auto& per_writer : filings) {
    for (const Filing& f : per_writer) {
      if (!f.acked_id.empty()) {
        ++acked;
        v1::GetIntentRequest get;
        get.set_intent_id(f.acked_id);
        v1::GetIntentResponse got;
        const grpc::Status s = stub->GetIntent(Context().get(), get, &got);
        ASSERT_TRUE(s.ok()) << "acknowledged " << f.request_id << " ("
                            << f.acked_id << ") lost: " << s.error_message();
        EXPECT_EQ(got.intent().version(), 1);
      } else {
        ++unacked;
      }
      // A client that never heard back retries with the same request id.
      v1::FileIntentResponse retry;
      const grpc::Status s =
          stub->FileIntent(Context().get(), f.request, &retry);
      ASSERT_TRUE(s.ok()) << f.request_id << ": " << s.error_message();
      ASSERT_TRUE(retry.has_intent())
          << f.request_id
          << " was refused on retry (filed twice?): " << retry.DebugString();
      if (!f.acked_id.empty()) {
        EXPECT_EQ(retry.intent().id(), f.acked_id);
      }
      id_by_request[f.request_id] = retry.intent().id();
    }
  }
  // Exactly one intent per filing: nothing lost, nothing twice.
  v1::QueryIntentsRequest query;
  // The grid spans 25 km x 25 km north-east of Zurich.
  const geo::LatLng middle = geo::GeodesicDestination(
      geo::GeodesicDestination(geo::test_util::kZurich, 90, 12500), 0, 12500);
  geo::Volume4D everywhere{geo::Volume3D{geo::Circle{middle, 25000}, {0, 1000}},
                           {absl::Now(), absl::Now() + absl::Hours(2)}};
  *query.mutable_area() = VolumeToProto(everywhere);
  query.set_page_size(1000);
  std::set<std::string> live;
  for (int page = 0; page < 100; ++page) {
    v1::QueryIntentsResponse response;
    const grpc::Status s =
        stub->QueryIntents(Context().get(), query, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& v : response.intents()) live.insert(v.id());
    if (response.next_page_token().empty()) break;
    query.set_page_token(response.next_page_token());
  }
  std::set<std::string> expected;
  for (const auto& [request, id] : id_by_request) expected.insert(id);
  EXPECT_EQ(live, expected);
  EXPECT_EQ(live.size(), static_cast<size_t>(acked + unacked));
  std::cout << "acknowledged=" << acked << " in-flight or unsent=" << unacked
            << "; after restart: " << ReadAll(dir_ / "second.log");
}

}  // namespace
}  // namespace utm
