#include "services/utmctl/geofence_commands.h"

#include <grpcpp/client_context.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "nlohmann/json.hpp"
#include "services/constraint/import/zone_import.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/health_command.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/volume_file.h"
#include "utm/v1/constraint.grpc.pb.h"

namespace utm::ctl {
namespace {

using Json = nlohmann::json;

std::string StatusName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

using Client = ServiceClient<v1::ConstraintService>;

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Parsed {
  int exit = 0;  // non-zero: stop with this code
  zones::ImportResult result;
};

// Reads and converts FILE; prints file-level problems.
Parsed ReadZones(const GeofenceOptions& options, const std::string& file) {
  Parsed out;
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    std::cerr << "NOT_FOUND: " << file << ": cannot read\n";
    out.exit = kExitIo;
    return out;
  }
  absl::StatusOr<zones::ZoneFormat> format =
      zones::ParseZoneFormat(options.format);
  if (!format.ok()) {
    std::cerr << format.status().message() << "\n";
    out.exit = kExitUsage;
    return out;
  }
  zones::ImportOptions import;
  import.format = *format;
  import.dataset = BaseName(file);
  absl::StatusOr<std::unique_ptr<zones::EarthElevation>> elevation =
      MakeElevation(options.vertical);
  if (!elevation.ok()) {
    std::cerr << absl::StatusCodeToString(elevation.status().code()) << ": "
              << elevation.status().message() << "\n";
    out.exit = kExitIo;
    return out;
  }
  import.elevation = elevation->get();
  const std::string type = absl::AsciiStrToUpper(options.geojson_type);
  if (type == "PROHIBITED") {
    import.geojson_type = v1::CONSTRAINT_TYPE_PROHIBITED;
  } else if (type == "REQUIRES_AUTHORISATION" || type == "AUTHORISATION") {
    import.geojson_type = v1::CONSTRAINT_TYPE_REQUIRES_AUTHORISATION;
  } else if (type == "CONDITIONAL") {
    import.geojson_type = v1::CONSTRAINT_TYPE_CONDITIONAL;
  } else if (type == "ADVISORY") {
    import.geojson_type = v1::CONSTRAINT_TYPE_ADVISORY;
  } else {
    std::cerr << "--type: \"" << options.geojson_type
              << "\" is not prohibited, requires_authorisation, conditional "
                 "or advisory\n";
    out.exit = kExitUsage;
    return out;
  }
  const std::string reference =
      absl::AsciiStrToUpper(options.geojson_reference);
  if (reference == "AGL") {
    import.geojson_reference = zones::VerticalReference::kAgl;
  } else if (reference == "AMSL") {
    import.geojson_reference = zones::VerticalReference::kAmsl;
  } else if (reference == "WGS84" || reference == "W84") {
    import.geojson_reference = zones::VerticalReference::kWgs84;
  } else {
    std::cerr << "--altitude-ref: \"" << options.geojson_reference
              << "\" is not agl, amsl or wgs84\n";
    out.exit = kExitUsage;
    return out;
  }
  import.geojson_lower_m = options.lower_m;
  import.geojson_upper_m = options.upper_m;
  absl::StatusOr<zones::ImportResult> result =
      zones::ImportZones(text.str(), import);
  if (!result.ok()) {
    std::cerr << absl::StatusCodeToString(result.status().code()) << ": "
              << file << ": " << result.status().message() << "\n";
    out.exit = kExitDataErr;
    return out;
  }
  out.result = *std::move(result);
  return out;
}

void PrintProblems(const std::string& file, const zones::ImportResult& r) {
  for (const std::string& w : r.warnings) {
    std::cerr << "warning: " << file << ": " << w << "\n";
  }
  for (const zones::ZoneError& e : r.errors) {
    std::cerr << file << ": " << zones::ToString(e) << "\n";
  }
}

Json ErrorsJson(const zones::ImportResult& r) {
  Json errors = Json::array();
  for (const zones::ZoneError& e : r.errors) {
    errors.push_back(
        {{"zone_id", e.zone_id}, {"field", e.field}, {"message", e.message}});
  }
  return errors;
}

// Whether every moment the constraint could be active is before `now`.
bool Expired(const v1::Constraint& c, absl::Time now) {
  if (c.schedule().absolute().has_end() &&
      absl::FromUnixSeconds(c.schedule().absolute().end().seconds()) < now) {
    return true;
  }
  for (const v1::Volume4D& v : c.volumes()) {
    if (!v.has_time_end() ||
        absl::FromUnixSeconds(v.time_end().seconds()) >= now) {
      return false;
    }
  }
  return c.volumes_size() > 0;
}

class Progress {
 public:
  explicit Progress(int total)
      : total_(total), enabled_(total >= 20 && isatty(STDERR_FILENO)) {}
  void Update(int done) {
    if (!enabled_) return;
    const int width = 40;
    const int filled = total_ == 0 ? width : done * width / total_;
    std::cerr << "\r[" << std::string(filled, '#')
              << std::string(width - filled, '.') << "] " << done << "/"
              << total_ << std::flush;
    if (done == total_) std::cerr << "\n";
  }

