// Capture reader tests: the three real samples in
// ../shared/data/remoteid/broadcast (skipped when absent), cross-checked
// against tshark when it is installed, and synthetic captures written with
// libpcap for the link types and faults the samples do not have.
#include "services/remoteid/broadcast/capture.h"

#include <openssl/sha.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/remoteid/broadcast/assembler.h"
#include "services/remoteid/broadcast/odid.h"

namespace utm::remoteid::broadcast {
namespace {

using ::testing::HasSubstr;

std::string SamplePath(const std::string& name) {
  return absl::StrCat(UTM_SHARED_DATA_DIR, "/remoteid/broadcast/", name);
}

#define SKIP_WITHOUT_SAMPLE(path)                                       \
  if (!std::filesystem::exists(path)) {                                 \
    GTEST_SKIP() << "sample capture " << path                           \
                 << " is absent (../shared/data is not checked out)";   \
  }

struct Read {
  std::vector<CapturedFrame> frames;
  std::vector<SkippedFrame> skipped;
};

Read MustRead(const std::string& path) {
  Read r;
  absl::StatusOr<std::vector<CapturedFrame>> frames = ReadCapture(path, &r.skipped);
  EXPECT_TRUE(frames.ok()) << frames.status();
  if (frames.ok()) r.frames = *std::move(frames);
  return r;
}

const CapturedFrame* Frame(const Read& r, int64_t number, Transport transport) {
  for (const CapturedFrame& f : r.frames) {
    if (f.frame_number == number && f.transport == transport) return &f;
  }
  return nullptr;
}

std::vector<Message> MustDecode(const CapturedFrame& f) {
  absl::StatusOr<std::vector<Message>> m = DecodeMessages(f.payload);
  EXPECT_TRUE(m.ok()) << "frame " << f.frame_number << ": " << m.status();
  return m.ok() ? *std::move(m) : std::vector<Message>{};
}

template <typename T>
const T* Find(const std::vector<Message>& messages) {
  for (const Message& m : messages) {
    if (const T* t = std::get_if<T>(&m.body)) return t;
  }
  return nullptr;
}

// Runs tshark on `path` and returns, per frame number, the Remote ID payload
// it dissects, in hex, as this reader should return it: the counter byte
// (and Bluetooth's application code) dropped, a pack's zero padding cut.
// nullopt when tshark is not installed.
std::optional<std::multimap<int64_t, std::string>> TsharkPayloads(
    const std::string& path) {
  if (std::system("tshark -v >/dev/null 2>&1") != 0) return std::nullopt;
  const std::string command = absl::StrCat(
      "tshark -r '", path,
      "' -T fields -E separator=/t -e frame.number -e nan.sda.service_info "
      "-e wlan.tag.vendor.data -e btcommon.eir_ad.entry.service_data "
      "-e nordic_ble.crcok 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  auto cut = [](std::string hex) {
    // A pack (first nibble f, size 0x19) whose unused slots are zeros.
    if (hex.size() >= 6 && hex[0] == 'f' && hex.substr(2, 2) == "19") {
      const size_t need = 2 * (3 + 25 * std::stoi(hex.substr(4, 2), nullptr, 16));
      if (hex.size() > need &&
          hex.find_first_not_of('0', need) == std::string::npos) {
        hex.resize(need);
      }
    }
    return hex;
  };
  std::multimap<int64_t, std::string> payloads;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    f.resize(5);
    const int64_t number = std::stoll(f[0]);
    if (!f[1].empty()) {  // NAN service info: counter, pack
      payloads.emplace(number, cut(absl::StrReplaceAll(f[1], {{"-", ""}}).substr(2)));
    }
    for (absl::string_view v : absl::StrSplit(f[2], ',', absl::SkipEmpty())) {
      // Vendor element data after the OUI: type 0d, counter, pack. The
      // ASD-STAN OUI is the only one whose data tshark leaves undissected
      // here with type 0x0d.
      if (absl::StartsWith(v, "0d") && v.size() > 4) {
        payloads.emplace(number, cut(std::string(v.substr(4))));
      }
    }
    if (!f[3].empty() && f[4] != "0") {  // app code 0d, counter, message(s)
      for (absl::string_view v : absl::StrSplit(f[3], ',', absl::SkipEmpty())) {
        if (absl::StartsWith(v, "0d") && v.size() > 4) {
          payloads.emplace(number, cut(std::string(v.substr(4))));
        }
      }
    }
  }
  return payloads;
}

void ExpectSameAsTshark(const std::string& path, const Read& read) {
  std::optional<std::multimap<int64_t, std::string>> expected =
      TsharkPayloads(path);
  if (!expected.has_value()) {
    GTEST_SKIP() << "tshark is not installed; the cross-check is skipped";
  }
  std::multimap<int64_t, std::string> got;
  for (const CapturedFrame& f : read.frames) {
    got.emplace(f.frame_number, absl::BytesToHexString(f.payload));
  }
  EXPECT_EQ(got.size(), expected->size());
  EXPECT_TRUE(got == *expected) << "payloads differ from tshark's for " << path;
}

// --- Wi-Fi NAN sample -------------------------------------------------------
// 63 frames: 21 NAN synchronisation beacons (no Remote ID), 21 NAN service
// discovery frames and 21 beacons, each of the latter with a one-message
// pack. Values below were read off `tshark -r odid_wifi_sample.pcap -V` and
// its raw bytes and scaled by hand.
TEST(ReadCapture, WifiNanSample) {
  const std::string path = SamplePath("odid_wifi_sample.pcap");
  SKIP_WITHOUT_SAMPLE(path);
  const Read r = MustRead(path);
  EXPECT_TRUE(r.skipped.empty());
  ASSERT_EQ(r.frames.size(), 42u);
  int nan = 0, beacon = 0;
  for (const CapturedFrame& f : r.frames) {
    EXPECT_EQ(f.transmitter, "84:cc:a8:60:43:24");
    nan += f.transport == Transport::kWifiNan;
    beacon += f.transport == Transport::kWifiBeacon;
    EXPECT_EQ(MustDecode(f).size(), 1u);
  }
  EXPECT_EQ(nan, 21);
  EXPECT_EQ(beacon, 21);

  // Frame 2: NAN service discovery, Operator ID.
  const CapturedFrame* f2 = Frame(r, 2, Transport::kWifiNan);
  ASSERT_NE(f2, nullptr);
  EXPECT_EQ(f2->rssi_dbm, -37);
  EXPECT_EQ(f2->time, absl::FromUnixSeconds(1620849805) +
                          absl::Microseconds(193865));
  const std::vector<Message> m2 = MustDecode(*f2);
  const OperatorId* op = Find<OperatorId>(m2);
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->operator_id, "GBR-OP-123ABCD");

