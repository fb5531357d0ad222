// A position on the WGS84 ellipsoid, in degrees.
#ifndef UTM_GEO_LATLNG_H_
#define UTM_GEO_LATLNG_H_

namespace utm::geo {

// Geodetic latitude and longitude on WGS84, degrees. Latitude in [-90, 90],
// longitude in [-180, 180] once validated (see volume.h).
struct LatLng {
  double lat_deg = 0;
  double lng_deg = 0;

  friend bool operator==(const LatLng& a, const LatLng& b) {
    return a.lat_deg == b.lat_deg && a.lng_deg == b.lng_deg;
  }
  friend bool operator!=(const LatLng& a, const LatLng& b) { return !(a == b); }
};

}  // namespace utm::geo

#endif  // UTM_GEO_LATLNG_H_
