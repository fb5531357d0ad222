#include "services/map/map_feed.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/clock.h"
#include "services/constraint/constraint_core.h"
#include "services/intent/intent_codec.h"
#include "services/intent/intent_core.h"
#include "services/remoteid/display_view.h"
#include "services/remoteid/published_flight_testing.h"
#include "services/remoteid/remoteid_core.h"

namespace utm::map {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kStart = absl::FromUnixSeconds(1803895200);
// Around Zurich.
const MapArea kZurichArea{47.30, 8.45, 47.45, 8.65};

MapViewer Operator(const std::string& subject) {
  MapViewer v;
  v.subject = subject;
  return v;
}
MapViewer Display() {
  MapViewer v = Operator("public-display");
  v.all_aircraft = true;
  return v;
}
MapViewer Monitor() {
  MapViewer v = Operator("supervisor");
  v.all_aircraft = true;
  v.all_alerts = true;
  return v;
}
MapViewer Admin() {
  MapViewer v = Monitor();
  v.subject = "root";
  v.identities = true;
  return v;
}

v1::PositionReport Report(const std::string& aircraft, double lat, double lng,
                          const std::string& intent = "intent-1") {
  v1::PositionReport r;
  r.set_aircraft_id(aircraft);
  r.set_intent_id(intent);
  r.mutable_position()->set_lat_deg(lat);
  r.mutable_position()->set_lng_deg(lng);
  r.mutable_altitude()->set_value_m(500);
  r.mutable_velocity()->set_east_mps(12);
  r.mutable_time()->set_seconds(absl::ToUnixSeconds(kStart));
  return r;
}

class MapFeedTest : public ::testing::Test {
 protected:
  MapFeedTest() : clock_(kStart), core_(CoreOptions(), &clock_) {}

  static constraint::ConstraintOptions CoreOptions() {
    constraint::ConstraintOptions o;
    o.notify_thread = false;  // deterministic
    return o;
  }

  std::unique_ptr<MapFeed> MakeFeed(MapFeedOptions options = {}) {
    return std::make_unique<MapFeed>(options, &clock_, &core_);
  }

  // Everything the client has waiting, without waiting.
  static std::vector<MapEvent> Drain(MapFeed* feed, MapClient* client) {
    std::vector<MapEvent> out;
    EXPECT_TRUE(feed->Next(client, absl::ZeroDuration(), &out));
    return out;
  }
  static std::vector<json> OfType(const std::vector<MapEvent>& events,
                                  const std::string& type) {
    std::vector<json> out;
    for (const MapEvent& e : events) {
      if (e.type == type) out.push_back(json::parse(e.data));
    }
    return out;
  }
  static std::string AllText(const std::vector<MapEvent>& events) {
    std::string text;
    for (const MapEvent& e : events) absl::StrAppend(&text, e.data, "\n");
    return text;
  }

  std::string Publish(double lat, double lng, v1::ConstraintType type) {
    v1::PublishConstraintRequest request;
    request.set_request_id(absl::StrCat("req-", ++requests_));
    v1::Constraint* c = request.mutable_constraint();
    c->set_type(type);
    c->set_reason("Wildfire");
    c->set_message_for_pilots("keep out");
    v1::Circle* circle =
        c->add_volumes()->mutable_volume()->mutable_outline_circle();
    circle->mutable_center()->set_lat_deg(lat);
    circle->mutable_center()->set_lng_deg(lng);
    circle->set_radius_m(800);
    c->mutable_volumes(0)
        ->mutable_volume()
        ->mutable_altitude_lower()
        ->set_value_m(0);
    c->mutable_volumes(0)
        ->mutable_volume()
        ->mutable_altitude_lower()
        ->set_reference(v1::ALTITUDE_REFERENCE_W84);
    c->mutable_volumes(0)
        ->mutable_volume()
        ->mutable_altitude_upper()
        ->set_value_m(1000);
    c->mutable_volumes(0)
        ->mutable_volume()
        ->mutable_altitude_upper()
        ->set_reference(v1::ALTITUDE_REFERENCE_W84);
    constraint::Caller authority{"ch-foca", true, false};
    absl::StatusOr<v1::PublishConstraintResponse> r =
        core_.Publish(authority, request);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->constraint().id() : "";
  }

