// Broadcast receptions into the display: the sample captures, moved to now,
// appear with their serials, positions and operator locations; bad frames
// are refused one by one, naming the frame and the field.
#include "services/remoteid/broadcast_feed.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/region.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/region.h"
#include "services/common/region_testing.h"
#include "services/remoteid/broadcast/capture.h"
#include "services/remoteid/broadcast/odid.h"
#include "services/remoteid/broadcast/retime.h"
#include "services/remoteid/broadcast_frames_testing.h"

namespace utm::remoteid {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow =
    absl::FromUnixSeconds(1800000000) + absl::Milliseconds(250);

std::string Sample(const std::string& name) {
  return std::string(UTM_SHARED_DATA_DIR "/remoteid/broadcast/") + name;
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return ts;
}

v1::RidTransport TransportOf(broadcast::Transport t) {
  switch (t) {
    case broadcast::Transport::kBluetoothLegacy:
      return v1::RID_TRANSPORT_BLUETOOTH_LEGACY;
    case broadcast::Transport::kBluetoothLongRange:
      return v1::RID_TRANSPORT_BLUETOOTH_LONG_RANGE;
    case broadcast::Transport::kWifiNan:
      return v1::RID_TRANSPORT_WIFI_NAN;
    case broadcast::Transport::kWifiBeacon:
      return v1::RID_TRANSPORT_WIFI_BEACON;
  }
  return v1::RID_TRANSPORT_UNSPECIFIED;
}

// The capture's frames, moved so that its last frame is heard at `now`.
std::optional<v1::ReportReceptionsRequest> Replayed(const std::string& path,
                                                    absl::Time now) {
  absl::StatusOr<std::vector<broadcast::CapturedFrame>> frames =
      broadcast::ReadCapture(path);
  if (!frames.ok()) return std::nullopt;
  v1::ReportReceptionsRequest request;
  request.mutable_receiver_position()->set_lat_deg(45.545);
  request.mutable_receiver_position()->set_lng_deg(-122.97);
  const absl::Duration shift = now - frames->back().time;
  for (broadcast::CapturedFrame& f : *frames) {
    std::string payload(broadcast::TrimPackPadding(f.payload));
    EXPECT_TRUE(
        broadcast::RetimeLocations(&payload, f.time, f.time + shift).ok());
    v1::ReceivedFrame* out = request.add_frames();
    out->set_payload(payload);
    out->set_transmitter(f.transmitter);
    *out->mutable_receive_time() = Ts(f.time + shift);
    out->set_rssi_dbm(f.rssi_dbm.value_or(0));
    out->set_transport(TransportOf(f.transport));
  }
  return request;
}

v1::LatLngRect ViewAround(double lat, double lng, double half_deg) {
  v1::LatLngRect r;
  r.mutable_south_west()->set_lat_deg(lat - half_deg);
  r.mutable_south_west()->set_lng_deg(lng - half_deg);
  r.mutable_north_east()->set_lat_deg(lat + half_deg);
  r.mutable_north_east()->set_lng_deg(lng + half_deg);
  return r;
}

class BroadcastFeedTest : public ::testing::Test {
 protected:
  BroadcastFeedTest() {
    RemoteIdOptions o;
    o.session_key = "0123456789abcdef0123456789abcdef";
    core_ = std::make_unique<RemoteIdCore>(o, &clock_);
    feed_ = std::make_unique<BroadcastFeed>(core_.get(), &clock_,
                                            BroadcastFeedOptions());
  }
  SimulatedClock clock_{kNow};
  std::unique_ptr<RemoteIdCore> core_;
  std::unique_ptr<BroadcastFeed> feed_;
};

// The Wi-Fi beacon sample (21 packs of five messages from one aircraft),
// values as tshark dissects them.
TEST_F(BroadcastFeedTest, BeaconSampleShowsTheAircraftAndItsOperator) {
  const std::optional<v1::ReportReceptionsRequest> request =
      Replayed(Sample("odid_wifi_bcn_sample.pcap"), kNow);
  if (!request) GTEST_SKIP() << "sample capture not found";
  const absl::StatusOr<BroadcastFeed::Result> r =
      feed_->Report("receiver-zh-1", *request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->response.errors_size(), 0);
  EXPECT_EQ(r->response.accepted_frames(), 21);
  EXPECT_EQ(r->response.aircraft_positions(), 21);
  // This transmitter stamps every position 0 (the top of the hour): placed
  // at the receive time.
  EXPECT_EQ(r->response.untrusted_timestamps(), 21);
  // Not a participant: every position is an intruder's state, with the
  // latency of its time stamp.
  ASSERT_EQ(r->heard.size(), 21u);
  for (const HeardState& h : r->heard) {
    EXPECT_EQ(h.remote_id, "MFG1A0123456789");
    EXPECT_EQ(h.latency, absl::Seconds(1));
  }
  const absl::StatusOr<v1::SearchFlightsResponse> view =
      core_->Search(ViewAround(45.5457, -122.9690, 0.004));
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ(view->flights_size(), 1);
  const v1::RidFlight& f = view->flights(0);
  EXPECT_EQ(f.id(), "MFG1A0123456789");
  EXPECT_EQ(f.source(), v1::RID_SOURCE_BROADCAST);
  EXPECT_EQ(f.recent_positions_size(), 21);
  EXPECT_DOUBLE_EQ(f.altitude().value_m(), 237);  // 0x09aa · 0.5 − 1000
  const absl::StatusOr<v1::RidFlightDetails> d =
      core_->Details("MFG1A0123456789");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->operator_id(), "GBR-OP-123ABCD");
  EXPECT_EQ(d->description(), "Recreational");
  EXPECT_NEAR(d->operator_location().lat_deg(), 45.5443876, 1e-9);
  EXPECT_NEAR(d->operator_location().lng_deg(), -122.9726866, 1e-9);
  EXPECT_THAT(d->receivers(), ElementsAre("receiver-zh-1"));
}

