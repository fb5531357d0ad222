#include "geo/planar.h"

#include <vector>

#include "gtest/gtest.h"

namespace utm::geo {
namespace {

TEST(SegmentsIntersect, CrossingTouchingCollinearApart) {
  EXPECT_TRUE(SegmentsIntersect({0, 0}, {2, 2}, {0, 2}, {2, 0}));  // cross
  EXPECT_TRUE(SegmentsIntersect({0, 0}, {2, 0}, {1, 0}, {1, 5}));  // T
  EXPECT_TRUE(SegmentsIntersect({0, 0}, {2, 0}, {2, 0}, {3, 1}));  // end to end
  EXPECT_TRUE(SegmentsIntersect({0, 0}, {2, 0}, {1, 0}, {3, 0}));  // overlap
  EXPECT_FALSE(
      SegmentsIntersect({0, 0}, {2, 0}, {3, 0}, {4, 0}));  // collinear gap
  EXPECT_FALSE(SegmentsIntersect({0, 0}, {2, 0}, {0, 1}, {2, 1}));  // parallel
}

TEST(SegmentSegmentDistance, Values) {
  EXPECT_DOUBLE_EQ(SegmentSegmentDistance({0, 0}, {2, 0}, {0, 1}, {2, 1}), 1);
  EXPECT_DOUBLE_EQ(SegmentSegmentDistance({0, 0}, {2, 2}, {0, 2}, {2, 0}), 0);
  EXPECT_DOUBLE_EQ(SegmentSegmentDistance({0, 0}, {1, 0}, {4, 4}, {4, 5}), 5);
}

TEST(RingContains, InsideOnBoundaryOutside) {
  const std::vector<Vec2> l_shape = {{0, 0}, {2, 0}, {2, 1},
                                     {1, 1}, {1, 2}, {0, 2}};
  EXPECT_TRUE(RingContains(l_shape, {0.5, 0.5}));
  EXPECT_TRUE(RingContains(l_shape, {0.5, 1.5}));
  EXPECT_FALSE(RingContains(l_shape, {1.5, 1.5}));  // the notch
  EXPECT_TRUE(RingContains(l_shape, {1, 1.5}));     // on an edge
  EXPECT_TRUE(RingContains(l_shape, {2, 0}));       // on a vertex
  EXPECT_FALSE(RingContains(l_shape, {-0.1, 0}));
}

TEST(FindRingDefect, ReportsTheEdges) {
  EXPECT_FALSE(FindRingDefect({{0, 0}, {1, 0}, {1, 1}, {0, 1}}, 1e-3));
  const auto cross = FindRingDefect({{0, 0}, {1, 1}, {1, 0}, {0, 1}}, 1e-3);
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->kind, EdgeDefect::kCross);
  EXPECT_EQ(cross->edge_a, 0);
  EXPECT_EQ(cross->edge_b, 2);
  // A spike: edge 1 runs back along edge 0.
  const auto spike = FindRingDefect({{0, 0}, {2, 0}, {1, 0}, {1, 1}}, 1e-3);
  ASSERT_TRUE(spike);
  EXPECT_EQ(spike->kind, EdgeDefect::kOverlap);
  EXPECT_EQ(spike->edge_a, 0);
  EXPECT_EQ(spike->edge_b, 1);
  // Non-adjacent edges 0.5 mm apart touch at a 1 mm tolerance.
  const auto touch = FindRingDefect(
      {{0, 0}, {10, 0}, {10, 10}, {5, 10}, {5, 0.0005}, {0, 10}}, 1e-3);
  ASSERT_TRUE(touch);
  EXPECT_EQ(touch->kind, EdgeDefect::kTouch);
  EXPECT_EQ(touch->edge_a, 0);
}

}  // namespace
}  // namespace utm::geo
