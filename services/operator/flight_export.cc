#include "services/operator/flight_export.h"

#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace utm::fleet {
namespace {

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// "2027-01-15T08:00:00.250Z": UTC, to the millisecond.
std::string TimeMs(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", FromProto(t),
                          absl::UTCTimeZone());
}

std::string Lower(const std::string& name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

// The header as GeoJSON properties.
nlohmann::json Properties(const v1::FlightLogHeader& h) {
  const v1::FlightSummary& f = h.flight();
  nlohmann::json p = {
      {"flight_id", f.flight_id()},
      {"aircraft_id", f.aircraft_id()},
      {"intent_id", f.intent_id()},
      {"start_time", TimeMs(f.start_time())},
      {"end_time", TimeMs(f.end_time())},
      {"in_progress", f.in_progress()},
      {"point_count", f.point_count()},
      {"truncated", f.truncated()},
  };
  if (!f.intent_id().empty()) p["priority"] = h.priority();
  nlohmann::json states = nlohmann::json::array();
  for (const v1::FlightStateChange& s : h.states()) {
    states.push_back(
        {{"state", Lower(v1::IntentState_Name(s.state()), "INTENT_STATE_")},
         {"time", TimeMs(s.time())}});
  }
  p["states"] = std::move(states);
  nlohmann::json alerts = nlohmann::json::array();
  for (const v1::FlightAlertEvent& a : h.alerts()) {
    alerts.push_back(
        {{"alert_id", a.alert_id()},
         {"kind", Lower(v1::AlertKind_Name(a.kind()), "ALERT_KIND_")},
         {"state", Lower(v1::AlertState_Name(a.state()), "ALERT_STATE_")},
         {"time", TimeMs(a.time())},
         {"message", a.message()}});
  }
  p["alerts"] = std::move(alerts);
  return p;
}

class GeoJsonExport final : public FlightExport {
 public:
  explicit GeoJsonExport(std::ostream* out) : out_(*out) {}
  void Begin(const v1::FlightLogHeader& header) override {
    properties_ = Properties(header);
    out_ << "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
            "\"Feature\",\"geometry\":{\"type\":\""
         << (header.flight().point_count() >= 2 ? "LineString" : "MultiPoint")
         << "\",\"coordinates\":[";
  }
  void Points(const v1::FlightTrackChunk& chunk) override {
    for (const v1::FlightTrackPoint& p : chunk.points()) {
      out_ << (first_ ? "\n" : ",\n")
           << absl::StrFormat("[%.7f,%.7f,%.2f]", p.position().lng_deg(),
                              p.position().lat_deg(), p.altitude_m());
      first_ = false;
      times_.push_back(TimeMs(p.time()));
    }
    out_.flush();
  }
  void End() override {
    properties_["coordTimes"] = std::move(times_);
    out_ << "]},\n\"properties\":" << properties_.dump() << "}]}\n";
    out_.flush();
  }

 private:
  std::ostream& out_;
  nlohmann::json properties_;
  std::vector<std::string> times_;
  bool first_ = true;
};

class CsvExport final : public FlightExport {
 public:
  explicit CsvExport(std::ostream* out) : out_(*out) {}
  void Begin(const v1::FlightLogHeader&) override {
    out_ << "time,lat,lng,alt_m,north_mps,east_mps,up_mps,h_accuracy_m,"
            "v_accuracy_m\n";
  }
  void Points(const v1::FlightTrackChunk& chunk) override {
    for (const v1::FlightTrackPoint& p : chunk.points()) {
      out_ << absl::StrFormat(
          "%s,%.7f,%.7f,%.2f,%.2f,%.2f,%.2f,%.1f,%.1f\n", TimeMs(p.time()),
          p.position().lat_deg(), p.position().lng_deg(), p.altitude_m(),
          p.velocity().north_mps(), p.velocity().east_mps(),
          p.velocity().up_mps(), p.accuracy().horizontal_m(),
          p.accuracy().vertical_m());
    }
    out_.flush();
  }
  void End() override { out_.flush(); }

 private:
  std::ostream& out_;
};

std::string XmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

class KmlExport final : public FlightExport {
 public:
  explicit KmlExport(std::ostream* out) : out_(*out) {}
  void Begin(const v1::FlightLogHeader& header) override {
    const v1::FlightSummary& f = header.flight();
    std::string description = absl::StrFormat(
        "intent %s, %d points, %s to %s",
        f.intent_id().empty() ? "none" : f.intent_id(), f.point_count(),
        TimeMs(f.start_time()), TimeMs(f.end_time()));
    for (const v1::FlightStateChange& s : header.states()) {
      description += absl::StrFormat(
          "; %s at %s", Lower(v1::IntentState_Name(s.state()), "INTENT_STATE_"),
          TimeMs(s.time()));
    }
    for (const v1::FlightAlertEvent& a : header.alerts()) {
      description +=
          absl::StrFormat("; alert %s %s at %s",
                          Lower(v1::AlertKind_Name(a.kind()), "ALERT_KIND_"),
                          Lower(v1::AlertState_Name(a.state()), "ALERT_STATE_"),
                          TimeMs(a.time()));
    }
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<kml xmlns=\"http://www.opengis.net/kml/2.2\" "
            "xmlns:gx=\"http://www.google.com/kml/ext/2.2\">\n<Document>\n"
         << "<name>" << XmlEscape(f.flight_id()) << "</name>\n<Placemark>\n"
         << "<name>" << XmlEscape(f.aircraft_id()) << "</name>\n"
         << "<description>" << XmlEscape(description) << "</description>\n"
         << "<gx:Track>\n<altitudeMode>absolute</altitudeMode>\n";
  }
  void Points(const v1::FlightTrackChunk& chunk) override {
    for (const v1::FlightTrackPoint& p : chunk.points()) {
      out_ << "<when>" << TimeMs(p.time()) << "</when>\n";
      coords_.push_back(
          {p.position().lng_deg(), p.position().lat_deg(), p.altitude_m()});
    }
    out_.flush();
  }
  void End() override {
    for (const Coord& c : coords_) {
      out_ << absl::StrFormat("<gx:coord>%.7f %.7f %.2f</gx:coord>\n", c.lng,
                              c.lat, c.alt);
    }
    out_ << "</gx:Track>\n</Placemark>\n</Document>\n</kml>\n";
    out_.flush();
  }

 private:
  struct Coord {
    double lng, lat, alt;
  };
  std::ostream& out_;
  std::vector<Coord> coords_;
};

}  // namespace

std::unique_ptr<FlightExport> NewFlightExport(const std::string& format,
                                              std::ostream* out) {
  if (format == "geojson") return std::make_unique<GeoJsonExport>(out);
  if (format == "csv") return std::make_unique<CsvExport>(out);
  if (format == "kml") return std::make_unique<KmlExport>(out);
  return nullptr;
}

}  // namespace utm::fleet