  // Frame 5: NAN, Location 10 02 6c 52 7e 979f251b e6eab3b6 0000 aa09 9808
  // 39 41 0000 0a 00.
  const CapturedFrame* f5 = Frame(r, 5, Transport::kWifiNan);
  ASSERT_NE(f5, nullptr);
  std::vector<Message> m5 = MustDecode(*f5);
  const Location* loc = Find<Location>(m5);
  ASSERT_NE(loc, nullptr);
  EXPECT_EQ(m5[0].protocol_version, 0);
  EXPECT_EQ(loc->status, Status::kUndeclared);
  EXPECT_EQ(loc->track_deg, 0x6c + 180);  // E/W bit set: 288
  EXPECT_DOUBLE_EQ(*loc->speed_mps, 0x52 * 0.25);  // 20.5
  EXPECT_FALSE(loc->vertical_speed_mps.has_value());  // 0x7e: 63 m/s, unknown
  EXPECT_NEAR(loc->position->lat_deg, 45.5450519, 1e-9);
  EXPECT_NEAR(loc->position->lng_deg, -122.9722906, 1e-9);
  EXPECT_FALSE(loc->pressure_altitude_m.has_value());
  EXPECT_DOUBLE_EQ(*loc->geodetic_altitude_m, 0x09aa * 0.5 - 1000);  // 237
  EXPECT_DOUBLE_EQ(*loc->height_m, 0x0898 * 0.5 - 1000);            // 100
  EXPECT_EQ(loc->height_type, HeightType::kAboveTakeoff);
  EXPECT_DOUBLE_EQ(*loc->horizontal_accuracy_m, 30);  // 9
  EXPECT_DOUBLE_EQ(*loc->vertical_accuracy_m, 25);    // 3
  EXPECT_DOUBLE_EQ(*loc->baro_accuracy_m, 10);        // 4
  EXPECT_DOUBLE_EQ(*loc->speed_accuracy_mps, 10);     // 1
  EXPECT_EQ(*loc->time_since_hour, absl::ZeroDuration());
  EXPECT_EQ(*loc->timestamp_accuracy, absl::Seconds(1));  // 10 tenths

