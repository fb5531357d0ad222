#include "services/remoteid/remoteid_core.h"

#include <string>

#include "geo/geodesy.h"
#include "geo/region.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/region.h"
#include "services/common/region_testing.h"
#include "services/remoteid/published_flight_testing.h"

namespace utm::remoteid {
namespace {

using test_util::PublishedFlightAt;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kStart = absl::FromUnixSeconds(1800000000);
const geo::LatLng kZurich{47.3706, 8.4881};

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(
      static_cast<int32_t>((t - absl::FromUnixSeconds(absl::ToUnixSeconds(t))) /
                           absl::Nanoseconds(1)));
  return ts;
}

RemoteIdOptions Options() {
  RemoteIdOptions o;
  o.session_key = "0123456789abcdef0123456789abcdef";
  return o;
}

v1::PositionReport Report(const std::string& aircraft,
                          const std::string& intent, absl::Time t,
                          const geo::LatLng& p) {
  v1::PositionReport r;
  r.set_aircraft_id(aircraft);
  r.set_intent_id(intent);
  *r.mutable_time() = Ts(t);
  r.mutable_position()->set_lat_deg(p.lat_deg);
  r.mutable_position()->set_lng_deg(p.lng_deg);
  r.mutable_altitude()->set_value_m(500);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_east_mps(5);
  r.mutable_accuracy()->set_horizontal_m(3);
  return r;
}

class RemoteIdCoreTest : public ::testing::Test {
 protected:
  SimulatedClock clock_{kStart};
  RemoteIdCore core_{Options(), &clock_};
};

TEST_F(RemoteIdCoreTest, NetworkAircraftShowUnderASessionIdWithTheirTrack) {
  for (int i = 0; i < 5; ++i) {
    core_.AddNetworkReport(
        "op-1", Report("drone-7", "intent-1", clock_.Now(),
                       geo::GeodesicDestination(kZurich, 90, 5.0 * i)));
    clock_.Advance(absl::Seconds(1));
  }
  const auto r = core_.Search(DisplayView::SquareAround(kZurich, 1000));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->flights_size(), 1);
  const v1::RidFlight& f = r->flights(0);
  EXPECT_THAT(f.id(), StartsWith("utm-"));
  EXPECT_EQ(f.id().find("drone-7"), std::string::npos);
  EXPECT_EQ(f.source(), v1::RID_SOURCE_NETWORK);
  EXPECT_EQ(f.recent_positions_size(), 5);
  EXPECT_NEAR(f.speed_mps(), 5, 1e-9);
  EXPECT_NEAR(f.track_deg(), 90, 1e-9);
  EXPECT_EQ(f.status(), v1::RID_OPERATIONAL_STATUS_AIRBORNE);
  EXPECT_FALSE(f.has_operator_location());
  const geo::LatLng last = geo::GeodesicDestination(kZurich, 90, 20);
  EXPECT_DOUBLE_EQ(f.position().lat_deg(), last.lat_deg);
  EXPECT_DOUBLE_EQ(f.position().lng_deg(), last.lng_deg);
  EXPECT_EQ(r->clusters_size(), 0);
}

TEST_F(RemoteIdCoreTest, SessionIdsAreStablePerFlightAndUnlinkableAcross) {
  core_.AddNetworkReport("op-1",
                         Report("drone-7", "intent-1", clock_.Now(), kZurich));
  core_.AddNetworkReport("op-1",
                         Report("drone-7", "intent-2", clock_.Now(), kZurich));
  core_.AddNetworkReport("op-2",
                         Report("drone-7", "intent-1", clock_.Now(), kZurich));
  clock_.Advance(absl::Seconds(1));
  core_.AddNetworkReport("op-1",
                         Report("drone-7", "intent-1", clock_.Now(), kZurich));
  const auto r = core_.Search(DisplayView::SquareAround(kZurich, 1000));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->flights_size(), 3);
  EXPECT_NE(r->flights(0).id(), r->flights(1).id());
  EXPECT_NE(r->flights(1).id(), r->flights(2).id());
  // Another key gives other ids for the same flights.
  RemoteIdOptions other = Options();
  other.session_key = "fedcba9876543210fedcba9876543210";
  RemoteIdCore core2(other, &clock_);
  core2.AddNetworkReport("op-1",
                         Report("drone-7", "intent-1", clock_.Now(), kZurich));
  const auto r2 = core2.Search(DisplayView::SquareAround(kZurich, 1000));
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->flights_size(), 1);
  for (const v1::RidFlight& f : r->flights()) {
    EXPECT_NE(f.id(), r2->flights(0).id());
  }
}