  SimulatedClock clock_;
  constraint::ConstraintCore core_;
  int requests_ = 0;
};

TEST(ParseMapArea, AcceptsABox) {
  absl::StatusOr<MapArea> a = ParseMapArea("47.3,8.4,47.5,8.7", "bbox");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_DOUBLE_EQ(a->min_lat, 47.3);
  EXPECT_DOUBLE_EQ(a->max_lng, 8.7);
}

TEST(ParseMapArea, NamesWhatIsWrong) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"", "bbox: want min_lat,min_lng,max_lat,max_lng, got 1 value(s)"},
      {"1,2,3", "got 3 value(s)"},
      {"1,x,3,4", "bbox[1]: not a number"},
      {"1,2,3,nan", "bbox[3]: not a number"},
      {"-91,0,1,1", "bbox: latitude -91 is outside [-90, 90]"},
      {"0,0,1,181", "bbox: longitude 181 is outside [-180, 180]"},
      {"2,0,1,1", "min_lat < max_lat and min_lng < max_lng are required"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<MapArea> a = ParseMapArea(c.text, "bbox");
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(a.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST_F(MapFeedTest, StartsWithHelloResetAndTheRestrictionSnapshot) {
  const std::string inside =
      Publish(47.38, 8.54, v1::CONSTRAINT_TYPE_PROHIBITED);
  Publish(46.80, 9.50, v1::CONSTRAINT_TYPE_PROHIBITED);  // far away
  auto feed = MakeFeed();
  absl::StatusOr<std::shared_ptr<MapClient>> client =
      feed->Connect(Operator("alice"), kZurichArea);
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<MapEvent> events = Drain(feed.get(), client->get());
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0].type, "hello");
  EXPECT_EQ(json::parse(events[0].data)["subject"], "alice");
  EXPECT_EQ(events[1].type, "reset");
  std::vector<json> constraints = OfType(events, "constraint");
  std::vector<std::string> upserts;
  for (const json& c : constraints) {
    if (c.contains("upsert")) upserts.push_back(c["upsert"]["id"]);
  }
  EXPECT_THAT(upserts, ::testing::ElementsAre(inside));
  ASSERT_FALSE(constraints.empty());
  EXPECT_TRUE(constraints.front().contains("snapshot_begin"));
  EXPECT_TRUE(constraints.back().contains("snapshot_end"));
  feed->Disconnect(client->get());
}

TEST_F(MapFeedTest, ARestrictionPublishedInTheAreaIsPushed) {
  auto feed = MakeFeed();
  auto client = feed->Connect(Operator("alice"), kZurichArea);
  ASSERT_TRUE(client.ok());
  Drain(feed.get(), client->get());
  Publish(46.80, 9.50, v1::CONSTRAINT_TYPE_ADVISORY);  // outside: not sent
  const std::string id = Publish(47.40, 8.50, v1::CONSTRAINT_TYPE_PROHIBITED);
  std::vector<json> constraints =
      OfType(Drain(feed.get(), client->get()), "constraint");
  ASSERT_EQ(constraints.size(), 1u);
  EXPECT_EQ(constraints[0]["upsert"]["id"], id);
  EXPECT_EQ(constraints[0]["upsert"]["type"], "CONSTRAINT_TYPE_PROHIBITED");
  EXPECT_EQ(constraints[0]["upsert"]["message_for_pilots"], "keep out");
  feed->Disconnect(client->get());
}

TEST_F(MapFeedTest, AnAreaTheCoreRefusesIsInvalid) {
  auto feed = MakeFeed();
  // 20 degrees across: far beyond a constraint watch's 120 km reach.
  absl::StatusOr<std::shared_ptr<MapClient>> client =
      feed->Connect(Operator("alice"), MapArea{40, 0, 60, 20});
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(), HasSubstr("area"));
  EXPECT_EQ(feed->client_count(), 0u);
}