  // Frame 29: NAN, System 40 04 a485251b 6edbb3b6 0100 32 0000 0000 15 ...
  const CapturedFrame* f29 = Frame(r, 29, Transport::kWifiNan);
  ASSERT_NE(f29, nullptr);
  const std::vector<Message> m29 = MustDecode(*f29);
  const System* sys = Find<System>(m29);
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->operator_location_type, OperatorLocationType::kTakeoff);
  EXPECT_EQ(sys->classification_type, ClassificationType::kEuropeanUnion);
  EXPECT_NEAR(sys->operator_position->lat_deg, 45.5443876, 1e-9);
  EXPECT_NEAR(sys->operator_position->lng_deg, -122.9726866, 1e-9);
  EXPECT_EQ(sys->area_count, 1);
  EXPECT_DOUBLE_EQ(sys->area_radius_m, 500);
  EXPECT_EQ(sys->eu_category, EuCategory::kOpen);
  EXPECT_EQ(sys->eu_class, EuClass::kClass4);  // 5
  EXPECT_FALSE(sys->operator_altitude_m.has_value());

  // Frame 3: a beacon carrying the same Operator ID.
  const CapturedFrame* f3 = Frame(r, 3, Transport::kWifiBeacon);
  ASSERT_NE(f3, nullptr);
  EXPECT_EQ(f3->rssi_dbm, -35);
  const std::vector<Message> m3 = MustDecode(*f3);
  ASSERT_NE(Find<OperatorId>(m3), nullptr);

  ExpectSameAsTshark(path, r);
}

