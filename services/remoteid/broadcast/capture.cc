#include "services/remoteid/broadcast/capture.h"

#include <pcap/pcap.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "geo/status_macros.h"
#include "services/remoteid/broadcast/odid.h"

namespace utm::remoteid::broadcast {
namespace {

// Link types (tcpdump.org/linktypes.html).
constexpr int kLinkIeee80211 = 105;
constexpr int kLinkRadiotap = 127;
constexpr int kLinkBleLl = 251;
constexpr int kLinkBleLlWithPhdr = 256;
constexpr int kLinkNordicBle = 272;

// The Bluetooth LE advertising channel access address (Core 5.3, Vol 6,
// Part B, 2.1.2); auxiliary advertising packets use it too.
constexpr uint32_t kAdvertisingAccessAddress = 0x8E89BED6;

// F3411-22a, Bluetooth transport: service data AD type, the ASTM Remote ID
// 16-bit UUID, and the application code that precedes the counter byte.
constexpr uint8_t kAdTypeServiceData16 = 0x16;
constexpr uint16_t kRemoteIdUuid = 0xFFFA;
constexpr uint8_t kOdidAppCode = 0x0D;

// F3411-22a, Wi-Fi Beacon transport: vendor specific element (221) with the
// ASD-STAN OUI FA:0B:BC and OUI type 0x0D.
constexpr uint8_t kVendorSpecificElement = 221;
constexpr uint8_t kBeaconOui[3] = {0xFA, 0x0B, 0xBC};
constexpr uint8_t kBeaconOuiType = 0x0D;

// Wi-Fi NAN (Wi-Fi Alliance Neighbor Awareness Networking): public action
// frame, vendor specific action, Wi-Fi Alliance OUI, NAN type 0x13.
constexpr uint8_t kWfaOui[3] = {0x50, 0x6F, 0x9A};
constexpr uint8_t kNanOuiType = 0x13;
constexpr uint8_t kNanServiceDescriptorAttribute = 0x03;
// The NAN service id is the first 6 bytes of SHA-256 of the service name,
// "org.opendroneid.remoteid" (F3411-22a, Wi-Fi NAN transport).
constexpr uint8_t kOdidNanServiceId[6] = {0x88, 0x69, 0x19, 0x9d, 0x92, 0x09};

// A bounds-checked view of the frame: every read names what it reads, and a
// read past the end becomes the frame's skip reason.
class Bytes {
 public:
  explicit Bytes(absl::string_view s)
      : p_(reinterpret_cast<const uint8_t*>(s.data())), n_(s.size()) {}
  size_t size() const { return n_; }
  const uint8_t* data() const { return p_; }

  absl::Status Need(size_t offset, size_t count, absl::string_view what) const {
    if (offset > n_ || count > n_ - offset) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " at byte ", offset, " needs ", count, " bytes, the frame has ",
          n_ > offset ? n_ - offset : 0, " left"));
    }
    return absl::OkStatus();
  }
  uint8_t U8(size_t i) const { return p_[i]; }
  uint16_t U16(size_t i) const {
    return static_cast<uint16_t>(p_[i] | (p_[i + 1] << 8));
  }
  uint32_t U32(size_t i) const {
    return static_cast<uint32_t>(p_[i]) |
           (static_cast<uint32_t>(p_[i + 1]) << 8) |
           (static_cast<uint32_t>(p_[i + 2]) << 16) |
           (static_cast<uint32_t>(p_[i + 3]) << 24);
  }
  absl::string_view View(size_t offset, size_t count) const {
    return absl::string_view(reinterpret_cast<const char*>(p_ + offset),
                             count);
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

std::string Mac(const uint8_t* p, bool reversed) {
  std::string s;
  for (int i = 0; i < 6; ++i) {
    if (i > 0) s.push_back(':');
    absl::StrAppend(&s, absl::Hex(p[reversed ? 5 - i : i], absl::kZeroPad2));
  }
  return s;
}

// The Remote ID payload after the transport's counter byte, without a
// pack's zero padding (odid.h, TrimPackPadding).
std::string TrimPack(absl::string_view payload) {
  return std::string(TrimPackPadding(payload));
}

// Bluetooth advertising data (Core 5.3, Vol 3, Part C, 11): length-type-value
// structures; Remote ID is service data with UUID 0xFFFA.
absl::Status ParseAdvData(const Bytes& b, size_t begin, size_t end,
                          const CapturedFrame& proto,
                          std::vector<CapturedFrame>* out) {
  size_t i = begin;
  while (i < end) {
    const size_t len = b.U8(i);
    if (len == 0) break;  // the rest is padding
    if (len > end - i - 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("advertising data structure at byte ", i, " is ", len,
                       " bytes, ", end - i - 1, " left"));
    }
    const size_t type_at = i + 1;
    if (b.U8(type_at) == kAdTypeServiceData16 && len >= 3 &&
        b.U16(type_at + 1) == kRemoteIdUuid) {
      if (len < 5 || b.U8(type_at + 3) != kOdidAppCode) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Remote ID service data at byte ", i,
            " lacks the application code 0x0D and counter"));
      }
      CapturedFrame f = proto;
      f.payload = TrimPack(b.View(type_at + 5, len - 5));
      out->push_back(std::move(f));
    }
    i += len + 1;
  }
  return absl::OkStatus();
}

