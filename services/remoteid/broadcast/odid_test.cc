// Decoder tests on hand-built messages. Every expected value is worked out
// here from the scalings of F3411-22a (the comment beside each input says
// how), not taken from the decoder.
#include "services/remoteid/broadcast/odid.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::remoteid::broadcast {
namespace {

using ::testing::HasSubstr;

// A 25-byte message with the given header and zeros elsewhere.
std::string Msg(uint8_t header) {
  std::string m(kMessageSize, '\0');
  m[0] = static_cast<char>(header);
  return m;
}
void Put8(std::string& m, int i, uint8_t v) { m[i] = static_cast<char>(v); }
void Put16(std::string& m, int i, uint16_t v) {
  m[i] = static_cast<char>(v & 0xFF);
  m[i + 1] = static_cast<char>(v >> 8);
}
void Put32(std::string& m, int i, uint32_t v) {
  for (int k = 0; k < 4; ++k) m[i + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
}
void PutText(std::string& m, int i, const std::string& s) {
  for (size_t k = 0; k < s.size(); ++k) m[i + k] = s[k];
}
std::string Pack(const std::vector<std::string>& messages) {
  std::string p;
  p.push_back(static_cast<char>(0xF2));
  p.push_back(static_cast<char>(kMessageSize));
  p.push_back(static_cast<char>(messages.size()));
  for (const auto& m : messages) p += m;
  return p;
}

template <typename T>
T Only(const std::string& bytes) {
  absl::StatusOr<std::vector<Message>> got = DecodeMessages(bytes);
  EXPECT_TRUE(got.ok()) << got.status();
  if (!got.ok() || got->size() != 1 || !std::holds_alternative<T>((*got)[0].body)) {
    ADD_FAILURE() << "not exactly one message of the expected type";
    return T{};
  }
  return std::get<T>((*got)[0].body);
}

// A Location message with every field given (header: type 1, version 2).
std::string FullLocation() {
  std::string m = Msg(0x12);
  // status airborne (2) << 4 | height above ground (0x04) | E/W (0x02) |
  // speed multiplier (0x01)
  Put8(m, 1, 0x27);
  Put8(m, 2, 10);                    // track 10 + 180 = 190 degrees
  Put8(m, 3, 100);                   // 100 * 0.75 + 63.75 = 138.75 m/s
  Put8(m, 4, static_cast<uint8_t>(-20));  // -20 * 0.5 = -10 m/s
  Put32(m, 5, 473977418);            // 47.3977418 degrees
  Put32(m, 9, 85455940);             // 8.5455940 degrees
  Put16(m, 13, 2900);                // 2900 * 0.5 - 1000 = 450 m
  Put16(m, 15, 3000);                // 500 m
  Put16(m, 17, 2100);                // 50 m
  Put8(m, 19, 0x4B);                 // vertical 4 (<10 m), horizontal 11 (<3 m)
  Put8(m, 20, 0x53);                 // baro 5 (<3 m), speed 3 (<1 m/s)
  Put16(m, 21, 12345);               // 1234.5 s after the hour
  Put8(m, 23, 0x03);                 // 0.3 s
  return m;
}

TEST(DecodeMessages, LocationEveryField) {
  const Location l = Only<Location>(FullLocation());
  EXPECT_EQ(l.status, Status::kAirborne);
  EXPECT_EQ(l.height_type, HeightType::kAboveGround);
  EXPECT_EQ(l.track_deg, 190);
  EXPECT_DOUBLE_EQ(*l.speed_mps, 138.75);
  EXPECT_DOUBLE_EQ(*l.vertical_speed_mps, -10.0);
  ASSERT_TRUE(l.position.has_value());
  EXPECT_DOUBLE_EQ(l.position->lat_deg, 473977418 * 1e-7);
  EXPECT_NEAR(l.position->lat_deg, 47.3977418, 1e-12);
  EXPECT_NEAR(l.position->lng_deg, 8.5455940, 1e-12);
  EXPECT_DOUBLE_EQ(*l.pressure_altitude_m, 450);
  EXPECT_DOUBLE_EQ(*l.geodetic_altitude_m, 500);
  EXPECT_DOUBLE_EQ(*l.height_m, 50);
  EXPECT_DOUBLE_EQ(*l.vertical_accuracy_m, 10);
  EXPECT_DOUBLE_EQ(*l.horizontal_accuracy_m, 3);
  EXPECT_DOUBLE_EQ(*l.baro_accuracy_m, 3);
  EXPECT_DOUBLE_EQ(*l.speed_accuracy_mps, 1);
  EXPECT_EQ(*l.time_since_hour, absl::Milliseconds(1234500));
  EXPECT_EQ(*l.timestamp_accuracy, absl::Milliseconds(300));
}

TEST(DecodeMessages, LocationSpeedWithoutMultiplierAndWestTrack) {
  std::string m = FullLocation();
  Put8(m, 1, 0x20);  // airborne, above take-off, E/W 0, multiplier 0
  Put8(m, 2, 179);   // 179 degrees
  Put8(m, 3, 82);    // 82 * 0.25 = 20.5 m/s
  Put8(m, 4, 124);   // 62 m/s, the top of the range
  Put32(m, 5, static_cast<uint32_t>(-900000000));  // -90 exactly
  Put32(m, 9, 1800000000);                          // 180 exactly
  Put8(m, 19, 0x6C);  // vertical 6 (<1 m), horizontal 12 (<1 m)
  Put8(m, 20, 0x14);  // baro 1 (<150 m), speed 4 (<0.3 m/s)
  Put16(m, 21, 36000);  // the full hour
  const Location l = Only<Location>(m);
  EXPECT_EQ(l.height_type, HeightType::kAboveTakeoff);
  EXPECT_EQ(l.track_deg, 179);
  EXPECT_DOUBLE_EQ(*l.speed_mps, 20.5);
  EXPECT_DOUBLE_EQ(*l.vertical_speed_mps, 62);
  EXPECT_DOUBLE_EQ(l.position->lat_deg, -90);
  EXPECT_DOUBLE_EQ(l.position->lng_deg, 180);
  EXPECT_DOUBLE_EQ(*l.vertical_accuracy_m, 1);
  EXPECT_DOUBLE_EQ(*l.horizontal_accuracy_m, 1);
  EXPECT_DOUBLE_EQ(*l.baro_accuracy_m, 150);
  EXPECT_DOUBLE_EQ(*l.speed_accuracy_mps, 0.3);
  EXPECT_EQ(*l.time_since_hour, absl::Hours(1));
}

TEST(DecodeMessages, HorizontalAccuracyTable) {
  // F3411-22a horizontal accuracy: 1..8 are 10, 4, 2, 1, 0.5, 0.3, 0.1,
  // 0.05 NM (1852 m each); 9..12 are 30, 10, 3, 1 m.
  const double nm = 1852;
  const double expected[13] = {0,       10 * nm,  4 * nm,   2 * nm, 1 * nm,
                               0.5 * nm, 0.3 * nm, 0.1 * nm, 0.05 * nm,
                               30,      10,       3,        1};
  for (int code = 1; code <= 12; ++code) {
    std::string m = FullLocation();
    Put8(m, 19, static_cast<uint8_t>(code));
    const Location l = Only<Location>(m);
    ASSERT_TRUE(l.horizontal_accuracy_m.has_value()) << code;
    EXPECT_NEAR(*l.horizontal_accuracy_m, expected[code], 1e-9) << code;
  }
  const double vertical[7] = {0, 150, 45, 25, 10, 3, 1};
  for (int code = 1; code <= 6; ++code) {
    std::string m = FullLocation();
    Put8(m, 19, static_cast<uint8_t>(code << 4));
    EXPECT_DOUBLE_EQ(*Only<Location>(m).vertical_accuracy_m, vertical[code]);
  }
}

TEST(DecodeMessages, LocationSentinelsAreUnknownNotErrors) {
  std::string m = Msg(0x10);
  Put8(m, 1, 0x03);    // E/W + multiplier
  Put8(m, 2, 181);     // 181 + 180 = 361 degrees: unknown
  Put8(m, 3, 255);     // 255 * 0.75 + 63.75 = 255 m/s: unknown
  Put8(m, 4, 126);     // 63 m/s: unknown
  // lat/lng 0/0, altitudes 0 (-1000 m), accuracies 0: unknown
  Put16(m, 21, 0xFFFF);  // unknown timestamp
  const Location l = Only<Location>(m);
  EXPECT_EQ(l.status, Status::kUndeclared);
  EXPECT_FALSE(l.track_deg.has_value());
  EXPECT_FALSE(l.speed_mps.has_value());
  EXPECT_FALSE(l.vertical_speed_mps.has_value());
  EXPECT_FALSE(l.position.has_value());
  EXPECT_FALSE(l.pressure_altitude_m.has_value());
  EXPECT_FALSE(l.geodetic_altitude_m.has_value());
  EXPECT_FALSE(l.height_m.has_value());
  EXPECT_FALSE(l.horizontal_accuracy_m.has_value());
  EXPECT_FALSE(l.vertical_accuracy_m.has_value());
  EXPECT_FALSE(l.baro_accuracy_m.has_value());
  EXPECT_FALSE(l.speed_accuracy_mps.has_value());
  EXPECT_FALSE(l.time_since_hour.has_value());
  EXPECT_FALSE(l.timestamp_accuracy.has_value());
}

TEST(DecodeMessages, LatitudeZeroAloneIsAPosition) {
  std::string m = FullLocation();
  Put32(m, 5, 0);  // on the equator, longitude still given
  const Location l = Only<Location>(m);
  ASSERT_TRUE(l.position.has_value());
  EXPECT_EQ(l.position->lat_deg, 0);
}

TEST(DecodeMessages, BasicIdSerialNumber) {
  std::string m = Msg(0x02);  // Basic ID, version 2
  Put8(m, 1, 0x12);           // serial number (1), helicopter/multirotor (2)
  PutText(m, 2, "1596F3C1BE45A2");
  const BasicId b = Only<BasicId>(m);
  EXPECT_EQ(b.id_type, IdType::kSerialNumber);
  EXPECT_EQ(b.ua_type, UaType::kHelicopterOrMultirotor);
  EXPECT_EQ(b.uas_id, "1596F3C1BE45A2");
}

TEST(DecodeMessages, BasicIdTwentyCharactersFillTheField) {
  std::string m = Msg(0x02);
  Put8(m, 1, 0x2F);  // CAA registration, other
  PutText(m, 2, "FIN87astrdge12k8ABCD");
  const BasicId b = Only<BasicId>(m);
  EXPECT_EQ(b.id_type, IdType::kCaaRegistration);
  EXPECT_EQ(b.ua_type, UaType::kOther);
  EXPECT_EQ(b.uas_id, "FIN87astrdge12k8ABCD");
}

TEST(DecodeMessages, BasicIdUuidAndSessionId) {
  std::string m = Msg(0x02);
  Put8(m, 1, 0x31);  // UTM assigned UUID, aeroplane
  for (int i = 0; i < 16; ++i) Put8(m, 2 + i, static_cast<uint8_t>(0xA0 + i));
  EXPECT_EQ(Only<BasicId>(m).uas_id, "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");

  std::string s = Msg(0x02);
  Put8(s, 1, 0x41);  // specific session id
  Put8(s, 2, 0xE1);  // session id type 225 (private experimental)
  Put8(s, 21, 0x7F);
  // 20 bytes in hex: e1, eighteen zero bytes, 7f.
  EXPECT_EQ(Only<BasicId>(s).uas_id,
            absl::StrCat("e1", std::string(36, '0'), "7f"));
}

TEST(DecodeMessages, Authentication) {
  std::string p0 = Msg(0x22);  // Authentication, version 2
  Put8(p0, 1, 0x10);           // UAS ID signature (1), page 0
  Put8(p0, 2, 1);              // last page index 1
  Put8(p0, 3, 40);             // 40 bytes: fits in 17 + 23
  Put32(p0, 4, 1000);          // 2019-01-01T00:16:40Z
  for (int i = 8; i < 25; ++i) Put8(p0, i, static_cast<uint8_t>(i));
  const Authentication a = Only<Authentication>(p0);
  EXPECT_EQ(a.auth_type, AuthType::kUasIdSignature);
  EXPECT_EQ(a.page, 0);
  EXPECT_EQ(a.last_page_index, 1);
  EXPECT_EQ(a.length_bytes, 40);
  EXPECT_EQ(*a.timestamp, absl::FromUnixSeconds(1546300800 + 1000));
  ASSERT_EQ(a.data.size(), 17u);
  EXPECT_EQ(a.data[0], 8);
  EXPECT_EQ(a.data[16], 24);

  std::string p1 = Msg(0x22);
  Put8(p1, 1, 0xA1);  // private use type 0xA, page 1
  Put8(p1, 24, 0x5A);
  const Authentication b = Only<Authentication>(p1);
  EXPECT_EQ(static_cast<int>(b.auth_type), 0xA);
  EXPECT_EQ(b.page, 1);
  EXPECT_FALSE(b.last_page_index.has_value());
  ASSERT_EQ(b.data.size(), 23u);
  EXPECT_EQ(b.data[22], 0x5A);
}

TEST(DecodeMessages, SelfIdAndOperatorId) {
  std::string s = Msg(0x32);
  PutText(s, 2, "Survey flight, bridge");
  const SelfId d = Only<SelfId>(s);
  EXPECT_EQ(d.description_type, 0);
  EXPECT_EQ(d.description, "Survey flight, bridge");

  std::string o = Msg(0x52);
  PutText(o, 2, "FIN87astrdge12k8");
  const OperatorId op = Only<OperatorId>(o);
  EXPECT_EQ(op.operator_id_type, 0);
  EXPECT_EQ(op.operator_id, "FIN87astrdge12k8");
}

TEST(DecodeMessages, System) {
  std::string m = Msg(0x42);
  Put8(m, 1, 0x05);  // EU classification (1 << 2) | live GNSS (1)
  Put32(m, 2, 473970000);  // 47.397 degrees
  Put32(m, 6, static_cast<uint32_t>(-1224000000));  // -122.4 degrees
  Put16(m, 10, 3);   // 3 aircraft
  Put8(m, 12, 5);    // 5 * 10 = 50 m
  Put16(m, 13, 2500);  // 250 m
  Put16(m, 15, 2000);  // 0 m
  Put8(m, 17, 0x23);   // specific (2), class C2 (3)
  Put16(m, 18, 2200);  // 100 m
  Put32(m, 20, 200000000);  // 2019-01-01 + 2e8 s
  const System s = Only<System>(m);
  EXPECT_EQ(s.operator_location_type, OperatorLocationType::kLiveGnss);
  EXPECT_EQ(s.classification_type, ClassificationType::kEuropeanUnion);
  EXPECT_NEAR(s.operator_position->lat_deg, 47.397, 1e-12);
  EXPECT_NEAR(s.operator_position->lng_deg, -122.4, 1e-12);
  EXPECT_EQ(s.area_count, 3);
  EXPECT_DOUBLE_EQ(s.area_radius_m, 50);
  EXPECT_DOUBLE_EQ(*s.area_ceiling_m, 250);
  EXPECT_DOUBLE_EQ(*s.area_floor_m, 0);
  EXPECT_EQ(s.eu_category, EuCategory::kSpecific);
  EXPECT_EQ(s.eu_class, EuClass::kClass2);
  EXPECT_DOUBLE_EQ(*s.operator_altitude_m, 100);
  EXPECT_EQ(*s.timestamp, absl::FromUnixSeconds(1546300800 + 200000000));

  // Version 1 reserves the timestamp bytes; undeclared classification leaves
  // the category byte unread.
  Put8(m, 0, 0x41);
  Put8(m, 1, 0x00);
  Put8(m, 17, 0xFF);
  const System v1 = Only<System>(m);
  EXPECT_FALSE(v1.timestamp.has_value());
  EXPECT_EQ(v1.eu_category, EuCategory::kUndeclared);
  EXPECT_EQ(v1.eu_class, EuClass::kUndeclared);
}

TEST(DecodeMessages, PackDecodesEachMessageInOrder) {
  std::string id = Msg(0x02);
  Put8(id, 1, 0x12);
  PutText(id, 2, "1596F3C1BE45A2");
  std::string op = Msg(0x52);
  PutText(op, 2, "GBR-OP-123ABCD");
  absl::StatusOr<std::vector<Message>> got =
      DecodeMessages(Pack({id, FullLocation(), op}));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].type, MessageType::kBasicId);
  EXPECT_EQ((*got)[1].type, MessageType::kLocation);
  EXPECT_EQ((*got)[1].protocol_version, 2);
  EXPECT_EQ((*got)[2].type, MessageType::kOperatorId);
  EXPECT_EQ(std::get<OperatorId>((*got)[2].body).operator_id, "GBR-OP-123ABCD");
  EXPECT_EQ(std::get<Location>((*got)[1].body).track_deg, 190);