// --- Wi-Fi beacon sample ----------------------------------------------------
// 21 beacons, each with a five-message pack: Basic ID, Location, Self-ID,
// System, Operator ID (read off `tshark -r odid_wifi_bcn_sample.pcap -x`).
TEST(ReadCapture, WifiBeaconSample) {
  const std::string path = SamplePath("odid_wifi_bcn_sample.pcap");
  SKIP_WITHOUT_SAMPLE(path);
  const Read r = MustRead(path);
  EXPECT_TRUE(r.skipped.empty());
  ASSERT_EQ(r.frames.size(), 21u);
  for (const CapturedFrame& f : r.frames) {
    EXPECT_EQ(f.transport, Transport::kWifiBeacon);
    EXPECT_EQ(f.transmitter, "84:cc:a8:60:43:24");
    EXPECT_EQ(MustDecode(f).size(), 5u);
  }
  const CapturedFrame& f1 = r.frames[0];
  EXPECT_EQ(f1.frame_number, 1);
  EXPECT_EQ(f1.rssi_dbm, -33);
  EXPECT_EQ(f1.time, absl::FromUnixSeconds(1621633931) +
                         absl::Microseconds(161999));
  const std::vector<Message> m = MustDecode(f1);
  const BasicId* id = Find<BasicId>(m);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->id_type, IdType::kNone);  // byte 1 is 0x00 in this sample
  EXPECT_EQ(id->uas_id, "MFG1A0123456789");
  // Location 10 00 5c 52 7e bcba251b a88cb4b6 0000 aa09 9808 39 41 0000 0a 00
  const Location* loc = Find<Location>(m);
  ASSERT_NE(loc, nullptr);
  EXPECT_EQ(loc->track_deg, 0x5c);  // 92
  EXPECT_NEAR(loc->position->lat_deg, 45.5457468, 1e-9);
  EXPECT_NEAR(loc->position->lng_deg, -122.9681496, 1e-9);
  EXPECT_DOUBLE_EQ(*loc->geodetic_altitude_m, 237);
  const SelfId* self = Find<SelfId>(m);
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->description, "Recreational");
  const System* sys = Find<System>(m);
  ASSERT_NE(sys, nullptr);
  EXPECT_NEAR(sys->operator_position->lat_deg, 45.5443876, 1e-9);
  const OperatorId* op = Find<OperatorId>(m);
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->operator_id, "GBR-OP-123ABCD");

  // Through the assembler: every beacon is a full snapshot, so 21 reports.
  Assembler assembler;
  int reports = 0;
  for (const CapturedFrame& f : r.frames) {
    for (const AircraftReport& a :
         assembler.Add("rx", f.transmitter, f.time, MustDecode(f))) {
      ++reports;
      EXPECT_EQ(a.uas_id, "MFG1A0123456789");
      EXPECT_EQ(a.operator_id, "GBR-OP-123ABCD");
      EXPECT_EQ(a.self_id_description, "Recreational");
      ASSERT_TRUE(a.operator_position.has_value());
    }
  }
  EXPECT_EQ(reports, 21);

  ExpectSameAsTshark(path, r);
}

