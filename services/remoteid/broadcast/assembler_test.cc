#include "services/remoteid/broadcast/assembler.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace utm::remoteid::broadcast {
namespace {

Message Id(IdType type, const std::string& id) {
  BasicId b;
  b.id_type = type;
  b.ua_type = UaType::kHelicopterOrMultirotor;
  b.uas_id = id;
  Message m;
  m.type = MessageType::kBasicId;
  m.protocol_version = 2;
  m.body = b;
  return m;
}

Message Loc(double lat, double lng,
            std::optional<absl::Duration> since_hour = std::nullopt) {
  Location l;
  l.status = Status::kAirborne;
  LatLng p;
  p.lat_deg = lat;
  p.lng_deg = lng;
  l.position = p;
  l.geodetic_altitude_m = 120;
  l.time_since_hour = since_hour;
  Message m;
  m.type = MessageType::kLocation;
  m.protocol_version = 2;
  m.body = l;
  return m;
}

// One report, of an aircraft whose transmitter sent no UAS id yet.
bool Unnamed(const std::vector<AircraftReport>& r) {
  return r.size() == 1 && r[0].uas_id.empty();
}

// A fixed instant: 2026-03-01T10:00:00Z.
absl::Time Ten() { return absl::FromUnixSeconds(1772359200); }

TEST(Assembler, NamesTheAircraftOnceAUasIdIsKnown) {
  Assembler a;
  // Positions before any Basic ID: reported, unnamed.
  std::vector<AircraftReport> unnamed =
      a.Add("rx1", "aa:00:00:00:00:01", Ten(), {Loc(47, 8)});
  ASSERT_EQ(unnamed.size(), 1u);
  EXPECT_EQ(unnamed[0].uas_id, "");
  EXPECT_EQ(unnamed[0].id_type, IdType::kNone);
  EXPECT_EQ(unnamed[0].lat_deg, 47);
  EXPECT_TRUE(
      a.Add("rx1", "aa:00:00:00:00:01", Ten(), {Id(IdType::kSerialNumber, "")})
          .empty());
  // An empty id does not name the aircraft.
  unnamed = a.Add("rx1", "aa:00:00:00:00:01", Ten(), {Loc(47, 8)});
  ASSERT_EQ(unnamed.size(), 1u);
  EXPECT_EQ(unnamed[0].uas_id, "");
  a.Add("rx1", "aa:00:00:00:00:01", Ten(), {Id(IdType::kSerialNumber, "SN1")});
  std::vector<AircraftReport> r =
      a.Add("rx1", "aa:00:00:00:00:01", Ten(), {Loc(47.5, 8.25)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].uas_id, "SN1");
  EXPECT_EQ(r[0].id_type, IdType::kSerialNumber);
  EXPECT_EQ(r[0].ua_type, UaType::kHelicopterOrMultirotor);
  EXPECT_EQ(r[0].receiver_id, "rx1");
  EXPECT_EQ(r[0].transmitter, "aa:00:00:00:00:01");
  EXPECT_EQ(r[0].lat_deg, 47.5);
  EXPECT_EQ(r[0].lng_deg, 8.25);
  EXPECT_EQ(r[0].geodetic_altitude_m, 120);
  EXPECT_EQ(r[0].status, Status::kAirborne);
  EXPECT_EQ(r[0].time, Ten());
  EXPECT_FALSE(r[0].time_from_timestamp);
}

TEST(Assembler, AssociatesByReceiverAndTransmitter) {
  Assembler a;
  a.Add("rx1", "t-a", Ten(), {Id(IdType::kSerialNumber, "A")});
  a.Add("rx1", "t-b", Ten(), {Id(IdType::kSerialNumber, "B")});
  std::vector<AircraftReport> ra = a.Add("rx1", "t-a", Ten(), {Loc(1, 1)});
  std::vector<AircraftReport> rb = a.Add("rx1", "t-b", Ten(), {Loc(2, 2)});
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(ra[0].uas_id, "A");
  EXPECT_EQ(rb[0].uas_id, "B");
  // Another transmitter, and the same transmitter heard by another receiver,
  // know no id yet.
  EXPECT_TRUE(Unnamed(a.Add("rx1", "t-c", Ten(), {Loc(3, 3)})));
  EXPECT_TRUE(Unnamed(a.Add("rx2", "t-a", Ten(), {Loc(1, 1)})));
  EXPECT_EQ(a.size(), 4u);
}

TEST(Assembler, APackIsOneSnapshotAndCarriesEverything) {
  System s;
  s.operator_location_type = OperatorLocationType::kLiveGnss;
  s.classification_type = ClassificationType::kEuropeanUnion;
  s.eu_category = EuCategory::kOpen;
  s.eu_class = EuClass::kClass1;
  LatLng op;
  op.lat_deg = 47.1;
  op.lng_deg = 8.1;
  s.operator_position = op;
  s.operator_altitude_m = 410;
  Message sys;
  sys.type = MessageType::kSystem;
  sys.body = s;
  OperatorId o;
  o.operator_id = "CHEop123";
  Message opid;
  opid.type = MessageType::kOperatorId;
  opid.body = o;
  SelfId d;
  d.description = "Inspection";
  Message self;
  self.type = MessageType::kSelfId;
  self.body = d;

  Assembler a;
  // The Location comes first in the pack; the Basic ID after it still names it.
  std::vector<AircraftReport> r = a.Add(
      "rx", "t", Ten(),
      {Loc(47.2, 8.2), Id(IdType::kSerialNumber, "SN"), sys, opid, self});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].uas_id, "SN");
  EXPECT_EQ(r[0].operator_id, "CHEop123");
  EXPECT_EQ(r[0].self_id_description, "Inspection");
  EXPECT_EQ(r[0].operator_location_type, OperatorLocationType::kLiveGnss);
  ASSERT_TRUE(r[0].operator_position.has_value());
  EXPECT_EQ(r[0].operator_position->lat_deg, 47.1);
  EXPECT_EQ(r[0].operator_altitude_m, 410);
  EXPECT_EQ(r[0].classification_type, ClassificationType::kEuropeanUnion);
  EXPECT_EQ(r[0].eu_category, EuCategory::kOpen);
  EXPECT_EQ(r[0].eu_class, EuClass::kClass1);

  // Remembered for the next Location heard alone.
  std::vector<AircraftReport> next = a.Add("rx", "t", Ten(), {Loc(47.3, 8.3)});
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].operator_id, "CHEop123");
}