TEST_F(MapFeedTest, OperatorsSeeTheirOwnAircraftWithIdentityOthersAnonymous) {
  auto feed = MakeFeed();
  auto alice = feed->Connect(Operator("alice"), kZurichArea);
  auto display = feed->Connect(Display(), kZurichArea);
  auto admin = feed->Connect(Admin(), kZurichArea);
  ASSERT_TRUE(alice.ok() && display.ok() && admin.ok());
  for (auto* c : {alice->get(), display->get(), admin->get()}) {
    Drain(feed.get(), c);
  }
  feed->OnReport("alice", Report("alice-1", 47.38, 8.54, "intent-a"));
  feed->OnReport("bob-secret-op",
                 Report("bob-drone-7", 47.39, 8.55, "intent-b"));

  std::vector<json> seen = OfType(Drain(feed.get(), alice->get()), "aircraft");
  ASSERT_EQ(seen.size(), 1u);  // her own only
  EXPECT_EQ(seen[0]["operator"], "alice");
  EXPECT_EQ(seen[0]["aircraft_id"], "alice-1");
  EXPECT_EQ(seen[0]["own"], true);
  EXPECT_DOUBLE_EQ(seen[0]["east_mps"].get<double>(), 12);

  std::vector<MapEvent> events = Drain(feed.get(), display->get());
  seen = OfType(events, "aircraft");
  ASSERT_EQ(seen.size(), 2u);  // every aircraft, no identity
  for (const json& a : seen) {
    EXPECT_FALSE(a.contains("operator"));
    EXPECT_FALSE(a.contains("aircraft_id"));
    EXPECT_FALSE(a.contains("intent_id"));
    EXPECT_THAT(a["id"].get<std::string>(), HasSubstr("ac-"));
  }
  EXPECT_THAT(AllText(events), Not(HasSubstr("bob")));
  EXPECT_THAT(AllText(events), Not(HasSubstr("alice")));

  seen = OfType(Drain(feed.get(), admin->get()), "aircraft");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1]["operator"], "bob-secret-op");
  for (auto* c : {alice->get(), display->get(), admin->get()}) {
    feed->Disconnect(c);
  }
}

TEST_F(MapFeedTest, TracksGrowAndAnAircraftOutsideTheAreaIsNotSent) {
  auto feed = MakeFeed();
  auto display = feed->Connect(Display(), kZurichArea);
  ASSERT_TRUE(display.ok());
  Drain(feed.get(), display->get());
  feed->OnReport("alice", Report("a1", 47.38, 8.54));
  feed->OnReport("alice", Report("a1", 47.381, 8.541));
  feed->OnReport("bob", Report("b1", 46.0, 7.0));  // far outside
  std::vector<json> seen =
      OfType(Drain(feed.get(), display->get()), "aircraft");
  ASSERT_EQ(seen.size(), 1u);  // the two updates coalesced
  EXPECT_EQ(seen[0]["track"].size(), 2u);
  EXPECT_DOUBLE_EQ(seen[0]["lat"].get<double>(), 47.381);
  feed->Disconnect(display->get());
}

TEST_F(MapFeedTest, AlertsReachMonitorsAndTheOwnersOfTheAircraftInvolved) {
  auto feed = MakeFeed();
  auto alice = feed->Connect(Operator("alice"), kZurichArea);
  auto carol = feed->Connect(Operator("carol"), kZurichArea);
  auto monitor = feed->Connect(Monitor(), kZurichArea);
  ASSERT_TRUE(alice.ok() && carol.ok() && monitor.ok());
  feed->OnReport("alice", Report("alice-1", 47.38, 8.54));
  feed->OnReport("bob", Report("bob-7", 47.381, 8.54));
  for (auto* c : {alice->get(), carol->get(), monitor->get()}) {
    Drain(feed.get(), c);
  }
  AlertInput raised;
  raised.alert.set_id("alert-1");
  raised.alert.set_kind(v1::ALERT_KIND_CONFLICT_PREDICTED);
  raised.alert.set_state(v1::ALERT_STATE_RAISED);
  raised.alert.add_aircraft_ids("alice-1");
  raised.alert.add_aircraft_ids("bob-7");
  raised.alert.set_message("alice-1 and bob-7 lose separation in 14 s");
  raised.aircraft = {{"alice", "alice-1"}, {"bob", "bob-7"}};
  feed->OnAlerts({raised});

  std::vector<json> m = OfType(Drain(feed.get(), monitor->get()), "alert");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["kind"], "ALERT_KIND_CONFLICT_PREDICTED");
  ASSERT_EQ(m[0]["aircraft"].size(), 2u);
  EXPECT_THAT(m[0]["aircraft"][0].get<std::string>(), HasSubstr("ac-"));
  EXPECT_FALSE(m[0].contains("message"));  // names aircraft

  std::vector<MapEvent> a_events = Drain(feed.get(), alice->get());
  std::vector<json> a = OfType(a_events, "alert");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_THAT(AllText(a_events), Not(HasSubstr("bob")));
  EXPECT_TRUE(OfType(Drain(feed.get(), carol->get()), "alert").empty());

  AlertInput cleared = raised;
  cleared.alert.set_state(v1::ALERT_STATE_CLEARED);
  feed->OnAlerts({cleared});
  m = OfType(Drain(feed.get(), monitor->get()), "alert");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["state"], "ALERT_STATE_CLEARED");
  // A new monitor's snapshot no longer holds it.
  auto late = feed->Connect(Monitor(), kZurichArea);
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(OfType(Drain(feed.get(), late->get()), "alert").empty());
  for (auto* c : {alice->get(), carol->get(), monitor->get(), late->get()}) {
    feed->Disconnect(c);
  }
}