// A Bluetooth LE link-layer advertising PDU (Core 5.3, Vol 6, Part B, 2.3)
// starting at `at`: 2-byte header, then the payload.
absl::Status ParseBlePdu(const Bytes& b, size_t at, CapturedFrame proto,
                         std::vector<CapturedFrame>* out) {
  UTM_RETURN_IF_ERROR(b.Need(at, 2, "advertising PDU header"));
  const int type = b.U8(at) & 0x0F;
  const size_t length = b.U8(at + 1);
  const size_t payload = at + 2;
  UTM_RETURN_IF_ERROR(b.Need(payload, length, "advertising PDU payload"));
  const size_t end = payload + length;
  switch (type) {
    case 0:  // ADV_IND
    case 2:  // ADV_NONCONN_IND
    case 4:  // SCAN_RSP
    case 6:  // ADV_SCAN_IND
      if (length < 6) {
        return absl::InvalidArgumentError(
            absl::StrCat("legacy advertising PDU of ", length,
                         " bytes has no AdvA"));
      }
      proto.transmitter = Mac(b.data() + payload, /*reversed=*/true);
      proto.transport = Transport::kBluetoothLegacy;
      return ParseAdvData(b, payload + 6, end, proto, out);
    case 7: {  // ADV_EXT_IND, AUX_ADV_IND, AUX_CHAIN_IND, ...
      if (length < 1) return absl::OkStatus();
      const size_t ext_len = b.U8(payload) & 0x3F;
      if (ext_len > length - 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("extended header of ", ext_len, " bytes exceeds the ",
                         length, "-byte PDU"));
      }
      const size_t data_begin = payload + 1 + ext_len;
      std::optional<std::string> adv_a;
      if (ext_len >= 1) {
        const int flags = b.U8(payload + 1);
        size_t pos = payload + 2;
        if (flags & 0x01) {
          if (pos + 6 > data_begin) {
            return absl::InvalidArgumentError("extended header cut in AdvA");
          }
          adv_a = Mac(b.data() + pos, /*reversed=*/true);
        }
      }
      std::vector<CapturedFrame> found;
      proto.transport = Transport::kBluetoothLongRange;
      UTM_RETURN_IF_ERROR(ParseAdvData(b, data_begin, end, proto, &found));
      if (!found.empty() && !adv_a.has_value()) {
        return absl::InvalidArgumentError(
            "Remote ID in an extended advertisement without AdvA");
      }
      for (CapturedFrame& f : found) {
        f.transmitter = *adv_a;
        out->push_back(std::move(f));
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();  // no advertising data
  }
}

// Access address, then (coded PHY) the coding indicator, then the PDU.
absl::Status ParseBleLl(const Bytes& b, size_t at, bool coded,
                        const CapturedFrame& proto,
                        std::vector<CapturedFrame>* out) {
  UTM_RETURN_IF_ERROR(b.Need(at, 4, "access address"));
  if (b.U32(at) != kAdvertisingAccessAddress) return absl::OkStatus();
  return ParseBlePdu(b, at + 4 + (coded ? 1 : 0), proto, out);
}

// nRF Sniffer for Bluetooth LE, header versions 2 and 3: board (1), payload
// length (2), protocol version (1), packet counter (2), packet id (1), then
// a packet header of `header length` bytes: header length (1), flags (1:
// bit 0 CRC ok, bits 4..6 PHY, 2 = coded), channel (1), RSSI (1, -dBm),
// event counter (2), timestamp (4).
absl::Status ParseNordic(const Bytes& b, CapturedFrame proto,
                         std::vector<CapturedFrame>* out) {
  UTM_RETURN_IF_ERROR(b.Need(0, 17, "nRF Sniffer header"));
  const int version = b.U8(3);
  if (version != 2 && version != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("nRF Sniffer header version ", version,
                     " (only 2 and 3 are read)"));
  }
  const size_t header_length = b.U8(7);
  if (header_length < 10) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nRF Sniffer packet header length ", header_length, " is below 10"));
  }
  const int flags = b.U8(8);
  proto.rssi_dbm = -static_cast<int>(b.U8(10));
  const bool coded = ((flags >> 4) & 0x07) == 2;
  if ((flags & 0x01) == 0) {
    return absl::InvalidArgumentError("Bluetooth CRC check failed");
  }
  return ParseBleLl(b, 7 + header_length, coded, proto, out);
}

// LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR: channel (1), signal power (1, dBm),
// noise power (1), access address offenses (1), reference access address
// (4), flags (2: 0x0002 signal valid, 0x0400 CRC checked, 0x0800 CRC valid,
// bits 14..15 PHY).
absl::Status ParsePhdr(const Bytes& b, CapturedFrame proto,
                       std::vector<CapturedFrame>* out) {
  UTM_RETURN_IF_ERROR(b.Need(0, 10, "LE packet header"));
  const uint16_t flags = b.U16(8);
  if (flags & 0x0002) proto.rssi_dbm = static_cast<int8_t>(b.U8(1));
  if ((flags & 0x0400) && !(flags & 0x0800)) {
    return absl::InvalidArgumentError("Bluetooth CRC check failed");
  }
  if (((flags >> 14) & 0x03) == 2) {
    return absl::InvalidArgumentError(
        "LE Coded PHY packets are not read in LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR");
  }
  return ParseBleLl(b, 10, /*coded=*/false, proto, out);
}

// Information elements from `at` to the end of the frame (IEEE 802.11-2020,
// 9.4.2); Remote ID is the ASD-STAN vendor specific element.
absl::Status ParseBeaconElements(const Bytes& b, size_t at, size_t end,
                                 const CapturedFrame& proto,
                                 std::vector<CapturedFrame>* out) {
  size_t i = at;
  while (i < end) {
    if (end - i < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("element header at byte ", i, " is cut short"));
    }
    const size_t id = b.U8(i);
    const size_t len = b.U8(i + 1);
    if (len > end - i - 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("element ", id, " at byte ", i, " is ", len,
                       " bytes, ", end - i - 2, " left"));
    }
    const uint8_t* d = b.data() + i + 2;
    if (id == kVendorSpecificElement && len >= 4 && d[0] == kBeaconOui[0] &&
        d[1] == kBeaconOui[1] && d[2] == kBeaconOui[2] &&
        d[3] == kBeaconOuiType) {
      if (len < 5) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Remote ID element at byte ", i, " has no counter byte"));
      }
      CapturedFrame f = proto;
      f.transport = Transport::kWifiBeacon;
      f.payload = TrimPack(b.View(i + 2 + 5, len - 5));
      out->push_back(std::move(f));
    }
    i += 2 + len;
  }
  return absl::OkStatus();
}