TEST_F(RemoteIdCoreTest, ShownForSixtySecondsThenOnlyDetailsUntilRetention) {
  core_.AddNetworkReport("op-1",
                         Report("drone-7", "intent-1", clock_.Now(), kZurich));
  const auto view = DisplayView::SquareAround(kZurich, 1000);
  std::string id = core_.Search(view)->flights(0).id();
  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(core_.Search(view)->flights_size(), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(core_.Search(view)->flights_size(), 0);
  core_.Expire();
  const auto d = core_.Details(id);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->operator_account(), "op-1");
  EXPECT_EQ(d->aircraft_id(), "drone-7");
  EXPECT_EQ(d->intent_id(), "intent-1");
  clock_.Advance(absl::Hours(1));
  core_.Expire();
  EXPECT_EQ(core_.Details(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(core_.flight_count(), 0u);
}

TEST_F(RemoteIdCoreTest, TrackHoldsOnlyTheLastSixtySeconds) {
  for (int i = 0; i < 90; ++i) {
    core_.AddNetworkReport("op-1", Report("d", "i", clock_.Now(), kZurich));
    clock_.Advance(absl::Seconds(1));
  }
  const auto r = core_.Search(DisplayView::SquareAround(kZurich, 1000));
  ASSERT_EQ(r->flights_size(), 1);
  const auto& track = r->flights(0).recent_positions();
  // Fixes at now-60 s .. now-1 s.
  EXPECT_EQ(track.size(), 60);
  EXPECT_GE(track[0].time().seconds(),
            absl::ToUnixSeconds(clock_.Now() - absl::Seconds(60)));
}

TEST_F(RemoteIdCoreTest, OlderFixesDoNotMoveAFlightBack) {
  core_.AddNetworkReport("op-1", Report("d", "i", clock_.Now(), kZurich));
  const geo::LatLng away = geo::GeodesicDestination(kZurich, 0, 100);
  core_.AddNetworkReport(
      "op-1", Report("d", "i", clock_.Now() - absl::Seconds(1), away));
  const auto r = core_.Search(DisplayView::SquareAround(kZurich, 1000));
  EXPECT_DOUBLE_EQ(r->flights(0).position().lat_deg(), kZurich.lat_deg);
}

TEST_F(RemoteIdCoreTest, WideViewsGetClustersWithCounts) {
  for (int i = 0; i < 7; ++i) {
    core_.AddNetworkReport(
        "op-1", Report(absl::StrCat("d", i), "i", clock_.Now(),
                       geo::GeodesicDestination(kZurich, 45 * i, 40.0 * i)));
  }
  const auto r = core_.Search(DisplayView::SquareAround(kZurich, 4000));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flights_size(), 0);
  int total = 0;
  for (const v1::RidCluster& c : r->clusters()) total += c.aircraft_count();
  EXPECT_EQ(total, 7);
  EXPECT_EQ(
      core_.Search(DisplayView::SquareAround(kZurich, 6000)).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(RemoteIdCoreTest, PublishedFlightsShowUnderTheirUasId) {
  v1::PublishFlightsRequest req;
  *req.add_flights() =
      PublishedFlightAt("1AKGAAN8G70R7JS", clock_.Now(), kZurich);
  clock_.Advance(absl::Milliseconds(300));
  const auto out = core_.Publish("uss-1", req);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->states_accepted, 1);
  ASSERT_EQ(out->heard.size(), 1u);
  EXPECT_EQ(out->heard[0].remote_id, "1AKGAAN8G70R7JS");
  // 300 ms old, and its time stamp is accurate to 1 s.
  EXPECT_EQ(out->heard[0].latency, absl::Milliseconds(1300));
  const auto r = core_.Search(DisplayView::SquareAround(kZurich, 1000));
  ASSERT_EQ(r->flights_size(), 1);
  EXPECT_EQ(r->flights(0).id(), "1AKGAAN8G70R7JS");
  EXPECT_EQ(r->flights(0).source(), v1::RID_SOURCE_NETWORK_PUBLISHED);
  EXPECT_NEAR(r->flights(0).track_deg(), 162.4, 1e-9);
  const auto d = core_.Details("1AKGAAN8G70R7JS");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->serial_number(), "1AKGAAN8G70R7JS");
  EXPECT_EQ(d->operator_id(), "CHE-RP-f39mqfitkh9e5");
  EXPECT_EQ(d->ua_type(), v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  EXPECT_DOUBLE_EQ(d->operator_location().lat_deg(), 47.3708);
  EXPECT_EQ(d->operator_account(), "uss-1");
}

TEST_F(RemoteIdCoreTest, AnotherAccountCannotPublishTheSameUasId) {
  v1::PublishFlightsRequest req;
  *req.add_flights() =
      PublishedFlightAt("1AKGAAN8G70R7JS", clock_.Now(), kZurich);
  ASSERT_TRUE(core_.Publish("uss-1", req).ok());
  clock_.Advance(absl::Seconds(1));
  *req.mutable_flights(0) =
      PublishedFlightAt("1AKGAAN8G70R7JS", clock_.Now(), kZurich);
  EXPECT_THAT(core_.Publish("uss-2", req).status().message(),
              HasSubstr("flights[0].uas_id: \"1AKGAAN8G70R7JS\" is published "
                        "by another account"));
  EXPECT_TRUE(core_.Publish("uss-1", req).ok());
}

TEST_F(RemoteIdCoreTest, PublishIsCheckedWholeBeforeAnythingIsKept) {
  v1::PublishFlightsRequest req;
  *req.add_flights() =
      PublishedFlightAt("1AKGAAN8G70R7JS", clock_.Now(), kZurich);
  *req.add_flights() = PublishedFlightAt("ULYK563L5G", clock_.Now(), kZurich);
  req.mutable_flights(1)->mutable_states(0)->set_speed_mps(-5);
  EXPECT_THAT(core_.Publish("uss-1", req).status().message(),
              HasSubstr("flights[1].states[0].speed_mps: -5 is outside [0, "
                        "254.25]"));
  EXPECT_EQ(core_.flight_count(), 0u);
}

// The region of a deployment serving EU-CH: lat 47.0..47.6, lng 8.2..8.8.
region::RegionPolicy SwissSquare() {
  return region::test_util::BoxRegion("EU-CH", {47.0, 8.2}, {47.6, 8.8});
}

TEST(RemoteIdCoreRegion, PublishOutsideTheRegionKeepsNothing) {
  const region::RegionPolicy swiss = SwissSquare();
  RemoteIdOptions o = Options();
  o.region = &swiss;
  SimulatedClock clock(kStart);
  RemoteIdCore core(o, &clock);
  // 40 km east of Zurich: beyond lng 8.8.
  const geo::LatLng outside = geo::GeodesicDestination(kZurich, 90, 40000);
  v1::PublishFlightsRequest req;
  *req.add_flights() =
      PublishedFlightAt("1AKGAAN8G70R7JS", clock.Now(), kZurich);
  *req.add_flights() = PublishedFlightAt("ULYK563L5G", clock.Now(), kZurich);
  v1::PublishedState* second = req.mutable_flights(1)->add_states();
  *second = req.flights(1).states(0);
  *second->mutable_time() = Ts(clock.Now() + absl::Milliseconds(500));
  second->mutable_position()->set_lat_deg(outside.lat_deg);
  second->mutable_position()->set_lng_deg(outside.lng_deg);
  const absl::Status s = core.Publish("uss-1", req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(s.message()),
            "flights[1].states[1].position lies outside region EU-CH "
            "(deployment boundary)");
  // The whole request is refused: not even the first flight, inside, is
  // kept.
  EXPECT_EQ(core.flight_count(), 0u);
  EXPECT_EQ(
      core.Search(DisplayView::SquareAround(kZurich, 1000))->flights_size(), 0);
  EXPECT_EQ(core.Details("1AKGAAN8G70R7JS").status().code(),
            absl::StatusCode::kNotFound);

  // A malformed state is still INVALID_ARGUMENT, whatever the region.
  req.mutable_flights(0)->mutable_states(0)->set_speed_mps(-5);
  EXPECT_EQ(core.Publish("uss-1", req).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Inside, the same flights are shown.
  req.mutable_flights(0)->mutable_states(0)->set_speed_mps(5);
  req.mutable_flights(1)->mutable_states()->RemoveLast();
  const auto out = core.Publish("uss-1", req);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->states_accepted, 2);
  EXPECT_EQ(core.flight_count(), 2u);
}

TEST(RemoteIdCoreRegion, WithoutARegionPublishedStatesAnywhereAreShown) {
  SimulatedClock clock(kStart);
  RemoteIdCore core(Options(), &clock);
  const geo::LatLng outside = geo::GeodesicDestination(kZurich, 90, 40000);
  v1::PublishFlightsRequest req;
  *req.add_flights() =
      PublishedFlightAt("1AKGAAN8G70R7JS", clock.Now(), outside);
  ASSERT_TRUE(core.Publish("uss-1", req).ok());
  EXPECT_EQ(core.flight_count(), 1u);
}

TEST_F(RemoteIdCoreTest, PublishRefusesEachOutOfRangeField) {
  struct Case {
    std::function<void(v1::PublishedState*)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::PublishedState* s) { s->set_track_deg(365); },
       "states[0].track_deg: 365 is outside [0, 360)"},
      {[](v1::PublishedState* s) { s->set_track_deg(360); },
       "states[0].track_deg: 360 is outside [0, 360)"},
      {[](v1::PublishedState* s) { s->set_time_accuracy_s(-42); },
       "states[0].time_accuracy_s: -42 is outside [0, 1.5]"},
      {[](v1::PublishedState* s) { s->set_vertical_speed_mps(1e33); },
       "states[0].vertical_speed_mps: 1e+33 is outside [-62, 62]"},
      {[](v1::PublishedState* s) { s->clear_altitude(); },
       "states[0].altitude: required"},
      {[](v1::PublishedState* s) { s->set_horizontal_accuracy_m(-1); },
       "states[0].horizontal_accuracy_m"},
      {[](v1::PublishedState* s) { s->set_height_m(30); },
       "states[0].height_reference: required with a height_m"},
      {[](v1::PublishedState* s) {
         s->set_status(static_cast<v1::RidOperationalStatus>(9));
       },
       "states[0].status: 9 is not"},
      {[](v1::PublishedState* s) {
         s->mutable_time()->set_seconds(s->time().seconds() - 61);
       },
       "states[0].time"},
      {[](v1::PublishedState* s) {
         s->mutable_position()->set_lat_deg(std::nan(""));
       },
       "states[0].position.lat_deg: not finite"},
  };
  for (const Case& c : cases) {
    v1::PublishFlightsRequest req;
    *req.add_flights() =
        PublishedFlightAt("1AKGAAN8G70R7JS", clock_.Now(), kZurich);
    c.spoil(req.mutable_flights(0)->mutable_states(0));
    const absl::Status s = core_.Publish("uss-1", req).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(s.message(), HasSubstr("flights[0]." + c.field));
  }
}