TEST_F(MapFeedTest, ASlowClientIsResyncedNeverQueuedWithoutBound) {
  MapFeedOptions options;
  options.max_pending = 5;
  auto feed = MakeFeed(options);
  auto display = feed->Connect(Display(), kZurichArea);
  ASSERT_TRUE(display.ok());
  Drain(feed.get(), display->get());
  // One aircraft reporting often: coalesced, never a resync.
  for (int i = 0; i < 100; ++i) {
    feed->OnReport("alice", Report("a1", 47.38 + i * 1e-5, 8.54));
  }
  std::vector<MapEvent> events = Drain(feed.get(), display->get());
  EXPECT_EQ(OfType(events, "aircraft").size(), 1u);
  EXPECT_TRUE(OfType(events, "reset").empty());
  // Twenty aircraft while the client does not read: past the bound.
  for (int i = 0; i < 20; ++i) {
    feed->OnReport("op", Report(absl::StrCat("x", i), 47.38, 8.54 + i * 1e-3));
  }
  events = Drain(feed.get(), display->get());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].type, "reset");
  EXPECT_EQ(OfType(events, "aircraft").size(), 21u);  // the whole picture
  feed->Disconnect(display->get());
}

TEST_F(MapFeedTest, ViewersAreBoundedAndFreedOnDisconnect) {
  MapFeedOptions options;
  options.max_clients = 2;
  auto feed = MakeFeed(options);
  auto a = feed->Connect(Display(), kZurichArea);
  auto b = feed->Connect(Display(), kZurichArea);
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<std::shared_ptr<MapClient>> c =
      feed->Connect(Display(), kZurichArea);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("already has 2 viewers"));
  feed->Disconnect(a->get());
  c = feed->Connect(Display(), kZurichArea);
  EXPECT_TRUE(c.ok()) << c.status();
  feed->Disconnect(b->get());
  feed->Disconnect(c->get());
}

TEST_F(MapFeedTest, IntentsOfOthersCarryNoOwner) {
  auto feed = MakeFeed();
  auto alice = feed->Connect(Operator("alice"), kZurichArea);
  ASSERT_TRUE(alice.ok());
  Drain(feed.get(), alice->get());
  IntentInput bob;
  bob.id = "intent-b";
  bob.owner = "bob-secret-op";
  bob.aircraft = "bob-serial-9";
  bob.priority = 7;
  bob.state = v1::INTENT_STATE_ACTIVATED;
  bob.volumes.resize(1);
  v1::Circle* circle =
      bob.volumes[0].mutable_volume()->mutable_outline_circle();
  circle->mutable_center()->set_lat_deg(47.40);
  circle->mutable_center()->set_lng_deg(8.55);
  circle->set_radius_m(50);
  IntentInput own = bob;
  own.id = "intent-a";
  own.owner = "alice";
  own.aircraft = "alice-serial-1";
  feed->OnIntent(bob);
  feed->OnIntent(own);
  std::vector<MapEvent> events = Drain(feed.get(), alice->get());
  std::vector<json> intents = OfType(events, "intent");
  ASSERT_EQ(intents.size(), 2u);
  EXPECT_EQ(intents[0]["id"], "intent-b");
  EXPECT_EQ(intents[0]["state"], "INTENT_STATE_ACTIVATED");
  EXPECT_FALSE(intents[0].contains("owner"));
  EXPECT_EQ(intents[1]["owner"], "alice");
  EXPECT_THAT(AllText(events), Not(HasSubstr("bob")));
  // Over: sent once more (so the page drops it), then gone from snapshots.
  bob.state = v1::INTENT_STATE_ENDED;
  feed->OnIntent(bob);
  intents = OfType(Drain(feed.get(), alice->get()), "intent");
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0]["state"], "INTENT_STATE_ENDED");
  auto late = feed->Connect(Operator("carol"), kZurichArea);
  ASSERT_TRUE(late.ok());
  intents = OfType(Drain(feed.get(), late->get()), "intent");
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0]["id"], "intent-a");
  feed->Disconnect(alice->get());
  feed->Disconnect(late->get());
}