 private:
  int total_;
  bool enabled_;
};

}  // namespace

std::string ZoneRequestId(const std::string& dataset,
                          const std::string& original_id) {
  // RFC 4122 version 5 in a namespace of our own (a fixed random UUID).
  static const unsigned char kNamespace[16] = {
      0x6f, 0x2c, 0x1e, 0x53, 0x9a, 0x4b, 0x4e, 0x1d,
      0x8c, 0x31, 0x2b, 0x57, 0x0e, 0x9d, 0x44, 0x6a};
  std::string input(reinterpret_cast<const char*>(kNamespace), 16);
  absl::StrAppend(&input, dataset, "\n", original_id);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr);
  digest[6] = (digest[6] & 0x0f) | 0x50;  // version 5
  digest[8] = (digest[8] & 0x3f) | 0x80;  // RFC 4122 variant
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    absl::StrAppendFormat(&out, "%02x", digest[i]);
  }
  return out;
}

// Hex SHA-1 of `c` with its content digest cleared (deterministic
// serialization): what ConstraintSource.content_digest holds.
std::string ContentDigest(v1::Constraint c) {
  c.mutable_source()->clear_content_digest();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    c.SerializeToCodedStream(&coded);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha1(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    absl::StrAppendFormat(&hex, "%02x", digest[i]);
  }
  return hex;
}

// The published constraint of this caller with the zone's source (format
// and original id), found by querying the zone's first volume; nullopt if
// none.
std::optional<v1::Constraint> FindPublished(Client& client,
                                            const v1::Constraint& zone,
                                            grpc::Status* status) {
  v1::QueryConstraintsRequest query;
  *query.mutable_area() = zone.volumes(0);
  query.set_page_size(1000);
  do {
    v1::QueryConstraintsResponse page;
    *status =
        client.stub()->QueryConstraints(client.Context().get(), query, &page);
    if (!status->ok()) return std::nullopt;
    for (const v1::Constraint& c : page.constraints()) {
      if (c.source().format() == zone.source().format() &&
          c.source().original_id() == zone.source().original_id() &&
          c.source().dataset() == zone.source().dataset()) {
        return c;
      }
    }
    query.set_page_token(page.next_page_token());
  } while (!query.page_token().empty());
  return std::nullopt;
}

int GeofenceConvert(const GeofenceOptions& options, const std::string& file) {
  Parsed parsed = ReadZones(options, file);
  if (parsed.exit != 0) return parsed.exit;
  const zones::ImportResult& r = parsed.result;
  PrintProblems(file, r);
  if (options.geojson) {
    std::vector<v1::Constraint> constraints;
    for (const zones::ImportedZone& z : r.zones) {
      constraints.push_back(z.constraint);
    }
    std::cout << zones::ExportGeoJson(constraints) << "\n";
  } else {
    for (const zones::ImportedZone& z : r.zones) {
      std::cout << ProtoJson(z.constraint) << "\n";
    }
  }
  std::cerr << absl::StrFormat(
      "%s: %d zone(s) in %s format, %d converted, "
      "%d failed\n",
      file, r.zones_in_file, zones::ZoneFormatName(r.format), r.zones.size(),
      r.zones_in_file - r.zones.size());
  return r.errors.empty() ? 0 : kExitZonesFailed;
}