TEST_F(RemoteIdCoreTest, ABroadcastParticipantIsNotShownTwiceNorAnIntruder) {
  core_.AddNetworkReport(
      "op-1", Report("1AKGAAN8G70R7JS", "intent-1", clock_.Now(), kZurich));
  BroadcastFix b;
  b.uas_id = "1AKGAAN8G70R7JS";
  b.uas_id_type = v1::UAS_ID_TYPE_SERIAL_NUMBER;
  b.fix.time = clock_.Now();
  b.fix.position = geo::GeodesicDestination(kZurich, 0, 8);
  b.receiver = "receiver-1";
  b.received = clock_.Now();
  EXPECT_FALSE(core_.AddBroadcast(b).has_value());
  const auto r = core_.Search(DisplayView::SquareAround(kZurich, 1000));
  ASSERT_EQ(r->flights_size(), 1);
  EXPECT_EQ(r->flights(0).source(), v1::RID_SOURCE_NETWORK);
  const auto d = core_.Details(r->flights(0).id());
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(d->receivers(), ::testing::ElementsAre("receiver-1"));
  EXPECT_EQ(d->serial_number(), "1AKGAAN8G70R7JS");

  // The same id 5 km away is another aircraft: shown, and an intruder.
  b.fix.position = geo::GeodesicDestination(kZurich, 0, 5000);
  b.received = clock_.Now() + absl::Milliseconds(400);
  b.timestamp_accuracy_s = 0.2;
  const std::optional<HeardState> heard = core_.AddBroadcast(b);
  ASSERT_TRUE(heard.has_value());
  EXPECT_EQ(heard->remote_id, "1AKGAAN8G70R7JS");
  EXPECT_EQ(heard->latency, absl::Milliseconds(600));
  const auto far =
      core_.Search(DisplayView::SquareAround(b.fix.position, 1000));
  ASSERT_EQ(far->flights_size(), 1);
  EXPECT_EQ(far->flights(0).source(), v1::RID_SOURCE_BROADCAST);
}

