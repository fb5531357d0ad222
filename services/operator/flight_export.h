// A flight log written out as it is received (`utmctl flight log`): GeoJSON,
// CSV or KML 2.2. Pure formatting: no I/O but the stream given.
//
//  - geojson: a FeatureCollection of one Feature whose geometry is a
//    LineString of the track ([lng, lat, alt_m], written as the points
//    arrive; a MultiPoint when the flight has fewer than 2 points) and whose
//    properties are the flight (id, aircraft, intent, start and end times,
//    points), its intent's states, its alerts, and `coordTimes` (each
//    point's time, RFC 3339 UTC, in the coordinates' order).
//  - csv: a header row, then one row per point: time (RFC 3339 UTC, ms),
//    lat, lng (degrees WGS84), alt_m (metres above the WGS84 ellipsoid),
//    north_mps, east_mps, up_mps, h_accuracy_m, v_accuracy_m (0: not
//    reported).
//  - kml: a Document with one Placemark holding a gx:Track (absolute
//    altitudes) with a <when> per point; KML wants every <when> before the
//    first <gx:coord>, so the whens are written as the points arrive and the
//    coordinates (24 bytes a point) are kept until the end.
//
// Typical usage:
//   std::unique_ptr<FlightExport> out = NewFlightExport("csv", &std::cout);
//   out->Begin(header);
//   for each chunk: out->Points(chunk);
//   out->End();
#ifndef UTM_SERVICES_OPERATOR_FLIGHT_EXPORT_H_
#define UTM_SERVICES_OPERATOR_FLIGHT_EXPORT_H_

#include <memory>
#include <ostream>
#include <string>

#include "utm/v1/operator.pb.h"

namespace utm::fleet {

class FlightExport {
 public:
  virtual ~FlightExport() = default;
  // Once, first.
  virtual void Begin(const v1::FlightLogHeader& header) = 0;
  // Each chunk as it arrives, in order.
  virtual void Points(const v1::FlightTrackChunk& chunk) = 0;
  // Once, last: closes the document.
  virtual void End() = 0;
};

// "geojson", "csv" or "kml" onto `out` (not owned; outlives the result);
// null for any other format.
std::unique_ptr<FlightExport> NewFlightExport(const std::string& format,
                                              std::ostream* out);

}  // namespace utm::fleet

#endif  // UTM_SERVICES_OPERATOR_FLIGHT_EXPORT_H_