TEST(Assembler, PrefersSerialNumberAndKeepsTwoBasicIds) {
  Assembler a;
  a.Add("rx", "t", Ten(), {Id(IdType::kSpecificSessionId, "e1ff")});
  a.Add("rx", "t", Ten(), {Id(IdType::kSerialNumber, "SN")});
  std::vector<AircraftReport> r = a.Add("rx", "t", Ten(), {Loc(1, 1)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].uas_id, "SN");
  EXPECT_EQ(r[0].basic_ids.size(), 2u);
  // A newer id of a type already held replaces it.
  a.Add("rx", "t", Ten(), {Id(IdType::kSerialNumber, "SN2")});
  r = a.Add("rx", "t", Ten(), {Loc(1, 1)});
  EXPECT_EQ(r[0].uas_id, "SN2");
  EXPECT_EQ(r[0].basic_ids.size(), 2u);
  // A third type pushes out the oldest (the session id).
  a.Add("rx", "t", Ten(), {Id(IdType::kCaaRegistration, "CAA")});
  r = a.Add("rx", "t", Ten(), {Loc(1, 1)});
  ASSERT_EQ(r[0].basic_ids.size(), 2u);
  EXPECT_EQ(r[0].basic_ids[0].id_type, IdType::kSerialNumber);
  EXPECT_EQ(r[0].basic_ids[1].id_type, IdType::kCaaRegistration);
}

TEST(Assembler, NoReportWithoutAPosition) {
  Assembler a;
  Message unknown = Loc(0, 0);
  std::get<Location>(unknown.body).position.reset();
  EXPECT_TRUE(
      a.Add("rx", "t", Ten(), {Id(IdType::kSerialNumber, "SN"), unknown}).empty());
}

