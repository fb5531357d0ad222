#include "services/telemetry/detector.h"

#include "geo/geodesy.h"

namespace utm::telemetry {

State RelativeLocalState(const GeodeticState& own,
                         const GeodeticState& intruder, TangentPoint tangent) {
  // The midpoint of the chord, lifted to the surface: symmetric in the two
  // aircraft, so each sits half the distance from the tangent point.
  const geo::LatLng origin =
      tangent == TangentPoint::kOwnship ? own.position : [&] {
        const geo::Vec3 a = geo::ToEcef(own.position);
        const geo::Vec3 b = geo::ToEcef(intruder.position);
        return geo::FromEcef(
            {(a.x + b.x) / 2, (a.y + b.y) / 2, (a.z + b.z) / 2});
      }();
  const geo::LocalCartesianFrame frame(origin);
  const geo::Vec3 po = frame.Forward(own.position, 0);
  const geo::Vec3 pi = frame.Forward(intruder.position, 0);
  const geo::Vec3 vo =
      frame.Rotate(own.position, {own.east_mps, own.north_mps, 0});
  const geo::Vec3 vi = frame.Rotate(intruder.position,
                                    {intruder.east_mps, intruder.north_mps, 0});
  State rel;
  rel.x = po.x - pi.x;
  rel.y = po.y - pi.y;
  rel.z = own.altitude_m - intruder.altitude_m;
  rel.vx = vo.x - vi.x;
  rel.vy = vo.y - vi.y;
  rel.vz = own.up_mps - intruder.up_mps;
  return rel;
}

}  // namespace utm::telemetry
