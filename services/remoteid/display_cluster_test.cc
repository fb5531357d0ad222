// Two replicas of the Remote ID display in one process, each with its own
// core, Redis connections and member id, over a real redis-server: what one
// replica's clients bring is shown by the other.
#include "services/remoteid/display_cluster.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/redis/redis_client.h"
#include "services/common/volume_convert.h"
#include "tests/telemetry_test_util.h"
#include "tests/testing/redis_server.h"

namespace utm::remoteid {
namespace {

using ::testing::ElementsAre;

#define REQUIRE_REDIS()                                                     \
  if (!utm::testing::RedisServerAvailable())                                \
  GTEST_SKIP() << "redis-server is not installed (/usr/bin/redis-server); " \
                  "this test needs a real one"

const geo::LatLng kZurich{47.3706, 8.4881};

RemoteIdOptions Options() {
  RemoteIdOptions o;
  o.session_key = "0123456789abcdef0123456789abcdef";  // one deployment
  return o;
}

v1::PositionReport Report(const std::string& aircraft, absl::Time t,
                          const geo::LatLng& p) {
  v1::PositionReport r = test_util::ReportAt(aircraft, p, t, 5);
  r.set_intent_id("intent-1");
  return r;
}

v1::PublishFlightsRequest Publication(const std::string& uas_id, absl::Time t,
                                      const geo::LatLng& p) {
  v1::PublishFlightsRequest request;
  v1::PublishedFlight* f = request.add_flights();
  f->set_uas_id(uas_id);
  f->set_uas_id_type(v1::UAS_ID_TYPE_SERIAL_NUMBER);
  f->set_ua_type(v1::UA_TYPE_HELICOPTER_OR_MULTIROTOR);
  f->set_operator_id("CHE-RP-f39mqfitkh9e5");
  v1::PublishedState* s = f->add_states();
  *s->mutable_time() = TimeToProto(t);
  s->set_status(v1::RID_OPERATIONAL_STATUS_AIRBORNE);
  s->mutable_position()->set_lat_deg(p.lat_deg);
  s->mutable_position()->set_lng_deg(p.lng_deg);
  s->mutable_altitude()->set_value_m(496);
  s->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  s->set_time_accuracy_s(1);
  s->set_speed_mps(5);
  return request;
}

BroadcastFix Heard(const std::string& uas_id, absl::Time t,
                   const geo::LatLng& p, const std::string& receiver) {
  BroadcastFix b;
  b.uas_id = uas_id;
  b.uas_id_type = v1::UAS_ID_TYPE_SERIAL_NUMBER;
  b.fix.time = t;
  b.fix.position = p;
  b.fix.altitude_m = 480;
  b.fix.has_velocity = true;
  b.fix.track_deg = 90;
  b.fix.speed_mps = 7;
  b.fix.status = v1::RID_OPERATIONAL_STATUS_AIRBORNE;
  b.identity.ua_type = v1::UA_TYPE_AEROPLANE;
  b.identity.operator_id = "FIN87astrdge12k8";
  b.identity.operator_location = geo::LatLng{47.36, 8.47};
  b.identity.description = "survey";
  b.receiver = receiver;
  b.received = t + absl::Milliseconds(300);
  b.timestamp_accuracy_s = 0.1;
  return b;
}

// Waits (bounded) for `done`; false when it never came.
bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

class DisplayClusterTest : public ::testing::Test {
 protected:
  struct Replica {
    explicit Replica(const Clock* clock) : core(Options(), clock) {}
    RemoteIdCore core;
    std::unique_ptr<DisplayCluster> cluster;

    std::vector<v1::RidFlight> Shown(const geo::LatLng& at) const {
      absl::StatusOr<v1::SearchFlightsResponse> r =
          core.Search(DisplayView::SquareAround(at, 1000));
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return {};
      return {r->flights().begin(), r->flights().end()};
    }
  };

  void SetUp() override {
    REQUIRE_REDIS();
    auto server = utm::testing::RedisServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    redis_ = *std::move(server);
    for (const char* id : {"utmd-a", "utmd-b"}) {
      auto& r = replicas_.emplace_back(std::make_unique<Replica>(&clock_));
      DisplayClusterOptions o;
      o.redis.addr = redis_->addr();
      o.member_id = id;
      r->cluster = std::make_unique<DisplayCluster>(o, &r->core);
      ASSERT_TRUE(r->cluster->Start().ok());
    }
  }
  void TearDown() override {
    for (auto& r : replicas_) r->cluster->Stop();
  }

  Replica& a() { return *replicas_[0]; }
  Replica& b() { return *replicas_[1]; }

