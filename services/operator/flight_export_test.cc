#include "services/operator/flight_export.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "pugixml.hpp"
#include "services/common/volume_convert.h"

namespace utm::fleet {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

v1::FlightLogHeader Header(int points) {
  v1::FlightLogHeader h;
  v1::FlightSummary* f = h.mutable_flight();
  f->set_flight_id("f-1");
  f->set_aircraft_id("drone <\"1\"> & co");
  f->set_intent_id("i-1");
  *f->mutable_start_time() = TimeToProto(kStart);
  *f->mutable_end_time() = TimeToProto(kStart + absl::Seconds(points));
  f->set_point_count(points);
  v1::FlightStateChange* s = h.add_states();
  s->set_state(v1::INTENT_STATE_ACTIVATED);
  *s->mutable_time() = TimeToProto(kStart);
  v1::FlightAlertEvent* a = h.add_alerts();
  a->set_alert_id("a-1");
  a->set_kind(v1::ALERT_KIND_NONCONFORMANCE);
  a->set_state(v1::ALERT_STATE_RAISED);
  *a->mutable_time() = TimeToProto(kStart + absl::Seconds(1));
  a->set_message("outside \"its\" volumes");
  return h;
}

v1::FlightTrackChunk Chunk(int first, int n) {
  v1::FlightTrackChunk c;
  for (int i = first; i < first + n; ++i) {
    v1::FlightTrackPoint* p = c.add_points();
    *p->mutable_time() = TimeToProto(kStart + absl::Milliseconds(1500 * i));
    p->mutable_position()->set_lat_deg(47.5 + 1e-5 * i);
    p->mutable_position()->set_lng_deg(8.25 - 1e-5 * i);
    p->set_altitude_m(400 + i);
    p->mutable_velocity()->set_north_mps(1.5);
    p->mutable_accuracy()->set_horizontal_m(3);
  }
  return c;
}

// Writes a flight of 5 points in two chunks.
std::string Export(const std::string& format) {
  std::ostringstream out;
  std::unique_ptr<FlightExport> e = NewFlightExport(format, &out);
  EXPECT_NE(e, nullptr);
  e->Begin(Header(5));
  e->Points(Chunk(0, 3));
  e->Points(Chunk(3, 2));
  e->End();
  return out.str();
}

TEST(FlightExport, GeoJsonIsAFeatureCollectionWithTheTrack) {
  const nlohmann::json doc = nlohmann::json::parse(Export("geojson"));
  EXPECT_EQ(doc["type"], "FeatureCollection");
  ASSERT_THAT(doc["features"], SizeIs(1));
  const nlohmann::json& f = doc["features"][0];
  EXPECT_EQ(f["geometry"]["type"], "LineString");
  const nlohmann::json& c = f["geometry"]["coordinates"];
  ASSERT_THAT(c, SizeIs(5));
  EXPECT_DOUBLE_EQ(c[4][0].get<double>(), 8.25 - 4e-5);  // lng first
  EXPECT_DOUBLE_EQ(c[4][1].get<double>(), 47.5 + 4e-5);
  EXPECT_DOUBLE_EQ(c[4][2].get<double>(), 404);
  const nlohmann::json& p = f["properties"];
  EXPECT_EQ(p["aircraft_id"], "drone <\"1\"> & co");
  EXPECT_EQ(p["intent_id"], "i-1");
  EXPECT_EQ(p["states"][0]["state"], "activated");
  EXPECT_EQ(p["alerts"][0]["kind"], "nonconformance");
  EXPECT_EQ(p["alerts"][0]["message"], "outside \"its\" volumes");
  ASSERT_THAT(p["coordTimes"], SizeIs(5));
  EXPECT_EQ(p["coordTimes"][1], "2027-01-15T08:00:01.500Z");
}

TEST(FlightExport, GeoJsonOfFewerThanTwoPointsIsAMultiPoint) {
  std::ostringstream out;
  std::unique_ptr<FlightExport> e = NewFlightExport("geojson", &out);
  e->Begin(Header(0));
  e->End();
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(doc["features"][0]["geometry"]["type"], "MultiPoint");
  EXPECT_THAT(doc["features"][0]["geometry"]["coordinates"], SizeIs(0));
}

TEST(FlightExport, CsvHasAHeaderRowAndARowPerPoint) {
  std::vector<std::string> lines =
      absl::StrSplit(Export("csv"), '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(6));
  EXPECT_EQ(lines[0],
            "time,lat,lng,alt_m,north_mps,east_mps,up_mps,h_accuracy_m,"
            "v_accuracy_m");
  EXPECT_EQ(lines[2],
            "2027-01-15T08:00:01.500Z,47.5000100,8.2499900,401.00,1.50,0.00,"
            "0.00,3.0,0.0");
}

TEST(FlightExport, KmlIsAGxTrackWithATimePerPoint) {
  const std::string kml = Export("kml");
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_string(kml.c_str());
  ASSERT_TRUE(parsed) << parsed.description() << "\n" << kml;
  pugi::xml_node root = doc.child("kml");
  EXPECT_STREQ(root.attribute("xmlns").value(),
               "http://www.opengis.net/kml/2.2");
  pugi::xml_node placemark = root.child("Document").child("Placemark");
  EXPECT_STREQ(placemark.child("name").text().get(), "drone <\"1\"> & co");
  EXPECT_THAT(placemark.child("description").text().get(),
              HasSubstr("nonconformance raised"));
  pugi::xml_node track = placemark.child("gx:Track");
  std::vector<std::string> whens, coords;
  for (pugi::xml_node n : track.children("when"))
    whens.push_back(n.text().get());
  for (pugi::xml_node n : track.children("gx:coord"))
    coords.push_back(n.text().get());
  ASSERT_THAT(whens, SizeIs(5));
  ASSERT_THAT(coords, SizeIs(5));
  EXPECT_EQ(whens[4], "2027-01-15T08:00:06.000Z");
  EXPECT_EQ(coords[4], "8.2499600 47.5000400 404.00");
  // Every <when> before the first <gx:coord>, as KML's schema orders them.
  EXPECT_LT(kml.rfind("<when>"), kml.find("<gx:coord>"));
}

TEST(FlightExport, UnknownFormatsAreRefused) {
  std::ostringstream out;
  EXPECT_EQ(NewFlightExport("gpx", &out), nullptr);
}

}  // namespace
}  // namespace utm::fleet
