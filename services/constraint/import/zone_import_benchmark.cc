// Import throughput on synthetic files: 10,000 ED-269 zones (circles and
// 6-vertex polygons, weekly schedules, AGL/AMSL in M and FT) and 10,000
// XNOTAM TFRs (circles and polygons, FT and FL), generated in memory.
// Numbers in docs/benchmarks.md ("Import throughput").
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "nlohmann/json.hpp"
#include "pugixml.hpp"
#include "services/constraint/import/geoid.h"
#include "services/constraint/import/zone_import.h"

namespace utm::zones {
namespace {

// Zone i sits on a grid over Switzerland-sized ground, 0.02° apart.
std::pair<double, double> Spot(int i) {
  return {46.0 + 0.02 * (i / 100), 6.0 + 0.02 * (i % 100)};
}

std::string Ed269File(int zones) {
  std::string out = R"({"title": "synthetic", "features": [)";
  for (int i = 0; i < zones; ++i) {
    const auto [lat, lng] = Spot(i);
    std::string projection;
    if (i % 2 == 0) {
      projection = absl::StrFormat(
          R"({"type": "Circle", "center": [%.6f, %.6f], "radius": 500})", lng,
          lat);
    } else {
      std::string ring;
      for (int k = 0; k <= 6; ++k) {
        const double a = 2 * M_PI * (k % 6) / 6;
        absl::StrAppendFormat(&ring, "%s[%.6f, %.6f]", k == 0 ? "" : ", ",
                              lng + 0.005 * std::cos(a),
                              lat + 0.005 * std::sin(a));
      }
      projection =
          absl::StrCat(R"({"type": "Polygon", "coordinates": [[)", ring, "]]}");
    }
    absl::StrAppendFormat(
        &out,
        R"(%s{"identifier": "Z%d", "country": "CHE", "name": "Zone %d",
  "type": "COMMON", "restriction": "%s", "reason": ["AIR_TRAFFIC"],
  "message": "Synthetic zone", "zoneAuthority": [{"name": "Authority",
  "email": "a@example.org", "purpose": "AUTHORIZATION"}],
  "applicability": [{"permanent": "NO", "startDateTime": "2026-01-01T00:00:00Z",
    "endDateTime": "2027-01-01T00:00:00Z", "schedule": [{"day": ["MON", "TUE",
    "WED"], "startTime": "08:00:00Z", "endTime": "18:00:00Z"}]}],
  "geometry": [{"uomDimensions": "%s", "lowerLimit": 0,
    "lowerVerticalReference": "AGL", "upperLimit": %d,
    "upperVerticalReference": "%s", "horizontalProjection": %s}]})",
        i == 0 ? "" : ",\n", i, i,
        i % 3 == 0 ? "PROHIBITED" : "REQ_AUTHORISATION",
        i % 2 == 0 ? "M" : "FT", i % 2 == 0 ? 120 : 2000,
        i % 4 < 2 ? "AGL" : "AMSL", projection);
  }
  out += "]}";
  return out;
}

std::string XnotamFile(int zones) {
  std::string out = "<XNOTAM-Update><Group><Add>\n";
  for (int i = 0; i < zones; ++i) {
    const auto [lat, lng] = Spot(i);
    const bool fl = i % 2 == 1;
    std::string shape;
    if (i % 2 == 0) {
      shape = absl::StrFormat(
          "<aseShapes><Abd><Avx><codeType>CIR</codeType><geoLat>%.4fN</geoLat>"
          "<geoLong>%.4fE</geoLong><valRadiusArc>1</valRadiusArc>"
          "<uomRadiusArc>NM</uomRadiusArc></Avx></Abd></aseShapes>",
          lat, lng);
    } else {
      shape = "<abdMergedArea>";
      for (int k = 0; k <= 4; ++k) {
        const double dlat = (k % 4 == 1 || k % 4 == 2) ? 0.01 : 0;
        const double dlng = (k % 4 >= 2) ? 0.01 : 0;
        absl::StrAppendFormat(&shape,
                              "<Avx><codeType>GRC</codeType><geoLat>%.4fN"
                              "</geoLat><geoLong>%.4fE</geoLong></Avx>",
                              lat + dlat, lng + dlng);
      }
      shape += "</abdMergedArea>";
    }
    absl::StrAppendFormat(
        &out,
        "<Not><NotUid><txtLocalName>%d/%04d</txtLocalName><codeFacility>ZZZ"
        "</codeFacility></NotUid><dateEffective>2026-06-10T14:00:00"
        "</dateEffective><dateExpire>2026-06-10T22:00:00</dateExpire>"
        "<codeTimeZone>UTC</codeTimeZone><txtDescrUSNS>Synthetic TFR"
        "</txtDescrUSNS><TfrNot><codeType>SECURITY</codeType><TFRAreaGroup>"
        "<aseTFRArea><codeDistVerUpper>%s</codeDistVerUpper><valDistVerUpper>"
        "%s</valDistVerUpper><uomDistVerUpper>%s</uomDistVerUpper>"
        "<codeDistVerLower>HEI</codeDistVerLower><valDistVerLower>SFC"
        "</valDistVerLower><uomDistVerLower>FT</uomDistVerLower></aseTFRArea>"
        "%s</TFRAreaGroup></TfrNot></Not>\n",
        i / 10000, i % 10000, fl ? "STD" : "ALT", fl ? "180" : "3000",
        fl ? "FL" : "FT", shape);
  }
  out += "</Add></Group></XNOTAM-Update>\n";
  return out;
}

