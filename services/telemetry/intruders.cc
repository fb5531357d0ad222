// TelemetryCore's non-participating aircraft ("intruders", heard by Remote
// ID): their reports in, and their part of the neighbour search. See
// telemetry_core.h.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/arena.h"
#include "services/common/input_limits.h"
#include "services/telemetry/report_check.h"
#include "services/telemetry/telemetry_core.h"
#include "services/telemetry/telemetry_core_internal.h"

namespace utm::telemetry {
namespace {

using core_internal::Axpy;
using core_internal::Dot;

// An uncertainty an intruder may not reach, either way: the bound of a
// participant's accuracy (report_check.cc), so that the forwarded form of an
// intruder report (the uncertainty as its accuracy) passes the same checks.
constexpr double kMaxIntruderUncertaintyM = 10000;

// The first arena block of IngestIntruders, per thread: room for a batch of
// a hundred reports.
constexpr size_t kScratchBytes = 64 << 10;

}  // namespace

TelemetryCore::Result TelemetryCore::IngestIntruders(
    const std::vector<IntruderReport>& reports) {
  Result result;
  const absl::Time now = clock_->Now();
  auto refuse = [&](size_t i, absl::string_view message) {
    v1::ReportError e;
    e.set_report_index(static_cast<int32_t>(i));
    e.set_message(absl::StrCat("intruders[", i, "].", message));
    result.errors.push_back(std::move(e));
  };
  // Each report as it is kept and forwarded: aircraft_id = remote_id,
  // accuracy = the whole extra uncertainty. On an arena that lives for this
  // call (Prepared points in): a batch of a hundred costs a few blocks, not
  // half a dozen allocations a report. Its first block is this thread's
  // scratch, reused call after call.
  google::protobuf::ArenaOptions arena_options;
  thread_local std::unique_ptr<char[]> scratch(new char[kScratchBytes]);
  arena_options.initial_block = scratch.get();
  arena_options.initial_block_size = kScratchBytes;
  arena_options.max_block_size = kScratchBytes;
  google::protobuf::Arena arena(arena_options);
  std::vector<Prepared> prepared;
  prepared.reserve(reports.size());
  for (size_t i = 0; i < reports.size(); ++i) {
    const IntruderReport& in = reports[i];
    if (absl::Status s = CheckRequiredId(in.remote_id, "remote_id"); !s.ok()) {
      refuse(i, s.message());
      continue;
    }
    if (!in.report.intent_id().empty()) {
      refuse(i,
             "report.intent_id: must be empty; a non-participating aircraft "
             "flies no intent");
      continue;
    }
    if (in.latency < absl::ZeroDuration()) {
      refuse(i, "latency: negative");
      continue;
    }
    if (in.latency > options_.max_report_age) {
      refuse(i, absl::StrCat("latency: ", absl::FormatDuration(in.latency),
                             " is above ",
                             absl::FormatDuration(options_.max_report_age)));
      continue;
    }
    v1::PositionReport& r =
        *google::protobuf::Arena::CreateMessage<v1::PositionReport>(&arena);
    r = in.report;
    r.set_aircraft_id(in.remote_id);
    absl::StatusOr<CheckedReport> checked = CheckReport(r, options_, now);
    if (!checked.ok()) {
      refuse(i, absl::StrCat("report.", checked.status().message()));
      continue;
    }
    // The declared accuracy (F3411's accuracy categories, 95 %) or the
    // default, plus how far the aircraft can have moved in the latency.
    const double latency_s = absl::ToDoubleSeconds(in.latency);
    const v1::Velocity& v = r.velocity();
    const double h_extra =
        (checked->h_accuracy_m > 0 ? checked->h_accuracy_m
                                   : options_.intruder_default_h_accuracy_m) +
        std::hypot(v.east_mps(), v.north_mps()) * latency_s;
    const double v_extra =
        (checked->v_accuracy_m > 0 ? checked->v_accuracy_m
                                   : options_.intruder_default_v_accuracy_m) +
        std::fabs(v.up_mps()) * latency_s;
    if (!(h_extra < kMaxIntruderUncertaintyM) ||
        !(v_extra < kMaxIntruderUncertaintyM)) {
      refuse(i, absl::StrFormat(
                    "report.accuracy: uncertainty %.0f m horizontally, %.0f "
                    "m vertically (declared accuracy + speed × latency); 10 "
                    "km or more is of no use for tactical deconfliction",
                    h_extra, v_extra));
      continue;
    }
    r.mutable_accuracy()->set_horizontal_m(h_extra);
    r.mutable_accuracy()->set_vertical_m(v_extra);
    // A replica keeps the reports of the regions it owns or borders; the
    // others get this form, which IngestForwarded("", ...) takes back.
    if (scope_ != nullptr && !scope_->Route("", r, checked->position, now)) {
      continue;
    }
    Prepared& pr = prepared.emplace_back();
    pr.index = static_cast<int>(i);
    pr.report = &r;
    pr.t = checked->time;
    pr.p = checked->position;
    pr.alt = checked->altitude_m;
    pr.hacc = h_extra;
    pr.vacc = v_extra;
  }
  Apply("", &prepared, "intruders", "report.", now, &result);
  return result;
}

void TelemetryCore::DetectIntruders(Track* own, const geo::Vec3& east,
                                    const geo::Vec3& north, absl::Time now,
                                    std::vector<AlertChange>* out,
                                    std::vector<const Track*>* partners_seen) {
  // As DetectAround's scan, with the minima of each pair widened by its
  // intruder's extra uncertainty. Kept apart from it so that the
  // participants' hot loop carries no per-pair minima.
  const Separation& base = options_.separation;
  const bool has_partners = !own->partners.empty();
  const double now_s = absl::ToDoubleSeconds(now - absl::UnixEpoch());
  const double age_s = absl::ToDoubleSeconds(now - own->time);
  const geo::Vec3 e = east, n = north, w = own->velocity;
  const geo::Vec3 p = Axpy(age_s, w, own->ecef);
  const double alt = own->altitude_m + age_s * own->up_mps;
  const double up = own->up_mps;
  const double coast_s = absl::ToDoubleSeconds(options_.lost_link_after);
  const double span_s = base.lookahead_s + std::fabs(age_s);
  const double gap_s = absl::ToDoubleSeconds(options_.report_gap);
  auto scan = [&](const std::vector<Slot>& slots) {
    for (const Slot& o : slots) {
      if (o.track == own) continue;
      if (now_s - o.time_s > coast_s) continue;
      const Track& intruder = own->intruder() ? *own : *o.track;
      Separation sep = base;
      sep.horizontal_m += intruder.h_accuracy_m;
      sep.vertical_m += intruder.v_accuracy_m;
      const double dt = now_s - o.time_s;
      const geo::Vec3 d{p.x - (o.ecef.x + dt * o.velocity.x),
                        p.y - (o.ecef.y + dt * o.velocity.y),
                        p.z - (o.ecef.z + dt * o.velocity.z)};
      const geo::Vec3 dv{w.x - o.velocity.x, w.y - o.velocity.y,
                         w.z - o.velocity.z};
      State rel;
      rel.x = Dot(d, e);
      rel.y = Dot(d, n);
      rel.z = alt - (o.altitude_m + dt * o.up_mps);
      rel.vx = Dot(dv, e);
      rel.vy = Dot(dv, n);
      rel.vz = up - o.up_mps;
      const bool partner = has_partners && own->partners.contains(o.track);
      if (partner) partners_seen->push_back(o.track);
      if (!partner &&
          ((rel.x * rel.x + rel.y * rel.y >=
                sep.horizontal_m * sep.horizontal_m &&
            rel.x * rel.vx + rel.y * rel.vy >= 0) ||
           (std::fabs(rel.z) >= sep.vertical_m && rel.z * rel.vz >= 0))) {
        continue;
      }
      const Detection det = Detect(rel, sep);
      if (det.conflict || partner) Evaluate(own, o.track, det, now, out);
    }
  };
  // The reach of DetectAround, widened by the intruder's extra horizontal
  // uncertainty (an upper bound of it for the intruders in cells).
  auto near = [&](const absl::node_hash_map<CellKey, std::vector<Slot>>& grid,
                  double fastest, double widest) {
    const double reach = base.horizontal_m + widest + base.vertical_m +
                         (own->speed_mps + fastest) * span_s + fastest * gap_s;
    surface_.ForEachNear(own->position, reach, [&](CellKey key) {
      auto it = grid.find(key);
      if (it != grid.end()) scan(it->second);
    });
    if (auto it = grid.find(kFastCell); it != grid.end()) scan(it->second);
  };
  if (own->intruder()) {
    // Against the participants only: two intruders raise nothing (neither
    // has anyone to tell).
    near(grid_, FastestSpeed(), own->h_accuracy_m);
  } else if (intruder_grid_.size() == 1 && intruder_grid_.contains(kFastCell)) {
    scan(intruder_grid_.find(kFastCell)->second);
  } else if (!intruder_grid_.empty()) {
    near(intruder_grid_, intruder_fastest_mps_, intruder_widest_m_);
  }
}

}  // namespace utm::telemetry
