// Local Data Mode, proved on a real utmd with its embedded store: an
// operator that switched it on flies twice (a utmd restart between) — files
// an intent asking for retention, activates it, streams positions at
// distinctive coordinates, gets a conflict alert against an ordinary
// operator's aircraft, is looked up by law enforcement under a case
// reference, ends the flight — and afterwards no file under the data
// directory (store log, snapshots, audit log, keys, anything) nor utmd's
// stderr holds its operator id, its aircraft id or any coordinate it
// reported, in text or in the binary forms a store, a proto or the track
// codec would keep them in. The same scan finds the ordinary operator's,
// which shows the scan can find what it looks for.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "tests/data_scan_util.h"
#include "tests/telemetry_test_util.h"
#include "tests/testing/utmd_process.h"
#include "utm/v1/operator.grpc.pb.h"
#include "utm/v1/remote_id.grpc.pb.h"
#include "utm/v1/strategic.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

#ifndef UTM_UTMD_BINARY
#define UTM_UTMD_BINARY ""
#endif

namespace utm::testing {
namespace {

namespace fs = std::filesystem;
using test_util::CoordinateForms;
using test_util::FoundIn;
using test_util::Haystack;
using test_util::Printable;

// Distinctive ids: found only if something wrote them.
constexpr char kLocalOperator[] = "opLDMq7Zx3vK";
constexpr char kLocalAircraft[] = "acLDMk9Wp2mQ";
constexpr char kPlainOperator[] = "opPLNr5Tn8cJ";
constexpr char kPlainAircraft[] = "acPLNm3Vb6xH";
constexpr char kCase[] = "CASE-LDM-2026-0042";

// Where each flies: ~470 m apart, on distinct latitudes and longitudes so
// that each coordinate's text identifies its flight.
const geo::LatLng kLocalCentre{47.39771234, 8.54563217};
const geo::LatLng kPlainCentre{47.40123456, 8.54933311};

// Collects a stream's alerts on its own thread.
class Alerts {
 public:
  explicit Alerts(
      grpc::ClientReaderWriter<v1::PositionBatch, v1::AlertBatch>* stream)
      : thread_([this, stream] {
          v1::AlertBatch batch;
          while (stream->Read(&batch)) {
            absl::MutexLock lock(&mu_);
            for (const v1::Alert& a : batch.alerts()) alerts_.push_back(a);
          }
        }) {}
  ~Alerts() { thread_.join(); }
  bool HasConflict() {
    absl::MutexLock lock(&mu_);
    for (const v1::Alert& a : alerts_) {
      if (a.kind() == v1::ALERT_KIND_CONFLICT_PREDICTED ||
          a.kind() == v1::ALERT_KIND_CONFLICT_IMMINENT) {
        return true;
      }
    }
    return false;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::Alert> alerts_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class LocalDataModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = UTM_UTMD_BINARY;
    if (const char* b = std::getenv("UTMD_BINARY")) binary_ = b;
    if (binary_.empty()) GTEST_SKIP() << "UTMD_BINARY is not set";
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("local-data-mode-", ::getpid());
    fs::remove_all(dir_);
    data_ = dir_ / "data";
    fs::create_directories(data_);
    absl::StatusOr<std::string> key = auth::LoadOrCreateDevKey(data_.string());
    ASSERT_TRUE(key.ok()) << key.status();
    secret_ = *key;
  }
  void TearDown() override {
    utmd_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string Token(const std::string& subject,
                    std::vector<auth::Scope> scopes) {
    auth::MintOptions mint;
    mint.subject = subject;
    mint.scopes = std::move(scopes);
    return *auth::MintHmacToken(secret_, mint, RealClock::Get());
  }
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    c->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(20));
    return c;
  }
  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel(utmd_->address(),
                               grpc::InsecureChannelCredentials());
  }

  // Files, activates and returns the intent of `op` around `centre`,
  // asking for retention; its no_retention as answered in `*no_retention`.
  std::string FileAndActivate(const std::string& op,
                              const std::string& aircraft,
                              const geo::LatLng& centre, bool* no_retention) {
    auto strategic = v1::StrategicCoordination::NewStub(Channel());
    v1::FileIntentRequest file;
    file.set_no_retention(false);
    file.mutable_aircraft()->set_serial_number(aircraft);
    v1::Volume4D* v = file.add_volumes();
    v1::Circle* c = v->mutable_volume()->mutable_outline_circle();
    c->mutable_center()->set_lat_deg(centre.lat_deg);
    c->mutable_center()->set_lng_deg(centre.lng_deg);
    c->set_radius_m(150);
    for (auto [alt, field] :
         {std::pair{400.0, v->mutable_volume()->mutable_altitude_lower()},
          std::pair{600.0, v->mutable_volume()->mutable_altitude_upper()}}) {
      field->set_value_m(alt);
      field->set_reference(v1::ALTITUDE_REFERENCE_W84);
    }
    *v->mutable_time_start() = TimeToProto(absl::Now());
    *v->mutable_time_end() = TimeToProto(absl::Now() + absl::Minutes(30));
    v1::FileIntentResponse filed;
    const std::string token = Token(op, {auth::Scope::kStrategicCoordination});
    grpc::Status s = strategic->FileIntent(Context(token).get(), file, &filed);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(filed.has_intent()) << filed.DebugString();
    *no_retention = filed.intent().no_retention();
    v1::ActivateIntentRequest activate;
    activate.set_intent_id(filed.intent().id());
    activate.set_version(filed.intent().version());
    v1::ActivateIntentResponse activated;
    s = strategic->ActivateIntent(Context(token).get(), activate, &activated);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(activated.has_intent()) << activated.DebugString();
    return filed.intent().id();
  }