// The Wi-Fi NAN sample: single messages, put together by transmitter. It
// holds no Basic ID (Location, Self-ID, System and Operator ID only): the
// aircraft is shown under its transmitter's address.
TEST_F(BroadcastFeedTest, NanSampleIsPutTogetherByTransmitter) {
  const std::optional<v1::ReportReceptionsRequest> request =
      Replayed(Sample("odid_wifi_sample.pcap"), kNow);
  if (!request) GTEST_SKIP() << "sample capture not found";
  const absl::StatusOr<BroadcastFeed::Result> r =
      feed_->Report("receiver-zh-1", *request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->response.errors_size(), 0);
  EXPECT_EQ(r->response.accepted_frames(), 42);
  EXPECT_GT(r->response.aircraft_positions(), 0);
  const absl::StatusOr<v1::SearchFlightsResponse> view =
      core_->Search(ViewAround(45.5451, -122.9723, 0.004));
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ(view->flights_size(), 1);
  EXPECT_EQ(view->flights(0).source(), v1::RID_SOURCE_BROADCAST);
  EXPECT_EQ(view->flights(0).id(), "tx-84:cc:a8:60:43:24");
  const absl::StatusOr<v1::RidFlightDetails> d =
      core_->Details(view->flights(0).id());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->operator_id(), "GBR-OP-123ABCD");
  EXPECT_NEAR(d->operator_location().lat_deg(), 45.5443876, 1e-9);
}