TEST_F(RemoteIdCoreTest, StaleBroadcastsAreDropped) {
  BroadcastFix b;
  b.uas_id = "ULYK563L5G";
  b.uas_id_type = v1::UAS_ID_TYPE_SERIAL_NUMBER;
  b.fix.time = clock_.Now() - absl::Seconds(61);
  b.fix.position = kZurich;
  b.receiver = "r";
  b.received = clock_.Now();
  EXPECT_FALSE(core_.AddBroadcast(b).has_value());
  EXPECT_EQ(core_.dropped(), 1);
  EXPECT_EQ(core_.flight_count(), 0u);
}

TEST_F(RemoteIdCoreTest, OperatorFlightsAreTheOperatorsOwnShownNow) {
  const geo::LatLng elsewhere = geo::GeodesicDestination(kZurich, 90, 3000);
  core_.AddNetworkReport("alice",
                         Report("drone-2", "intent-2", clock_.Now(), kZurich));
  core_.AddNetworkReport(
      "alice", Report("drone-1", "intent-1", clock_.Now(), elsewhere));
  core_.AddNetworkReport("bob",
                         Report("drone-1", "intent-9", clock_.Now(), kZurich));
  clock_.Advance(absl::Seconds(1));
  core_.AddNetworkReport("alice",
                         Report("drone-1", "intent-1", clock_.Now(),
                                geo::GeodesicDestination(elsewhere, 90, 5)));

  std::vector<RemoteIdCore::OperatorFlight> alice =
      core_.OperatorFlights("alice", 100);
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0].aircraft_id, "drone-1");
  EXPECT_EQ(alice[0].intent_id, "intent-1");
  EXPECT_EQ(alice[0].flight.recent_positions_size(), 2);
  EXPECT_EQ(alice[0].flight.time().seconds(),
            absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(alice[1].aircraft_id, "drone-2");
  // The id the public display shows.
  const auto shown = core_.Search(DisplayView::SquareAround(kZurich, 1000));
  std::vector<std::string> ids;
  for (const v1::RidFlight& f : shown->flights()) ids.push_back(f.id());
  EXPECT_THAT(ids, ::testing::Contains(alice[1].flight.id()));
  ASSERT_EQ(core_.OperatorFlights("bob", 100).size(), 1u);
  EXPECT_EQ(core_.OperatorFlights("bob", 100)[0].intent_id, "intent-9");
  EXPECT_TRUE(core_.OperatorFlights("carol", 100).empty());
  EXPECT_EQ(core_.OperatorFlights("alice", 1).size(), 1u);

  // Not shown after 60 s without a report; forgotten after retention.
  clock_.Advance(absl::Seconds(61));
  core_.Expire();
  EXPECT_TRUE(core_.OperatorFlights("alice", 100).empty());
  clock_.Advance(absl::Hours(2));
  core_.Expire();
  EXPECT_EQ(core_.flight_count(), 0u);
  EXPECT_TRUE(core_.OperatorFlights("alice", 100).empty());
}