  absl::StatusOr<std::vector<Message>> empty = DecodeMessages(Pack({}));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  std::vector<std::string> nine(9, FullLocation());
  absl::StatusOr<std::vector<Message>> full = DecodeMessages(Pack(nine));
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->size(), 9u);
}

TEST(DecodeMessages, EveryProtocolVersionZeroToTwo) {
  for (int v = 0; v <= 2; ++v) {
    std::string m = FullLocation();
    Put8(m, 0, static_cast<uint8_t>(0x10 | v));
    absl::StatusOr<std::vector<Message>> got = DecodeMessages(m);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ((*got)[0].protocol_version, v);
  }
}

struct Refusal {
  const char* name;
  std::string bytes;
  const char* message;  // the whole "byte N (field): ..." prefix or more
};

std::vector<Refusal> Refusals() {
  std::vector<Refusal> r;
  auto loc = [](int i, uint8_t v) {
    std::string m = FullLocation();
    Put8(m, i, v);
    return m;
  };
  auto loc32 = [](int i, int32_t v) {
    std::string m = FullLocation();
    Put32(m, i, static_cast<uint32_t>(v));
    return m;
  };
  r.push_back({"latitude", loc32(5, 951234567),
               "byte 5 (Location.latitude): 95.1234567 is outside [-90, 90]"});
  r.push_back({"longitude", loc32(9, -1800000001),
               "byte 9 (Location.longitude): -180.0000001 is outside [-180, 180]"});
  r.push_back({"track_east", loc(2, 200),
               "byte 2 (Location.track): 380 is outside [0, 359]"});
  {
    std::string m = loc(1, 0x20);  // E/W clear
    Put8(m, 2, 181);
    r.push_back({"track_west", m,
                 "byte 2 (Location.track): 181 is outside [0, 359] (direction "
                 "byte 181 is outside [0, 179])"});
  }
  r.push_back({"vertical_speed", loc(4, 127),
               "byte 4 (Location.vertical_speed): 63.5 m/s is outside [-62, 62]"});
  r.push_back({"vertical_speed_down", loc(4, static_cast<uint8_t>(-125)),
               "byte 4 (Location.vertical_speed): -62.5 m/s"});
  r.push_back({"status", loc(1, 0x57), "byte 1 (Location.status): 5 is reserved"});
  r.push_back({"horizontal_accuracy", loc(19, 0x4D),
               "byte 19 (Location.horizontal_accuracy): 13 is reserved"});
  r.push_back({"vertical_accuracy", loc(19, 0x7B),
               "byte 19 (Location.vertical_accuracy): 7 is reserved"});
  r.push_back({"baro_accuracy", loc(20, 0x73),
               "byte 20 (Location.baro_accuracy): 7 is reserved"});
  r.push_back({"speed_accuracy", loc(20, 0x55),
               "byte 20 (Location.speed_accuracy): 5 is reserved"});
  {
    std::string m = FullLocation();
    Put16(m, 21, 36001);
    r.push_back({"timestamp", m,
                 "byte 21 (Location.timestamp): 36001 tenths of a second is "
                 "outside [0, 36000]"});
  }
  r.push_back({"version", loc(0, 0x13),
               "byte 0 (header.protocol_version): 3 is not 0 (F3411-19)"});
  r.push_back({"message_type", Msg(0x62), "byte 0 (header.message_type): 6 is reserved"});
  {
    std::string m = Msg(0x02);
    Put8(m, 1, 0x52);
    r.push_back({"id_type", m, "byte 1 (BasicId.id_type): 5 is reserved"});
    std::string n = Msg(0x02);
    Put8(n, 1, 0x12);
    PutText(n, 2, "AB\x01");
    r.push_back({"uas_id_control", n,
                 "byte 4 (BasicId.uas_id): 0x01 is not printable ASCII"});
    std::string h = Msg(0x02);
    Put8(h, 1, 0x12);
    PutText(h, 2, "AB");
    Put8(h, 10, 'A');
    r.push_back({"uas_id_after_nul", h,
                 "byte 10 (BasicId.uas_id): 0x41 after the NUL padding"});
    std::string e = Msg(0x02);
    Put8(e, 1, 0x12);
    Put8(e, 2, 0xC3);  // UTF-8 lead byte
    r.push_back({"uas_id_high", e,
                 "byte 2 (BasicId.uas_id): 0xc3 is not printable ASCII"});
    std::string z = Msg(0x02);
    Put8(z, 1, 0x42);
    r.push_back({"session_type", z,
                 "byte 2 (BasicId.uas_id): session id type 0 is reserved"});
  }
  {
    std::string a = Msg(0x22);
    Put8(a, 1, 0x70);
    r.push_back({"auth_type", a, "byte 1 (Authentication.auth_type): 7 is reserved"});
    std::string p = Msg(0x22);
    Put8(p, 1, 0x10);
    Put8(p, 2, 16);
    r.push_back({"last_page", p,
                 "byte 2 (Authentication.last_page_index): 16 is outside [0, 15]"});
    std::string l = Msg(0x22);
    Put8(l, 1, 0x10);
    Put8(l, 2, 1);
    Put8(l, 3, 41);  // 17 + 23 = 40 fit
    r.push_back({"auth_length", l,
                 "byte 3 (Authentication.length): 41 bytes do not fit in pages "
                 "0..1 (40 bytes)"});
  }
  {
    std::string s = Msg(0x32);
    Put8(s, 1, 3);
    r.push_back({"self_id_type", s, "byte 1 (SelfId.description_type): 3 is reserved"});
    std::string o = Msg(0x52);
    Put8(o, 1, 200);
    r.push_back({"operator_id_type", o,
                 "byte 1 (OperatorId.operator_id_type): 200 is reserved"});
    std::string t = Msg(0x52);
    PutText(t, 2, "GBR\x7F");
    r.push_back({"operator_id_text", t,
                 "byte 5 (OperatorId.operator_id): 0x7f is not printable ASCII"});
  }
  {
    std::string s = Msg(0x42);
    Put8(s, 1, 0x03);
    r.push_back({"operator_location_type", s,
                 "byte 1 (System.operator_location_type): 3 is reserved"});
    std::string c = Msg(0x42);
    Put8(c, 1, 0x08);
    r.push_back({"classification", c,
                 "byte 1 (System.classification_type): 2 is reserved"});
    std::string k = Msg(0x42);
    Put8(k, 1, 0x04);
    Put8(k, 17, 0x41);
    r.push_back({"eu_category", k, "byte 17 (System.eu_category): 4 is reserved"});
    std::string e = Msg(0x42);
    Put8(e, 1, 0x04);
    Put8(e, 17, 0x18);
    r.push_back({"eu_class", e, "byte 17 (System.eu_class): 8 is reserved"});
    std::string p = Msg(0x42);
    Put32(p, 2, static_cast<uint32_t>(-900000001));
    Put32(p, 6, 1);
    r.push_back({"operator_latitude", p,
                 "byte 2 (System.operator_latitude): -90.0000001 is outside"});
  }
  r.push_back({"empty", "", "byte 0 (header): no bytes"});
  r.push_back({"truncated", FullLocation().substr(0, 24),
               "byte 24 (Location): truncated: 24 bytes, a message is 25"});
  r.push_back({"trailing", FullLocation() + "x",
               "byte 25 (Location): 1 trailing bytes after the 25-byte message"});
  {
    std::string p = Pack({FullLocation()});
    Put8(p, 1, 24);
    r.push_back({"pack_size", p, "byte 1 (MessagePack.message_size): 24 is not 25"});
    std::string c = Pack({});
    Put8(c, 2, 10);
    r.push_back({"pack_count", c,
                 "byte 2 (MessagePack.message_count): 10 is outside [0, 9]"});
    r.push_back({"pack_header", std::string("\xF2\x19", 2),
                 "byte 2 (MessagePack): truncated: 2 bytes, the pack header is 3"});
    r.push_back({"pack_truncated", Pack({FullLocation(), FullLocation()}).substr(0, 40),
                 "byte 40 (MessagePack): truncated: 2 messages need 53 bytes, got 40"});
    r.push_back({"pack_trailing", Pack({FullLocation()}) + std::string(25, '\0'),
                 "byte 28 (MessagePack): 25 trailing bytes after 1 messages"});
    r.push_back({"pack_nested", Pack({FullLocation(), Pack({})+std::string(22, '\0')}),
                 "byte 28 (MessagePack.messages[1].header.message_type): a message "
                 "pack inside a message pack"});
    std::string bad = FullLocation();
    Put32(bad, 5, 951234567);
    r.push_back({"pack_inner_field", Pack({FullLocation(), bad}),
                 "byte 33 (MessagePack.messages[1].Location.latitude): 95.1234567"});
  }
  return r;
}

