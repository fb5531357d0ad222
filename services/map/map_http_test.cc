// The map's HTTP adapter against a real server on a loopback port:
// sign-in, precise JSON errors, the event stream and its bounds.
#include "services/map/map_http.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/constraint/constraint_core.h"
#include "services/map/map_feed.h"

namespace utm::map {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "map-http-test-secret-0123456789abcdef-0123";
const absl::Time kStart = absl::FromUnixSeconds(1803895200);
constexpr char kBbox[] = "/api/events?bbox=47.30,8.45,47.45,8.65";

const unsigned char kIndex[] = "<!doctype html><title>map</title>";
const MapAsset kAssets[] = {
    {"/index.html", "text/html; charset=utf-8", kIndex, sizeof(kIndex) - 1}};

class MapHttpTest : public ::testing::Test {
 protected:
  MapHttpTest() : clock_(kStart), core_(CoreOptions(), &clock_) {
    verifier_ = *auth::Verifier::FromHmacSecret(kSecret, {}, &clock_);
  }
  ~MapHttpTest() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  static constraint::ConstraintOptions CoreOptions() {
    constraint::ConstraintOptions o;
    o.notify_thread = false;
    return o;
  }

  void Start(size_t max_streams = 4, const MapAsset* assets = kAssets,
             size_t asset_count = 1) {
    MapFeedOptions feed_options;
    feed_options.max_clients = max_streams;
    feed_ = std::make_unique<MapFeed>(feed_options, &clock_, &core_);
    MapHttpOptions options;
    options.listen = "127.0.0.1:0";
    options.max_streams = max_streams;
    options.keepalive = absl::Milliseconds(100);
    options.assets = assets;
    options.asset_count = asset_count;
    absl::StatusOr<std::unique_ptr<MapHttpServer>> server =
        MapHttpServer::Start(options, feed_.get(), verifier_.get(), &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<httplib::Client> Client() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    c->set_read_timeout(10, 0);
    return c;
  }

  std::string Token(std::vector<auth::Scope> scopes,
                    const std::string& subject = "ops") {
    auth::MintOptions m;
    m.subject = subject;
    m.scopes = std::move(scopes);
    return *auth::MintHmacToken(kSecret, m, &clock_);
  }

  // Signs in; returns the Cookie header value.
  std::string SignIn(const std::string& token) {
    httplib::Result r = Client()->Post(
        "/api/session", absl::StrCat("{\"token\":\"", token, "\"}"),
        "application/json");
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    const std::string set = r->get_header_value("Set-Cookie");
    return set.substr(0, set.find(';'));
  }

  std::string Publish() {
    v1::PublishConstraintRequest request;
    request.set_request_id(absl::StrCat("req-", ++requests_));
    v1::Constraint* c = request.mutable_constraint();
    c->set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
    c->set_reason("Wildfire");
    v1::Volume3D* v = c->add_volumes()->mutable_volume();
    v->mutable_outline_circle()->mutable_center()->set_lat_deg(47.4);
    v->mutable_outline_circle()->mutable_center()->set_lng_deg(8.55);
    v->mutable_outline_circle()->set_radius_m(500);
    v->mutable_altitude_lower()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    v->mutable_altitude_upper()->set_value_m(1000);
    v->mutable_altitude_upper()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    absl::StatusOr<v1::PublishConstraintResponse> r =
        core_.Publish({"ch-foca", true, false}, request);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->constraint().id() : "";
  }

  // Waits (bounded) until `feed_` has `n` clients.
  bool WaitForClients(size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (feed_->client_count() == n) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  SimulatedClock clock_;
  constraint::ConstraintCore core_;
  std::unique_ptr<auth::Verifier> verifier_;
  std::unique_ptr<MapFeed> feed_;
  std::unique_ptr<MapHttpServer> server_;
  int requests_ = 0;
};

TEST_F(MapHttpTest, ServesThePage) {
  Start();
  httplib::Result r = Client()->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, reinterpret_cast<const char*>(kIndex));
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  r = Client()->Get("/api/config");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"tile_attribution":"","tile_url":""})");
}

