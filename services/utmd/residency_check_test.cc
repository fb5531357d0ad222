// CheckStoredRegions over a store holding one record of each kind the
// deployment keeps: intents, constraints, registrations, operators' data
// settings and flight logs. A record naming another region refuses the
// store, naming the record; a record naming none is judged by its airspace
// (a flight log by its intent's volumes) or, naming no airspace, accepted.
#include "services/utmd/residency_check.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/region_testing.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/constraint/constraint_registry.h"
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

using ::testing::HasSubstr;

// EU-CH: a box around Zurich.
region::RegionPolicy EuCh() {
  return region::test_util::BoxRegion("EU-CH", {47.0, 8.0}, {47.8, 9.0});
}

// A circle of 100 m around (lat, lng), as stored (wire form).
v1::Volume4D Circle(double lat, double lng) {
  v1::Volume4D v;
  v1::Circle* c = v.mutable_volume()->mutable_outline_circle();
  c->mutable_center()->set_lat_deg(lat);
  c->mutable_center()->set_lng_deg(lng);
  c->set_radius_m(100);
  v.mutable_volume()->mutable_altitude_lower()->set_value_m(0);
  v.mutable_volume()->mutable_altitude_lower()->set_reference(
      v1::ALTITUDE_REFERENCE_W84);
  v.mutable_volume()->mutable_altitude_upper()->set_value_m(100);
  v.mutable_volume()->mutable_altitude_upper()->set_reference(
      v1::ALTITUDE_REFERENCE_W84);
  *v.mutable_time_start() = TimeToProto(absl::FromUnixSeconds(1796630400));
  *v.mutable_time_end() = TimeToProto(absl::FromUnixSeconds(1796634000));
  return v;
}

// One record of `table` under `key`, naming `region`; those with airspace
// lie at (lat, lng).
store::Mutation Record(const std::string& table, const std::string& key,
                       const std::string& region, double lat = 47.4,
                       double lng = 8.3) {
  std::string value;
  if (table == intent::IntentCore::kIntentsTable) {
    internal::StoredIntent r;
    r.set_region(region);
    r.mutable_intent()->set_id(key);
    r.mutable_intent()->set_owner("op-1");
    r.mutable_intent()->set_state(v1::INTENT_STATE_ACCEPTED);
    *r.mutable_intent()->add_volumes() = Circle(lat, lng);
    value = r.SerializeAsString();
  } else if (table == constraint::ConstraintRegistry::table()) {
    internal::StoredConstraint r;
    r.set_region(region);
    *r.mutable_constraint()->add_volumes() = Circle(lat, lng);
    value = r.SerializeAsString();
  } else if (table == registry::RegistryCore::kTable) {
    v1::AircraftRegistration r;
    r.set_serial_number(key);
    r.set_region(region);
    value = r.SerializeAsString();
  } else if (table == fleet::OperatorSettings::kTable) {
    internal::StoredDataSettings r;
    r.set_local_data_mode(true);
    r.set_region(region);
    value = r.SerializeAsString();
  } else {
    internal::StoredFlight r;
    r.set_operator_id("op-1");
    r.set_region(region);
    *r.mutable_header()->add_volumes() = Circle(lat, lng);
    value = r.SerializeAsString();
  }
  return store::Put(table, key, value);
}

struct Kind {
  std::string table;
  std::string name;  // as the refusal names it
};

std::vector<Kind> Kinds() {
  return {{intent::IntentCore::kIntentsTable, "intent"},
          {constraint::ConstraintRegistry::table(), "constraint"},
          {registry::RegistryCore::kTable, "registration"},
          {fleet::OperatorSettings::kTable, "operator settings"},
          {fleet::kFlightLogsTable, "flight log"}};
}

absl::Status Check(std::vector<store::Mutation> records,
                   const region::RegionPolicy* policy) {
  store::StoreOptions options;
  options.backend = "memory";
  absl::StatusOr<std::unique_ptr<store::Store>> s = store::OpenStore(options);
  EXPECT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE((*s)->Wait((*s)->Enqueue(std::move(records))).ok());
  return CheckStoredRegions(s->get(), policy, "/data/store");
}

TEST(CheckStoredRegions, EveryKindOfRecordNamesItsRegion) {
  const region::RegionPolicy ch = EuCh();
  for (const Kind& k : Kinds()) {
    SCOPED_TRACE(k.name);
    EXPECT_TRUE(Check({Record(k.table, "k1", "EU-CH")}, &ch).ok());
    absl::Status other = Check({Record(k.table, "k1", "EU-DE")}, &ch);
    EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(other.message(),
                HasSubstr("store /data/store holds " + k.name +
                          " k1 of region EU-DE; this deployment serves "
                          "region EU-CH"));
    absl::Status none = Check({Record(k.table, "k1", "EU-CH")}, nullptr);
    EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(none.message(),
                HasSubstr("holds " + k.name +
                          " k1 of region EU-CH; this deployment serves no "
                          "region"));
    EXPECT_TRUE(Check({Record(k.table, "k1", "")}, nullptr).ok());
  }
}

TEST(CheckStoredRegions, RecordsWithoutARegionAreJudgedByTheirAirspace) {
  const region::RegionPolicy ch = EuCh();
  for (const Kind& k : Kinds()) {
    SCOPED_TRACE(k.name);
    EXPECT_TRUE(Check({Record(k.table, "k1", "", 47.4, 8.3)}, &ch).ok());
    const absl::Status outside =
        Check({Record(k.table, "k1", "", 48.5, 8.5)}, &ch);
    const bool has_airspace =
        k.name != "registration" && k.name != "operator settings";
    if (has_airspace) {
      EXPECT_EQ(outside.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(outside.message(),
                  HasSubstr("holds " + k.name +
                            " k1, written without a region, whose volumes[0] "
                            "lies outside region EU-CH"));
    } else {
      EXPECT_TRUE(outside.ok()) << outside;  // nothing to place
    }
  }
}

// Undecodable intents, constraints and flight logs stop the start (their
// recovery would too); registrations and settings are skipped, as their
// models skip them.
TEST(CheckStoredRegions, AnUndecodableRecordIsDataLossOrSkippedAsItsModelDoes) {
  const region::RegionPolicy ch = EuCh();
  for (const Kind& k : Kinds()) {
    SCOPED_TRACE(k.name);
    absl::Status s = Check({store::Put(k.table, "k1", "\xff\xff\xff")}, &ch);
    if (k.name == "registration" || k.name == "operator settings") {
      EXPECT_TRUE(s.ok()) << s;
      continue;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.message(), HasSubstr(k.name + " k1: cannot decode"));
  }
}

}  // namespace
}  // namespace utm::utmd