// NAN service discovery frame body from `at`: category, action, OUI, type,
// then attributes (id 1, length 2, body). The Service Descriptor attribute:
// service id (6), instance id, requestor instance id, service control (bit 2
// matching filter, bit 3 service response filter, bit 4 service info, bit 6
// binding bitmap present), then the optional fields in the order binding
// bitmap, matching filter, service response filter, service info.
absl::Status ParseNan(const Bytes& b, size_t at, size_t end,
                      const CapturedFrame& proto,
                      std::vector<CapturedFrame>* out) {
  if (end - at < 6) return absl::OkStatus();
  const uint8_t* h = b.data() + at;
  if (h[0] != 4 || h[1] != 9 || h[2] != kWfaOui[0] || h[3] != kWfaOui[1] ||
      h[4] != kWfaOui[2] || h[5] != kNanOuiType) {
    return absl::OkStatus();  // another action frame
  }
  size_t i = at + 6;
  while (i < end) {
    if (end - i < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("NAN attribute header at byte ", i, " is cut short"));
    }
    const int id = b.U8(i);
    const size_t len = b.U16(i + 1);
    const size_t body = i + 3;
    if (len > end - body) {
      return absl::InvalidArgumentError(
          absl::StrCat("NAN attribute ", id, " at byte ", i, " is ", len,
                       " bytes, ", end - body, " left"));
    }
    const size_t attr_end = body + len;
    if (id == kNanServiceDescriptorAttribute && len >= 9 &&
        std::equal(kOdidNanServiceId, kOdidNanServiceId + 6,
                   b.data() + body)) {
      const int control = b.U8(body + 8);
      size_t pos = body + 9;
      auto skip_field = [&](size_t n, absl::string_view what) -> absl::Status {
        if (n > attr_end - pos) {
          return absl::InvalidArgumentError(absl::StrCat(
              "NAN service descriptor ", what, " at byte ", pos, " is cut short"));
        }
        pos += n;
        return absl::OkStatus();
      };
      auto length_prefixed = [&](absl::string_view what,
                                 size_t* data_at,
                                 size_t* data_len) -> absl::Status {
        UTM_RETURN_IF_ERROR(skip_field(1, what));
        *data_len = b.U8(pos - 1);
        *data_at = pos;
        return skip_field(*data_len, what);
      };
      size_t data_at = 0, data_len = 0;
      if (control & 0x40) UTM_RETURN_IF_ERROR(skip_field(2, "binding bitmap"));
      if (control & 0x04) {
        UTM_RETURN_IF_ERROR(
            length_prefixed("matching filter", &data_at, &data_len));
      }
      if (control & 0x08) {
        UTM_RETURN_IF_ERROR(
            length_prefixed("service response filter", &data_at, &data_len));
      }
      if (!(control & 0x10) ||
          !length_prefixed("service info", &data_at, &data_len).ok() ||
          data_len < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Remote ID service descriptor at byte ", i,
            " has no service info"));
      }
      CapturedFrame f = proto;
      f.transport = Transport::kWifiNan;
      f.payload = TrimPack(b.View(data_at + 1, data_len - 1));
      out->push_back(std::move(f));
    }
    i = attr_end;
  }
  return absl::OkStatus();
}

// An 802.11 frame from `at` (IEEE 802.11-2020, 9.3.3): management beacons
// and action frames are read, everything else ignored.
absl::Status ParseIeee80211(const Bytes& b, size_t at, size_t end,
                            CapturedFrame proto,
                            std::vector<CapturedFrame>* out) {
  if (end - at < 2) {
    return absl::InvalidArgumentError("802.11 frame control is cut short");
  }
  const int fc = b.U8(at);
  const int type = (fc >> 2) & 0x03;
  const int subtype = fc >> 4;
  if (type != 0 || (subtype != 8 && subtype != 13 && subtype != 14)) {
    return absl::OkStatus();
  }
  // +HTC: 4 bytes of HT control after the sequence control.
  const size_t header = (b.U8(at + 1) & 0x80) ? 28 : 24;
  if (end - at < header) {
    return absl::InvalidArgumentError(
        absl::StrCat("802.11 management header needs ", header, " bytes, ",
                     end - at, " left"));
  }
  proto.transmitter = Mac(b.data() + at + 10, /*reversed=*/false);
  const size_t body = at + header;
  if (subtype == 8) {
    if (end - body < 12) {
      return absl::InvalidArgumentError("beacon fixed fields are cut short");
    }
    return ParseBeaconElements(b, body + 12, end, proto, out);
  }
  return ParseNan(b, body, end, proto, out);
}

// Radiotap (radiotap.org): version, pad, length (2), present words; the
// fields this reader needs are the first six of the first word: TSFT (8,
// aligned 8), Flags (1: 0x10 FCS at end, 0x40 bad FCS), Rate (1), Channel
// (4, aligned 2), FHSS (2), dBm antenna signal (1).
absl::Status ParseRadiotap(const Bytes& b, CapturedFrame proto,
                           std::vector<CapturedFrame>* out) {
  UTM_RETURN_IF_ERROR(b.Need(0, 8, "radiotap header"));
  if (b.U8(0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("radiotap version ", b.U8(0), " is not 0"));
  }
  const size_t length = b.U16(2);
  if (length < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("radiotap length ", length, " is below 8"));
  }
  UTM_RETURN_IF_ERROR(b.Need(0, length, "radiotap header"));
  size_t pos = 4;
  uint32_t present = b.U32(4);
  for (uint32_t word = present; word & 0x80000000u;) {
    pos += 4;
    if (pos + 4 > length) {
      return absl::InvalidArgumentError("radiotap present words are cut short");
    }
    word = b.U32(pos);
  }
  pos += 4;
  int flags = 0;
  struct Field {
    size_t align, size;
  };
  constexpr Field kFields[6] = {{8, 8}, {1, 1}, {1, 1}, {2, 4}, {1, 2}, {1, 1}};
  for (int bit = 0; bit < 6; ++bit) {
    if (!(present & (1u << bit))) continue;
    pos = (pos + kFields[bit].align - 1) / kFields[bit].align *
          kFields[bit].align;
    if (pos + kFields[bit].size > length) {
      return absl::InvalidArgumentError(
          absl::StrCat("radiotap field ", bit, " is cut short"));
    }
    if (bit == 1) flags = b.U8(pos);
    if (bit == 5) proto.rssi_dbm = static_cast<int8_t>(b.U8(pos));
    pos += kFields[bit].size;
  }
  if (flags & 0x40) {
    return absl::InvalidArgumentError("802.11 FCS check failed");
  }
  size_t end = b.size();
  if (flags & 0x10) {
    if (end - length < 4) {
      return absl::InvalidArgumentError("802.11 frame shorter than its FCS");
    }
    end -= 4;
  }
  return ParseIeee80211(b, length, end, proto, out);
}

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

}  // namespace

