// Fuzz target: broadcast Remote ID messages (services/remoteid/broadcast/
// odid.h) on arbitrary bytes, then the assembler on what decodes. The whole
// input is decoded as one message or pack, and each 25-byte slice of it as a
// message from one of three transmitters, so the assembler sees association,
// eviction and the hour boundary. Whatever the bytes: an error names a byte
// inside (or just past) the input, every decoded value lies in the range the
// header documents, and every report's time is within an hour before its
// receive time (plus the clock allowance).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "services/remoteid/broadcast/assembler.h"
#include "services/remoteid/broadcast/odid.h"

namespace rid = utm::remoteid::broadcast;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Printable(const std::string& s, size_t max) {
  if (s.size() > max) return false;
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

void CheckPosition(const std::optional<rid::LatLng>& p) {
  if (!p) return;
  Check(std::abs(p->lat_deg) <= 90 && std::abs(p->lng_deg) <= 180);
}

void CheckMessage(const rid::Message& m) {
  Check(m.type != rid::MessageType::kMessagePack);
  Check(m.protocol_version >= 0 && m.protocol_version <= 2);
  if (const auto* l = std::get_if<rid::Location>(&m.body)) {
    CheckPosition(l->position);
    if (l->track_deg) Check(*l->track_deg >= 0 && *l->track_deg <= 359);
    if (l->speed_mps) Check(*l->speed_mps >= 0 && *l->speed_mps <= 254.25);
    if (l->vertical_speed_mps) Check(std::abs(*l->vertical_speed_mps) <= 62);
    if (l->time_since_hour) {
      Check(*l->time_since_hour >= absl::ZeroDuration() &&
            *l->time_since_hour <= absl::Hours(1));
    }
    for (const auto& a : {l->pressure_altitude_m, l->geodetic_altitude_m,
                          l->height_m}) {
      if (a) Check(*a > -1000 && *a <= 31767.5);
    }
  } else if (const auto* b = std::get_if<rid::BasicId>(&m.body)) {
    if (b->id_type == rid::IdType::kSerialNumber ||
        b->id_type == rid::IdType::kCaaRegistration) {
      Check(Printable(b->uas_id, 20));
    }
  } else if (const auto* s = std::get_if<rid::SelfId>(&m.body)) {
    Check(Printable(s->description, 23));
  } else if (const auto* o = std::get_if<rid::OperatorId>(&m.body)) {
    Check(Printable(o->operator_id, 20));
  } else if (const auto* sys = std::get_if<rid::System>(&m.body)) {
    CheckPosition(sys->operator_position);
  } else if (const auto* a = std::get_if<rid::Authentication>(&m.body)) {
    Check(a->page >= 0 && a->page <= 15);
    Check(a->data.size() == (a->page == 0 ? 17u : 23u));
  }
}

// "byte N (field): ..." with N <= size.
void CheckError(const absl::Status& status, size_t size) {
  Check(status.code() == absl::StatusCode::kInvalidArgument);
  absl::string_view text = status.message();
  Check(absl::ConsumePrefix(&text, "byte "));
  const size_t space = text.find(" (");
  Check(space != absl::string_view::npos);
  size_t offset = 0;
  Check(absl::SimpleAtoi(text.substr(0, space), &offset));
  Check(offset <= size);
}

void CheckReports(const std::vector<rid::AircraftReport>& reports,
                  absl::Time received) {
  for (const rid::AircraftReport& r : reports) {
    // Unnamed (no Basic ID with an id heard yet) only as type None.
    Check(!r.uas_id.empty() || r.id_type == rid::IdType::kNone);
    Check(r.time <= received + absl::Seconds(1));
    Check(r.time > received - absl::Hours(1) - absl::Seconds(1) ||
          !r.time_from_timestamp);
    Check(std::abs(r.lat_deg) <= 90 && std::abs(r.lng_deg) <= 180);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  rid::AssemblerOptions options;
  options.max_transmitters = 2;
  options.max_age = absl::Seconds(30);
  rid::Assembler assembler(options);
  // 2026-03-01T09:59:50Z: the slices below cross the hour.
  const absl::Time start = absl::FromUnixSeconds(1772359190);

  absl::StatusOr<std::vector<rid::Message>> whole = rid::DecodeMessages(bytes);
  if (whole.ok()) {
    Check(whole->size() <= 9);
    for (const rid::Message& m : *whole) CheckMessage(m);
    CheckReports(assembler.Add("rx", "whole", start, *whole), start);
  } else {
    CheckError(whole.status(), size);
  }

  for (size_t i = 0; i + 25 <= size; i += 25) {
    const absl::string_view slice = bytes.substr(i, 25);
    absl::StatusOr<std::vector<rid::Message>> one = rid::DecodeMessages(slice);
    if (!one.ok()) {
      CheckError(one.status(), slice.size());
      continue;
    }
    for (const rid::Message& m : *one) CheckMessage(m);
    const absl::Time received = start + absl::Seconds(7) * (i / 25);
    const std::string transmitter(1, static_cast<char>('a' + (i / 25) % 3));
    CheckReports(assembler.Add("rx", transmitter, received, *one), received);
    Check(assembler.size() <= 2);
  }
  return 0;
}