TEST_F(MapFeedTest, SnapshotsAskTheIntentQueryForTheClientsArea) {
  auto feed = MakeFeed();
  std::vector<MapArea> asked;
  feed->SetIntentQuery([&asked](const MapArea& area) {
    asked.push_back(area);
    IntentInput accepted;
    accepted.id = "filed-before";
    accepted.owner = "bob-secret-op";
    accepted.state = v1::INTENT_STATE_ACCEPTED;
    IntentInput ended = accepted;
    ended.id = "over";
    ended.state = v1::INTENT_STATE_ENDED;
    return std::vector<IntentInput>{accepted, ended};
  });
  auto alice = feed->Connect(Operator("alice"), kZurichArea);
  ASSERT_TRUE(alice.ok());
  std::vector<MapEvent> events = Drain(feed.get(), alice->get());
  std::vector<json> intents = OfType(events, "intent");
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0]["id"], "filed-before");
  EXPECT_EQ(intents[0]["state"], "INTENT_STATE_ACCEPTED");
  EXPECT_THAT(AllText(events), Not(HasSubstr("bob")));
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_DOUBLE_EQ(asked[0].min_lat, kZurichArea.min_lat);
  EXPECT_DOUBLE_EQ(asked[0].max_lng, kZurichArea.max_lng);
  feed->Disconnect(alice->get());
}

TEST_F(MapFeedTest, SilentAircraftAreRetired) {
  auto feed = MakeFeed();
  auto display = feed->Connect(Display(), kZurichArea);
  ASSERT_TRUE(display.ok());
  feed->OnReport("alice", Report("a1", 47.38, 8.54));
  Drain(feed.get(), display->get());
  clock_.Advance(absl::Seconds(30));
  feed->Tick();
  EXPECT_EQ(feed->aircraft_count(), 1u);
  clock_.Advance(absl::Seconds(31));
  feed->Tick();
  EXPECT_EQ(feed->aircraft_count(), 0u);
  EXPECT_EQ(OfType(Drain(feed.get(), display->get()), "aircraft_gone").size(),
            1u);
  feed->Disconnect(display->get());
}

TEST_F(MapFeedTest, CloseAllEndsEveryClientAndRefusesNewOnes) {
  auto feed = MakeFeed();
  auto display = feed->Connect(Display(), kZurichArea);
  ASSERT_TRUE(display.ok());
  feed->CloseAll();
  std::vector<MapEvent> out;
  EXPECT_FALSE(feed->Next(display->get(), absl::Seconds(5), &out));
  EXPECT_EQ(feed->Connect(Display(), kZurichArea).status().code(),
            absl::StatusCode::kUnavailable);
  feed->Disconnect(display->get());
}

namespace remote_id_test_util {

const geo::LatLng kCentre{47.40, 8.55};

remoteid::BroadcastFix HeardAt(absl::Time t, const geo::LatLng& p) {
  remoteid::BroadcastFix b;
  b.uas_id = "1AKGAAN8G70R7JS";
  b.uas_id_type = v1::UAS_ID_TYPE_SERIAL_NUMBER;
  b.fix.time = t;
  b.fix.position = p;
  b.fix.altitude_m = 120;
  b.identity.operator_id = "CHE-RP-heardoperator";
  b.identity.registration_id = "HB-REG-1234";
  b.identity.operator_location = geo::LatLng{47.3976543, 8.5476543};
  b.receiver = "receiver-1";
  b.received = t;
  return b;
}

MapArea AreaOf(const v1::LatLngRect& r) {
  return MapArea{r.south_west().lat_deg(), r.south_west().lng_deg(),
                 r.north_east().lat_deg(), r.north_east().lng_deg()};
}

}  // namespace remote_id_test_util

