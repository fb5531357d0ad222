// Constraints whose polygons have holes (a control zone with an aerodrome
// cut out): a position or an area inside the hole is not in the zone, for
// CheckPosition and for WatchConstraints alike; and a zone of 20,000
// vertices is accepted.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/geo_testing.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_core.h"
#include "services/constraint/constraint_testing.h"
#include "services/constraint/limits.h"

namespace utm::constraint {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

using test_util::kAuthority;
using test_util::kPilot;

const absl::Time kT0 = test_util::kMonday10Utc;

// Metres east/north of Zurich.
geo::LatLng At(double x, double y) {
  return geo::GnomonicProjection(geo::test_util::kZurich).Reverse({x, y});
}

std::vector<geo::LatLng> Box(double half) {
  return {At(-half, -half), At(half, -half), At(half, half), At(-half, half)};
}

// A 2 km square zone, 0-1,000 m, with a 400 m square hole in its middle.
v1::Constraint FrameZone() {
  geo::Polygon polygon;
  polygon.vertices = Box(1000);
  polygon.holes.push_back(Box(200));
  geo::Volume4D v{geo::Volume3D{polygon, {0, 1000}},
                  {absl::InfinitePast(), absl::InfiniteFuture()}};
  v1::Constraint c;
  c.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  *c.add_volumes() = VolumeToProto(v);
  c.set_reason("control zone, aerodrome excluded");
  return c;
}

v1::CheckPositionRequest Check(const geo::LatLng& p, double radius_m) {
  v1::CheckPositionRequest check;
  check.mutable_position()->set_lat_deg(p.lat_deg);
  check.mutable_position()->set_lng_deg(p.lng_deg);
  check.set_radius_m(radius_m);
  return check;
}

class ConstraintHolesTest : public ::testing::Test {
 protected:
  ConstraintHolesTest() : clock_(kT0), core_(ConstraintOptions(), &clock_) {}

  v1::Constraint Publish(const v1::Constraint& c) {
    v1::PublishConstraintRequest request;
    *request.mutable_constraint() = c;
    absl::StatusOr<v1::PublishConstraintResponse> r =
        core_.Publish(kAuthority, request);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->constraint() : v1::Constraint();
  }

  // Constraint ids in the snapshot of a new watch on `area`.
  std::vector<std::string> Snapshot(const v1::Volume4D& area) {
    v1::WatchConstraintsRequest request;
    *request.mutable_area() = area;
    absl::StatusOr<std::shared_ptr<Watcher>> w =
        core_.Watch(kPilot, request, [] {});
    EXPECT_TRUE(w.ok()) << w.status();
    std::vector<std::string> ids;
    if (!w.ok()) return ids;
    EventPtr e;
    while (core_.NextEvent(w->get(), &e)) {
      if (e->has_upsert()) ids.push_back(e->upsert().id());
    }
    return ids;
  }

  SimulatedClock clock_;
  ConstraintCore core_;
};

TEST_F(ConstraintHolesTest, CheckPositionInsideTheHoleIsNotInTheZone) {
  const v1::Constraint zone = Publish(FrameZone());
  ASSERT_FALSE(zone.id().empty());
  ASSERT_EQ(zone.volumes(0).volume().outline_polygon().holes_size(), 1);

  // In the hole, 150 m from its east edge: not in the zone, and nothing
  // within 100 m.
  absl::StatusOr<v1::CheckPositionResponse> r =
      core_.CheckPosition(kPilot, Check(At(50, 0), 100));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applicable(), IsEmpty());
  EXPECT_THAT(r->nearby(), IsEmpty());
  // Within 300 m it is nearby, at the distance to the hole's edge.
  r = core_.CheckPosition(kPilot, Check(At(50, 0), 300));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applicable(), IsEmpty());
  ASSERT_THAT(r->nearby(), SizeIs(1));
  EXPECT_EQ(r->nearby(0).constraint().id(), zone.id());
  EXPECT_NEAR(r->nearby(0).horizontal_distance_m(), 150, 0.05);

  // In the ring around the hole, and on the hole's edge (closed region).
  for (const geo::LatLng& p : {At(600, 0), At(200, 0), At(-500, 700)}) {
    r = core_.CheckPosition(kPilot, Check(p, 0));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_THAT(r->applicable(), SizeIs(1));
    EXPECT_EQ(r->applicable(0).constraint().id(), zone.id());
    EXPECT_EQ(r->applicable(0).horizontal_distance_m(), 0);
  }
  // Outside the outer ring.
  r = core_.CheckPosition(kPilot, Check(At(1500, 0), 0));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applicable(), IsEmpty());
}