absl::string_view TransportName(Transport transport) {
  switch (transport) {
    case Transport::kBluetoothLegacy:
      return "bluetooth-legacy";
    case Transport::kBluetoothLongRange:
      return "bluetooth-long-range";
    case Transport::kWifiNan:
      return "wifi-nan";
    case Transport::kWifiBeacon:
      return "wifi-beacon";
  }
  return "unknown";
}

absl::StatusOr<std::vector<CapturedFrame>> ExtractFrame(
    int link_type, absl::string_view bytes, const CapturedFrame& prototype) {
  const Bytes b(bytes);
  CapturedFrame proto;
  proto.time = prototype.time;
  proto.frame_number = prototype.frame_number;
  std::vector<CapturedFrame> out;
  absl::Status status;
  switch (link_type) {
    case kLinkRadiotap:
      status = ParseRadiotap(b, proto, &out);
      break;
    case kLinkIeee80211:
      status = ParseIeee80211(b, 0, b.size(), proto, &out);
      break;
    case kLinkNordicBle:
      status = ParseNordic(b, proto, &out);
      break;
    case kLinkBleLlWithPhdr:
      status = ParsePhdr(b, proto, &out);
      break;
    case kLinkBleLl:
      status = ParseBleLl(b, 0, /*coded=*/false, proto, &out);
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "link type ", link_type, " is not read (only 105, 127, 251, 256, 272)"));
  }
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<CapturedFrame>> ReadCapture(
    const std::string& path, std::vector<SkippedFrame>* skipped) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> pcap(pcap_open_offline_with_tstamp_precision(
      path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf));
  if (pcap == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a capture libpcap reads: ", errbuf));
  }
  const int link_type = pcap_datalink(pcap.get());
  switch (link_type) {
    case kLinkRadiotap:
    case kLinkIeee80211:
    case kLinkNordicBle:
    case kLinkBleLlWithPhdr:
    case kLinkBleLl:
      break;
    default: {
      const char* name = pcap_datalink_val_to_name(link_type);
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": link type ", link_type, " (", name ? name : "unnamed",
          ") carries no Remote ID this reader knows; it reads 105 "
          "(IEEE802_11), 127 (IEEE802_11_RADIO), 251 (BLUETOOTH_LE_LL), 256 "
          "(BLUETOOTH_LE_LL_WITH_PHDR), 272 (NORDIC_BLE)"));
    }
  }
  std::vector<CapturedFrame> frames;
  int64_t number = 0;
  for (;;) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(pcap.get(), &header, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    if (rc != 1) {
      return absl::DataLossError(absl::StrCat(path, ": frame ", number + 1,
                                              ": ", pcap_geterr(pcap.get())));
    }
    ++number;
    CapturedFrame proto;
    proto.frame_number = number;
    proto.time = absl::FromUnixSeconds(header->ts.tv_sec) +
                 absl::Nanoseconds(header->ts.tv_usec);
    absl::StatusOr<std::vector<CapturedFrame>> found = ExtractFrame(
        link_type,
        absl::string_view(reinterpret_cast<const char*>(data), header->caplen),
        proto);
    if (!found.ok()) {
      if (skipped != nullptr) {
        SkippedFrame s;
        s.frame_number = number;
        s.reason = std::string(found.status().message());
        skipped->push_back(std::move(s));
      }
      continue;
    }
    for (CapturedFrame& f : *found) frames.push_back(std::move(f));
  }
  return frames;
}

}  // namespace utm::remoteid::broadcast