  SimulatedClock clock_{absl::Now()};
  std::unique_ptr<utm::testing::RedisServer> redis_;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

TEST_F(DisplayClusterTest, WhatOneReplicaKeepsTheOtherShows) {
  const absl::Time now = clock_.Now();
  a().core.AddNetworkReport("op-1", Report("aircraft-1", now, kZurich));
  const geo::LatLng east = geo::GeodesicDestination(kZurich, 90, 300);
  ASSERT_TRUE(
      a().core.Publish("uss-1", Publication("ULYK563L5G", now, east)).ok());
  const geo::LatLng north = geo::GeodesicDestination(kZurich, 0, 300);
  ASSERT_TRUE(
      a().core.AddBroadcast(Heard("1AKGAAN8G70R7JS", now, north, "rx-1"))
          .has_value());

  // Shown as applied; counted once the message is through.
  ASSERT_TRUE(WaitFor([&] {
    return b().Shown(kZurich).size() == 3 &&
           b().cluster->stats().inputs_received == 3;
  })) << b().Shown(kZurich).size()
      << " flights on b";
  // The same ids, positions and sources on both: one picture.
  const std::vector<v1::RidFlight> on_a = a().Shown(kZurich);
  const std::vector<v1::RidFlight> on_b = b().Shown(kZurich);
  ASSERT_EQ(on_a.size(), 3u);
  for (size_t i = 0; i < on_a.size(); ++i) {
    EXPECT_EQ(on_b[i].id(), on_a[i].id());
    EXPECT_EQ(on_b[i].source(), on_a[i].source());
    EXPECT_DOUBLE_EQ(on_b[i].position().lat_deg(),
                     on_a[i].position().lat_deg());
    EXPECT_DOUBLE_EQ(on_b[i].position().lng_deg(),
                     on_a[i].position().lng_deg());
    EXPECT_EQ(on_b[i].time().seconds(), on_a[i].time().seconds());
    EXPECT_EQ(on_b[i].time().nanos(), on_a[i].time().nanos());
  }
  // Identities, for law enforcement on whichever replica they reach.
  for (const v1::RidFlight& f : on_b) {
    absl::StatusOr<v1::RidFlightDetails> d = b().core.Details(f.id());
    ASSERT_TRUE(d.ok()) << d.status();
    switch (f.source()) {
      case v1::RID_SOURCE_NETWORK:
        EXPECT_EQ(d->operator_account(), "op-1");
        EXPECT_EQ(d->aircraft_id(), "aircraft-1");
        break;
      case v1::RID_SOURCE_NETWORK_PUBLISHED:
        EXPECT_EQ(d->operator_account(), "uss-1");
        EXPECT_EQ(d->operator_id(), "CHE-RP-f39mqfitkh9e5");
        break;
      case v1::RID_SOURCE_BROADCAST:
        EXPECT_EQ(d->serial_number(), "1AKGAAN8G70R7JS");
        EXPECT_EQ(d->operator_id(), "FIN87astrdge12k8");
        EXPECT_EQ(d->description(), "survey");
        EXPECT_DOUBLE_EQ(d->operator_location().lat_deg(), 47.36);
        EXPECT_THAT(d->receivers(), ElementsAre("rx-1"));
        break;
      default:
        ADD_FAILURE() << "source " << f.source();
    }
  }
  // What b received it applied and never sent back.
  const DisplayCluster::Stats sa = a().cluster->stats(),
                              sb = b().cluster->stats();
  EXPECT_EQ(sa.inputs_queued, 3);
  EXPECT_EQ(sb.inputs_queued, 0);
  EXPECT_EQ(sb.inputs_received, 3);
  EXPECT_EQ(sb.inputs_refused, 0);
  EXPECT_EQ(sa.inputs_received, 0);
}

TEST_F(DisplayClusterTest, AParticipantHeardOnAnotherReplicaIsNoIntruder) {
  // The aircraft streams to a; a receiver that reaches b hears it.
  const absl::Time now = clock_.Now();
  a().core.AddNetworkReport("op-1", Report("1596A4JPN5R7B10", now, kZurich));
  ASSERT_TRUE(WaitFor([&] { return b().Shown(kZurich).size() == 1; }));
  const std::optional<HeardState> heard = b().core.AddBroadcast(
      Heard("1596A4JPN5R7B10", now, geo::GeodesicDestination(kZurich, 0, 10),
            "rx-b"));
  EXPECT_FALSE(heard.has_value())
      << "b took the participant for an intruder to itself";
  ASSERT_EQ(b().Shown(kZurich).size(), 1u);
  const std::string id = b().Shown(kZurich)[0].id();
  // The reception reaches a too: the same flight, heard by rx-b.
  ASSERT_TRUE(WaitFor([&] {
    absl::StatusOr<v1::RidFlightDetails> d = a().core.Details(id);
    return d.ok() && d->receivers_size() == 1;
  }));
  EXPECT_EQ(a().core.Details(id)->receivers(0), "rx-b");
  EXPECT_EQ(a().Shown(kZurich).size(), 1u);
}

TEST_F(DisplayClusterTest, NewerStatesMoveTheFlightOnEveryReplica) {
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 5; ++i) {
    a().core.AddNetworkReport(
        "op-1", Report("aircraft-1", t0 + absl::Seconds(i),
                       geo::GeodesicDestination(kZurich, 90, 5.0 * i)));
  }
  ASSERT_TRUE(WaitFor([&] {
    std::vector<v1::RidFlight> f = b().Shown(kZurich);
    return f.size() == 1 && f[0].recent_positions_size() == 5;
  }));
  // A late copy (an older state) changes nothing anywhere.
  a().core.AddNetworkReport("op-1", Report("aircraft-1", t0, kZurich));
  const std::vector<v1::RidFlight> on_b = b().Shown(kZurich);
  EXPECT_EQ(on_b[0].time().seconds(),
            absl::ToUnixSeconds(t0 + absl::Seconds(4)));
}

TEST_F(DisplayClusterTest, AfterARedisRestartTheReplicasShareAgain) {
  const absl::Time now = clock_.Now();
  ASSERT_TRUE(redis_->Restart().ok());
  // Each replica shows its own clients' inputs whatever Redis does.
  a().core.AddNetworkReport("op-1", Report("aircraft-1", now, kZurich));
  EXPECT_EQ(a().Shown(kZurich).size(), 1u);
  ASSERT_TRUE(WaitFor([&] {
    return a().cluster->healthy() && b().cluster->healthy();
  })) << "the subscribers never came back";
  // A later state of the same flight (a report a second) reaches b.
  int k = 0;
  ASSERT_TRUE(WaitFor([&] {
    a().core.AddNetworkReport(
        "op-1",
        Report("aircraft-1", now + absl::Milliseconds(10 * ++k), kZurich));
    return b().Shown(kZurich).size() == 1;
  }));
}

TEST_F(DisplayClusterTest, GarbageOnTheChannelIsCountedNotApplied) {
  absl::StatusOr<std::unique_ptr<redis::Client>> c = [&] {
    redis::ClientOptions o;
    o.addr = redis_->addr();
    return redis::Client::Connect(o);
  }();
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(
      (*c)->Command({"PUBLISH", "utm:rid:display", "\xff\x01garbage"}).ok());
  internal::DisplayBatch bad_time;
  bad_time.set_from_member("utmd-x");
  internal::DisplayReception* r = bad_time.add_receptions();
  r->set_uas_id("1AKGAAN8G70R7JS");
  r->mutable_time()->set_seconds(-100000000000LL);  // before year 1
  ASSERT_TRUE((*c)->Command({"PUBLISH", "utm:rid:display",
                             bad_time.SerializeAsString()})
                  .ok());
  // Each replica reads the channel on its own thread: wait for both.
  ASSERT_TRUE(WaitFor([&] {
    const DisplayCluster::Stats sa = a().cluster->stats();
    const DisplayCluster::Stats sb = b().cluster->stats();
    return sa.bad_messages == 1 && sa.inputs_refused == 1 &&
           sb.bad_messages == 1 && sb.inputs_refused == 1;
  }));
  EXPECT_EQ(a().core.flight_count(), 0u);
  EXPECT_EQ(b().core.flight_count(), 0u);
}

TEST(DisplayClusterQueueTest, WaitingInputsAreBounded) {
  SimulatedClock clock(absl::Now());
  RemoteIdCore core(Options(), &clock);
  DisplayClusterOptions o;
  o.redis.addr = "127.0.0.1:1";
  o.member_id = "utmd-a";
  o.max_queued_inputs = 4;
  o.max_inputs_per_message = 2;
  DisplayCluster cluster(o, &core);  // not started: nothing is published
  for (int i = 0; i < 10; ++i) {
    core.AddNetworkReport(
        "op-1", Report("aircraft-1", clock.Now() + absl::Seconds(i), kZurich));
  }
  EXPECT_EQ(cluster.pending(), 4u);
  EXPECT_EQ(cluster.stats().inputs_queued, 10);
  EXPECT_EQ(cluster.stats().inputs_dropped, 6);
}

TEST(DisplayClusterOptionsTest, BadOptionsNameTheField) {
  SimulatedClock clock(absl::Now());
  RemoteIdCore core(Options(), &clock);
  DisplayClusterOptions o;
  o.redis.addr = "127.0.0.1:6379";
  {
    DisplayCluster cluster(o, &core);
    EXPECT_THAT(std::string(cluster.Start().message()),
                ::testing::StartsWith("member_id"));
  }
  o.member_id = "utmd-a";
  o.redis.addr = "no-port";
  {
    DisplayCluster cluster(o, &core);
    EXPECT_THAT(std::string(cluster.Start().message()),
                ::testing::StartsWith("redis.addr"));
  }
}

}  // namespace
}  // namespace utm::remoteid