TEST_F(ConstraintHolesTest, WatchedAreaInsideTheHoleSeesNoZone) {
  const v1::Constraint zone = Publish(FrameZone());
  EXPECT_THAT(Snapshot(test_util::AreaAround(At(0, 0), 150)), IsEmpty());
  EXPECT_THAT(Snapshot(test_util::AreaAround(At(0, 0), 250)),
              ::testing::ElementsAre(zone.id()));
  EXPECT_THAT(Snapshot(test_util::AreaAround(At(600, 600), 50)),
              ::testing::ElementsAre(zone.id()));
}

TEST_F(ConstraintHolesTest, InvalidHoleIsRefusedWithItsPath) {
  v1::Constraint c = FrameZone();
  // A hole reaching beyond the outer ring's east edge (x = 1,000 m).
  v1::Ring* hole = c.mutable_volumes(0)
                       ->mutable_volume()
                       ->mutable_outline_polygon()
                       ->add_holes();
  for (const geo::LatLng& p :
       {At(900, -100), At(1100, -100), At(1100, 100), At(900, 100)}) {
    v1::LatLng* v = hole->add_vertices();
    v->set_lat_deg(p.lat_deg);
    v->set_lng_deg(p.lng_deg);
  }
  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = c;
  const absl::StatusOr<v1::PublishConstraintResponse> r =
      core_.Publish(kAuthority, request);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("volumes[0].volume.outline_polygon."
                                   "holes[1]: edge 0 crosses the outer ring "
                                   "at edge 1"));
}

TEST_F(ConstraintHolesTest, ZonesOfTwentyThousandVerticesAreAccepted) {
  EXPECT_EQ(ConstraintLimits().max_vertices, 20000);
  // 19,000 vertices on a 30 km circle and a 1,000-vertex hole.
  geo::Polygon polygon =
      geo::test_util::RegularPolygon(geo::test_util::kZurich, 30e3, 19000);
  polygon.holes.push_back(
      geo::test_util::RegularPolygon(geo::test_util::kZurich, 5e3, 1000)
          .vertices);
  geo::Volume4D v{geo::Volume3D{polygon, {0, 1000}},
                  {absl::InfinitePast(), absl::InfiniteFuture()}};
  v1::Constraint c;
  c.set_type(v1::CONSTRAINT_TYPE_PROHIBITED);
  *c.add_volumes() = VolumeToProto(v);
  const v1::Constraint stored = Publish(c);
  ASSERT_FALSE(stored.id().empty());
  absl::StatusOr<v1::CheckPositionResponse> r =
      core_.CheckPosition(kPilot, Check(At(0, 10e3), 0));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applicable(), SizeIs(1));
  r = core_.CheckPosition(kPilot, Check(At(0, 0), 0));  // in the hole
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applicable(), IsEmpty());

  // One vertex more is refused, naming the count.
  polygon.holes[0].push_back(
      geo::GeodesicDestination(geo::test_util::kZurich, 0.1, 5e3));
  v.volume.footprint = polygon;
  *c.mutable_volumes(0) = VolumeToProto(v);
  v1::PublishConstraintRequest request;
  *request.mutable_constraint() = c;
  const absl::StatusOr<v1::PublishConstraintResponse> refused =
      core_.Publish(kAuthority, request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("outline_polygon: has 20001 vertices (all "
                                   "rings together); at most 20000"));
}

TEST(ConstraintHolesRecovery, HolesSurviveARestart) {
  const test_util::TempStore dir(std::filesystem::path(::testing::TempDir()) /
                                 absl::StrCat("constraint_holes_", getpid()));
  auto open = [&] {
    absl::StatusOr<std::unique_ptr<store::Store>> s = dir.Open();
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  };
  SimulatedClock clock(kT0);
  {
    std::unique_ptr<store::Store> store = open();
    ASSERT_NE(store, nullptr);
    ConstraintCore core(ConstraintOptions(), &clock, store.get());
    ASSERT_TRUE(core.Recover().ok());
    v1::PublishConstraintRequest p;
    *p.mutable_constraint() = FrameZone();
    ASSERT_TRUE(core.Publish(kAuthority, p).ok());
  }
  std::unique_ptr<store::Store> store = open();
  ASSERT_NE(store, nullptr);
  ConstraintCore core(ConstraintOptions(), &clock, store.get());
  ASSERT_TRUE(core.Recover().ok());
  absl::StatusOr<v1::CheckPositionResponse> r =
      core.CheckPosition(kPilot, Check(At(0, 0), 0));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applicable(), IsEmpty());  // in the hole
  r = core.CheckPosition(kPilot, Check(At(600, 0), 0));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->applicable(), SizeIs(1));
  EXPECT_EQ(r->applicable(0)
                .constraint()
                .volumes(0)
                .volume()
                .outline_polygon()
                .holes_size(),
            1);
}

}  // namespace
}  // namespace utm::constraint