// Records what the core offers the other replicas.
class RecordingReplicator : public DisplayReplicator {
 public:
  void OnNetworkReport(const std::string& operator_id,
                       const v1::PositionReport& report) override {
    network.emplace_back(operator_id, report.aircraft_id());
  }
  void OnPublish(const std::string& account,
                 const v1::PublishFlightsRequest& request) override {
    published.emplace_back(account, request.flights_size());
  }
  void OnBroadcast(const BroadcastFix& fix) override {
    broadcast.push_back(fix.uas_id);
  }
  std::vector<std::pair<std::string, std::string>> network;
  std::vector<std::pair<std::string, int>> published;
  std::vector<std::string> broadcast;
};

TEST_F(RemoteIdCoreTest, ClientInputsKeptAreOfferedToTheOtherReplicas) {
  RecordingReplicator replicator;
  core_.SetReplicator(&replicator);
  const v1::PositionReport report =
      Report("aircraft-1", "intent-1", clock_.Now(), kZurich);
  core_.AddNetworkReport("op-1", report);
  core_.AddNetworkReport("op-1", report);  // not newer: nothing changed
  v1::PublishFlightsRequest publish;
  *publish.add_flights() =
      PublishedFlightAt("ULYK563L5G", clock_.Now(), {47.38, 8.50});
  ASSERT_TRUE(core_.Publish("uss-1", publish).ok());
  ASSERT_FALSE(core_.Publish("uss-2", publish).ok());  // another's UAS id
  BroadcastFix b;
  b.uas_id = "1AKGAAN8G70R7JS";
  b.uas_id_type = v1::UAS_ID_TYPE_SERIAL_NUMBER;
  b.fix.time = clock_.Now();
  b.fix.position = {47.39, 8.51};
  b.receiver = "receiver-1";
  b.received = clock_.Now();
  ASSERT_TRUE(core_.AddBroadcast(b).has_value());
  b.fix.time = clock_.Now() - absl::Seconds(61);  // stale: refused
  EXPECT_FALSE(core_.AddBroadcast(b).has_value());

  EXPECT_THAT(replicator.network,
              ::testing::ElementsAre(std::make_pair(
                  std::string("op-1"), std::string("aircraft-1"))));
  EXPECT_THAT(replicator.published,
              ::testing::ElementsAre(std::make_pair(std::string("uss-1"), 1)));
  EXPECT_THAT(replicator.broadcast, ::testing::ElementsAre("1AKGAAN8G70R7JS"));
}

