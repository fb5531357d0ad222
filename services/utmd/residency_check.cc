#include "services/utmd/residency_check.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "geo/volume.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_registry.h"
#include "services/intent/intent_codec.h"
#include "services/intent/intent_core.h"
#include "services/operator/flight_log_store.h"
#include "services/operator/operator_settings.h"
#include "services/registry/registry_core.h"
#include "utm/internal/constraint_storage.pb.h"
#include "utm/internal/flight_log_storage.pb.h"
#include "utm/internal/intent_storage.pb.h"
#include "utm/internal/operator_settings_storage.pb.h"
#include "utm/v1/registry.pb.h"

namespace utm::utmd {
namespace {

// The verdict on one record: `kind` "intent" or "constraint", `key` its key,
// `region` the region it names, `volumes` its airspace (for a record naming
// no region).
absl::Status Judge(const region::RegionPolicy* policy, absl::string_view holder,
                   absl::string_view kind, absl::string_view key,
                   const std::string& region,
                   const std::vector<geo::Volume4D>& volumes) {
  const std::string what = absl::StrCat(holder, " holds ", kind, " ", key);
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

// The verdict on a Redis marked as kept under region `marked`, for a
// deployment serving `here` ("": no region).
absl::Status Compare(absl::string_view marked, absl::string_view here,
                     absl::string_view redis_name,
                     absl::string_view marker_key) {
  if (marked == here) return absl::OkStatus();
  const std::string what = absl::StrCat(redis_name, " is kept under region ",
                                        marked, " (", marker_key, ")");
  if (here.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        "; this deployment serves no region (no --region), and would "
        "serve it everywhere: start it with --region ",
        marked, " and that region's boundary"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      what, "; this deployment serves region ", here,
      ": this Redis belongs to the ", marked, " region's deployment"));
}

// The verdict on a store's records, one at a time: the first refusal (or
// decoding error) wins; the rest is only skipped, as scans cannot stop early.
class RecordJudge {
 public:
  // `holder` names where the records are, e.g. "store /var/lib/utmd/store".
  RecordJudge(const region::RegionPolicy* policy, absl::string_view holder)
      : policy_(policy), holder_(holder) {}

  const absl::Status& verdict() const { return verdict_; }

  // A record of table `table`; other tables are not judged.
  void Record(absl::string_view table, absl::string_view key,
              absl::string_view value) {
    if (!verdict_.ok()) return;
    if (table == intent::IntentCore::kIntentsTable) {
      Intent(key, value);
    } else if (table == constraint::ConstraintRegistry::table()) {
      Constraint(key, value);
    } else if (table == registry::RegistryCore::kTable) {
      // One that cannot be decoded is skipped, as the registry's model
      // skips it (and serves nothing of it).
      v1::AircraftRegistration stored;
      if (stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        verdict_ =
            Judge(policy_, holder_, "registration", key, stored.region(), {});
      }
    } else if (table == fleet::OperatorSettings::kTable) {
      // Keyed by pseudonym: the key names no one. Skipped when it cannot be
      // decoded, as by the settings' model.
      internal::StoredDataSettings stored;
      if (stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        verdict_ = Judge(policy_, holder_, "operator settings", key,
                         stored.region(), {});
      }
    } else if (table == fleet::kFlightLogsTable) {
      FlightLog(key, value);
    }
  }

  // The tables Record() judges.
  static std::vector<std::string> Tables() {
    return {intent::IntentCore::kIntentsTable,
            constraint::ConstraintRegistry::table(),
            registry::RegistryCore::kTable, fleet::OperatorSettings::kTable,
            fleet::kFlightLogsTable};
  }

 private:
  void Intent(absl::string_view key, absl::string_view value) {
    internal::StoredIntent stored;
    if (!Decode(&stored, "intent", key, value)) return;
    std::vector<geo::Volume4D> volumes;
    if (policy_ != nullptr && stored.region().empty()) {
      absl::StatusOr<intent::Intent> decoded =
          intent::IntentFromProto(stored.intent());
      if (!decoded.ok()) {
        verdict_ = absl::DataLossError(absl::StrCat(
            "stored intent ", key, ": ", decoded.status().message()));
        return;
      }
      volumes = decoded->volumes;
      volumes.insert(volumes.end(), decoded->off_nominal_volumes.begin(),
                     decoded->off_nominal_volumes.end());
    }
    verdict_ = Judge(policy_, holder_, "intent", key, stored.region(), volumes);
  }

  // Parses `value` into `message`; false (and DATA_LOSS) when it cannot.
  bool Decode(google::protobuf::MessageLite* message, absl::string_view kind,
              absl::string_view key, absl::string_view value) {
    if (message->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return true;
    }
    verdict_ = absl::DataLossError(
        absl::StrCat("stored ", kind, " ", key, ": cannot decode"));
    return false;
  }

