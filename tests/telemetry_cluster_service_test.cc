// Integration: three utmd telemetry replicas in one process, each a
// TelemetryService on its own gRPC server with its own core and
// TelemetryCluster, over one real redis-server. Two operators stream
// converging aircraft to two different replicas, neither of which owns the
// aircraft's regions, and a monitor watches from the third: each of them
// gets the conflict alert, once, and a watcher that connects later starts
// with it.
#include <grpcpp/client_context.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "services/telemetry/cluster.h"
#include "services/telemetry/regions.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_service.h"
#include "tests/service_test_util.h"
#include "tests/telemetry_test_util.h"
#include "tests/testing/redis_server.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const std::vector<std::string> kMembers = {"utmd-0", "utmd-1", "utmd-2"};

// Collects what a stream receives, on its own thread.
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
  // The alerts of `kind` and `state` received so far, after waiting
  // (bounded) for the first.
  std::vector<v1::Alert> WaitFor(v1::AlertKind kind, v1::AlertState state) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::vector<v1::Alert> out;
    while (out.empty() && absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        for (const v1::Alert& a : alerts_) {
          if (a.kind() == kind && a.state() == state) out.push_back(a);
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

struct Replica {
  Replica(const std::string& member, const std::string& redis_addr,
          const Clock* clock, const auth::Verifier* verifier)
      : core(telemetry::TelemetryOptions(), clock, &airspace),
        service(&core, verifier, clock) {
    telemetry::ClusterOptions o;
    o.redis.addr = redis_addr;
    o.member_id = member;
    cluster = std::make_unique<telemetry::TelemetryCluster>(o, &core, clock);
    service.UseCluster(cluster.get());
  }
  ~Replica() {
    // Streams end first, then the cluster (whose sink is the service).
    service.EndStreams();
    server.reset();
    cluster->Stop();
  }
  test_util::EmptyAirspace airspace;
  telemetry::TelemetryCore core;
  telemetry::TelemetryService service;
  std::unique_ptr<telemetry::TelemetryCluster> cluster;
  std::unique_ptr<Server> server;
  std::unique_ptr<v1::TelemetryService::Stub> stub;
};

// A point on a border between a region of utmd-0 (west) and one of utmd-1.
geo::LatLng FindBorder() {
  geo::LatLng p{47.0, 7.0};
  for (int step = 0; step < 100000; ++step) {
    const geo::LatLng q = geo::GeodesicDestination(p, 90, 100);
    const uint64_t rp = telemetry::RegionOf(p), rq = telemetry::RegionOf(q);
    if (rp != rq && telemetry::OwnerOf(rp, kMembers) == kMembers[0] &&
        telemetry::OwnerOf(rq, kMembers) == kMembers[1]) {
      geo::LatLng lo = p, hi = q;
      for (int i = 0; i < 20; ++i) {
        const geo::LatLng mid{(lo.lat_deg + hi.lat_deg) / 2,
                              (lo.lng_deg + hi.lng_deg) / 2};
        (telemetry::RegionOf(mid) == rp ? lo : hi) = mid;
      }
      return lo;
    }
    p = q;
  }
  ADD_FAILURE() << "no border found";
  return p;
}

v1::PositionReport Report(const std::string& aircraft, const geo::LatLng& p,
                          double ve) {
  v1::PositionReport r;
  r.set_aircraft_id(aircraft);
  *r.mutable_time() = TimeToProto(kNow);
  r.mutable_position()->set_lat_deg(p.lat_deg);
  r.mutable_position()->set_lng_deg(p.lng_deg);
  r.mutable_altitude()->set_value_m(500);
  r.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
  r.mutable_velocity()->set_east_mps(ve);
  return r;
}

TEST(TelemetryClusterService, OperatorsAndAWatcherOnThreeReplicasGetTheAlert) {
  if (!utm::testing::RedisServerAvailable()) {
    GTEST_SKIP() << "redis-server is not installed (/usr/bin/redis-server); "
                    "this test needs a real one";
  }
  auto redis = utm::testing::RedisServer::Start({});
  ASSERT_TRUE(redis.ok()) << redis.status();
  SimulatedClock clock(kNow);
  test_util::ServiceTestAuth auth(&clock);
  std::vector<std::unique_ptr<Replica>> replicas;
  for (const std::string& m : kMembers) {
    replicas.push_back(std::make_unique<Replica>(m, (*redis)->addr(), &clock,
                                                 auth.verifier()));
  }
  for (auto& r : replicas) {
    ASSERT_TRUE(r->cluster->Start().ok());
    absl::StatusOr<std::unique_ptr<Server>> server =
        test_util::StartOnLoopback({&r->service});
    ASSERT_TRUE(server.ok()) << server.status();
    r->server = *std::move(server);
    r->stub =
        v1::TelemetryService::NewStub(test_util::LoopbackChannel(*r->server));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (auto& r : replicas) {
    while (r->cluster->members().size() != 3 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_EQ(r->cluster->members().size(), 3u);
  }
  const geo::LatLng border = FindBorder();
  const geo::LatLng west = geo::GeodesicDestination(border, 270, 300);
  const geo::LatLng east = geo::GeodesicDestination(border, 90, 300);

  // The monitor watches from utmd-2, which owns neither region.
  v1::WatchAlertsRequest watch;
  v1::Circle* area =
      watch.mutable_area()->mutable_volume()->mutable_outline_circle();
  area->mutable_center()->set_lat_deg(border.lat_deg);
  area->mutable_center()->set_lng_deg(border.lng_deg);
  area->set_radius_m(5000);
  grpc::ClientContext watch_context;
  test_util::ServiceTestAuth::Authorize(&watch_context,
                                        auth.Token("tower", "monitor"));
  auto watcher = replicas[2]->stub->WatchAlerts(&watch_context, watch);
  Collector<grpc::ClientReader<v1::AlertBatch>> watched(watcher.get());

  // alice's aircraft (west, utmd-0's region) streams to utmd-1; bob's
  // (east, utmd-1's region) to utmd-0: every report is forwarded.
  grpc::ClientContext a_context, b_context;
  test_util::ServiceTestAuth::Authorize(&a_context,
                                        auth.Token("alice", "operator"));
  test_util::ServiceTestAuth::Authorize(&b_context,
                                        auth.Token("bob", "operator"));
  auto a = replicas[1]->stub->StreamPositions(&a_context);
  auto b = replicas[0]->stub->StreamPositions(&b_context);
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> a_in(
      a.get());
  Collector<grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>> b_in(
      b.get());
  // 600 m apart, closing at 20 m/s: loss of 50 m separation in 27.5 s.
  // The pair is alerted by the owner of bob's region ("3:bob/B1" is the
  // smaller track key), utmd-1. B1 goes first and is forwarded there; A1
  // then reaches utmd-1 from alice's stream, so the alert is raised while a
  // client's batch is ingested and must leave through the cluster to reach
  // bob on utmd-0 and the monitor on utmd-2.
  v1::PositionBatch batch;
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("B1", east, -10);
  ASSERT_TRUE(b->Write(batch));
  const absl::Time forwarded_by = absl::Now() + absl::Seconds(10);
  while (replicas[1]->cluster->stats().forwarded_ingested < 1 &&
         absl::Now() < forwarded_by) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  ASSERT_GE(replicas[1]->cluster->stats().forwarded_ingested, 1);
  batch.Clear();
  batch.set_batch_seq(1);
  *batch.add_reports() = Report("A1", west, 10);
  ASSERT_TRUE(a->Write(batch));

  std::string id;
  for (auto* in : {&a_in, &b_in}) {
    std::vector<v1::Alert> got =
        in->WaitFor(v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_THAT(got[0].aircraft_ids(), ::testing::ElementsAre("A1", "B1"));
    EXPECT_NEAR(got[0].time_to_loss_of_separation().seconds() +
                    got[0].time_to_loss_of_separation().nanos() * 1e-9,
                27.5, 0.05);
    if (id.empty()) id = got[0].id();
    EXPECT_EQ(got[0].id(), id);
  }
  std::vector<v1::Alert> seen = watched.WaitFor(
      v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].id(), id);

  // A watcher connecting later, to any replica, starts with the open alert.
  for (auto& r : replicas) {
    grpc::ClientContext late_context;
    test_util::ServiceTestAuth::Authorize(&late_context,
                                          auth.Token("tower", "monitor"));
    auto late = r->stub->WatchAlerts(&late_context, watch);
    {
      Collector<grpc::ClientReader<v1::AlertBatch>> late_in(late.get());
      std::vector<v1::Alert> open = late_in.WaitFor(
          v1::ALERT_KIND_CONFLICT_PREDICTED, v1::ALERT_STATE_RAISED);
      ASSERT_EQ(open.size(), 1u) << r->cluster->member_id();
      EXPECT_EQ(open[0].id(), id);
      late_context.TryCancel();
    }
  }

  a->WritesDone();
  b->WritesDone();
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(b->Finish().ok());
  watch_context.TryCancel();
}

}  // namespace
}  // namespace utm
