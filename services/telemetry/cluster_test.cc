// Three replicas of the telemetry tier in one process, each with its own
// core, Redis connections, member id and channel, over a real redis-server:
// alerts are compared with one core that holds the whole picture, fed the
// same reports at the same simulated instants.
#include "services/telemetry/cluster.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/registration_check.h"
#include "services/common/redis/redis_client.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/regions.h"
#include "tests/testing/redis_server.h"

namespace utm::telemetry {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const std::vector<std::string> kMembers = {"utmd-0", "utmd-1", "utmd-2"};

#define REQUIRE_REDIS()                                                  \
  if (!utm::testing::RedisServerAvailable())                             \
  GTEST_SKIP() << "redis-server is not installed (/usr/bin/redis-server); " \
                  "this test needs a real one"

// No intents, no constraints: every aircraft gets UNKNOWN_INTENT, an alert
// about one aircraft, besides the conflicts between pairs.
class EmptyAirspace : public Airspace {
 public:
  std::shared_ptr<const IntentInfo> Intent(const std::string&) const override {
    return nullptr;
  }
  std::vector<std::string> BlockingConstraints(const std::string&,
                                               const geo::LatLng&, double,
                                               double, double,
                                               absl::Time) const override {
    return {};
  }
  void MarkNonconforming(const std::string&, const std::string&,
                         absl::Time) override {}
};

// The reference: one core that holds everything and raises everything,
// with the replicas' deterministic ids.
class SoleReplica : public ReplicaScope {
 public:
  bool Route(const std::string&, const v1::PositionReport&,
             const geo::LatLng&, absl::Time) override {
    return true;
  }
  bool Raises(const std::vector<std::pair<absl::string_view, geo::LatLng>>&)
      const override {
    return true;
  }
  std::optional<Episode> OpenEpisode(const std::string&) const override {
    return std::nullopt;
  }
};

// What a client sees of an alert change, figures aside.
using Seen = std::tuple<std::string, int, int, int64_t, int64_t, std::string>;

Seen SeenOf(const AlertChange& c) {
  const v1::Alert& a = c.alert;
  return {a.id(),
          a.state(),
          a.kind(),
          absl::ToUnixMillis(*TimeFromProto(a.raise_time(), "raise_time")),
          absl::ToUnixMillis(*TimeFromProto(a.update_time(), "update_time")),
          absl::StrJoin(a.aircraft_ids(), ",")};
}

std::string Describe(const Seen& s) {
  return absl::StrCat(std::get<0>(s), " ",
                      v1::AlertState_Name(static_cast<v1::AlertState>(std::get<1>(s))),
                      " ",
                      v1::AlertKind_Name(static_cast<v1::AlertKind>(std::get<2>(s))),
                      " raised ", std::get<3>(s) - absl::ToUnixMillis(kT0),
                      " updated ", std::get<4>(s) - absl::ToUnixMillis(kT0),
                      " [", std::get<5>(s), "]");
}

// A point on a region border (found by scanning eastwards and bisecting)
// whose two regions have different owners among kMembers.
struct Border {
  geo::LatLng at;
  uint64_t west, east;
};

std::vector<Border> FindBorders(int n) {
  std::vector<Border> out;
  std::set<uint64_t> used;
  for (double lat = 46.0; lat < 48.0 && static_cast<int>(out.size()) < n;
       lat += 0.37) {
    geo::LatLng p{lat, 7.0};
    for (int step = 0; step < 2000; ++step) {
      const geo::LatLng q = geo::GeodesicDestination(p, 90, 200);
      const uint64_t rp = RegionOf(p), rq = RegionOf(q);
      if (rp != rq) {
        geo::LatLng lo = p, hi = q;
        for (int i = 0; i < 20; ++i) {
          const geo::LatLng mid{(lo.lat_deg + hi.lat_deg) / 2,
                                (lo.lng_deg + hi.lng_deg) / 2};
          (RegionOf(mid) == rp ? lo : hi) = mid;
        }
        // Far enough from other borders that the scenario crosses one.
        const geo::LatLng w = geo::GeodesicDestination(lo, 270, 2000);
        const geo::LatLng e = geo::GeodesicDestination(hi, 90, 2000);
        if (RegionOf(w) == rp && RegionOf(e) == rq &&
            OwnerOf(rp, kMembers) != OwnerOf(rq, kMembers) &&
            !used.count(rp) && !used.count(rq)) {
          used.insert(rp);
          used.insert(rq);
          out.push_back({lo, rp, rq});
          break;
        }
      }
      p = q;
    }
  }
  return out;
}

// Pair k: "op-a"/"a<k>" flies east and "op-b"/"b<k>" west, 20 m/s each, 20
// m apart laterally, meeting on border k at t = 75 s: PREDICTED from
// about 44 s, IMMINENT, SEPARATION_LOST around the border crossing (where
// the alerting region changes owner), then CLEARED as they part.
struct Flight {
  std::string operator_id, aircraft_id;
  geo::LatLng start;
  double bearing;
};

std::vector<Flight> FlightsAround(const std::vector<Border>& borders) {
  std::vector<Flight> out;
  for (size_t k = 0; k < borders.size(); ++k) {
    const geo::LatLng at = borders[k].at;
    out.push_back({"op-a", absl::StrCat("a", k),
                   geo::GeodesicDestination(at, 270, 1503), 90});
    out.push_back(
        {"op-b", absl::StrCat("b", k),
         geo::GeodesicDestination(geo::GeodesicDestination(at, 0, 20), 90, 1503),
         270});
  }
  return out;
}

v1::PositionReport ReportAt(const Flight& f, int t_s) {
  v1::PositionReport r;
  r.set_aircraft_id(f.aircraft_id);
  const geo::LatLng p = geo::GeodesicDestination(f.start, f.bearing, 20.0 * t_s);
  r.mutable_position()->set_lat_deg(p.lat_deg);
  r.mutable_position()->set_lng_deg(p.lng_deg);
  r.mutable_altitude()->set_value_m(100);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_east_mps(f.bearing == 90 ? 20 : -20);
  *r.mutable_time() = TimeToProto(kT0 + absl::Seconds(t_s));
  return r;
}

TelemetryOptions CoreOptions() {
  TelemetryOptions o;
  o.separation.horizontal_m = 50;
  o.separation.vertical_m = 15;
  o.separation.lookahead_s = 30;
  return o;
}

// One replica: a core, its cluster node, and what its streams got.
struct Replica {
  Replica(const std::string& member, const std::string& addr,
          const Clock* clock, double reach_m)
      : core(CoreOptions(), clock, &airspace) {
    ClusterOptions o;
    o.redis.addr = addr;
    o.member_id = member;
    o.reach_m = reach_m;
    o.batch_window = absl::Milliseconds(5);
    o.refresh = absl::Milliseconds(200);
    // Long enough that a starved renewal under CI load never expires it.
    o.lease = absl::Seconds(5);
    cluster = std::make_unique<TelemetryCluster>(o, &core, clock);
    cluster->SetAlertSink([this](const std::vector<AlertChange>& changes) {
      absl::MutexLock lock(&mu);
      for (const AlertChange& c : changes) routed.push_back(SeenOf(c));
    });
  }
  ~Replica() { cluster->Stop(); }