TEST_F(RemoteIdCoreTest, ReplicaInputsAreShownButNotOfferedAgain) {
  RecordingReplicator replicator;
  core_.SetReplicator(&replicator);
  core_.AddNetworkReport(
      "op-1", Report("aircraft-1", "intent-1", clock_.Now(), kZurich),
      Origin::kReplica);
  v1::PublishFlightsRequest publish;
  *publish.add_flights() =
      PublishedFlightAt("ULYK563L5G", clock_.Now(), {47.38, 8.50});
  ASSERT_TRUE(core_.Publish("uss-1", publish, Origin::kReplica).ok());
  BroadcastFix b;
  b.uas_id = "1AKGAAN8G70R7JS";
  b.uas_id_type = v1::UAS_ID_TYPE_SERIAL_NUMBER;
  b.fix.time = clock_.Now();
  b.fix.position = {47.39, 8.51};
  b.receiver = "receiver-1";
  b.received = clock_.Now();
  core_.AddBroadcast(b, Origin::kReplica);
  EXPECT_TRUE(replicator.network.empty());
  EXPECT_TRUE(replicator.published.empty());
  EXPECT_TRUE(replicator.broadcast.empty());
  EXPECT_EQ(core_.flight_count(), 3u);
  // A replica's publication this replica refuses is counted, not shown.
  EXPECT_FALSE(core_.Publish("uss-2", publish, Origin::kReplica).ok());
  EXPECT_EQ(core_.dropped(), 1);
}