void Run(benchmark::State& state, const std::string& file) {
  static const ConstantElevation flat(500, 48);
  ImportOptions options;
  options.dataset = "synthetic";
  options.elevation = &flat;
  size_t zones = 0;
  for (auto _ : state) {
    absl::StatusOr<ImportResult> r = ImportZones(file, options);
    if (!r.ok() || !r->errors.empty()) {
      state.SkipWithError("import failed");
      return;
    }
    zones = r->zones.size();
    benchmark::DoNotOptimize(r->zones.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * zones));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * file.size()));
  state.counters["zones"] = static_cast<double>(zones);
}

void BM_ImportEd269(benchmark::State& state) {
  Run(state, Ed269File(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_ImportEd269)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_ImportXnotam(benchmark::State& state) {
  Run(state, XnotamFile(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_ImportXnotam)->Arg(10000)->Unit(benchmark::kMillisecond);

// Baselines in the same run: parsing alone, with the same parsers.
void BM_ParseOnlyEd269Json(benchmark::State& state) {
  const std::string file = Ed269File(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(nlohmann::json::parse(file));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseOnlyEd269Json)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_ParseOnlyXnotamXml(benchmark::State& state) {
  const std::string file = XnotamFile(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    pugi::xml_document doc;
    benchmark::DoNotOptimize(doc.load_buffer(file.data(), file.size()));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseOnlyXnotamXml)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_ExportGeoJson(benchmark::State& state) {
  static const ConstantElevation flat(500, 48);
  ImportOptions options;
  options.elevation = &flat;
  absl::StatusOr<ImportResult> r =
      ImportZones(Ed269File(static_cast<int>(state.range(0))), options);
  std::vector<v1::Constraint> constraints;
  for (const ImportedZone& z : r->zones) constraints.push_back(z.constraint);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ExportGeoJson(constraints));
  }
  state.SetItemsProcessed(
      static_cast<int64_t>(state.iterations() * constraints.size()));
}
BENCHMARK(BM_ExportGeoJson)->Arg(10000)->Unit(benchmark::kMillisecond);

// The EGM96 grid: reading it, one bilinear lookup, and the range under a
// 3 km zone (what one AMSL volume costs).
const elevation::HeightGrid& Egm96() {
  static const elevation::HeightGrid* grid = new elevation::HeightGrid(
      *elevation::LoadGtx(elevation::DefaultGeoidGridPath()));
  return *grid;
}

void BM_GeoidLoadGrid(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        elevation::LoadGtx(elevation::DefaultGeoidGridPath()));
  }
}
BENCHMARK(BM_GeoidLoadGrid)->Unit(benchmark::kMillisecond);

void BM_GeoidLookup(benchmark::State& state) {
  const elevation::HeightGrid& grid = Egm96();
  double lat = 46.9, lng = 7.5;
  for (auto _ : state) {
    benchmark::DoNotOptimize(grid.HeightM({lat, lng}));
    lng += 1e-3;
  }
}
BENCHMARK(BM_GeoidLookup);

void BM_GeoidRangeOfAZone(benchmark::State& state) {
  const elevation::HeightGrid& grid = Egm96();
  const geo::Polygon box{
      {{46.90, 7.48}, {46.90, 7.52}, {46.93, 7.52}, {46.93, 7.48}}};
  for (auto _ : state) benchmark::DoNotOptimize(grid.RangeM(box));
}
BENCHMARK(BM_GeoidRangeOfAZone)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace utm::zones
