// Telling utmsim's own failures apart from traffic that was there before it.
// utmsim files one intent per drone; a filing can be rejected because it
// meets another of this run's intents (the scenario or the server is wrong:
// a failure of the run) or because it meets somebody else's intent or a
// constraint already in the area (other traffic: reported, not a failure).
//
// Typical usage:
//   std::vector<std::optional<v1::IntentRejection>> rejections(drones);
//   ... rejections[i] = response.rejection();  // for each rejected filing
//   ForeignTraffic f = ClassifyRejections(rejections, own_intent_ids, 20);
//   ok = f.own == 0;
#ifndef UTM_SIM_FOREIGN_TRAFFIC_H_
#define UTM_SIM_FOREIGN_TRAFFIC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "utm/v1/strategic.pb.h"

namespace utm::sim {

struct ForeignTraffic {
  // Rejections that meet at least one of the run's own intents.
  int64_t own = 0;
  // Rejections that meet only other traffic (intents not of this run,
  // constraints).
  int64_t foreign = 0;
  // Per drone: 1 when its filing was rejected for foreign traffic only.
  std::vector<char> foreign_flags;
  // What was met, "intent ID" / "constraint ID", distinct, in first-met
  // order, at most `max_listed`.
  std::vector<std::string> met;
};

// `rejections[i]` is drone i's rejection (nullopt: filed, or failed
// otherwise); `own_ids` are the ids of every intent this run filed (empty
// strings ignored). A rejection with no conflict at all counts as own.
ForeignTraffic ClassifyRejections(
    const std::vector<std::optional<v1::IntentRejection>>& rejections,
    const std::vector<std::string>& own_ids, size_t max_listed);

}  // namespace utm::sim

#endif  // UTM_SIM_FOREIGN_TRAFFIC_H_
