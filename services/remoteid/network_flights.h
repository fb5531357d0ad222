// Network Remote ID test flights in the JSON of the InterUSS automated
// testing interface (the F3411 injection API's TestFlight: `flights[]`, each
// with `reference_time`, `flight_details`, `aircraft_type` and `states[]` of
// RIDAircraftState), read into PublishFlights requests that replay them
// against a clock. Pure; the JSON parser is nlohmann-json.
//
// Every field the injection API requires is required here, and every enum
// (accuracy and speed-accuracy categories, operational status, height
// reference, aircraft type) must be one of its values: anything else is
// INVALID_ARGUMENT naming the JSON path, e.g.
//   flights[0].states[0].position.accuracy_h: "WRONG" is not one of
//   HAUnknown, HA10NMPlus, ...
// Numbers are taken as they are and checked by the server (PublishFlights),
// so a speed of -5 reaches it and is refused there, naming the field.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(NetworkTestFlights f, ParseNetworkTestFlights(text));
//   v1::PublishFlightsRequest r = f.StatesBetween(from, to, shift);
#ifndef UTM_SERVICES_REMOTEID_NETWORK_FLIGHTS_H_
#define UTM_SERVICES_REMOTEID_NETWORK_FLIGHTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "utm/v1/remote_id.pb.h"

namespace utm::remoteid {

struct NetworkTestFlight {
  // The flight with its details and no states.
  v1::PublishedFlight flight;
  // Its states as recorded, oldest first (time as in the file).
  std::vector<v1::PublishedState> states;
};

struct NetworkTestFlights {
  // The earliest reference_time of the file's flights: a replay maps it to
  // its start.
  absl::Time reference_time;
  std::vector<NetworkTestFlight> flights;

  // The instant of the last state of any flight.
  absl::Time end_time() const;

  // The states whose recorded time t satisfies from < t <= to, moved by
  // `shift` (so that replaying from a start S uses shift = S -
  // reference_time), as one request holding each flight that has any.
  v1::PublishFlightsRequest StatesBetween(absl::Time from, absl::Time to,
                                          absl::Duration shift) const;
};

// Reads `json` (at most 16 MiB, at most 1000 flights of at most 100,000
// states). INVALID_ARGUMENT naming the JSON path of the first problem.
absl::StatusOr<NetworkTestFlights> ParseNetworkTestFlights(
    absl::string_view json);

// The F3411-22a accuracy categories, as the 95 % bound in metres or m/s
// the server takes (the "…Plus" categories as their lower bound, "…Unknown"
// as 0). INVALID_ARGUMENT for a name that is not a category.
absl::StatusOr<double> HorizontalAccuracyMetres(absl::string_view name);
absl::StatusOr<double> VerticalAccuracyMetres(absl::string_view name);
absl::StatusOr<double> SpeedAccuracyMps(absl::string_view name);

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_NETWORK_FLIGHTS_H_