int GeofenceImport(const GeofenceOptions& options, const std::string& file) {
  Parsed parsed = ReadZones(options, file);
  if (parsed.exit != 0) return parsed.exit;
  const zones::ImportResult& r = parsed.result;
  PrintProblems(file, r);
  const int invalid = r.zones_in_file - static_cast<int>(r.zones.size());
  const absl::Time now = absl::Now();
  int imported = 0, updated = 0, present = 0, expired = 0, rejected = 0;
  Json published = Json::array();
  std::vector<std::string> server_errors;
  int stop = 0;
  if (!options.dry_run) {
    Client client(options);
    Progress progress(static_cast<int>(r.zones.size()));
    int done = 0;
    for (const zones::ImportedZone& z : r.zones) {
      progress.Update(done++);
      const std::string& id = z.constraint.source().original_id();
      if (Expired(z.constraint, now)) {
        ++expired;
        server_errors.push_back(absl::StrCat(
            file, ": zone ", id, ": ", z.field,
            ": expired (its schedule or volumes end before now); skipped"));
        continue;
      }
      v1::PublishConstraintRequest request;
      *request.mutable_constraint() = z.constraint;
      const std::string digest = ContentDigest(z.constraint);
      request.mutable_constraint()->mutable_source()->set_content_digest(
          digest);
      // A changed zone is a new request (its digest is part of the id).
      request.set_request_id(ZoneRequestId(z.constraint.source().dataset(),
                                           absl::StrCat(id, "\n", digest)));
      v1::PublishConstraintResponse response;
      const grpc::Status status = client.stub()->PublishConstraint(
          client.Context().get(), request, &response);
      // A re-run replays the first run's answer to the same request_id: a
      // constraint created before this run started was already there.
      const google::protobuf::Timestamp& created =
          response.constraint().create_time();
      if (status.ok() && absl::FromUnixSeconds(created.seconds()) +
                                 absl::Nanoseconds(created.nanos()) <
                             now) {
        ++present;
        continue;
      }
      if (status.ok()) {
        ++imported;
        published.push_back(
            {{"original_id", id},
             {"id", response.constraint().id()},
             {"affected_intents", response.affected_intents_size()}});
        continue;
      }
      grpc::Status update_status = status;
      if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        // Published before: unchanged (same digest), or changed and
        // updated in place.
        std::optional<v1::Constraint> old =
            FindPublished(client, request.constraint(), &update_status);
        if (old && old->source().content_digest() == digest) {
          ++present;
          continue;
        }
        if (old) {
          v1::UpdateConstraintRequest update;
          update.set_request_id(request.request_id());
          *update.mutable_constraint() = request.constraint();
          update.mutable_constraint()->set_id(old->id());
          update.mutable_constraint()->set_version(old->version());
          v1::UpdateConstraintResponse updated_response;
          update_status = client.stub()->UpdateConstraint(
              client.Context().get(), update, &updated_response);
          if (update_status.ok()) {
            ++updated;
            published.push_back({{"original_id", id},
                                 {"id", updated_response.constraint().id()},
                                 {"updated", true},
                                 {"affected_intents",
                                  updated_response.affected_intents_size()}});
            continue;
          }
        } else if (update_status.ok()) {
          // Not found where it should be: report the refusal as it came.
          update_status = status;
        }
      }
      switch (update_status.error_code()) {
        case grpc::StatusCode::ALREADY_EXISTS:
          ++present;
          continue;
        case grpc::StatusCode::INVALID_ARGUMENT:
        case grpc::StatusCode::OUT_OF_RANGE:
        case grpc::StatusCode::FAILED_PRECONDITION:
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
        case grpc::StatusCode::INTERNAL:
          ++rejected;
          server_errors.push_back(
              absl::StrCat(file, ": zone ", id,
                           ": server: ", StatusName(update_status.error_code()),
                           ": ", update_status.error_message()));
          continue;
        default:
          break;
      }
      // Authentication, reachability or an unimplemented server: every
      // other zone would fail the same way.
      progress.Update(static_cast<int>(r.zones.size()));
      stop = ExitForStatus(update_status);
      break;
    }
    if (stop == 0) progress.Update(static_cast<int>(r.zones.size()));
  }
  for (const std::string& e : server_errors) std::cerr << e << "\n";
  const int failed = invalid + rejected;
  if (options.json) {
    Json summary = {{"file", file},
                    {"format", zones::ZoneFormatName(r.format)},
                    {"zones", r.zones_in_file},
                    {"valid", r.zones.size()},
                    {"dry_run", options.dry_run},
                    {"imported", imported},
                    {"updated", updated},
                    {"already_present", present},
                    {"expired", expired},
                    {"failed", failed},
                    {"errors", ErrorsJson(r)},
                    {"server_errors", server_errors},
                    {"warnings", r.warnings},
                    {"published", published}};
    std::cout << summary.dump() << "\n";
  } else if (options.dry_run) {
    std::cout << absl::StrFormat(
        "%s: %d zone(s) in %s format: %d valid, %d invalid (dry run, nothing "
        "published)\n",
        file, r.zones_in_file, zones::ZoneFormatName(r.format), r.zones.size(),
        invalid);
  } else {
    std::cout << absl::StrFormat(
        "%s: %d zone(s) in %s format: %d imported, %d updated, %d already "
        "present, %d expired, %d failed%s\n",
        file, r.zones_in_file, zones::ZoneFormatName(r.format), imported,
        updated, present, expired, failed, stop != 0 ? " (stopped early)" : "");
  }
  if (stop != 0) return stop;
  return failed == 0 ? 0 : kExitZonesFailed;
}

