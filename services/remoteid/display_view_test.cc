#include "services/remoteid/display_view.h"

#include <cmath>

#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::remoteid {
namespace {

using ::testing::HasSubstr;

// A view of about `width_m` by `height_m` with its south-west corner at
// (lat, lng).
v1::LatLngRect View(double lat, double lng, double width_m, double height_m) {
  const geo::LatLng sw{lat, lng};
  const geo::LatLng north = geo::GeodesicDestination(sw, 0, height_m);
  const geo::LatLng east = geo::GeodesicDestination(sw, 90, width_m);
  v1::LatLngRect r;
  r.mutable_south_west()->set_lat_deg(lat);
  r.mutable_south_west()->set_lng_deg(lng);
  r.mutable_north_east()->set_lat_deg(north.lat_deg);
  r.mutable_north_east()->set_lng_deg(east.lng_deg);
  return r;
}

TEST(DisplayView, SmallViewsShowFlights) {
  const absl::StatusOr<DisplayView> v =
      DisplayView::FromProto(View(47.37, 8.48, 1400, 1400), {}, "view");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->shows_flights());
  EXPECT_NEAR(v->diagonal_m(), 1400 * std::sqrt(2.0), 5);
  EXPECT_NEAR(v->area_m2(), 1400.0 * 1400.0, 1400.0 * 1400.0 * 0.01);
}

TEST(DisplayView, ViewsWiderThanTwoKilometresShowClustersOnly) {
  const absl::StatusOr<DisplayView> v =
      DisplayView::FromProto(View(47.37, 8.48, 1500, 1500), {}, "view");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_FALSE(v->shows_flights());  // diagonal 2.12 km
}

TEST(DisplayView, ViewsWiderThanSevenKilometresAreRefused) {
  const absl::StatusOr<DisplayView> v =
      DisplayView::FromProto(View(47.37, 8.48, 5000, 5000), {}, "view");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(),
              HasSubstr("view: diagonal 7.07 km exceeds 7 km (ASTM F3411-22a "
                        "NetMaxDisplayAreaDiagonal)"));
}

TEST(DisplayView, RefusesBadCornersNamingThem) {
  v1::LatLngRect r = View(47.37, 8.48, 1000, 1000);
  r.mutable_north_east()->set_lat_deg(91);
  EXPECT_THAT(DisplayView::FromProto(r, {}, "view").status().message(),
              HasSubstr("view.north_east.lat_deg: 91 is outside [-90, 90]"));
  r = View(47.37, 8.48, 1000, 1000);
  r.clear_south_west();
  EXPECT_THAT(DisplayView::FromProto(r, {}, "view").status().message(),
              HasSubstr("view.south_west: required"));
  r = View(47.37, 8.48, 1000, 1000);
  std::swap(*r.mutable_south_west(), *r.mutable_north_east());
  EXPECT_THAT(DisplayView::FromProto(r, {}, "view").status().message(),
              HasSubstr("is north of"));
  r = View(47.37, 8.48, 1000, 1000);
  r.mutable_south_west()->set_lng_deg(std::nan(""));
  EXPECT_FALSE(DisplayView::FromProto(r, {}, "view").ok());
}

TEST(DisplayView, ContainsAcrossTheAntimeridian) {
  v1::LatLngRect r;
  r.mutable_south_west()->set_lat_deg(-17.0);
  r.mutable_south_west()->set_lng_deg(179.995);
  r.mutable_north_east()->set_lat_deg(-16.99);
  r.mutable_north_east()->set_lng_deg(-179.995);
  const absl::StatusOr<DisplayView> v = DisplayView::FromProto(r, {}, "view");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->shows_flights());
  EXPECT_TRUE(v->Contains({-16.995, 179.999}));
  EXPECT_TRUE(v->Contains({-16.995, -179.999}));
  EXPECT_FALSE(v->Contains({-16.995, 0}));
  EXPECT_FALSE(v->Contains({-16.98, 179.999}));
}

// F3411-22a NET0480 / NET0490: each cluster covers at least 15 % of the
// view and is at least 600 m across, for every view size that clusters.
TEST(DisplayView, ClustersAreBigEnoughAtEveryScale) {
  for (double side : {1450.0, 2000.0, 3000.0, 4000.0, 4900.0}) {
    for (double lat : {0.0, 47.37, 69.0}) {
      const absl::StatusOr<DisplayView> v =
          DisplayView::FromProto(View(lat, 8.48, side, side), {}, "view");
      ASSERT_TRUE(v.ok()) << v.status();
      ASSERT_FALSE(v->shows_flights());
      // Aircraft spread over the view.
      std::vector<geo::LatLng> positions;
      const geo::LatLng sw{lat, 8.48};
      for (int i = 0; i < 10; ++i) {
        for (int j = 0; j < 10; ++j) {
          const geo::LatLng p = geo::GeodesicDestination(
              geo::GeodesicDestination(sw, 0, side * (i + 0.5) / 10), 90,
              side * (j + 0.5) / 10);
          positions.push_back(p);
        }
      }
      const std::vector<v1::RidCluster> clusters = v->Cluster(positions);
      ASSERT_FALSE(clusters.empty());
      int total = 0;
      for (const v1::RidCluster& c : clusters) {
        total += c.aircraft_count();
        EXPECT_GE(c.area_m2(), 0.15 * v->area_m2()) << side << " " << lat;
        ASSERT_EQ(c.corners_size(), 4);
        // Every side at least twice the obfuscation distance.
        for (int k = 0; k < 4; ++k) {
          const auto& a = c.corners(k);
          const auto& b = c.corners((k + 1) % 4);
          EXPECT_GE(geo::GeodesicDistance({a.lat_deg(), a.lng_deg()},
                                          {b.lat_deg(), b.lng_deg()}),
                    600)
              << side << " " << lat;
        }
      }
      EXPECT_EQ(total, 100);
    }
  }
}

// A cluster is a fixed cell: moving the view does not move it, so panning
// cannot narrow down where an aircraft is.
TEST(DisplayView, ClustersDoNotMoveWithTheView) {
  const geo::LatLng aircraft{47.3712, 8.4987};
  std::vector<v1::RidCluster> seen;
  for (double shift : {0.0, 300.0, 900.0}) {
    const geo::LatLng sw = geo::GeodesicDestination(
        geo::GeodesicDestination(aircraft, 180, 1500 + shift), 270,
        1500 - shift);
    const absl::StatusOr<DisplayView> v = DisplayView::FromProto(
        View(sw.lat_deg, sw.lng_deg, 3000, 3000), {}, "view");
    ASSERT_TRUE(v.ok()) << v.status();
    ASSERT_TRUE(v->Contains(aircraft));
    const std::vector<v1::RidCluster> c = v->Cluster({aircraft});
    ASSERT_EQ(c.size(), 1u);
    seen.push_back(c[0]);
  }
  for (const v1::RidCluster& c : seen) {
    EXPECT_EQ(c.SerializeAsString(), seen[0].SerializeAsString());
  }
}

}  // namespace
}  // namespace utm::remoteid