TEST(Assembler, BoundedLeastRecentlyHeardEvictedFirst) {
  AssemblerOptions options;
  options.max_transmitters = 3;
  Assembler a(options);
  for (int i = 0; i < 3; ++i) {
    a.Add("rx", absl::StrCat("t", i), Ten(),
          {Id(IdType::kSerialNumber, absl::StrCat("SN", i))});
  }
  // t0 heard again: t1 is now the least recently heard.
  a.Add("rx", "t0", Ten(), {});
  a.Add("rx", "t3", Ten(), {Id(IdType::kSerialNumber, "SN3")});
  EXPECT_EQ(a.size(), 3u);
  EXPECT_TRUE(Unnamed(a.Add("rx", "t1", Ten(), {Loc(1, 1)})));  // forgotten
  // Adding t1 back evicted t2 (least recent now); t0 and t3 remain.
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.Add("rx", "t0", Ten(), {Loc(1, 1)}).at(0).uas_id, "SN0");
  EXPECT_EQ(a.Add("rx", "t3", Ten(), {Loc(1, 1)}).at(0).uas_id, "SN3");
  EXPECT_TRUE(Unnamed(a.Add("rx", "t2", Ten(), {Loc(1, 1)})));

  for (int i = 0; i < 1000; ++i) a.Add("rx", absl::StrCat("x", i), Ten(), {});
  EXPECT_EQ(a.size(), 3u);
}

TEST(Assembler, ForgetsTransmittersNotHeardForMaxAge) {
  AssemblerOptions options;
  options.max_age = absl::Minutes(1);
  Assembler a(options);
  a.Add("rx", "old", Ten(), {Id(IdType::kSerialNumber, "OLD")});
  a.Add("rx", "new", Ten() + absl::Seconds(50),
        {Id(IdType::kSerialNumber, "NEW")});
  EXPECT_EQ(a.size(), 2u);
  a.Add("rx", "new", Ten() + absl::Seconds(61), {});
  EXPECT_EQ(a.size(), 1u);
  EXPECT_TRUE(Unnamed(a.Add("rx", "old", Ten() + absl::Seconds(62), {Loc(1, 1)})));
}

TEST(Assembler, ReconstructsTimeAcrossTheHour) {
  const absl::Duration allowance = absl::Seconds(1);
  // Heard at 10:00:00.5 with a timestamp of 59:59.0 into the hour: 09:59:59.
  EXPECT_EQ(Assembler::ReconstructTime(absl::Seconds(3599),
                                       Ten() + absl::Milliseconds(500),
                                       allowance),
            Ten() - absl::Seconds(1));
  // Heard at 09:59:59.8, the aircraft's clock 0.5 s ahead: 10:00:00.3.
  EXPECT_EQ(Assembler::ReconstructTime(absl::Milliseconds(300),
                                       Ten() - absl::Milliseconds(200),
                                       allowance),
            Ten() + absl::Milliseconds(300));
  // 10:00:02 would be more than the allowance ahead of 09:59:59.8: 09:00:02.
  EXPECT_EQ(Assembler::ReconstructTime(absl::Seconds(2),
                                       Ten() - absl::Milliseconds(200),
                                       allowance),
            Ten() - absl::Hours(1) + absl::Seconds(2));
  // Exactly the allowance ahead is still accepted.
  EXPECT_EQ(Assembler::ReconstructTime(absl::Seconds(1), Ten(), allowance),
            Ten() + absl::Seconds(1));
  // The full hour (36000 tenths) is the start of the next hour.
  EXPECT_EQ(Assembler::ReconstructTime(absl::Hours(1),
                                       Ten() + absl::Minutes(30), allowance),
            Ten());

  Assembler a;
  std::vector<AircraftReport> r =
      a.Add("rx", "t", Ten() + absl::Milliseconds(500),
            {Id(IdType::kSerialNumber, "SN"), Loc(1, 1, absl::Seconds(3599))});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].time_from_timestamp);
  EXPECT_EQ(r[0].time, Ten() - absl::Seconds(1));
  EXPECT_EQ(r[0].received, Ten() + absl::Milliseconds(500));
}

}  // namespace
}  // namespace utm::remoteid::broadcast