  std::vector<Seen> Routed() {
    absl::MutexLock lock(&mu);
    return routed;
  }

  EmptyAirspace airspace;
  TelemetryCore core;
  std::unique_ptr<TelemetryCluster> cluster;
  absl::Mutex mu;
  std::vector<Seen> routed ABSL_GUARDED_BY(mu);
  bool live = true;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!utm::testing::RedisServerAvailable()) return;
    auto server = utm::testing::RedisServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    redis_ = *std::move(server);
    borders_ = FindBorders(4);
    ASSERT_EQ(borders_.size(), 4u) << "no borders with distinct owners found";
    flights_ = FlightsAround(borders_);
    reference_.SetReplicaScope(&sole_);
  }

  void StartReplicas(double reach_m = 0) {
    for (const std::string& m : kMembers) {
      replicas_.push_back(
          std::make_unique<Replica>(m, redis_->addr(), &clock_, reach_m));
    }
    for (auto& r : replicas_) {
      ASSERT_TRUE(r->cluster->Start().ok()) << r->cluster->member_id();
    }
    WaitForViews(3);
  }

  // Until every live replica sees `n` members.
  void WaitForViews(size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    for (auto& r : replicas_) {
      while (r->live && r->cluster->members().size() != n &&
             absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      if (r->live) {
        ASSERT_EQ(r->cluster->members().size(), n)
            << absl::StrJoin(r->cluster->members(), ",");
      }
    }
  }

  // Until nothing waits to be published and everything published was
  // handled by the replicas that heard it.
  void Quiesce() {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (;;) {
      size_t pending = 0;
      int64_t delivered = 0, ingested = 0, alerts_out = 0, alerts_in = 0;
      for (auto& r : replicas_) {
        const TelemetryCluster::Stats s = r->cluster->stats();
        pending += r->cluster->pending();
        delivered += s.reports_delivered;
        ingested += s.forwarded_ingested;
        alerts_out += s.alerts_delivered;
        alerts_in += s.alerts_received;
      }
      if (pending == 0 && delivered == ingested && alerts_out == alerts_in) {
        return;
      }
      ASSERT_LT(absl::Now(), deadline)
          << "not quiet: pending " << pending << ", reports " << delivered
          << "/" << ingested << ", alerts " << alerts_out << "/" << alerts_in;
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

  // Second t: every flight reports to its replica (flight i to replica
  // receiver(i)) and the reference; then the replicas and the reference
  // tick.
  void Step(int t, const std::function<size_t(size_t)>& receiver) {
    clock_.Set(kT0 + absl::Seconds(t));
    for (size_t i = 0; i < flights_.size(); ++i) {
      google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
      *batch.Add() = ReportAt(flights_[i], t);
      Replica& r = *replicas_[receiver(i)];
      TelemetryCore::Result got = r.core.Ingest(flights_[i].operator_id, batch);
      ASSERT_TRUE(got.errors.empty()) << got.errors[0].message();
      r.cluster->Emit(got.alerts);
      TelemetryCore::Result want =
          reference_.Ingest(flights_[i].operator_id, batch);
      for (const AlertChange& c : want.alerts) expected_.push_back(SeenOf(c));
    }
    Quiesce();
    for (auto& r : replicas_) {
      if (r->live) r->cluster->Tick();
    }
    for (const AlertChange& c : reference_.Tick()) {
      expected_.push_back(SeenOf(c));
    }
    Quiesce();
  }

  static size_t DefaultReceiver(size_t flight) {
    // a<k> to replica k % 3, b<k> to (k + 1) % 3: never the same.
    const size_t k = flight / 2;
    return (k + flight % 2) % 3;
  }

  // The changes of `seen` as (id, state, kind), for the checks that allow
  // duplicates and shifted updates.
  static std::set<std::tuple<std::string, int, int>> Kinds(
      const std::vector<Seen>& seen) {
    std::set<std::tuple<std::string, int, int>> out;
    for (const Seen& s : seen) {
      out.emplace(std::get<0>(s), std::get<1>(s), std::get<2>(s));
    }
    return out;
  }

  std::unique_ptr<utm::testing::RedisServer> redis_;
  std::vector<Border> borders_;
  std::vector<Flight> flights_;
  SimulatedClock clock_{kT0};
  EmptyAirspace reference_airspace_;
  TelemetryCore reference_{CoreOptions(), &clock_, &reference_airspace_};
  SoleReplica sole_;
  std::vector<Seen> expected_;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

TEST_F(ClusterTest, CrossRegionPairsAlertAsOnOneCoreOnEveryReplica) {
  REQUIRE_REDIS();
  StartReplicas();
  for (int t = 0; t <= 100; ++t) {
    ASSERT_NO_FATAL_FAILURE(Step(t, DefaultReceiver));
  }
  // The scenario is what it says: per pair one conflict episode through
  // PREDICTED, IMMINENT, SEPARATION_LOST and CLEARED.
  std::map<std::string, std::set<int>> kinds_of;
  int raised = 0, pair_raised = 0;
  for (const Seen& s : expected_) {
    kinds_of[std::get<0>(s)].insert(std::get<2>(s));
    if (std::get<1>(s) == v1::ALERT_STATE_RAISED) {
      ++raised;
      if (std::get<5>(s).find(',') != std::string::npos) ++pair_raised;
    }
  }
  ASSERT_EQ(pair_raised, 4);
  ASSERT_EQ(raised, 4 + 8);  // and UNKNOWN_INTENT for each aircraft
  std::vector<Seen> want = expected_;
  std::sort(want.begin(), want.end());
  for (size_t r = 0; r < replicas_.size(); ++r) {
    std::vector<Seen> got = replicas_[r]->Routed();
    std::sort(got.begin(), got.end());
    std::vector<std::string> m, e;
    for (const Seen& s : want) {
      if (!std::binary_search(got.begin(), got.end(), s)) m.push_back(Describe(s));
    }
    for (const Seen& s : got) {
      if (!std::binary_search(want.begin(), want.end(), s)) e.push_back(Describe(s));
    }
    EXPECT_TRUE(m.empty() && e.empty() && got.size() == want.size())
        << "replica " << r << " (" << got.size() << " vs " << want.size()
        << " changes)\nmissing:\n  " << absl::StrJoin(m, "\n  ")
        << "\nextra:\n  " << absl::StrJoin(e, "\n  ");
  }
  // Alerts were raised on more than one replica, and reports forwarded.
  // Each change was raised by exactly one replica (the sinks dedupe, so
  // this is checked where they are published).
  int raising = 0;
  int64_t forwarded = 0, published = 0;
  for (auto& r : replicas_) {
    const TelemetryCluster::Stats s = r->cluster->stats();
    forwarded += s.reports_forwarded;
    published += s.alerts_published;
    if (s.alerts_published > 0) ++raising;
    EXPECT_EQ(s.reports_dropped + s.publish_failures + s.bad_messages, 0);
  }
  EXPECT_EQ(published, static_cast<int64_t>(expected_.size()));
  EXPECT_GE(raising, 2);
  EXPECT_GT(forwarded, 0);
}

// The check above fails when reports go to their own region's owner only
// (no halo): a pair across a border is then seen whole by no replica.
TEST_F(ClusterTest, WithoutTheHaloCrossRegionConflictsAreMissed) {
  REQUIRE_REDIS();
  StartReplicas(/*reach_m=*/1);
  for (int t = 0; t <= 100; ++t) {
    ASSERT_NO_FATAL_FAILURE(Step(t, DefaultReceiver));
  }
  const auto want = Kinds(expected_);
  const auto got = Kinds(replicas_[2]->Routed());
  int missing = 0;
  for (const auto& w : want) missing += got.count(w) == 0;
  EXPECT_GT(missing, 0) << "the halo made no difference: the scenario does "
                           "not test cross-region pairs";
}

TEST_F(ClusterTest, AMemberLeavingMidEpisodeLosesNoAlertAndKeepsIds) {
  REQUIRE_REDIS();
  StartReplicas();
  // Replica 0 stops while every pair is in conflict (PREDICTED from ~44 s,
  // SEPARATION_LOST ~74-76 s); its clients move to replica 1.
  auto receiver = [this](size_t flight) {
    const size_t r = DefaultReceiver(flight);
    return replicas_[r]->live ? r : size_t{1};
  };
  int owned_by_0 = 0;
  for (const Border& b : borders_) {
    owned_by_0 += OwnerOf(b.west, kMembers) == "utmd-0";
    owned_by_0 += OwnerOf(b.east, kMembers) == "utmd-0";
  }
  ASSERT_GT(owned_by_0, 0) << "replica 0 owns none of the regions";
  for (int t = 0; t <= 100; ++t) {
    if (t == 60) {
      replicas_[0]->cluster->Stop();
      replicas_[0]->live = false;
      WaitForViews(2);
    }
    ASSERT_NO_FATAL_FAILURE(Step(t, receiver));
  }
  // Every expected (id, state, kind) reached the watcher on replica 2 (an
  // update may come twice or at another second after the take-over), and
  // no alert appeared under an id of its own.
  const auto want = Kinds(expected_);
  const auto got = Kinds(replicas_[2]->Routed());
  std::vector<std::string> missing, unknown;
  std::set<std::string> ids;
  for (const auto& w : want) ids.insert(std::get<0>(w));
  for (const auto& w : want) {
    if (!got.count(w)) {
      missing.push_back(absl::StrCat(std::get<0>(w), " ", std::get<1>(w), " ",
                                     std::get<2>(w)));
    }
  }
  for (const auto& g : got) {
    if (!ids.count(std::get<0>(g))) unknown.push_back(std::get<0>(g));
  }
  EXPECT_TRUE(missing.empty()) << absl::StrJoin(missing, "\n");
  EXPECT_TRUE(unknown.empty()) << absl::StrJoin(unknown, "\n");
}

// Every aircraft registered to its operator but those revoked. Thread-safe:
// the cores ask from the ingesting and the subscriber threads.
class RevocableRegistry : public registration::RegistrationChecker {
 public:
  void SetRevoked(const std::string& serial, bool revoked) {
    absl::MutexLock lock(&mu_);
    if (revoked) {
      revoked_.insert(serial);
    } else {
      revoked_.erase(serial);
    }
  }
  absl::Status CheckAircraft(absl::string_view, absl::string_view aircraft_id,
                             int64_t, absl::string_view field) const override {
    absl::MutexLock lock(&mu_);
    return revoked_.count(std::string(aircraft_id))
               ? absl::FailedPreconditionError(
                     absl::StrCat(field, ": ", aircraft_id, " is revoked"))
               : absl::OkStatus();
  }

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> revoked_ ABSL_GUARDED_BY(mu_);
};

// A revocation reaches every replica (each one's registry observer), and
// both the owner of the aircraft's region and the replica holding it in its
// halo keep the alert's state, but only the owner raises it; after the
// aircraft crosses into the other's region that one continues it under the
// same id and clears it on the new registration. Every replica's streams
// get each change once.
TEST_F(ClusterTest, ARevocationIsRaisedOnceByTheAircraftsOwner) {
  REQUIRE_REDIS();
  StartReplicas();
  RevocableRegistry registry;
  for (auto& r : replicas_) r->core.SetRegistrationChecker(&registry);
  for (int t = 0; t <= 10; ++t) {
    ASSERT_NO_FATAL_FAILURE(Step(t, DefaultReceiver));
  }
  // a0 (flight 0, op-a) flies in borders_[0].west, 1.3 km short of the
  // border: within the east region owner's halo.
  const std::string west_owner = OwnerOf(borders_[0].west, kMembers);
  const std::string east_owner = OwnerOf(borders_[0].east, kMembers);
  v1::AircraftRegistration reg;
  reg.set_serial_number("a0");
  reg.set_operator_id("op-a");
  *reg.mutable_revoke_time() = TimeToProto(clock_.Now());
  reg.set_revoke_reason("reported stolen");
  registry.SetRevoked("a0", true);
  // What each replica's observer does (TelemetryService's
  // OnRegistrationChanged): the core's changes, emitted.
  auto tell_everyone = [&]() {
    std::vector<std::string> raisers;
    for (auto& r : replicas_) {
      r->core.OnRegistrationChanged(reg);
      std::vector<AlertChange> c = r->core.TakeRegistrationAlerts();
      if (!c.empty()) raisers.push_back(r->cluster->member_id());
      r->cluster->Emit(c);
    }
    return raisers;
  };
  EXPECT_THAT(tell_everyone(), ::testing::ElementsAre(west_owner));
  int holders = 0;
  for (auto& r : replicas_) {
    for (const AlertChange& c : r->core.OpenAlerts()) {
      holders += c.alert.kind() == v1::ALERT_KIND_REGISTRATION_REVOKED;
    }
  }
  EXPECT_EQ(holders, 2);  // the owner's and the halo's copy
  ASSERT_NO_FATAL_FAILURE(Quiesce());

  // It flies on (its reports accepted everywhere) across the border.
  for (int t = 11; t <= 100; ++t) {
    ASSERT_NO_FATAL_FAILURE(Step(t, DefaultReceiver));
  }
  registry.SetRevoked("a0", false);
  reg.clear_revoke_time();
  reg.clear_revoke_reason();
  EXPECT_THAT(tell_everyone(), ::testing::ElementsAre(east_owner));
  ASSERT_NO_FATAL_FAILURE(Quiesce());

  for (auto& r : replicas_) {
    SCOPED_TRACE(r->cluster->member_id());
    std::set<std::string> ids;
    int raised = 0, cleared = 0, updated_after_crossing = 0;
    for (const Seen& s : r->Routed()) {
      if (std::get<2>(s) != v1::ALERT_KIND_REGISTRATION_REVOKED) continue;
      ids.insert(std::get<0>(s));
      EXPECT_EQ(std::get<5>(s), "a0");
      raised += std::get<1>(s) == v1::ALERT_STATE_RAISED;
      cleared += std::get<1>(s) == v1::ALERT_STATE_CLEARED;
      updated_after_crossing +=
          std::get<1>(s) == v1::ALERT_STATE_UPDATED &&
          std::get<4>(s) - absl::ToUnixMillis(kT0) > 80'000;
    }
    EXPECT_EQ(ids.size(), 1u);
    EXPECT_EQ(raised, 1);
    EXPECT_EQ(cleared, 1);
    EXPECT_GT(updated_after_crossing, 0);
  }
}

TEST_F(ClusterTest, RoutingRecoversAfterRedisRestarts) {
  REQUIRE_REDIS();
  StartReplicas();
  for (int t = 0; t <= 100; ++t) {
    if (t == 60) {
      // Without persistence: the member set is gone too.
      ASSERT_TRUE(redis_->Restart().ok());
      const absl::Time deadline = absl::Now() + absl::Seconds(15);
      for (auto& r : replicas_) {
        while (!r->cluster->healthy() && absl::Now() < deadline) {
          absl::SleepFor(absl::Milliseconds(10));
        }
        ASSERT_TRUE(r->cluster->healthy()) << r->cluster->member_id();
      }
      WaitForViews(3);
    }
    ASSERT_NO_FATAL_FAILURE(Step(t, DefaultReceiver));
  }
  const auto want = Kinds(expected_);
  for (size_t r = 0; r < replicas_.size(); ++r) {
    const auto got = Kinds(replicas_[r]->Routed());
    std::vector<std::string> missing;
    for (const auto& w : want) {
      if (!got.count(w)) {
        missing.push_back(absl::StrCat(std::get<0>(w), " ", std::get<1>(w),
                                       " ", std::get<2>(w)));
      }
    }
    EXPECT_TRUE(missing.empty())
        << "replica " << r << ":\n" << absl::StrJoin(missing, "\n");
  }
}

// Redis down: a replica still alerts about the aircraft of its own regions
// that stream to it; what it must forward is lost, and counted.
TEST_F(ClusterTest, WithRedisDownOwnRegionsStillAlertAndForwardingIsCounted) {
  REQUIRE_REDIS();
  StartReplicas();
  // A point deep inside a region of utmd-0 (no halo: 5 km from any border).
  geo::LatLng inside{46.5, 7.5};
  for (int i = 0; i < 10000; ++i) {
    if (OwnerOf(RegionOf(inside), kMembers) == "utmd-0" &&
        RegionsWithin(inside, 5000).size() == 1) {
      break;
    }
    inside = geo::GeodesicDestination(inside, 90, 997);
  }
  ASSERT_EQ(OwnerOf(RegionOf(inside), kMembers), "utmd-0");
  ASSERT_EQ(RegionsWithin(inside, 5000).size(), 1u);
  redis_->Kill9();

  Flight a{"op-a", "x1", geo::GeodesicDestination(inside, 270, 303), 90};
  Flight b{"op-b", "x2", geo::GeodesicDestination(inside, 90, 303), 270};
  for (const Flight& f : {a, b}) {
    google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
    *batch.Add() = ReportAt(f, 0);
    TelemetryCore::Result r = replicas_[0]->core.Ingest(f.operator_id, batch);
    ASSERT_TRUE(r.errors.empty());
    replicas_[0]->cluster->Emit(r.alerts);
  }
  bool conflict = false;
  for (const Seen& s : replicas_[0]->Routed()) {
    conflict |= std::get<2>(s) == v1::ALERT_KIND_CONFLICT_PREDICTED &&
                std::get<1>(s) == v1::ALERT_STATE_RAISED;
  }
  EXPECT_TRUE(conflict) << "no local alert with Redis down";

  // The same aircraft streaming to utmd-1 must be forwarded: lost.
  google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
  *batch.Add() = ReportAt(a, 1);
  clock_.Set(kT0 + absl::Seconds(1));
  TelemetryCore::Result r = replicas_[1]->core.Ingest("op-a", batch);
  ASSERT_TRUE(r.errors.empty());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (replicas_[1]->cluster->stats().publish_failures < 1 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(replicas_[1]->cluster->stats().publish_failures, 1);
  EXPECT_EQ(replicas_[1]->cluster->stats().reports_kept, 0);
}

// An aircraft heard by Remote ID reaches the replica that owns its region
// like any report: heard on utmd-0, it raises the conflict with a
// participant streaming to utmd-1, the owner, under the id and with the
// figures one core would give (so the forwarded form carries its
// uncertainty), and every replica routes it, to no operator but the
// participant's.
TEST_F(ClusterTest, IntruderHeardOnOneReplicaAlertsAParticipantOfAnother) {
  REQUIRE_REDIS();
  StartReplicas();
  // Deep inside a region of utmd-1 (5 km from any border: no halo).
  geo::LatLng inside{46.5, 7.5};
  for (int i = 0; i < 10000; ++i) {
    if (OwnerOf(RegionOf(inside), kMembers) == "utmd-1" &&
        RegionsWithin(inside, 5000).size() == 1) {
      break;
    }
    inside = geo::GeodesicDestination(inside, 90, 997);
  }
  ASSERT_EQ(OwnerOf(RegionOf(inside), kMembers), "utmd-1");
  ASSERT_EQ(RegionsWithin(inside, 5000).size(), 1u);

  // P 300 m west flying east, the intruder 300 m east flying west, 10 m/s
  // each; the intruder declares 10 m and is heard 0.5 s late: D' = 50 + 10
  // + 5 = 65 m, so the loss comes in (600 − 65) / 20 = 26.75 s.
  auto report = [](const std::string& id, geo::LatLng p, double ve) {
    v1::PositionReport r;
    r.set_aircraft_id(id);
    *r.mutable_time() = TimeToProto(kT0);
    r.mutable_position()->set_lat_deg(p.lat_deg);
    r.mutable_position()->set_lng_deg(p.lng_deg);
    r.mutable_altitude()->set_value_m(100);
    r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r.mutable_velocity()->set_east_mps(ve);
    return r;
  };
  google::protobuf::RepeatedPtrField<v1::PositionReport> batch;
  *batch.Add() = report("P", geo::GeodesicDestination(inside, 270, 300), 10);
  TelemetryCore::Result got = replicas_[1]->core.Ingest("op-a", batch);
  ASSERT_TRUE(got.errors.empty());
  replicas_[1]->cluster->Emit(got.alerts);
  for (const AlertChange& c : reference_.Ingest("op-a", batch).alerts) {
    expected_.push_back(SeenOf(c));
  }
  IntruderReport heard;
  heard.remote_id = "FA3-RID";
  heard.report = report("", geo::GeodesicDestination(inside, 90, 300), -10);
  heard.report.mutable_accuracy()->set_horizontal_m(10);
  heard.report.mutable_accuracy()->set_vertical_m(3);
  heard.latency = absl::Milliseconds(500);
  got = replicas_[0]->core.IngestIntruders({heard});
  ASSERT_TRUE(got.errors.empty()) << got.errors[0].message();
  EXPECT_TRUE(got.alerts.empty()) << "utmd-0 does not hold P";
  replicas_[0]->cluster->Emit(got.alerts);
  TelemetryCore::Result want = reference_.IngestIntruders({heard});
  ASSERT_EQ(want.alerts.size(), 1u);
  const v1::Alert& w = want.alerts[0].alert;
  ASSERT_EQ(w.kind(), v1::ALERT_KIND_CONFLICT_PREDICTED);
  EXPECT_NEAR(w.time_to_loss_of_separation().seconds() +
                  w.time_to_loss_of_separation().nanos() * 1e-9,
              26.75, 0.01);
  Quiesce();

  // Kept by the owner only, forwarded by the replica that heard it.
  EXPECT_EQ(replicas_[0]->core.track_count(), 0u);
  EXPECT_EQ(replicas_[1]->core.intruder_count(), 1u);
  EXPECT_EQ(replicas_[2]->core.track_count(), 0u);
  EXPECT_EQ(replicas_[0]->cluster->stats().reports_forwarded, 1);
  EXPECT_EQ(replicas_[0]->cluster->stats().reports_kept, 0);
  for (size_t r = 0; r < replicas_.size(); ++r) {
    SCOPED_TRACE(absl::StrCat("replica ", r));
    bool routed = false;
    for (const Seen& s : replicas_[r]->Routed()) {
      routed |= s == SeenOf(want.alerts[0]);
    }
    EXPECT_TRUE(routed) << "missing " << Describe(SeenOf(want.alerts[0]));
    bool open = false;
    for (const AlertChange& c : replicas_[r]->cluster->OpenAlerts()) {
      if (c.alert.id() != w.id()) continue;
      open = true;
      EXPECT_THAT(c.alert.aircraft_ids(), ::testing::ElementsAre("FA3-RID", "P"));
      EXPECT_THAT(c.operators, ::testing::ElementsAre("op-a"));
      EXPECT_EQ(c.alert.time_to_loss_of_separation().seconds(),
                w.time_to_loss_of_separation().seconds());
      EXPECT_EQ(c.alert.time_to_loss_of_separation().nanos(),
                w.time_to_loss_of_separation().nanos());
    }
    EXPECT_TRUE(open);
  }
  // Raised once, by the owner (with P's UNKNOWN_INTENT: no intents here).
  EXPECT_EQ(replicas_[0]->cluster->stats().alerts_published, 0);
  EXPECT_EQ(replicas_[1]->cluster->stats().alerts_published, 2);
  EXPECT_EQ(replicas_[2]->cluster->stats().alerts_published, 0);
}

TEST_F(ClusterTest, JunkOnAChannelIsCountedAndIgnored) {
  REQUIRE_REDIS();
  StartReplicas();
  redis::ClientOptions co;
  co.addr = redis_->addr();
  auto client = redis::Client::Connect(co);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Command({"PUBLISH", "utm:tele:utmd-1", "\xff\xff junk"}).ok());
  ASSERT_TRUE((*client)->Command({"PUBLISH", "utm:tele:alerts", "\x0a\xff"}).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (replicas_[1]->cluster->stats().bad_messages < 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(replicas_[1]->cluster->stats().bad_messages, 2);
  // Still routing.
  for (int t = 0; t <= 50; ++t) {
    ASSERT_NO_FATAL_FAILURE(Step(t, DefaultReceiver));
  }
  EXPECT_GT(replicas_[1]->Routed().size(), 0u);
}

TEST(TelemetryCluster, RefusesBadMemberIds) {
  EmptyAirspace airspace;
  SimulatedClock clock(kT0);
  TelemetryCore core(CoreOptions(), &clock, &airspace);
  for (const auto& [id, fragment] :
       std::vector<std::pair<std::string, std::string>>{
           {"", "member_id"}, {"has space", "member_id"},
           {"alerts", "alert feed"}, {std::string(201, 'x'), "member_id"}}) {
    ClusterOptions o;
    o.redis.addr = "127.0.0.1:1";
    o.member_id = id;
    TelemetryCluster cluster(o, &core, &clock);
    const absl::Status s = cluster.Start();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(s.message(), HasSubstr(fragment));
  }
}

}  // namespace
}  // namespace utm::telemetry
