#include "services/utmctl/bbox_tiles.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::ctl {
namespace {

TEST(TileBox, ASmallBoxIsOneTile) {
  const std::vector<LatLngBox> tiles = TileBox({46.5, 7.0, 47.0, 7.5}, 1.0);
  ASSERT_EQ(tiles.size(), 1u);
  EXPECT_EQ(tiles[0].min_lat, 46.5);
  EXPECT_EQ(tiles[0].max_lng, 7.5);
}

TEST(TileBox, ACountryIsAGridOfEqualTilesCoveringItExactly) {
  // Switzerland: 2.05° x 4.6° -> 3 rows x 5 columns.
  const LatLngBox box{45.8, 5.9, 47.85, 10.5};
  const std::vector<LatLngBox> tiles = TileBox(box, 1.0);
  ASSERT_EQ(tiles.size(), 15u);
  double area = 0;
  for (const LatLngBox& t : tiles) {
    EXPECT_LE(t.max_lat - t.min_lat, 1.0 + 1e-12);
    EXPECT_LE(t.max_lng - t.min_lng, 1.0 + 1e-12);
    EXPECT_GT(t.max_lat, t.min_lat);
    EXPECT_GT(t.max_lng, t.min_lng);
    area += (t.max_lat - t.min_lat) * (t.max_lng - t.min_lng);
  }
  EXPECT_NEAR(area, (box.max_lat - box.min_lat) * (box.max_lng - box.min_lng),
              1e-9);
  // Row by row from the south-west; neighbours share their edges and the
  // last ones end exactly on the box.
  EXPECT_EQ(tiles[0].min_lat, box.min_lat);
  EXPECT_EQ(tiles[0].min_lng, box.min_lng);
  EXPECT_EQ(tiles[1].min_lng, tiles[0].max_lng);
  EXPECT_EQ(tiles[5].min_lat, tiles[0].max_lat);
  EXPECT_EQ(tiles[14].max_lat, box.max_lat);
  EXPECT_EQ(tiles[14].max_lng, box.max_lng);
}

TEST(BoxArea, IsTheFourCornersWithOpenBounds) {
  const v1::Volume4D area = BoxArea({46.0, 7.0, 47.0, 8.0});
  ASSERT_EQ(area.volume().outline_polygon().vertices_size(), 4);
  EXPECT_EQ(area.volume().outline_polygon().vertices(2).lat_deg(), 47.0);
  EXPECT_EQ(area.volume().outline_polygon().vertices(2).lng_deg(), 8.0);
  EXPECT_FALSE(area.volume().has_altitude_lower());
  EXPECT_FALSE(area.has_time_start());
}

}  // namespace
}  // namespace utm::ctl