int GeofenceExport(const GeofenceOptions& options, const std::string& area_file,
                   const std::string& bbox, const std::string& out) {
  v1::Volume4D area;
  if (!bbox.empty()) {
    std::vector<double> v;
    for (absl::string_view part : absl::StrSplit(bbox, ',')) {
      double d;
      if (!absl::SimpleAtod(part, &d)) break;
      v.push_back(d);
    }
    if (v.size() != 4 || !(v[0] < v[2]) || !(v[1] < v[3])) {
      std::cerr << "--bbox: expected minlat,minlng,maxlat,maxlng with min < "
                   "max, got \""
                << bbox << "\"\n";
      return kExitUsage;
    }
    v1::Polygon* p = area.mutable_volume()->mutable_outline_polygon();
    for (const auto& [lat, lng] :
         {std::pair{v[0], v[1]}, std::pair{v[0], v[3]}, std::pair{v[2], v[3]},
          std::pair{v[2], v[1]}}) {
      v1::LatLng* vertex = p->add_vertices();
      vertex->set_lat_deg(lat);
      vertex->set_lng_deg(lng);
    }
  } else {
    absl::StatusOr<VolumeFile> file = ReadVolumeFile(area_file, {});
    if (!file.ok()) {
      std::cerr << absl::StatusCodeToString(file.status().code()) << ": "
                << file.status().message() << "\n";
      return kExitIo;
    }
    if (file->request.volumes_size() == 0) {
      std::cerr << area_file << ": no volume to use as the area\n";
      return 2;
    }
    area = file->request.volumes(0);
  }
  Client client(options);
  v1::QueryConstraintsRequest request;
  *request.mutable_area() = area;
  request.set_page_size(1000);
  std::vector<v1::Constraint> constraints;
  while (true) {
    v1::QueryConstraintsResponse response;
    const grpc::Status status = client.stub()->QueryConstraints(
        client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::Constraint& c : response.constraints()) {
      constraints.push_back(c);
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  const std::string geojson = zones::ExportGeoJson(constraints);
  if (out.empty() || out == "-") {
    std::cout << geojson << "\n";
  } else {
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file << geojson << "\n";
    file.close();
    if (!file) {
      std::cerr << out << ": cannot write\n";
      return 73;  // EX_CANTCREAT
    }
  }
  std::cerr << constraints.size() << " constraint(s) exported"
            << (out.empty() || out == "-" ? "" : " to " + out) << "\n";
  return 0;
}

}  // namespace utm::ctl
