#include "services/utmctl/flight_commands.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "services/utmctl/channel.h"
#include "services/operator/flight_export.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "utm/v1/operator.grpc.pb.h"

namespace utm::ctl {
namespace {

using Client = ServiceClient<v1::OperatorService>;

// <flight id> <aircraft> intent <id>|no intent <start> to <end>
// <n> points[ (in progress)][ (truncated)]
void PrintFlight(const v1::FlightSummary& f) {
  std::cout << f.flight_id() << " " << f.aircraft_id() << " "
            << (f.intent_id().empty() ? "no intent" : "intent " + f.intent_id())
            << " " << Rfc3339(f.start_time()) << " to " << Rfc3339(f.end_time())
            << " " << f.point_count() << " points"
            << (f.in_progress() ? " (in progress)" : "")
            << (f.truncated() ? " (truncated)" : "") << "\n";
}

}  // namespace

FlightCommands::FlightCommands(CLI::App* app) {
  flight_ = app->add_subcommand(
      "flight", "Your own flight logs (an operator's token): list, export");
  flight_->require_subcommand(1);
  flight_->fallthrough();
  AddConnectionFlags(flight_, &options_, "JSON output (list: one per line)");
  list_ = flight_->add_subcommand("list", "Your flights, newest first");
  list_->add_option("--limit", limit_, "At most this many (0: all)");
  log_ = flight_->add_subcommand(
      "log",
      "One flight log: its track and what happened, written as it "
      "arrives");
  log_->add_option("flight_id", flight_id_, "The flight (from flight list)")
      ->required();
  log_->add_option("--format", format_, "geojson, csv or kml")
      ->check(CLI::IsMember({"geojson", "csv", "kml"}))
      ->capture_default_str();
  log_->add_option("--out", out_, "Write to this file instead of stdout");
}

bool FlightCommands::parsed() const { return flight_->parsed(); }

int FlightCommands::Run() {
  if (list_->parsed()) return List();
  if (log_->parsed()) return Log();
  return kExitUsage;
}

int FlightCommands::List() {
  if (limit_ < 0) {
    std::cerr << "--limit must not be negative\n";
    return kExitUsage;
  }
  Client client(options_);
  v1::ListFlightsRequest request;
  request.set_page_size(1000);
  int count = 0;
  while (limit_ == 0 || count < limit_) {
    v1::ListFlightsResponse response;
    const grpc::Status status =
        client.stub()->ListFlights(client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::FlightSummary& f : response.flights()) {
      if (limit_ != 0 && count == limit_) break;
      ++count;
      if (options_.json) {
        std::cout << ProtoJson(f) << "\n";
      } else {
        PrintFlight(f);
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!options_.json) std::cout << count << " flight(s)\n";
  return 0;
}

int FlightCommands::Log() {
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!out_.empty()) {
    file.open(out_, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << out_ << ": cannot be written\n";
      return kExitIo;
    }
    out = &file;
  }
  std::unique_ptr<fleet::FlightExport> writer =
      fleet::NewFlightExport(format_, out);
  Client client(options_);
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  v1::GetFlightLogRequest request;
  request.set_flight_id(flight_id_);
  std::unique_ptr<grpc::ClientReader<v1::FlightLogPart>> reader =
      client.stub()->GetFlightLog(context.get(), request);
  v1::FlightLogPart part;
  bool begun = false;
  while (reader->Read(&part)) {
    if (part.has_header() && !begun) {
      writer->Begin(part.header());
      begun = true;
    } else if (part.has_track() && begun) {
      writer->Points(part.track());
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    // Whatever was written is incomplete: said so, and the exit code tells.
    if (begun) std::cerr << "flight log incomplete: the stream broke\n";
    return ExitForStatus(status);
  }
  if (!begun) {
    std::cerr << "the server sent no flight log header\n";
    return kExitServer;
  }
  writer->End();
  if (!out_.empty()) {
    file.close();
    if (!file) {
      std::cerr << out_ << ": cannot be written\n";
      return kExitIo;
    }
  }
  return 0;
}

}  // namespace utm::ctl