// The Bluetooth 5 sample's aircraft never had a position fix: its frames
// are taken, and nothing is shown.
TEST_F(BroadcastFeedTest, BluetoothSampleWithoutAFixShowsNothing) {
  const std::optional<v1::ReportReceptionsRequest> request =
      Replayed(Sample("odid_bt5_lr_sample.pcapng"), kNow);
  if (!request) GTEST_SKIP() << "sample capture not found";
  // More frames than one request takes: in chunks.
  int accepted = 0, positions = 0, errors = 0;
  for (int start = 0; start < request->frames_size(); start += 100) {
    v1::ReportReceptionsRequest chunk;
    *chunk.mutable_receiver_position() = request->receiver_position();
    for (int i = start; i < std::min(start + 100, request->frames_size());
         ++i) {
      *chunk.add_frames() = request->frames(i);
    }
    const absl::StatusOr<BroadcastFeed::Result> r =
        feed_->Report("receiver-fi-1", chunk);
    ASSERT_TRUE(r.ok()) << r.status();
    accepted += r->response.accepted_frames();
    positions += r->response.aircraft_positions();
    errors += r->response.errors_size();
  }
  EXPECT_EQ(accepted, request->frames_size());
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(positions, 0);
  EXPECT_EQ(core_->flight_count(), 0u);
}

