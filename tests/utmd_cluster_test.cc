// Three real `utmd --store redis` processes as one deployment, end to end
// over gRPC: aircraft streaming to different replicas are deconflicted and
// a monitor on a third replica sees the alert once; a constraint watch
// client whose replica is killed mid fan-out resumes on another and misses
// nothing.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/regions.h"
#include "tests/utmd_redis_fixture.h"
#include "utm/v1/constraint.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::testing {
namespace {

const geo::LatLng kCentre{47.3769, 8.5417};

// Collects the alerts a stream receives, on its own thread.
template <typename Stream>
class Collector {
 public:
  explicit Collector(Stream* stream)
      : thread_([this, stream] {
          v1::AlertBatch batch;
          while (stream->Read(&batch)) {
            absl::MutexLock lock(&mu_);
            for (const v1::Alert& a : batch.alerts()) alerts_.push_back(a);
          }
        }) {}
  ~Collector() { thread_.join(); }
  // The RAISED conflict alerts received, after waiting (bounded) for one.
  std::vector<v1::Alert> Raised() {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::vector<v1::Alert> out;
    while (out.empty() && absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        for (const v1::Alert& a : alerts_) {
          if (a.kind() == v1::ALERT_KIND_CONFLICT_PREDICTED &&
              a.state() == v1::ALERT_STATE_RAISED) {
            out.push_back(a);
          }
        }
      }
      if (out.empty()) absl::SleepFor(absl::Milliseconds(5));
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::Alert> alerts_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

v1::PositionReport Report(const std::string& aircraft, const geo::LatLng& p,
                          double east_mps) {
  v1::PositionReport r;
  r.set_aircraft_id(aircraft);
  *r.mutable_time() = TimeToProto(absl::Now());
  r.mutable_position()->set_lat_deg(p.lat_deg);
  r.mutable_position()->set_lng_deg(p.lng_deg);
  r.mutable_altitude()->set_value_m(500);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_east_mps(east_mps);
  return r;
}

// A point on the border between two regions, walking east from Zurich.
geo::LatLng RegionBorder() {
  geo::LatLng p = kCentre;
  for (int step = 0; step < 100000; ++step) {
    const geo::LatLng q = geo::GeodesicDestination(p, 90, 100);
    if (telemetry::RegionOf(p) != telemetry::RegionOf(q)) return p;
    p = q;
  }
  ADD_FAILURE() << "no region border found";
  return p;
}

class UtmdClusterTest : public UtmdRedisTest {};

TEST_F(UtmdClusterTest, AircraftOnDifferentReplicasAreDeconflicted) {
  std::vector<UtmdProcess*> r;
  for (int i = 0; i < 3; ++i) {
    r.push_back(StartReplica());
    ASSERT_NE(r.back(), nullptr);
  }
  // Every replica has joined the member set (bounded), and has refreshed its
  // view of it since (every 500 ms).
  {
    redis::ClientOptions o;
    o.addr = redis_->addr();
    absl::StatusOr<std::unique_ptr<redis::Client>> c =
        redis::Client::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    int64_t members = 0;
    for (int i = 0; i < 200 && members < 3; ++i) {
      absl::StatusOr<redis::Reply> n =
          (*c)->Command({"ZCARD", "{tele}:members"});
      if (n.ok()) members = n->integer;
      if (members < 3) absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(members, 3) << "the replicas did not join the member set";
    absl::SleepFor(absl::Milliseconds(1200));
  }
  auto stub = [](UtmdProcess* p) {
    return v1::TelemetryService::NewStub(
        grpc::CreateChannel(p->address(), grpc::InsecureChannelCredentials()));
  };
  const geo::LatLng border = RegionBorder();
  const geo::LatLng west = geo::GeodesicDestination(border, 270, 300);
  const geo::LatLng east = geo::GeodesicDestination(border, 90, 300);

  // A monitor on replica 2; alice streams to replica 0, bob to replica 1.
  auto monitor_stub = stub(r[2]);
  v1::WatchAlertsRequest watch;
  v1::Circle* area =
      watch.mutable_area()->mutable_volume()->mutable_outline_circle();
  area->mutable_center()->set_lat_deg(border.lat_deg);
  area->mutable_center()->set_lng_deg(border.lng_deg);
  area->set_radius_m(5000);
  std::unique_ptr<grpc::ClientContext> watch_context = Context(
      Token("tower", {auth::Scope::kConformanceMonitoring}), absl::Seconds(20));
  auto watcher = monitor_stub->WatchAlerts(watch_context.get(), watch);
  Collector<grpc::ClientReader<v1::AlertBatch>> watched(watcher.get());

  auto a_stub = stub(r[0]);
  auto b_stub = stub(r[1]);
  std::unique_ptr<grpc::ClientContext> a_context = Context(
      Token("alice", {auth::Scope::kStrategicCoordination}), absl::Seconds(20));
  std::unique_ptr<grpc::ClientContext> b_context = Context(
      Token("bob", {auth::Scope::kStrategicCoordination}), absl::Seconds(20));
  auto a = a_stub->StreamPositions(a_context.get());
  auto b = b_stub->StreamPositions(b_context.get());
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> a_in(
      a.get());
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> b_in(
      b.get());
  // 600 m apart across the border, closing at 20 m/s: a predicted loss of
  // separation. Each report reaches the other's replica only through the
  // cluster.
  for (int seq = 1; seq <= 3; ++seq) {
    v1::PositionBatch batch;
    batch.set_batch_seq(seq);
    *batch.add_reports() = Report("B1", east, -10);
    ASSERT_TRUE(b->Write(batch));
    batch.Clear();
    batch.set_batch_seq(seq);
    *batch.add_reports() = Report("A1", west, 10);
    ASSERT_TRUE(a->Write(batch));
    absl::SleepFor(absl::Milliseconds(300));
  }
  std::string id;
  for (auto* in : {&a_in, &b_in}) {
    std::vector<v1::Alert> got = in->Raised();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_THAT(got[0].aircraft_ids(), ::testing::ElementsAre("A1", "B1"));
    if (id.empty()) id = got[0].id();
    EXPECT_EQ(got[0].id(), id);
  }
  std::vector<v1::Alert> seen = watched.Raised();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].id(), id);

  a->WritesDone();
  b->WritesDone();
  a_context->TryCancel();
  b_context->TryCancel();
  watch_context->TryCancel();
}

TEST_F(UtmdClusterTest, AWatchResumesOnAnotherReplicaWhenItsReplicaDies) {
  std::vector<UtmdProcess*> r;
  for (int i = 0; i < 3; ++i) {
    r.push_back(StartReplica());
    ASSERT_NE(r.back(), nullptr);
  }
  auto constraints = [](UtmdProcess* p) {
    return v1::ConstraintService::NewStub(
        grpc::CreateChannel(p->address(), grpc::InsecureChannelCredentials()));
  };
  const std::string authority =
      Token("ch-foca", {auth::Scope::kConstraintManagement});
  const std::string pilot =
      Token("alice", {auth::Scope::kStrategicCoordination});
  v1::WatchConstraintsRequest watch;
  v1::Circle* area =
      watch.mutable_area()->mutable_volume()->mutable_outline_circle();
  area->mutable_center()->set_lat_deg(kCentre.lat_deg);
  area->mutable_center()->set_lng_deg(kCentre.lng_deg);
  area->set_radius_m(50000);
  constexpr int kZones = 60;
  std::atomic<int> published{0};
  std::thread publisher;
  // What the client processed: every live change's sequence, and the last
  // sequence it saw (where it resumes).
  std::vector<int64_t> changes;
  int64_t last = 0;
  bool in_snapshot = false;
  auto consume = [&](const v1::ConstraintEvent& e) {
    if (e.has_snapshot_begin()) in_snapshot = true;
    if (e.has_snapshot_end()) in_snapshot = false;
    if ((e.has_upsert() || e.has_removed() || e.has_activity_changed()) &&
        !in_snapshot) {
      changes.push_back(e.sequence());
    }
    last = std::max(last, e.sequence());
  };
  {
    // On replica 1 until a third of the zones are out; then replica 1 is
    // killed (-9) under the client.
    auto stub = constraints(r[1]);
    std::unique_ptr<grpc::ClientContext> context =
        Context(pilot, absl::Seconds(20));
    auto stream = stub->WatchConstraints(context.get(), watch);
    v1::ConstraintEvent e;
    // The (empty) snapshot first, then the zones are published.
    while (stream->Read(&e)) {
      consume(e);
      if (e.has_snapshot_end()) break;
    }
    publisher = std::thread([&] {
      auto p0 = constraints(r[0]);
      auto p2 = constraints(r[2]);
      for (int k = 0; k < kZones; ++k) {
        v1::PublishConstraintRequest publish;
        publish.set_request_id(absl::StrCat("zone-", k));
        v1::Constraint& zone = *publish.mutable_constraint();
        zone.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
        geo::Volume4D v;
        v.volume.footprint =
            geo::Circle{geo::GeodesicDestination(kCentre, 90, 300.0 * k), 100};
        v.volume.altitude = {0, 1000};
        v.time = {absl::InfinitePast(), absl::InfiniteFuture()};
        *zone.add_volumes() = VolumeToProto(v);
        v1::PublishConstraintResponse out;
        grpc::Status s =
            (k % 2 == 0 ? p0 : p2)
                ->PublishConstraint(Context(authority).get(), publish, &out);
        EXPECT_TRUE(s.ok()) << s.error_message();
        ++published;
        absl::SleepFor(absl::Milliseconds(20));
      }
    });
    while (published < kZones / 3 && stream->Read(&e)) consume(e);
    r[1]->Kill9();
    while (stream->Read(&e)) consume(e);
    (void)stream->Finish();
  }
  EXPECT_GT(last, 0);
  // Resumed on replica 2 with the last sequence seen.
  watch.set_since_sequence(last);
  auto stub = constraints(r[2]);
  std::unique_ptr<grpc::ClientContext> context =
      Context(pilot, absl::Seconds(20));
  auto stream = stub->WatchConstraints(context.get(), watch);
  v1::ConstraintEvent e;
  while (stream->Read(&e)) {
    if (e.has_resync_required()) {
      ADD_FAILURE() << "resumed with a resync: " << e.DebugString();
      break;
    }
    consume(e);
    if (changes.size() >= static_cast<size_t>(kZones)) break;
  }
  publisher.join();
  context->TryCancel();
  std::vector<int64_t> want;
  for (int64_t s = 1; s <= kZones; ++s) want.push_back(s);
  EXPECT_EQ(changes, want) << "resumed after " << last;
}

}  // namespace
}  // namespace utm::testing
