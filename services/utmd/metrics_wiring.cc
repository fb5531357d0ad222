#include "services/utmd/metrics_wiring.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "services/constraint/constraint_core.h"
#include "services/intent/intent_core.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_service.h"
#include "utm/v1/telemetry.pb.h"

namespace utm::utmd {

namespace {

double D(size_t n) { return static_cast<double>(n); }
double D(int64_t n) { return static_cast<double>(n); }

// "conflict_predicted" for ALERT_KIND_CONFLICT_PREDICTED.
std::string KindLabel(int kind) {
  std::string name = v1::AlertKind_Name(static_cast<v1::AlertKind>(kind));
  absl::string_view short_name(name);
  absl::ConsumePrefix(&short_name, "ALERT_KIND_");
  return absl::AsciiStrToLower(short_name);
}

void AddStrategic(metrics::Catalog* catalog, const MetricSources& sources) {
  if (sources.intents != nullptr) {
    const intent::IntentCore* intents = sources.intents;
    catalog->AddGauge("utmd_live_intents",
                      "Intents accepted or activated, not yet ended.",
                      [intents](metrics::Samples* out) {
                        out->push_back({{}, D(intents->live_count())});
                      });
  }
  if (sources.constraints == nullptr) return;
  const constraint::ConstraintCore* constraints = sources.constraints;
  catalog->AddGauge("utmd_constraints", "Constraints (geofences) in force.",
                    [constraints](metrics::Samples* out) {
                      out->push_back({{}, D(constraints->constraint_count())});
                    });
  // The constraint watchers' queues, one family per figure.
  using Stats = constraint::WatchHub::QueueStats;
  struct QueueFamily {
    const char* name;
    const char* help;
    size_t Stats::*figure;
  };
  static constexpr QueueFamily kQueueFamilies[] = {
      {"utmd_watchers", "Open watch streams, by what they watch.",
       &Stats::watchers},
      {"utmd_watch_queued_events",
       "Events queued for watch streams and not yet sent, over all streams.",
       &Stats::queued_events},
      {"utmd_watch_longest_queue",
       "Events queued for the most behind watch stream.",
       &Stats::longest_queue},
      {"utmd_watch_resyncing",
       "Watch streams that fell behind their queue limit and await a "
       "snapshot.",
       &Stats::resyncing},
  };
  for (const QueueFamily& family : kQueueFamilies) {
    catalog->AddGauge(
        family.name, family.help,
        [constraints, figure = family.figure](metrics::Samples* out) {
          out->push_back({{{"stream", "constraints"}},
                          D(constraints->watch_queue_stats().*figure)});
        });
  }
}

void AddTactical(metrics::Catalog* catalog, const MetricSources& sources) {
  if (sources.telemetry == nullptr) return;
  const telemetry::TelemetryService* service = sources.telemetry;
  const telemetry::TelemetryCore* core = service->core();
  catalog->AddGauge("utmd_watchers", "", [service](metrics::Samples* out) {
    out->push_back({{{"stream", "alerts"}}, D(service->stats().watchers)});
  });
  catalog->AddGauge(
      "utmd_position_streams", "Open StreamPositions streams.",
      [service](metrics::Samples* out) {
        out->push_back({{}, D(service->stats().position_streams)});
      });
  catalog->AddGauge(
      "utmd_position_reports_waiting",
      "Position reports read from streams and waiting for the core.",
      [service](metrics::Samples* out) {
        out->push_back({{}, D(service->stats().waiting_reports)});
      });
  catalog->AddGauge("utmd_live_tracks",
                    "Aircraft tracked now (participants and intruders).",
                    [core](metrics::Samples* out) {
                      out->push_back({{}, D(core->track_count())});
                    });
  catalog->AddGauge("utmd_open_alerts", "Tactical alerts open now.",
                    [core](metrics::Samples* out) {
                      out->push_back({{}, D(core->open_alert_count())});
                    });
  catalog->AddCounter(
      "utmd_position_reports_total",
      "Position reports processed, by result (rate() gives reports/s).",
      [core](metrics::Samples* out) {
        const telemetry::TelemetryCore::Counters c = core->counters();
        out->push_back({{{"result", "accepted"}}, D(c.reports_accepted)});
        out->push_back({{{"result", "refused"}}, D(c.reports_refused)});
      });
  catalog->AddCounter(
      "utmd_detector_pairs_total",
      "Aircraft pairs the conflict detector considered (each report against "
      "each track within reach).",
      [core](metrics::Samples* out) {
        out->push_back({{}, D(core->counters().pairs_considered)});
      });
  catalog->AddCounter(
      "utmd_alerts_raised_total", "Tactical alerts raised, by kind.",
      [core](metrics::Samples* out) {
        const telemetry::TelemetryCore::Counters c = core->counters();
        for (int kind = 1; kind < v1::AlertKind_ARRAYSIZE; ++kind) {
          out->push_back(
              {{{"kind", KindLabel(kind)}}, D(c.alerts_raised[kind])});
        }
      });
}

}  // namespace

void AddServiceMetrics(metrics::Catalog* catalog,
                       const MetricSources& sources) {
  AddStrategic(catalog, sources);
  AddTactical(catalog, sources);
}

}  // namespace utm::utmd