class MapFeedRemoteIdTest : public MapFeedTest {
 protected:
  static remoteid::RemoteIdOptions RidOptions() {
    remoteid::RemoteIdOptions o;
    o.session_key = "0123456789abcdef0123456789abcdef";
    // Where the display itself shows the pilot's position: the map still
    // must not.
    o.public_operator_location = true;
    return o;
  }
  std::unique_ptr<MapFeed> MakeRidFeed() {
    auto feed = MakeFeed();
    feed->SetRemoteIdSearch(
        [this](const v1::LatLngRect& view) { return rid_.Search(view); });
    return feed;
  }
  static MapViewer RidDisplay() {
    MapViewer v = Display();
    v.remote_id = true;
    return v;
  }

  remoteid::RemoteIdCore rid_{RidOptions(), &clock_};
};

TEST_F(MapFeedRemoteIdTest, FlightsInTheAreaArePushedWithoutIdentity) {
  using namespace remote_id_test_util;  // NOLINT(build/namespaces)
  auto feed = MakeRidFeed();
  const MapArea small =
      AreaOf(remoteid::DisplayView::SquareAround(kCentre, 1000));
  auto display = feed->Connect(RidDisplay(), small);
  ASSERT_TRUE(display.ok()) << display.status();
  // An operator's token has no utm.rid_display: no Remote ID layer.
  auto alice = feed->Connect(Operator("alice"), small);
  ASSERT_TRUE(alice.ok());
  std::vector<json> hello = OfType(Drain(feed.get(), display->get()), "hello");
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_EQ(hello[0]["remote_id"], true);
  hello = OfType(Drain(feed.get(), alice->get()), "hello");
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_EQ(hello[0]["remote_id"], false);

  // Heard on the air and published in the area; published 5 km north.
  ASSERT_TRUE(rid_.AddBroadcast(HeardAt(clock_.Now(), kCentre)).has_value());
  v1::PublishFlightsRequest published;
  *published.add_flights() = remoteid::test_util::PublishedFlightAt(
      "MAPT5AAAAA", clock_.Now(), geo::GeodesicDestination(kCentre, 90, 150));
  *published.add_flights() = remoteid::test_util::PublishedFlightAt(
      "MAPT5BBBBB", clock_.Now(), geo::GeodesicDestination(kCentre, 0, 5000));
  const auto accepted = rid_.Publish("uss-1", published);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  // The display shows the pilot's position here; the map must drop it.
  const auto raw =
      rid_.Search(remoteid::DisplayView::SquareAround(kCentre, 1000));
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->flights_size(), 2);
  ASSERT_TRUE(raw->flights(0).has_operator_location());

  feed->Tick();
  std::vector<MapEvent> events = Drain(feed.get(), display->get());
  std::vector<json> flights = OfType(events, "rid_flight");
  ASSERT_EQ(flights.size(), 2u) << AllText(events);
  EXPECT_EQ(flights[0]["id"], "1AKGAAN8G70R7JS");
  EXPECT_EQ(flights[0]["source"], "BROADCAST");
  EXPECT_DOUBLE_EQ(flights[0]["lat"].get<double>(), kCentre.lat_deg);
  EXPECT_EQ(flights[0]["track"].size(), 1u);
  EXPECT_EQ(flights[1]["id"], "MAPT5AAAAA");
  EXPECT_EQ(flights[1]["source"], "NETWORK_PUBLISHED");
  EXPECT_DOUBLE_EQ(flights[1]["speed_mps"].get<double>(), 5);
  const std::string text = AllText(events);
  EXPECT_THAT(text, Not(HasSubstr("MAPT5BBBBB")));
  for (const char* secret :
       {"operator", "CHE-RP", "HB-REG", "registration", "serial", "47.3708",
        "8.4879", "47.397654", "8.547654"}) {
    EXPECT_THAT(text, Not(HasSubstr(secret))) << "identity on the map";
  }
  EXPECT_THAT(OfType(Drain(feed.get(), alice->get()), "rid_flight"),
              ::testing::IsEmpty());

  // Only what changed is sent: the heard aircraft moved, the other did not.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(rid_.AddBroadcast(HeardAt(clock_.Now(), geo::GeodesicDestination(
                                                          kCentre, 0, 20)))
                  .has_value());
  feed->Tick();
  flights = OfType(Drain(feed.get(), display->get()), "rid_flight");
  ASSERT_EQ(flights.size(), 1u);
  EXPECT_EQ(flights[0]["id"], "1AKGAAN8G70R7JS");
  EXPECT_EQ(flights[0]["track"].size(), 2u);
  feed->Tick();
  EXPECT_THAT(Drain(feed.get(), display->get()), ::testing::IsEmpty());

  // A new client starts from the layer as last refreshed, after its reset.
  auto late = feed->Connect(RidDisplay(), small);
  ASSERT_TRUE(late.ok());
  feed->Tick();
  EXPECT_EQ(OfType(Drain(feed.get(), late->get()), "rid_flight").size(), 2u);

  // Past the near-real-time period (60 s) the display drops them: gone.
  clock_.Advance(absl::Seconds(61));
  feed->Tick();
  std::vector<json> gone =
      OfType(Drain(feed.get(), display->get()), "rid_flight_gone");
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0]["id"], "1AKGAAN8G70R7JS");
  for (auto* c : {display->get(), alice->get(), late->get()}) {
    feed->Disconnect(c);
  }
}