// --- Bluetooth 5 long range sample ------------------------------------------
// 274 frames from an nRF Sniffer (LINKTYPE_NORDIC_BLE), all AUX_ADV_IND on
// the coded PHY from one advertiser; tshark marks 30 with a failed CRC.
// The packs grow from 0 to 5 messages as the transmitter starts; the aircraft
// has no position fix (latitude/longitude 0/0).
TEST(ReadCapture, BluetoothLongRangeSample) {
  const std::string path = SamplePath("odid_bt5_lr_sample.pcapng");
  SKIP_WITHOUT_SAMPLE(path);
  const Read r = MustRead(path);
  ASSERT_EQ(r.skipped.size(), 30u);
  for (const SkippedFrame& s : r.skipped) {
    EXPECT_EQ(s.reason, "Bluetooth CRC check failed");
  }
  EXPECT_EQ(r.skipped[0].frame_number, 8);  // tshark: nordic_ble.crcok == 0
  ASSERT_EQ(r.frames.size(), 244u);
  int five = 0;
  for (const CapturedFrame& f : r.frames) {
    EXPECT_EQ(f.transport, Transport::kBluetoothLongRange);
    EXPECT_EQ(f.transmitter, "e0:7d:ea:eb:2f:1c");
    ASSERT_TRUE(f.rssi_dbm.has_value());
    EXPECT_LT(*f.rssi_dbm, -40);
    EXPECT_GT(*f.rssi_dbm, -100);
    five += MustDecode(f).size() == 5;
  }
  EXPECT_GT(five, 150);
  EXPECT_EQ(r.frames[0].frame_number, 1);
  EXPECT_EQ(r.frames[0].rssi_dbm, -53);
  EXPECT_TRUE(MustDecode(r.frames[0]).empty());  // pack count 0

  // Frame 70: Basic ID, Location, Self-ID, System, Operator ID.
  const CapturedFrame* f70 = Frame(r, 70, Transport::kBluetoothLongRange);
  ASSERT_NE(f70, nullptr);
  EXPECT_EQ(f70->payload.size(), 3u + 5 * 25);
  const std::vector<Message> m = MustDecode(*f70);
  const BasicId* id = Find<BasicId>(m);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->id_type, IdType::kSerialNumber);
  EXPECT_EQ(id->ua_type, UaType::kHelicopterOrMultirotor);
  EXPECT_EQ(id->uas_id, "SSEVTFG93700070");
  // Location 10 23 b5 ff 7e 00000000 00000000 6207 0000 d007 00 50 0000 01 00
  const Location* loc = Find<Location>(m);
  ASSERT_NE(loc, nullptr);
  EXPECT_EQ(loc->status, Status::kAirborne);
  EXPECT_FALSE(loc->track_deg.has_value());  // 181 + E/W: 361, unknown
  EXPECT_FALSE(loc->speed_mps.has_value());  // 255 with multiplier
  EXPECT_FALSE(loc->position.has_value());   // 0/0
  EXPECT_DOUBLE_EQ(*loc->pressure_altitude_m, 0x0762 * 0.5 - 1000);  // -55
  EXPECT_FALSE(loc->geodetic_altitude_m.has_value());
  EXPECT_DOUBLE_EQ(*loc->height_m, 0x07d0 * 0.5 - 1000);  // 0
  EXPECT_DOUBLE_EQ(*loc->baro_accuracy_m, 3);             // 5
  EXPECT_EQ(*loc->timestamp_accuracy, absl::Milliseconds(100));
  const SelfId* self = Find<SelfId>(m);
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->description, "Drone ID demo");
  const System* sys = Find<System>(m);
  ASSERT_NE(sys, nullptr);
  EXPECT_FALSE(sys->operator_position.has_value());
  EXPECT_EQ(sys->eu_category, EuCategory::kOpen);
  EXPECT_EQ(sys->eu_class, EuClass::kClass0);
  const OperatorId* op = Find<OperatorId>(m);
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->operator_id, "FIN87astrdge12kxyz8");

  // No position, so no report; the transmitter is remembered.
  Assembler assembler;
  size_t reports = 0;
  for (const CapturedFrame& f : r.frames) {
    reports += assembler.Add("rx", f.transmitter, f.time, MustDecode(f)).size();
  }
  EXPECT_EQ(reports, 0u);
  EXPECT_EQ(assembler.size(), 1u);

  ExpectSameAsTshark(path, r);
}

// --- Synthetic captures -----------------------------------------------------

// Writes `frames` as a pcap file of `link_type` and returns its path.
std::string WritePcap(const std::string& name, int link_type,
                      const std::vector<std::string>& frames) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  pcap_t* dead = pcap_open_dead(link_type, 65535);
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  EXPECT_NE(dumper, nullptr) << pcap_geterr(dead);
  int second = 1700000000;
  for (const std::string& f : frames) {
    pcap_pkthdr h{};
    h.ts.tv_sec = second++;
    h.ts.tv_usec = 250000;
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper), &h,
              reinterpret_cast<const u_char*>(f.data()));
  }
  pcap_dump_close(dumper);
  pcap_close(dead);
  return path;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// A Basic ID message, serial number "SYNTH1".
std::string BasicIdMessage() {
  std::string m(25, '\0');
  m[0] = 0x02;
  m[1] = 0x12;
  const std::string id = "SYNTH1";
  m.replace(2, id.size(), id);
  return m;
}

// LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR legacy ADV_NONCONN_IND from
// 11:22:33:44:55:66 with a flags AD and a Remote ID service data AD.
std::string LegacyAdvertisement(uint16_t phdr_flags, const std::string& ads) {
  std::string f = Bytes({37, static_cast<uint8_t>(-70), 0, 0, 0xD6, 0xBE, 0x89,
                         0x8E, phdr_flags & 0xFF, phdr_flags >> 8});
  f += Bytes({0xD6, 0xBE, 0x89, 0x8E});  // access address
  const std::string adv_a = Bytes({0x66, 0x55, 0x44, 0x33, 0x22, 0x11});
  f += Bytes({0x42, static_cast<int>(6 + ads.size())});  // ADV_NONCONN_IND, TxAdd
  f += adv_a + ads;
  f += Bytes({0, 0, 0});  // CRC
  return f;
}

std::string OdidAd(const std::string& message) {
  return Bytes({static_cast<int>(4 + 1 + message.size()), 0x16, 0xFA, 0xFF,
                0x0D, 0x07}) +
         message;
}

TEST(ReadCapture, BluetoothLegacyWithPhdr) {
  const uint16_t valid = 0x0002 | 0x0400 | 0x0800;  // signal, CRC checked+ok
  const std::string flags_ad = Bytes({2, 0x01, 0x06});
  const std::string path = WritePcap(
      "legacy.pcap", 256,
      {LegacyAdvertisement(valid, flags_ad + OdidAd(BasicIdMessage())),
       // CRC checked and bad.
       LegacyAdvertisement(0x0002 | 0x0400, OdidAd(BasicIdMessage())),
       // Another advertiser's data only: ignored.
       LegacyAdvertisement(valid, flags_ad),
       // An AD structure longer than the PDU.
       LegacyAdvertisement(valid, Bytes({30, 0x16, 0xFA, 0xFF, 0x0D})),
       // Cut inside the PHDR header.
       Bytes({37, 0, 0})});
  Read r = MustRead(path);
  ASSERT_EQ(r.frames.size(), 1u);
  const CapturedFrame& f = r.frames[0];
  EXPECT_EQ(f.frame_number, 1);
  EXPECT_EQ(f.transport, Transport::kBluetoothLegacy);
  EXPECT_EQ(f.transmitter, "11:22:33:44:55:66");
  EXPECT_EQ(f.rssi_dbm, -70);
  EXPECT_EQ(f.time, absl::FromUnixSeconds(1700000000) + absl::Milliseconds(250));
  EXPECT_EQ(f.payload, BasicIdMessage());
  const std::vector<Message> m = MustDecode(f);
  const BasicId* id = Find<BasicId>(m);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->uas_id, "SYNTH1");

  ASSERT_EQ(r.skipped.size(), 3u);
  EXPECT_EQ(r.skipped[0].frame_number, 2);
  EXPECT_EQ(r.skipped[0].reason, "Bluetooth CRC check failed");
  EXPECT_EQ(r.skipped[1].frame_number, 4);
  EXPECT_THAT(r.skipped[1].reason,
              HasSubstr("advertising data structure at byte 22 is 30 bytes"));
  EXPECT_EQ(r.skipped[2].frame_number, 5);
  EXPECT_THAT(r.skipped[2].reason, HasSubstr("LE packet header"));
}

