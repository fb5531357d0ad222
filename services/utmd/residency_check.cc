#include "services/utmd/residency_check.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "geo/volume.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_registry.h"
#include "services/intent/intent_codec.h"
#include "services/intent/intent_core.h"
#include "utm/internal/constraint_storage.pb.h"
#include "utm/internal/intent_storage.pb.h"

namespace utm::utmd {
namespace {

// The verdict on one record: `kind` "intent" or "constraint", `key` its key,
// `region` the region it names, `volumes` its airspace (for a record naming
// no region).
absl::Status Judge(const region::RegionPolicy* policy,
                   absl::string_view store_name, absl::string_view kind,
                   absl::string_view key, const std::string& region,
                   const std::vector<geo::Volume4D>& volumes) {
  const std::string what =
      absl::StrCat("store ", store_name, " holds ", kind, " ", key);
  if (policy == nullptr) {
    if (region.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        what, " of region ", region,
        "; this deployment serves no region (no --region), and would serve "
        "it everywhere: start it with --region ",
        region, " and that region's boundary"));
  }
  if (region == policy->code()) return absl::OkStatus();
  if (!region.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " of region ", region, "; this deployment serves region ",
        policy->code(), ": this store belongs to the ", region,
        " region's deployment"));
  }
  absl::Status inside = policy->CheckVolumes(volumes, "volumes");
  if (inside.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      what, ", written without a region, whose ", inside.message(),
      "; this deployment serves region ", policy->code(), " only"));
}

}  // namespace

absl::Status CheckStoredRegions(store::Store* store,
                                const region::RegionPolicy* policy,
                                absl::string_view store_name) {
  // The first refusal (or decoding error) wins; the scans cannot stop early,
  // so the rest is only skipped.
  absl::Status verdict;
  UTM_RETURN_IF_ERROR(store->Scan(
      intent::IntentCore::kIntentsTable,
      [&](absl::string_view key, absl::string_view value) {
        if (!verdict.ok()) return;
        internal::StoredIntent stored;
        if (!stored.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          verdict = absl::DataLossError(
              absl::StrCat("stored intent ", key, ": cannot decode"));
          return;
        }
        std::vector<geo::Volume4D> volumes;
        if (policy != nullptr && stored.region().empty()) {
          absl::StatusOr<intent::Intent> decoded =
              intent::IntentFromProto(stored.intent());
          if (!decoded.ok()) {
            verdict = absl::DataLossError(absl::StrCat(
                "stored intent ", key, ": ", decoded.status().message()));
            return;
          }
          volumes = decoded->volumes;
          volumes.insert(volumes.end(), decoded->off_nominal_volumes.begin(),
                         decoded->off_nominal_volumes.end());
        }
        verdict =
            Judge(policy, store_name, "intent", key, stored.region(), volumes);
      }));
  UTM_RETURN_IF_ERROR(verdict);
  UTM_RETURN_IF_ERROR(store->Scan(
      constraint::ConstraintRegistry::table(),
      [&](absl::string_view key, absl::string_view value) {
        if (!verdict.ok()) return;
        internal::StoredConstraint stored;
        if (!stored.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          verdict = absl::DataLossError(
              absl::StrCat("stored constraint ", key, ": cannot decode"));
          return;
        }
        std::vector<geo::Volume4D> volumes;
        if (policy != nullptr && stored.region().empty()) {
          // Written by this server, valid then: only the wire form is read
          // back (as recovery does), whatever the limits are now.
          VolumeConvertOptions options;
          options.allow_open_start = true;
          options.allow_open_end = true;
          options.validate = false;
          for (int i = 0; i < stored.constraint().volumes_size(); ++i) {
            absl::StatusOr<geo::Volume4D> v =
                VolumeFromProto(stored.constraint().volumes(i), options,
                                absl::StrCat("volumes[", i, "]"));
            if (!v.ok()) {
              verdict = absl::DataLossError(absl::StrCat(
                  "stored constraint ", key, ": ", v.status().message()));
              return;
            }
            volumes.push_back(*std::move(v));
          }
        }
        verdict = Judge(policy, store_name, "constraint", key, stored.region(),
                        volumes);
      }));
  return verdict;
}

}  // namespace utm::utmd