TEST(DecodeMessages, RefusesWithByteAndField) {
  for (const Refusal& r : Refusals()) {
    SCOPED_TRACE(r.name);
    absl::StatusOr<std::vector<Message>> got = DecodeMessages(r.bytes);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(r.message));
  }
}

TEST(TrimPackPadding, CutsOnlyAllZeroSlotsAfterAPack) {
  // A pack of one in a nine-slot buffer, as some Bluetooth 5 transmitters
  // send it.
  const std::string one = Pack({FullLocation()});
  const std::string padded = one + std::string(8 * kMessageSize, '\0');
  EXPECT_EQ(TrimPackPadding(padded), one);
  EXPECT_TRUE(DecodeMessages(TrimPackPadding(padded)).ok());
  EXPECT_FALSE(DecodeMessages(padded).ok());  // DecodeMessages stays strict
  // A non-zero byte in the padding: returned whole, then refused.
  std::string dirty = padded;
  dirty[100] = 1;
  EXPECT_EQ(TrimPackPadding(dirty), dirty);
  EXPECT_THAT(std::string(DecodeMessages(dirty).status().message()),
              HasSubstr("byte 28 (MessagePack): 200 trailing bytes"));
  // Single messages and short input are left alone.
  const std::string single = FullLocation() + std::string(3, '\0');
  EXPECT_EQ(TrimPackPadding(single), single);
  EXPECT_EQ(TrimPackPadding("\xF2"), "\xF2");
}

TEST(DecodeMessages, ReservedBitsAndBytesAreIgnored) {
  std::string m = FullLocation();
  Put8(m, 1, 0x27 | 0x08);  // reserved bit 3 of the flags
  Put8(m, 23, 0xF3);        // reserved high nibble of the timestamp accuracy
  Put8(m, 24, 0xFF);        // reserved last byte
  const Location l = Only<Location>(m);
  EXPECT_EQ(l.track_deg, 190);
  EXPECT_EQ(*l.timestamp_accuracy, absl::Milliseconds(300));
}

}  // namespace
}  // namespace utm::remoteid::broadcast
