#include "services/remoteid/broadcast_feed.h"

#include <cmath>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"
#include "services/remoteid/broadcast/odid.h"

namespace utm::remoteid {
namespace {

constexpr size_t kMaxTransmitterBytes = 64;
constexpr int kMinRssiDbm = -150;
constexpr int kMaxRssiDbm = 20;

v1::UasIdType IdTypeOf(broadcast::IdType t) {
  switch (t) {
    case broadcast::IdType::kSerialNumber:
      return v1::UAS_ID_TYPE_SERIAL_NUMBER;
    case broadcast::IdType::kCaaRegistration:
      return v1::UAS_ID_TYPE_REGISTRATION;
    case broadcast::IdType::kUtmAssignedUuid:
      return v1::UAS_ID_TYPE_UTM_ID;
    case broadcast::IdType::kSpecificSessionId:
      return v1::UAS_ID_TYPE_SESSION_ID;
    default:
      return v1::UAS_ID_TYPE_UNSPECIFIED;
  }
}

v1::RidOperationalStatus StatusOf(broadcast::Status s) {
  switch (s) {
    case broadcast::Status::kGround:
      return v1::RID_OPERATIONAL_STATUS_GROUND;
    case broadcast::Status::kAirborne:
      return v1::RID_OPERATIONAL_STATUS_AIRBORNE;
    case broadcast::Status::kEmergency:
      return v1::RID_OPERATIONAL_STATUS_EMERGENCY;
    case broadcast::Status::kRemoteIdSystemFailure:
      return v1::RID_OPERATIONAL_STATUS_SYSTEM_FAILURE;
    default:
      return v1::RID_OPERATIONAL_STATUS_UNDECLARED;
  }
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// The frame's problem, or OK.
absl::Status CheckFrame(const v1::ReceivedFrame& f, absl::Time now,
                        const BroadcastFeedOptions& o) {
  if (f.payload().empty()) return absl::InvalidArgumentError("payload: empty");
  if (f.payload().size() > o.max_payload_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload: ", f.payload().size(), " bytes, at most ",
                     o.max_payload_bytes));
  }
  if (f.transmitter().empty()) {
    return absl::InvalidArgumentError("transmitter: required");
  }
  UTM_RETURN_IF_ERROR(
      CheckText(f.transmitter(), "transmitter", kMaxTransmitterBytes));
  for (char c : f.transmitter()) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          absl::StrCat("transmitter: ", QuoteForError(f.transmitter()),
                       " holds a byte that is not printable ASCII"));
    }
  }
  if (!f.has_receive_time()) {
    return absl::InvalidArgumentError("receive_time: required");
  }
  const absl::Time t = FromProto(f.receive_time());
  if (t < now - o.max_age || t > now + o.max_lead) {
    return absl::InvalidArgumentError(absl::StrCat(
        "receive_time: ", absl::FormatTime(t), " is not within ",
        absl::FormatDuration(o.max_age), " before and ",
        absl::FormatDuration(o.max_lead), " after the server clock"));
  }
  if (f.rssi_dbm() != 0 &&
      (f.rssi_dbm() < kMinRssiDbm || f.rssi_dbm() > kMaxRssiDbm)) {
    return absl::InvalidArgumentError(absl::StrCat("rssi_dbm: ", f.rssi_dbm(),
                                                   " is outside [", kMinRssiDbm,
                                                   ", ", kMaxRssiDbm, "]"));
  }
  return CheckEnum(v1::RidTransport_descriptor(), f.transport(), "transport");
}

}  // namespace

absl::Status BroadcastFeed::OutsideRegion(
    const std::vector<broadcast::Message>& messages) const {
  const region::RegionPolicy* region = core_->options().region;
  if (region == nullptr) return absl::OkStatus();
  for (const broadcast::Message& m : messages) {
    const auto* location = std::get_if<broadcast::Location>(&m.body);
    if (location == nullptr || !location->position) continue;
    UTM_RETURN_IF_ERROR(region->CheckPosition(
        geo::LatLng{location->position->lat_deg, location->position->lng_deg},
        "position"));
  }
  return absl::OkStatus();
}