TEST_F(MapFeedRemoteIdTest, WideAreasGetTheDisplaysClustersOrRefusal) {
  using namespace remote_id_test_util;  // NOLINT(build/namespaces)
  auto feed = MakeRidFeed();
  ASSERT_TRUE(rid_.AddBroadcast(HeardAt(clock_.Now(), kCentre)).has_value());
  // 4 km across: clusters only, no flight.
  auto mid = feed->Connect(
      RidDisplay(), AreaOf(remoteid::DisplayView::SquareAround(kCentre, 3000)));
  ASSERT_TRUE(mid.ok());
  // The whole of Zurich: past 7 km, the display shows nothing.
  auto wide = feed->Connect(RidDisplay(), kZurichArea);
  ASSERT_TRUE(wide.ok());
  feed->Tick();
  std::vector<MapEvent> events = Drain(feed.get(), mid->get());
  EXPECT_THAT(OfType(events, "rid_flight"), ::testing::IsEmpty());
  std::vector<json> view = OfType(events, "rid_view");
  ASSERT_EQ(view.size(), 1u);
  ASSERT_EQ(view[0]["clusters"].size(), 1u);
  EXPECT_EQ(view[0]["clusters"][0]["aircraft_count"], 1);
  EXPECT_FALSE(view[0].contains("refused"));
  events = Drain(feed.get(), wide->get());
  EXPECT_THAT(OfType(events, "rid_flight"), ::testing::IsEmpty());
  view = OfType(events, "rid_view");
  ASSERT_EQ(view.size(), 1u);
  EXPECT_THAT(view[0]["refused"].get<std::string>(), HasSubstr("diagonal"));
  feed->Disconnect(mid->get());
  feed->Disconnect(wide->get());
}

TEST_F(MapFeedRemoteIdTest, WithoutTheRemoteIdServiceNoClientGetsTheLayer) {
  using namespace remote_id_test_util;  // NOLINT(build/namespaces)
  auto feed = MakeFeed();               // no SetRemoteIdSearch
  ASSERT_TRUE(rid_.AddBroadcast(HeardAt(clock_.Now(), kCentre)).has_value());
  auto display = feed->Connect(
      RidDisplay(), AreaOf(remoteid::DisplayView::SquareAround(kCentre, 1000)));
  ASSERT_TRUE(display.ok());
  feed->Tick();
  std::vector<MapEvent> events = Drain(feed.get(), display->get());
  std::vector<json> hello = OfType(events, "hello");
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_EQ(hello[0]["remote_id"], false);
  for (const MapEvent& e : events) EXPECT_THAT(e.type, Not(HasSubstr("rid")));
  feed->Disconnect(display->get());
}