TEST_F(RemoteIdCoreTest, BoundedFlights) {
  RemoteIdOptions o = Options();
  o.max_flights = 3;
  RemoteIdCore core(o, &clock_);
  for (int i = 0; i < 5; ++i) {
    core.AddNetworkReport(
        "op", Report(absl::StrCat("d", i), "i", clock_.Now(), kZurich));
  }
  EXPECT_EQ(core.flight_count(), 3u);
  EXPECT_EQ(core.dropped(), 2);
  v1::PublishFlightsRequest req;
  *req.add_flights() = PublishedFlightAt("ULYK563L5G", clock_.Now(), kZurich);
  EXPECT_EQ(core.Publish("uss", req).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(RemoteIdCoreTest, OperatorLocationIsPublicOnlyWhereTheJurisdictionSays) {
  v1::PublishFlightsRequest req;
  *req.add_flights() =
      PublishedFlightAt("1AKGAAN8G70R7JS", clock_.Now(), kZurich);
  ASSERT_TRUE(core_.Publish("uss-1", req).ok());
  EXPECT_FALSE(core_.Search(DisplayView::SquareAround(kZurich, 1000))
                   ->flights(0)
                   .has_operator_location());
  RemoteIdOptions o = Options();
  o.public_operator_location = true;
  RemoteIdCore part89(o, &clock_);
  ASSERT_TRUE(part89.Publish("uss-1", req).ok());
  const auto r = part89.Search(DisplayView::SquareAround(kZurich, 1000));
  ASSERT_TRUE(r->flights(0).has_operator_location());
  EXPECT_DOUBLE_EQ(r->flights(0).operator_location().lat_deg(), 47.3708);
}

TEST(RemoteIdOptions, RetentionIsAtMostADay) {
  RemoteIdOptions o = Options();
  EXPECT_TRUE(RemoteIdCore::CheckOptions(o).ok());
  o.details_retention = absl::Hours(25);
  EXPECT_THAT(RemoteIdCore::CheckOptions(o).message(),
              HasSubstr("NetDpMaxDataRetentionPeriod"));
  o = Options();
  o.display.max_diagonal_m = 8000;
  EXPECT_FALSE(RemoteIdCore::CheckOptions(o).ok());
  o = Options();
  o.session_key = "short";
  EXPECT_FALSE(RemoteIdCore::CheckOptions(o).ok());
}

}  // namespace
}  // namespace utm::remoteid
