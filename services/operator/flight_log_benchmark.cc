// What recording flight logs costs per position report (FlightLogs::OnReport
// on the ingest path, chunks written to an embedded store without fsync),
// and the bytes each point takes in the store. Figures in
// docs/benchmarks.md.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/common/volume_convert.h"
#include "services/operator/flight_log.h"

namespace utm::fleet {
namespace {

namespace fs = std::filesystem;

// Aircraft flying straight at 15 m/s, reporting at 1 Hz, as a GNSS
// receiver rounds them (1e-7 degree, centimetres).
class Flights {
 public:
  explicit Flights(int aircraft) : aircraft_(aircraft) {
    for (int a = 0; a < aircraft; ++a) ids_.push_back(absl::StrCat("d-", a));
  }
  // Report `i` (aircraft i % n, its (i / n)th second).
  const v1::PositionReport& Next(int64_t i) {
    const int a = static_cast<int>(i % aircraft_);
    const int64_t s = i / aircraft_;
    report_.set_aircraft_id(ids_[a]);
    *report_.mutable_time() = TimeToProto(kStart + absl::Seconds(s));
    const double north_m = 15.0 * s;
    report_.mutable_position()->set_lat_deg(
        std::round((47.0 + a * 1e-3 + north_m / 111320.0) * 1e7) / 1e7);
    report_.mutable_position()->set_lng_deg(8.5 + a * 1e-3);
    report_.mutable_altitude()->set_value_m(450 + (s % 7) * 0.1);
    report_.mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    report_.mutable_velocity()->set_north_mps(15);
    report_.mutable_accuracy()->set_horizontal_m(3);
    report_.mutable_accuracy()->set_vertical_m(5);
    return report_;
  }
  const absl::Time kStart = absl::FromUnixSeconds(1800000000);

 private:
  const int aircraft_;
  std::vector<std::string> ids_;
  v1::PositionReport report_;
};

void BM_RecordReport(benchmark::State& state) {
  const int aircraft = static_cast<int>(state.range(0));
  const fs::path dir = fs::temp_directory_path() /
                       absl::StrCat("flight_log_benchmark-", getpid());
  fs::remove_all(dir);
  {
    store::StoreOptions so;
    so.dir = dir.string();
    so.sync = false;
    std::unique_ptr<store::Store> store = *store::OpenStore(so);
    std::unique_ptr<FlightLogStore> flight_store =
        *OpenFlightLogStore(store.get());
    Flights flights(aircraft);
    SimulatedClock clock(flights.kStart);
    UniformDataPolicies policies;
    FlightLogs logs(FlightLogOptions(), &clock, &policies, flight_store.get());
    int64_t i = 0;
    for (auto _ : state) {
      logs.OnReport("alice", flights.Next(i));
      if (++i % aircraft == 0) clock.Advance(absl::Seconds(1));
    }
    logs.CloseAll();
    // Bytes per point actually stored: every chunk's bytes over the points.
    int64_t chunk_bytes = 0;
    (void)store->Scan(kFlightChunksTable,
                      [&](absl::string_view, absl::string_view v) {
                        chunk_bytes += static_cast<int64_t>(v.size());
                      });
    state.counters["stored_bytes_per_point"] =
        i > 0 ? static_cast<double>(chunk_bytes) / static_cast<double>(i) : 0;
    state.counters["chunks"] = static_cast<double>(logs.stats().chunks_written);
    state.SetItemsProcessed(i);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_RecordReport)->Arg(10)->Arg(1000)->Unit(benchmark::kNanosecond);

// The floor: the same reports built but not recorded.
void BM_BuildReportOnly(benchmark::State& state) {
  Flights flights(static_cast<int>(state.range(0)));
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&flights.Next(i++));
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_BuildReportOnly)->Arg(1000);

}  // namespace
}  // namespace utm::fleet