  // Volumes as stored (written by this server, valid then): only the wire
  // form is read back, as recovery does, whatever the limits are now.
  bool StoredVolumes(
      const google::protobuf::RepeatedPtrField<v1::Volume4D>& stored,
      absl::string_view kind, absl::string_view key,
      std::vector<geo::Volume4D>* volumes) {
    VolumeConvertOptions options;
    options.allow_open_start = true;
    options.allow_open_end = true;
    options.validate = false;
    for (int i = 0; i < stored.size(); ++i) {
      absl::StatusOr<geo::Volume4D> v = VolumeFromProto(
          stored.Get(i), options, absl::StrCat("volumes[", i, "]"));
      if (!v.ok()) {
        verdict_ = absl::DataLossError(absl::StrCat(
            "stored ", kind, " ", key, ": ", v.status().message()));
        return false;
      }
      volumes->push_back(*std::move(v));
    }
    return true;
  }

  // A record of `kind` naming `region`, whose airspace is `stored` (read
  // only when the record names no region and this deployment has one).
  void JudgeStored(
      absl::string_view kind, absl::string_view key, const std::string& region,
      const google::protobuf::RepeatedPtrField<v1::Volume4D>& stored) {
    std::vector<geo::Volume4D> volumes;
    if (policy_ != nullptr && region.empty() &&
        !StoredVolumes(stored, kind, key, &volumes)) {
      return;
    }
    verdict_ = Judge(policy_, holder_, kind, key, region, volumes);
  }

  // A flight log without a region is judged by its intent's volumes (the
  // track is not read).
  void FlightLog(absl::string_view key, absl::string_view value) {
    internal::StoredFlight stored;
    if (!Decode(&stored, "flight log", key, value)) return;
    JudgeStored("flight log", key, stored.region(), stored.header().volumes());
  }

  void Constraint(absl::string_view key, absl::string_view value) {
    internal::StoredConstraint stored;
    if (!Decode(&stored, "constraint", key, value)) return;
    JudgeStored("constraint", key, stored.region(),
                stored.constraint().volumes());
  }

  const region::RegionPolicy* const policy_;
  const absl::string_view holder_;
  absl::Status verdict_;
};

}  // namespace

absl::Status CheckStoredRegions(store::Store* store,
                                const region::RegionPolicy* policy,
                                absl::string_view store_name) {
  const std::string holder = absl::StrCat("store ", store_name);
  RecordJudge judge(policy, holder);
  for (const std::string& table : RecordJudge::Tables()) {
    UTM_RETURN_IF_ERROR(
        store->Scan(table, [&](absl::string_view key, absl::string_view value) {
          judge.Record(table, key, value);
        }));
    UTM_RETURN_IF_ERROR(judge.verdict());
  }
  return absl::OkStatus();
}

absl::Status CheckRedisRegion(const redis::ClientOptions& client,
                              const std::string& marker_key,
                              ledger::Ledger* ledger,
                              const region::RegionPolicy* policy,
                              absl::string_view redis_name) {
  UTM_ASSIGN_OR_RETURN(std::unique_ptr<redis::Client> redis,
                       redis::Client::Connect(client));
  UTM_ASSIGN_OR_RETURN(redis::Reply marked,
                       redis->Command({"GET", marker_key}));
  if (marked.is_error()) {
    return absl::UnavailableError(
        absl::StrCat("GET ", marker_key, ": ", marked.DebugString()));
  }
  const std::string here = policy == nullptr ? "" : policy->code();
  if (marked.type == redis::Reply::Type::kString) {
    return Compare(marked.str, here, redis_name, marker_key);
  }
  // Not marked yet: a Redis used before it was, or by deployments without a
  // region. Its records decide, as for a store.
  RecordJudge judge(policy, redis_name);
  UTM_RETURN_IF_ERROR(
      ledger
          ->Load(
              {intent::IntentCore::kIntentsTable,
               constraint::ConstraintRegistry::table()},
              [&](absl::string_view table, absl::string_view key,
                  absl::string_view value) { judge.Record(table, key, value); })
          .status());
  UTM_RETURN_IF_ERROR(judge.verdict());
  if (policy == nullptr) return absl::OkStatus();
  // Claimed once; a replica of another region that claimed it first wins,
  // and this one is refused.
  UTM_ASSIGN_OR_RETURN(redis::Reply set,
                       redis->Command({"SET", marker_key, here, "NX"}));
  if (set.is_error()) {
    return absl::UnavailableError(
        absl::StrCat("SET ", marker_key, ": ", set.DebugString()));
  }
  UTM_ASSIGN_OR_RETURN(marked, redis->Command({"GET", marker_key}));
  if (marked.type != redis::Reply::Type::kString) {
    return absl::UnavailableError(
        absl::StrCat("GET ", marker_key, ": ", marked.DebugString()));
  }
  return Compare(marked.str, here, redis_name, marker_key);
}

}  // namespace utm::utmd