  void End(const std::string& op, const std::string& intent) {
    auto strategic = v1::StrategicCoordination::NewStub(Channel());
    v1::EndIntentRequest end;
    end.set_intent_id(intent);
    end.set_version(2);
    v1::EndIntentResponse ended;
    grpc::Status s = strategic->EndIntent(
        Context(Token(op, {auth::Scope::kStrategicCoordination})).get(), end,
        &ended);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  // One flight of each operator at once, toward each other: their positions
  // (every one reported is added to `local_positions` / `plain_positions`),
  // a conflict alert on the local operator's stream, and law enforcement
  // reading both flights' details.
  void FlyBoth(const std::string& local_intent,
               const std::string& plain_intent) {
    auto telemetry = v1::TelemetryService::NewStub(Channel());
    auto local_context =
        Context(Token(kLocalOperator, {auth::Scope::kStrategicCoordination}));
    auto plain_context =
        Context(Token(kPlainOperator, {auth::Scope::kStrategicCoordination}));
    auto local = telemetry->StreamPositions(local_context.get());
    auto plain = telemetry->StreamPositions(plain_context.get());
    Alerts local_alerts(local.get());
    Alerts plain_alerts(plain.get());
    const double to_plain = geo::GeodesicAzimuth(kLocalCentre, kPlainCentre);
    geo::LatLng lp = kLocalCentre, pp = kPlainCentre;
    for (int seq = 1; seq <= 20 && !local_alerts.HasConflict(); ++seq) {
      for (auto [stream, aircraft, intent, p, azimuth, kept] :
           {std::tuple{local.get(), kLocalAircraft, local_intent, lp, to_plain,
                       &local_positions_},
            std::tuple{plain.get(), kPlainAircraft, plain_intent, pp,
                       to_plain + 180, &plain_positions_}}) {
        v1::PositionBatch batch;
        batch.set_batch_seq(seq);
        v1::PositionReport* r = batch.add_reports();
        *r = test_util::ReportHeading(aircraft, p, absl::Now(), azimuth, 10);
        r->set_intent_id(intent);
        ASSERT_TRUE(stream->Write(batch));
        kept->push_back(p);
      }
      lp = geo::GeodesicDestination(lp, to_plain, 3);
      pp = geo::GeodesicDestination(pp, to_plain + 180, 3);
      absl::SleepFor(absl::Milliseconds(300));
    }
    EXPECT_TRUE(local_alerts.HasConflict())
        << "the local operator got no conflict alert";

    // Law enforcement, with a case reference, reads both flights.
    auto rid = v1::RemoteIdService::NewStub(Channel());
    v1::SearchFlightsRequest search;
    v1::LatLngRect* view = search.mutable_view();
    view->mutable_south_west()->set_lat_deg(kLocalCentre.lat_deg - 0.001);
    view->mutable_south_west()->set_lng_deg(kLocalCentre.lng_deg - 0.001);
    view->mutable_north_east()->set_lat_deg(kPlainCentre.lat_deg + 0.001);
    view->mutable_north_east()->set_lng_deg(kPlainCentre.lng_deg + 0.001);
    v1::SearchFlightsResponse shown;
    const std::string officer =
        Token("officer-ldm-1", {auth::Scope::kLawEnforcement});
    grpc::Status s = rid->SearchFlights(
        Context(Token("public-1", {auth::Scope::kRemoteIdDisplay})).get(),
        search, &shown);
    ASSERT_TRUE(s.ok()) << s.error_message();
    int read = 0;
    for (const v1::RidFlight& f : shown.flights()) {
      v1::GetFlightDetailsRequest details;
      details.set_id(f.id());
      details.set_case_reference(kCase);
      v1::GetFlightDetailsResponse got;
      s = rid->GetFlightDetails(Context(officer).get(), details, &got);
      ASSERT_TRUE(s.ok()) << s.error_message();
      // Law enforcement sees who flies either way.
      if (got.details().operator_account() == kLocalOperator ||
          got.details().operator_account() == kPlainOperator) {
        ++read;
      }
    }
    EXPECT_EQ(read, 2) << shown.DebugString();
    local->WritesDone();
    plain->WritesDone();
    local_context->TryCancel();
    plain_context->TryCancel();
  }

  void SetLocalDataMode() {
    auto op = v1::OperatorService::NewStub(Channel());
    v1::SetDataSettingsRequest set;
    set.set_local_data_mode(true);
    v1::SetDataSettingsResponse done;
    grpc::Status s = op->SetDataSettings(
        Context(Token(kLocalOperator, {auth::Scope::kStrategicCoordination}))
            .get(),
        set, &done);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(done.settings().local_data_mode());
  }

  bool LocalDataModeIsOn() {
    auto op = v1::OperatorService::NewStub(Channel());
    v1::GetDataSettingsResponse got;
    grpc::Status s = op->GetDataSettings(
        Context(Token(kLocalOperator, {auth::Scope::kStrategicCoordination}))
            .get(),
        v1::GetDataSettingsRequest(), &got);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return got.settings().local_data_mode();
  }

  // Both fly, then the flights end.
  void Flights() {
    bool local_no_retention = false, plain_no_retention = true;
    const std::string local_intent = FileAndActivate(
        kLocalOperator, kLocalAircraft, kLocalCentre, &local_no_retention);
    const std::string plain_intent = FileAndActivate(
        kPlainOperator, kPlainAircraft, kPlainCentre, &plain_no_retention);
    // Asked to be retained, filed without retention all the same.
    EXPECT_TRUE(local_no_retention);
    EXPECT_FALSE(plain_no_retention);
    local_intents_.push_back(local_intent);
    FlyBoth(local_intent, plain_intent);
    End(kLocalOperator, local_intent);
    End(kPlainOperator, plain_intent);
  }

  std::string binary_;
  fs::path dir_, data_;
  std::string secret_;
  std::unique_ptr<UtmdProcess> utmd_;
  std::vector<geo::LatLng> local_positions_, plain_positions_;
  std::vector<std::string> local_intents_;
};

TEST_F(LocalDataModeTest, NothingOfTheOperatorIsWrittenAnywhere) {
  const std::string log = (dir_ / "utmd.log").string();
  absl::StatusOr<std::unique_ptr<UtmdProcess>> started = UtmdProcess::Start(
      binary_, {"--data-dir", data_.string(), "--shutdown-grace", "1"}, log);
  ASSERT_TRUE(started.ok()) << started.status();
  utmd_ = *std::move(started);

  SetLocalDataMode();
  Flights();
  ASSERT_EQ(utmd_->Terminate(), 0);
  ASSERT_TRUE(utmd_->Restart().ok());
  // The setting survived the restart; the second flight is as the first.
  EXPECT_TRUE(LocalDataModeIsOn());
  Flights();
  ASSERT_EQ(utmd_->Terminate(), 0);
  utmd_.reset();

  std::ifstream in(log, std::ios::binary);
  const std::string stderr_text(std::istreambuf_iterator<char>(in), {});
  const std::vector<Haystack> all = test_util::Everything(data_, stderr_text);
  ASSERT_GT(all.size(), 3u);

  // Nothing of the Local-Data-Mode operator.
  std::vector<std::string> needles = {kLocalOperator, kLocalAircraft};
  for (const std::string& id : local_intents_) needles.push_back(id);
  for (const geo::LatLng& p : local_positions_) {
    for (double deg : {p.lat_deg, p.lng_deg}) {
      for (std::string& form : CoordinateForms(deg)) needles.push_back(form);
    }
  }
  for (double deg : {kLocalCentre.lat_deg, kLocalCentre.lng_deg}) {
    for (std::string& form : CoordinateForms(deg)) needles.push_back(form);
  }
  for (const std::string& needle : needles) {
    EXPECT_THAT(FoundIn(all, needle), ::testing::IsEmpty())
        << "found " << Printable(needle);
  }

  // The ordinary operator's are there: the scan finds what is written.
  EXPECT_THAT(FoundIn(all, kPlainOperator),
              ::testing::Contains(::testing::HasSubstr("store")));
  EXPECT_THAT(FoundIn(all, kPlainOperator),
              ::testing::Contains(::testing::HasSubstr("audit.log")));
  EXPECT_THAT(FoundIn(all, kPlainAircraft),
              ::testing::Contains(::testing::HasSubstr("store")));
  for (const std::string& form : CoordinateForms(kPlainCentre.lat_deg)) {
    if (form.size() == 8) {  // the double of its intent's centre
      EXPECT_THAT(FoundIn(all, form),
                  ::testing::Contains(::testing::HasSubstr("store")));
    }
  }

  // The local operator's reads were audited: the fact, with the case.
  std::ifstream audit_in(data_ / "audit.log", std::ios::binary);
  const std::string audit(std::istreambuf_iterator<char>(audit_in), {});
  size_t withheld = 0;
  for (size_t at = audit.find("withheld:local-data-mode");
       at != std::string::npos;
       at = audit.find("withheld:local-data-mode", at + 1)) {
    ++withheld;
  }
  EXPECT_EQ(withheld, 2u) << audit;
  EXPECT_NE(audit.find(kCase), std::string::npos);
}

}  // namespace
}  // namespace utm::testing