// An intent as utmd's wiring hands it to the feed (services/utmd/
// http_wiring.cc).
IntentInput InputOf(const intent::Intent& intent) {
  v1::FlightIntent proto;
  intent::IntentToProto(intent, &proto);
  return IntentInputOf(proto);
}

geo::Volume4D CylinderAt(double lat, double lng, absl::Time start) {
  return geo::Volume4D{
      geo::Volume3D{geo::Circle{geo::LatLng{lat, lng}, 200}, {500, 620}},
      {start + absl::Minutes(10), start + absl::Minutes(40)}};
}

TEST_F(MapFeedTest, AnIntentFiledAfterViewersConnectedReachesThemAtOnce) {
  auto feed = MakeFeed();
  intent::IntentCore intents(intent::IntentOptions(), &clock_,
                             [] { return std::string("intent-filed-1"); });
  intents.SetFilingObserver(
      [&feed](const intent::Intent& i) { feed->OnIntent(InputOf(i)); });
  auto alice = feed->Connect(Operator("alice"), kZurichArea);
  auto bob = feed->Connect(Operator("bob-secret-op"), kZurichArea);
  // Around Bern: the intent is nowhere near.
  auto carol =
      feed->Connect(Operator("carol"), MapArea{46.90, 7.35, 47.00, 7.50});
  ASSERT_TRUE(alice.ok() && bob.ok() && carol.ok());
  for (auto* c : {alice->get(), bob->get(), carol->get()}) {
    EXPECT_THAT(OfType(Drain(feed.get(), c), "intent"), ::testing::IsEmpty());
  }

  intent::FileRequest request;
  request.priority = 7;
  request.aircraft.serial = "bob-serial-9";
  request.volumes = {CylinderAt(47.40, 8.55, clock_.Now())};
  absl::StatusOr<intent::WriteOutcome> filed =
      intents.File("bob-secret-op", request);
  ASSERT_TRUE(filed.ok() && filed->accepted()) << filed.status();

  std::vector<json> own = OfType(Drain(feed.get(), bob->get()), "intent");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0]["id"], "intent-filed-1");
  EXPECT_EQ(own[0]["state"], "INTENT_STATE_ACCEPTED");
  EXPECT_EQ(own[0]["owner"], "bob-secret-op");
  EXPECT_EQ(own[0]["aircraft"], "bob-serial-9");
  EXPECT_EQ(own[0]["priority"], 7);
  std::vector<MapEvent> events = Drain(feed.get(), alice->get());
  std::vector<json> others = OfType(events, "intent");
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0]["id"], "intent-filed-1");
  EXPECT_EQ(others[0]["state"], "INTENT_STATE_ACCEPTED");
  EXPECT_EQ(others[0]["own"], false);
  EXPECT_EQ(others[0]["volumes"].size(), 1u);
  for (const char* hidden : {"owner", "aircraft", "priority"}) {
    EXPECT_FALSE(others[0].contains(hidden)) << hidden;
  }
  EXPECT_THAT(AllText(events), Not(HasSubstr("bob")));
  EXPECT_THAT(OfType(Drain(feed.get(), carol->get()), "intent"),
              ::testing::IsEmpty());

  // A modification moves it on the map too.
  intent::ModifyRequest modify;
  modify.intent_id = "intent-filed-1";
  modify.version = 1;
  modify.priority = 7;
  modify.volumes = {CylinderAt(47.41, 8.56, clock_.Now())};
  absl::StatusOr<intent::WriteOutcome> modified =
      intents.Modify("bob-secret-op", modify);
  ASSERT_TRUE(modified.ok() && modified->accepted()) << modified.status();
  others = OfType(Drain(feed.get(), alice->get()), "intent");
  ASSERT_EQ(others.size(), 1u);
  EXPECT_NEAR(
      others[0]["volumes"][0]["volume"]["outline_circle"]["center"]["lat_deg"]
          .get<double>(),
      47.41, 1e-9);
  for (auto* c : {alice->get(), bob->get(), carol->get()}) {
    feed->Disconnect(c);
  }
}

}  // namespace
}  // namespace utm::map