TEST_F(BroadcastFeedTest, BadFramesAreRefusedOneByOne) {
  const std::optional<v1::ReportReceptionsRequest> sample =
      Replayed(Sample("odid_wifi_bcn_sample.pcap"), kNow);
  if (!sample) GTEST_SKIP() << "sample capture not found";
  v1::ReportReceptionsRequest request;
  *request.mutable_receiver_position() = sample->receiver_position();
  for (int i = 0; i < 7; ++i) *request.add_frames() = sample->frames(i);
  // 0: a latitude of 95 degrees in the pack's Location (message 1, bytes
  // 5..8 of it: pack header 3 + 25 + 5 = 33).
  std::string bad = request.frames(0).payload();
  const int32_t lat = 950000000;
  for (int k = 0; k < 4; ++k) bad[33 + k] = static_cast<char>(lat >> (8 * k));
  request.mutable_frames(0)->set_payload(bad);
  request.mutable_frames(1)->clear_receive_time();
  *request.mutable_frames(2)->mutable_receive_time() =
      Ts(kNow - absl::Seconds(61));
  request.mutable_frames(3)->set_transport(v1::RID_TRANSPORT_UNSPECIFIED);
  request.mutable_frames(4)->set_transmitter("");
  request.mutable_frames(5)->set_rssi_dbm(40);
  request.mutable_frames(6)->set_payload(std::string(300, 'x'));
  const absl::StatusOr<BroadcastFeed::Result> r =
      feed_->Report("receiver-zh-1", request);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->response.errors_size(), 7);
  std::vector<std::string> messages;
  for (const v1::FrameError& e : r->response.errors()) {
    messages.push_back(e.message());
  }
  EXPECT_THAT(messages[0], HasSubstr("frames[0].payload: "));
  EXPECT_THAT(messages[0], HasSubstr("Location.latitude"));
  EXPECT_THAT(messages[0], HasSubstr("95"));
  EXPECT_EQ(messages[1], "frames[1].receive_time: required");
  EXPECT_THAT(messages[2], HasSubstr("frames[2].receive_time: "));
  EXPECT_THAT(messages[3], HasSubstr("frames[3].transport"));
  EXPECT_EQ(messages[4], "frames[4].transmitter: required");
  EXPECT_EQ(messages[5], "frames[5].rssi_dbm: 40 is outside [-150, 20]");
  EXPECT_EQ(messages[6], "frames[6].payload: 300 bytes, at most 250");
  EXPECT_EQ(r->response.accepted_frames(), 0);
  EXPECT_EQ(core_->flight_count(), 0u);

  v1::ReportReceptionsRequest no_position = request;
  no_position.clear_receiver_position();
  EXPECT_THAT(feed_->Report("r", no_position).status().message(),
              HasSubstr("receiver_position: required"));
  v1::ReportReceptionsRequest too_many;
  *too_many.mutable_receiver_position() = sample->receiver_position();
  for (int i = 0; i < 1001; ++i) *too_many.add_frames() = sample->frames(0);
  EXPECT_EQ(feed_->Report("r", too_many).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Data residency: a core serving region EU-CH (lat 47.0..47.6, lng
// 8.2..8.8), fed hand-built frames.
class BroadcastFeedRegionTest : public ::testing::Test {
 protected:
  BroadcastFeedRegionTest() {
    // Lat 47.0..47.6, lng 8.2..8.8.
    swiss_ = std::make_unique<region::RegionPolicy>(
        region::test_util::BoxRegion("EU-CH", {47.0, 8.2}, {47.6, 8.8}));
    RemoteIdOptions o;
    o.session_key = "0123456789abcdef0123456789abcdef";
    o.region = swiss_.get();
    core_ = std::make_unique<RemoteIdCore>(o, &clock_);
    feed_ = std::make_unique<BroadcastFeed>(core_.get(), &clock_,
                                            BroadcastFeedOptions());
  }
  static v1::ReportReceptionsRequest Request() {
    v1::ReportReceptionsRequest r;
    r.mutable_receiver_position()->set_lat_deg(kZurich.lat_deg);
    r.mutable_receiver_position()->set_lng_deg(kZurich.lng_deg);
    return r;
  }
  static constexpr geo::LatLng kZurich{47.3769, 8.5417};
  static constexpr geo::LatLng kKonstanz{47.6779, 9.1732};  // Outside.

  SimulatedClock clock_{kNow};
  std::unique_ptr<region::RegionPolicy> swiss_;
  std::unique_ptr<RemoteIdCore> core_;
  std::unique_ptr<BroadcastFeed> feed_;
};

TEST_F(BroadcastFeedRegionTest, FramesOutsideAreRefusedOneByOneAndNotKept) {
  using test_util::AircraftFrame;
  v1::ReportReceptionsRequest request = Request();
  *request.add_frames() =
      AircraftFrame("aa:00:00:00:00:01", "ZRH1A0000000001", kZurich, kNow);
  *request.add_frames() =
      AircraftFrame("aa:00:00:00:00:02", "KNZ1A0000000002", kKonstanz, kNow);
  // An ID-only frame of a third aircraft, then its Location, outside.
  *request.add_frames() = test_util::Frame(
      "aa:00:00:00:00:03", test_util::BasicIdMessage("KNZ1A0000000003"), kNow);
  *request.add_frames() =
      test_util::Frame("aa:00:00:00:00:03",
                       test_util::LocationMessage(kKonstanz, 500, kNow), kNow);
  const absl::StatusOr<BroadcastFeed::Result> r =
      feed_->Report("receiver-zh-1", request);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> errors;
  for (const v1::FrameError& e : r->response.errors()) {
    errors.push_back(absl::StrCat(e.frame_index(), ": ", e.message()));
  }
  EXPECT_THAT(errors, ElementsAre("1: frames[1].position lies outside region "
                                  "EU-CH (deployment boundary)",
                                  "3: frames[3].position lies outside region "
                                  "EU-CH (deployment boundary)"));
  // The ID-only frame is accepted (it names an aircraft, places none).
  EXPECT_EQ(r->response.accepted_frames(), 2);
  EXPECT_EQ(r->response.aircraft_positions(), 1);
  ASSERT_EQ(r->heard.size(), 1u);
  EXPECT_EQ(r->heard[0].remote_id, "ZRH1A0000000001");
  EXPECT_EQ(core_->flight_count(), 1u);
  EXPECT_TRUE(core_->Details("ZRH1A0000000001").ok());
  EXPECT_EQ(core_->Details("KNZ1A0000000002").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->Details("KNZ1A0000000003").status().code(),
            absl::StatusCode::kNotFound);

  // The third aircraft flies into the region: its next Location inside
  // shows it under the Basic ID heard before.
  clock_.Advance(absl::Seconds(1));
  request = Request();
  *request.add_frames() = test_util::Frame(
      "aa:00:00:00:00:03",
      test_util::LocationMessage(kZurich, 500, clock_.Now()), clock_.Now());
  const absl::StatusOr<BroadcastFeed::Result> later =
      feed_->Report("receiver-zh-1", request);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->response.errors_size(), 0);
  ASSERT_EQ(later->heard.size(), 1u);
  EXPECT_EQ(later->heard[0].remote_id, "KNZ1A0000000003");
}

TEST_F(BroadcastFeedRegionTest, APackWithAnyPositionOutsideIsRefusedWhole) {
  v1::ReportReceptionsRequest request = Request();
  *request.add_frames() =
      test_util::Frame("aa:00:00:00:00:01",
                       test_util::MessagePack(
                           {test_util::BasicIdMessage("ZRH1A0000000001"),
                            test_util::LocationMessage(kZurich, 500, kNow),
                            test_util::LocationMessage(kKonstanz, 500, kNow)}),
                       kNow);
  const absl::StatusOr<BroadcastFeed::Result> r =
      feed_->Report("receiver-zh-1", request);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->response.errors_size(), 1);
  EXPECT_EQ(r->response.errors(0).message(),
            "frames[0].position lies outside region EU-CH (deployment "
            "boundary)");
  EXPECT_EQ(r->response.accepted_frames(), 0);
  EXPECT_TRUE(r->heard.empty());
  EXPECT_EQ(core_->flight_count(), 0u);
}

