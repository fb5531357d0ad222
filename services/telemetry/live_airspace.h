// The telemetry core's view of the airspace, backed by the intent and
// constraint cores of the same process.
#ifndef UTM_SERVICES_TELEMETRY_LIVE_AIRSPACE_H_
#define UTM_SERVICES_TELEMETRY_LIVE_AIRSPACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/constraint/constraint_core.h"
#include "services/intent/intent_core.h"
#include "services/telemetry/telemetry_core.h"

namespace utm::telemetry {

class LiveAirspace final : public Airspace {
 public:
  // Not owned; must outlive this.
  LiveAirspace(intent::IntentCore* intents,
               const constraint::ConstraintCore* constraints);

  // From a cache checked against the intent's version on every call, so a
  // report costs a version lookup rather than a copy of the intent.
  std::shared_ptr<const IntentInfo> Intent(
      const std::string& id) const override;
  std::vector<std::string> BlockingConstraints(const std::string& operator_id,
                                               const geo::LatLng& position,
                                               double altitude_m,
                                               double horizontal_accuracy_m,
                                               double vertical_accuracy_m,
                                               absl::Time t) const override;
  // ACTIVATED -> NONCONFORMING as the owner would declare it; nothing if
  // the intent is in another state by now. F3548 wants off-nominal volumes
  // with the declaration and the monitor knows no tighter bound than the
  // plan: its volumes not yet over at `now` become the off-nominal volumes
  // (the owner may declare better ones). Nothing either when none is left.
  void MarkNonconforming(const std::string& operator_id,
                         const std::string& intent_id, absl::Time now) override;

 private:
  struct Cached {
    int64_t version = 0;
    std::shared_ptr<const IntentInfo> info;
  };
  // Most intents cached; past this the cache starts over.
  static constexpr size_t kMaxCached = 1 << 20;

  intent::IntentCore* const intents_;
  const constraint::ConstraintCore* const constraints_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_LIVE_AIRSPACE_H_