// A NAN service discovery frame (plain 802.11, LINKTYPE_IEEE802_11) whose
// service id is computed here as SHA-256("org.opendroneid.remoteid")[0..5],
// with a binding bitmap and a matching filter before the service info.
TEST(ReadCapture, NanServiceIdIsTheSha256OfTheServiceName) {
  const std::string name = "org.opendroneid.remoteid";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(),
         digest);
  const std::string service_id(reinterpret_cast<const char*>(digest), 6);
  const std::string pack = Bytes({0xF2, 25, 1}) + BasicIdMessage();
  std::string sda = service_id + Bytes({1, 0, 0x10 | 0x04 | 0x40});
  sda += Bytes({0xAA, 0xBB});          // binding bitmap
  sda += Bytes({2, 0x01, 0x02});       // matching filter
  sda += Bytes({static_cast<int>(1 + pack.size()), 0x33}) + pack;
  std::string frame = Bytes({0xD0, 0x00, 0, 0});  // action frame
  frame += Bytes({0x51, 0x6F, 0x9A, 0x01, 0x00, 0x00});
  frame += Bytes({0x02, 0xAB, 0xCD, 0xEF, 0x01, 0x23});  // transmitter
  frame += Bytes({0x50, 0x6F, 0x9A, 0x01, 0x01, 0x79, 0x10, 0x00});
  frame += Bytes({4, 9, 0x50, 0x6F, 0x9A, 0x13});
  frame += Bytes({0x03, static_cast<int>(sda.size()), 0}) + sda;
  // The same frame with the attribute cut short.
  const std::string cut = frame.substr(0, frame.size() - 5);
  Read r = MustRead(WritePcap("nan.pcap", 105, {frame, cut}));
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].transport, Transport::kWifiNan);
  EXPECT_EQ(r.frames[0].transmitter, "02:ab:cd:ef:01:23");
  EXPECT_FALSE(r.frames[0].rssi_dbm.has_value());
  EXPECT_EQ(r.frames[0].payload, pack);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_THAT(r.skipped[0].reason, HasSubstr("NAN attribute 3 at byte 30"));
}

TEST(ReadCapture, RefusesOtherLinkTypesMissingAndBadFiles) {
  const std::string ethernet = WritePcap("ethernet.pcap", 1, {std::string(60, '\0')});
  absl::StatusOr<std::vector<CapturedFrame>> got = ReadCapture(ethernet);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("link type 1 (EN10MB)"));

  got = ReadCapture(absl::StrCat(::testing::TempDir(), "/no-such.pcap"));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);

  const std::string junk = absl::StrCat(::testing::TempDir(), "/junk.pcap");
  std::ofstream(junk) << "this is not a capture file at all";
  got = ReadCapture(junk);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("not a capture"));
}

TEST(ReadCapture, FileCutInsideAFrameIsDataLoss) {
  const std::string full = WritePcap(
      "whole.pcap", 256,
      {LegacyAdvertisement(0x0C02, OdidAd(BasicIdMessage())),
       LegacyAdvertisement(0x0C02, OdidAd(BasicIdMessage()))});
  std::string bytes;
  {
    std::ifstream in(full, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = absl::StrCat(::testing::TempDir(), "/cut.pcap");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  absl::StatusOr<std::vector<CapturedFrame>> got = ReadCapture(cut);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("frame 2"));
}

// Every prefix of every sample frame is read without a crash: either
// skipped with a reason or ignored, never anything out of bounds (run under
// ASan in the sanitizer build).
TEST(ExtractFrame, EveryPrefixOfTheSamplesIsSafe) {
  const std::string path = SamplePath("odid_wifi_bcn_sample.pcap");
  SKIP_WITHOUT_SAMPLE(path);
  char errbuf[PCAP_ERRBUF_SIZE];
  for (const char* name : {"odid_wifi_bcn_sample.pcap", "odid_wifi_sample.pcap",
                           "odid_bt5_lr_sample.pcapng"}) {
    pcap_t* p = pcap_open_offline(SamplePath(name).c_str(), errbuf);
    ASSERT_NE(p, nullptr) << errbuf;
    const int link = pcap_datalink(p);
    pcap_pkthdr* h;
    const u_char* data;
    int frames = 0;
    while (pcap_next_ex(p, &h, &data) == 1 && frames++ < 12) {
      const std::string whole(reinterpret_cast<const char*>(data), h->caplen);
      for (size_t n = 0; n < whole.size(); ++n) {
        // A heap copy of exactly n bytes, so ASan sees any read past it.
        const std::vector<char> prefix(whole.begin(), whole.begin() + n);
        (void)ExtractFrame(link, absl::string_view(prefix.data(), n),
                           CapturedFrame{});
      }
    }
    pcap_close(p);
  }
}

}  // namespace
}  // namespace utm::remoteid::broadcast