TEST_F(MapHttpTest, WithoutAssetsThePageSaysWhy) {
  Start(4, kAssets, 0);
  httplib::Result r = Client()->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_THAT(r->body, HasSubstr("built without the map's web assets"));
}

TEST_F(MapHttpTest, SignInKeepsTheTokenInAnHttpOnlyStrictCookie) {
  Start();
  const std::string token = Token({auth::Scope::kConformanceMonitoring});
  httplib::Result r = Client()->Post(
      "/api/session", absl::StrCat("{\"token\":\"", token, "\"}"),
      "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Set-Cookie"),
            absl::StrCat("utm_map_token=", token,
                         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"));
  EXPECT_THAT(r->body, Not(HasSubstr(token)));
  httplib::Headers cookie = {{"Cookie", absl::StrCat("utm_map_token=", token)}};
  r = Client()->Get("/api/session", cookie);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr(R"("subject":"ops")"));
  EXPECT_THAT(r->body, HasSubstr("utm.conformance_monitoring"));
  r = Client()->Delete("/api/session");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_THAT(r->get_header_value("Set-Cookie"), HasSubstr("Max-Age=0"));
}

TEST_F(MapHttpTest, BadInputGetsPreciseJsonErrors) {
  Start();
  const std::string good = Token({auth::Scope::kRemoteIdDisplay});
  const std::string cookie = SignIn(good);
  const std::string no_scope = Token({});
  struct Case {
    std::string method, path, body, cookie;
    int status;
    std::string fragment;
  } cases[] = {
      {"POST", "/api/session", "x", "", 400,
       R"({"code":"INVALID_ARGUMENT","message":"body: want a JSON object)"},
      {"POST", "/api/session", "{}", "", 400, "body.token: required"},
      {"FORM", "/api/session", "token=abc", "", 400,
       "Content-Type: want application/json"},
      {"POST", "/api/session", R"({"token":7})", "", 400,
       "body.token: required, a string"},
      {"POST", "/api/session", R"({"token":"abc"})", "", 401,
       R"("code":"UNAUTHENTICATED")"},
      {"POST", "/api/session", absl::StrCat("{\"token\":\"", no_scope, "\"}"),
       "", 403, "no scope this server knows"},
      {"POST", "/api/session", std::string(20000, ' '), "", 413,
       "body: larger than 16384 bytes"},
      {"GET", kBbox, "", "", 401, "not signed in"},
      {"GET", "/api/events", "", cookie, 400,
       "bbox: required (min_lat,min_lng,max_lat,max_lng)"},
      {"GET", "/api/events?bbox=47,x,48,9", "", cookie, 400,
       "bbox[1]: not a number"},
      {"GET", "/api/events?bbox=91,8,92,9", "", cookie, 400,
       "bbox: latitude 91 is outside [-90, 90]"},
      {"GET", "/api/events?bbox=40,0,60,20", "", cookie, 400,
       R"("code":"INVALID_ARGUMENT","message":"area)"},
      {"GET", "/nothing-here", "", "", 404, "no such path: /nothing-here"},
  };
  for (const Case& c : cases) {
    httplib::Headers headers;
    if (!c.cookie.empty()) headers.emplace("Cookie", c.cookie);
    httplib::Result r =
        c.method == "POST"
            ? Client()->Post(c.path, headers, c.body, "application/json")
        : c.method == "FORM"
            ? Client()->Post(c.path, headers, c.body,
                             "application/x-www-form-urlencoded")
            : Client()->Get(c.path, headers);
    ASSERT_TRUE(r) << c.method << " " << c.path;
    EXPECT_EQ(r->status, c.status) << c.path << ": " << r->body;
    EXPECT_THAT(r->body, HasSubstr(c.fragment)) << c.path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json")
        << c.path;
  }
  EXPECT_EQ(feed_->client_count(), 0u);
}