BroadcastFix ToBroadcastFix(const broadcast::AircraftReport& r) {
  BroadcastFix b;
  b.uas_id = r.uas_id;
  b.uas_id_type = IdTypeOf(r.id_type);
  Fix& fix = b.fix;
  fix.time = r.time;
  fix.position = {r.lat_deg, r.lng_deg};
  fix.altitude_m = r.geodetic_altitude_m;
  fix.has_velocity = r.speed_mps.has_value() && r.track_deg.has_value();
  if (fix.has_velocity) {
    fix.speed_mps = *r.speed_mps;
    fix.track_deg = *r.track_deg;
  }
  fix.vertical_speed_mps = r.vertical_speed_mps.value_or(0);
  fix.horizontal_accuracy_m = r.horizontal_accuracy_m.value_or(0);
  fix.vertical_accuracy_m = r.vertical_accuracy_m.value_or(0);
  fix.status = StatusOf(r.status);
  Identity& who = b.identity;
  // The broadcast UA types are F3411's, numbered as v1::UaType.
  who.ua_type = static_cast<v1::UaType>(static_cast<int>(r.ua_type));
  who.operator_id = r.operator_id;
  if (r.operator_position) {
    who.operator_location =
        geo::LatLng{r.operator_position->lat_deg, r.operator_position->lng_deg};
  }
  who.operator_altitude_m = r.operator_altitude_m;
  who.description = r.self_id_description;
  b.receiver = r.receiver_id;
  b.received = r.received;
  b.timestamp_accuracy_s =
      r.timestamp_accuracy ? absl::ToDoubleSeconds(*r.timestamp_accuracy) : 0;
  return b;
}

BroadcastFeed::BroadcastFeed(RemoteIdCore* core, const Clock* clock,
                             BroadcastFeedOptions options)
    : core_(core),
      clock_(clock),
      options_(options),
      assembler_(options.assembler) {}

absl::StatusOr<BroadcastFeed::Result> BroadcastFeed::Report(
    const std::string& receiver, const v1::ReportReceptionsRequest& request) {
  if (!request.has_receiver_position()) {
    return absl::InvalidArgumentError("receiver_position: required");
  }
  const v1::LatLng& p = request.receiver_position();
  if (!std::isfinite(p.lat_deg()) || std::abs(p.lat_deg()) > 90 ||
      !std::isfinite(p.lng_deg()) || std::abs(p.lng_deg()) > 180) {
    return absl::InvalidArgumentError(
        absl::StrCat("receiver_position: ", p.lat_deg(), ",", p.lng_deg(),
                     " is not a position (latitude in [-90, 90], longitude "
                     "in [-180, 180])"));
  }
  UTM_RETURN_IF_ERROR(
      CheckCount(request.frames_size(), "frames", options_.max_frames));
  const absl::Time now = clock_->Now();
  Result out;
  for (int i = 0; i < request.frames_size(); ++i) {
    const v1::ReceivedFrame& f = request.frames(i);
    auto refuse = [&](const absl::Status& s) {
      v1::FrameError* e = out.response.add_errors();
      e->set_frame_index(i);
      e->set_message(absl::StrCat("frames[", i, "].", s.message()));
    };
    if (absl::Status s = CheckFrame(f, now, options_); !s.ok()) {
      refuse(s);
      continue;
    }
    // Some Bluetooth 5 transmitters send a pack in its full nine-slot
    // buffer, the unused slots zeroed: that padding is not an error.
    absl::StatusOr<std::vector<broadcast::Message>> messages =
        broadcast::DecodeMessages(broadcast::TrimPackPadding(f.payload()));
    if (!messages.ok()) {
      refuse(absl::InvalidArgumentError(
          absl::StrCat("payload: ", messages.status().message())));
      continue;
    }
    if (absl::Status s = OutsideRegion(*messages); !s.ok()) {
      // Refused before the assembler: not even the frame's identification
      // messages are remembered.
      refuse(s);
      continue;
    }
    out.response.set_accepted_frames(out.response.accepted_frames() + 1);
    for (const broadcast::AircraftReport& r :
         assembler_.Add(receiver, f.transmitter(), FromProto(f.receive_time()),
                        *messages)) {
      out.response.set_aircraft_positions(out.response.aircraft_positions() +
                                          1);
      BroadcastFix fix = ToBroadcastFix(r);
      if (fix.uas_id.empty()) {
        // No Basic ID heard yet: named by its transmitter.
        fix.uas_id = absl::StrCat("tx-", f.transmitter());
      }
      if (absl::AbsDuration(fix.fix.time - fix.received) >
          options_.max_clock_error) {
        // The aircraft's clock is off (some transmitters stamp every
        // position 0, the top of the hour): the position is as fresh as
        // broadcast positions are, at most a second before it was heard.
        fix.fix.time = fix.received;
        fix.timestamp_accuracy_s = 1;
        out.response.set_untrusted_timestamps(
            out.response.untrusted_timestamps() + 1);
      }
      if (std::optional<HeardState> heard = core_->AddBroadcast(fix); heard) {
        out.heard.push_back(*std::move(heard));
      }
    }
  }
  return out;
}

}  // namespace utm::remoteid
