// The EGM96 geoid: the height of mean sea level above the WGS84 ellipsoid
// (the undulation N), read from a NOAA .gtx grid such as the 15-minute
// egm96_15.gtx that Debian's proj-data installs. Orthometric heights (AMSL)
// become ellipsoidal heights as h = H + N.
//
// A .gtx file is a 40-byte big-endian header (latitude and longitude of the
// south-west node, latitude and longitude spacing as doubles, then rows and
// columns as 32-bit integers) followed by rows x columns big-endian floats,
// south row first; -88.8888 marks a hole. It is read here directly (4 MB,
// a few milliseconds); the test checks the values against PROJ's own
// vgridshift.
//
// Typical usage:
//   absl::StatusOr<HeightGrid> geoid = LoadGtx(DefaultGeoidGridPath());
//   double n = *geoid->HeightM({46.91, 7.50});   // about +48.8 m
#ifndef UTM_SERVICES_CONSTRAINT_IMPORT_GEOID_H_
#define UTM_SERVICES_CONSTRAINT_IMPORT_GEOID_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/constraint/import/height_grid.h"

namespace utm::elevation {

// The file name of the EGM96 grid in PROJ's data directory.
inline constexpr char kEgm96GridName[] = "egm96_15.gtx";

// Where egm96_15.gtx is: the first of $PROJ_DATA, $PROJ_LIB (PROJ's own
// variables; colon-separated lists) and /usr/share/proj that holds it, else
// /usr/share/proj/egm96_15.gtx (whose absence LoadGtx then reports).
std::string DefaultGeoidGridPath();

// Reads a .gtx grid (a global one wraps in longitude). NOT_FOUND when the
// file cannot be opened (the message says to install proj-data),
// DATA_LOSS when it is truncated or its header is implausible.
absl::StatusOr<HeightGrid> LoadGtx(const std::string& path);

}  // namespace utm::elevation

#endif  // UTM_SERVICES_CONSTRAINT_IMPORT_GEOID_H_