// Reads an event stream on a thread of its own until it ends or `stop`.
class StreamReader {
 public:
  StreamReader(int port, std::string cookie) {
    thread_ = std::thread([this, port, cookie] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(10, 0);
      httplib::Result r = c.Get(kBbox, {{"Cookie", cookie}},
                                [this](const char* data, size_t n) {
                                  absl::MutexLock lock(&mu_);
                                  text_.append(data, n);
                                  return !stop_;
                                });
      absl::MutexLock lock(&mu_);
      ended_ = true;
      status_ = r ? r->status : -1;
    });
  }
  ~StreamReader() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }
  // Waits up to 10 s for `fragment` in the stream.
  bool WaitFor(const std::string& fragment) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return absl::StrContains(text_, fragment) || ended_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(10));
    return absl::StrContains(text_, fragment);
  }
  bool WaitForEnd() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&ended_), absl::Seconds(10));
  }
  std::string text() {
    absl::MutexLock lock(&mu_);
    return text_;
  }

 private:
  absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  int status_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

TEST_F(MapHttpTest, StreamsASnapshotThenChangesAndEndsWhenTheTokenExpires) {
  Start();
  const std::string cookie = SignIn(Token({auth::Scope::kRemoteIdDisplay}));
  StreamReader stream(server_->port(), cookie);
  ASSERT_TRUE(stream.WaitFor("event: constraint\ndata: {\"event_time\""))
      << stream.text();
  EXPECT_THAT(stream.text(), HasSubstr("event: hello\ndata: {"));
  EXPECT_THAT(stream.text(), HasSubstr("event: reset\ndata: {}\n\n"));
  const std::string id = Publish();
  ASSERT_TRUE(stream.WaitFor(absl::StrCat("\"id\":\"", id, "\"")))
      << stream.text();
  feed_->OnReport("alice", [] {
    v1::PositionReport r;
    r.set_aircraft_id("alice-1");
    r.mutable_position()->set_lat_deg(47.4);
    r.mutable_position()->set_lng_deg(8.55);
    return r;
  }());
  ASSERT_TRUE(stream.WaitFor("event: aircraft\n")) << stream.text();
  EXPECT_THAT(stream.text(), Not(HasSubstr("alice")));
  clock_.Advance(absl::Hours(2));  // past the token's expiry
  ASSERT_TRUE(stream.WaitFor("event: expired\n")) << stream.text();
  EXPECT_TRUE(stream.WaitForEnd());
  EXPECT_TRUE(WaitForClients(0));
}

TEST_F(MapHttpTest, StreamsAreBounded) {
  Start(/*max_streams=*/1);
  const std::string cookie = SignIn(Token({auth::Scope::kRemoteIdDisplay}));
  StreamReader first(server_->port(), cookie);
  ASSERT_TRUE(first.WaitFor("event: hello"));
  httplib::Result r = Client()->Get(kBbox, {{"Cookie", cookie}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_THAT(r->body, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_THAT(r->body, HasSubstr("already has 1 viewers"));
}

TEST_F(MapHttpTest, ShutdownEndsOpenStreams) {
  Start();
  const std::string cookie = SignIn(Token({auth::Scope::kRemoteIdDisplay}));
  StreamReader stream(server_->port(), cookie);
  ASSERT_TRUE(stream.WaitFor("event: hello"));
  server_->Shutdown();
  EXPECT_TRUE(stream.WaitForEnd());
}

TEST(MapHttpServer, RefusesAMalformedAddress) {
  SimulatedClock clock(kStart);
  MapFeed feed({}, &clock, nullptr);
  auto verifier = *auth::Verifier::FromHmacSecret(kSecret, {}, &clock);
  MapHttpOptions options;
  options.listen = "localhost";
  absl::StatusOr<std::unique_ptr<MapHttpServer>> s =
      MapHttpServer::Start(options, &feed, verifier.get(), &clock);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(),
              HasSubstr("--http \"localhost\": expected host:port"));
}

}  // namespace
}  // namespace utm::map