TEST(BroadcastFeedNoRegion, PositionsAnywhereAreShown) {
  SimulatedClock clock(kNow);
  RemoteIdOptions o;
  o.session_key = "0123456789abcdef0123456789abcdef";
  RemoteIdCore core(o, &clock);
  BroadcastFeed feed(&core, &clock, BroadcastFeedOptions());
  v1::ReportReceptionsRequest request;
  request.mutable_receiver_position()->set_lat_deg(47.6);
  request.mutable_receiver_position()->set_lng_deg(9.1);
  *request.add_frames() = test_util::AircraftFrame(
      "aa:00:00:00:00:02", "KNZ1A0000000002", {47.6779, 9.1732}, kNow);
  const absl::StatusOr<BroadcastFeed::Result> r = feed.Report("r", request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->response.errors_size(), 0);
  EXPECT_EQ(core.flight_count(), 1u);
}

TEST(RetimeLocations, KeepsTheOffsetFromTheReceiveTime) {
  // A Location message stamped 1.3 s before it was heard at 10:59:59.5.
  const absl::Time heard =
      absl::FromUnixSeconds(1800000000 / 3600 * 3600) - absl::Milliseconds(500);
  const absl::Time stamped = heard - absl::Milliseconds(1300);
  std::string m(25, '\0');
  m[0] = 0x12;  // Location, protocol version 2
  const int tenths = static_cast<int>(
      (stamped -
       absl::FromUnixSeconds(absl::ToUnixSeconds(stamped) / 3600 * 3600)) /
      absl::Milliseconds(100));
  m[21] = static_cast<char>(tenths & 0xFF);
  m[22] = static_cast<char>(tenths >> 8);
  // Replayed 25 min 20 s later: across the next hour.
  const absl::Time replayed = heard + absl::Seconds(1520);
  ASSERT_TRUE(broadcast::RetimeLocations(&m, heard, replayed).ok());
  const absl::StatusOr<std::vector<broadcast::Message>> decoded =
      broadcast::DecodeMessages(m);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& loc = std::get<broadcast::Location>((*decoded)[0].body);
  ASSERT_TRUE(loc.time_since_hour.has_value());
  EXPECT_EQ(broadcast::Assembler::ReconstructTime(*loc.time_since_hour,
                                                  replayed, absl::Seconds(1)),
            replayed - absl::Milliseconds(1300));
  std::string bad = "\x12";
  EXPECT_FALSE(broadcast::RetimeLocations(&bad, heard, replayed).ok());
}

}  // namespace
}  // namespace utm::remoteid
