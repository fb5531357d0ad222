// utmsim: traffic simulator and load generator for utmd's TelemetryService.
//
// It generates a seeded traffic scenario (sim/traffic.h: random circuits,
// head-on and crossing pairs that lose separation at known times, strays
// that leave their intents at known times) or replays ASTM F3411 Remote ID
// test flights, files and activates each drone's intent through
// StrategicCoordination, then streams position reports over --streams
// StreamPositions streams (callback API; each stream carries every K-th
// drone, in batches of up to --batch reports), paced in real time at
// --rate reports per second per drone or --as-fast-as-possible; each drone
// reports at its own phase in the interval (--phase spread, default) or all
// at once (--phase aligned), and a stream sends what is due at most every
// --flush-ms. It reads
// the AlertBatches coming back, times each alert against the report that
// triggered it, compares the alerts with the scenario's ground truth, and
// prints a JSON summary on stdout (a human one on stderr). Aircraft ids
// carry a run id (random, or --run-id) so that runs against the same utmd
// do not continue each other's tracks. With --watchers N, N WatchAlerts
// streams (--watch-token, e.g. a supervisor's) watch the scenario's area
// and must see every conflict alert the aircraft got.
//
// Baseline from the same run: with --noop (default), the same streams first
// go to a no-op TelemetryService (this binary with --serve-noop, a child
// process) that only acknowledges batches, about once a second: the gRPC
// ceiling of this machine for the same client. --noop-only measures only
// that.
//
// Loopback only: --target must be a 127.0.0.0/8, localhost or [::1]
// address. Exit status: 0 fine; 1 a stream, watcher or intent failed (an
// intent rejected for meeting another of the run's own; one that meets only
// other traffic already in the area is reported, not a failure), or
// nothing was sent; 2 the alerts received differ from the ground truth
// (utmd target, intents filed) or a watcher missed a conflict alert; 64 bad
// command line; 66 unreadable --replay file; 69 target unavailable.
// docs/utmsim.md has the details.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/geodesy.h"
#include "nlohmann/json.hpp"
#include "services/common/server.h"
#include "services/common/volume_convert.h"
#include "sim/foreign_traffic.h"
#include "sim/load_common.h"
#include "sim/traffic.h"
#include "utm/v1/strategic.grpc.pb.h"
#include "utm/v1/telemetry.grpc.pb.h"

namespace utm::sim {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

struct Options {
  std::string target;
  std::string token;
  TrafficOptions traffic;
  int streams = 4;
  int batch = 1000;
  bool as_fast_as_possible = false;
  bool no_intents = false;
  bool noop = true;
  bool noop_only = false;
  std::string replay;
  int intent_clients = 16;
  double drain_s = 5;
  // Report phases (traffic.phase) and, in real time, the most often a
  // stream sends a batch of the reports due.
  double flush_ms = 5;
  int server_pid = 0;
  int watchers = 0;
  std::string watch_token;
};

int64_t UnixNs() { return absl::ToUnixNanos(absl::Now()); }

// CPU seconds (user + system) of a process, from /proc; -1 if unreadable.

Json Stats(const std::vector<double>& v) {
  Json j;
  j["count"] = v.size();
  j["p50"] = Percentile(v, 0.5);
  j["p99"] = Percentile(v, 0.99);
  j["max"] = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  return j;
}

// Most entries of a list in the summary (missed and unexpected alerts).
constexpr size_t kMaxListed = 20;

bool IsConflictKind(v1::AlertKind k) {
  return k == v1::ALERT_KIND_CONFLICT_PREDICTED ||
         k == v1::ALERT_KIND_CONFLICT_IMMINENT ||
         k == v1::ALERT_KIND_SEPARATION_LOST;
}

std::string KindName(v1::AlertKind k) {
  const std::string name(
      absl::StripPrefix(v1::AlertKind_Name(k), "ALERT_KIND_"));
  return name.empty() ? absl::StrCat(static_cast<int>(k)) : name;
}
std::string StateName(v1::AlertState s) {
  const std::string name(
      absl::StripPrefix(v1::AlertState_Name(s), "ALERT_STATE_"));
  return name.empty() ? absl::StrCat(static_cast<int>(s)) : name;
}

// ---------------------------------------------------------------------------
// One run against one target: what the streams share.

class PositionStream;

struct Run {
  Run(const Options& o, const Scenario& s, bool evaluate_truth)
      : options(o), scenario(s), truth(evaluate_truth) {
    for (size_t i = 0; i < s.drones().size(); ++i) {
      index[s.drones()[i].aircraft_id] = static_cast<int>(i);
    }
    for (size_t k = 0; k < s.conflicts().size(); ++k) {
      pair_truth[PairKey(s.conflicts()[k].a, s.conflicts()[k].b)] =
          static_cast<int>(k);
    }
    for (size_t k = 0; k < s.strays().size(); ++k) {
      stray_truth[s.strays()[k].drone] = static_cast<int>(k);
    }
    conflict_first.assign(s.conflicts().size(), -1.0);
    stray_first.assign(s.strays().size(), -1.0);
    if (truth) {
      for (const Conflict& c : s.conflicts()) {
        traced[c.a];
        traced[c.b];
      }
      for (const Stray& st : s.strays()) traced[st.drone];
    }
  }
  static uint64_t PairKey(int a, int b) {
    if (a > b) std::swap(a, b);
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
  }

  // A report: drone, tick, time (seconds since the start, simulated) and
  // where an alert's latency is measured from (ReferenceNs).
  struct Report {
    int drone = -1, tick = -1;
    double t_s = 0;
    int64_t ref_ns = 0;
  };

  // Handles one AlertBatch of stream `stream`, received at `now_ns`.
  void OnBatch(int stream, const v1::AlertBatch& batch, int64_t now_ns);
  // Report `index` of batch `seq` of stream `stream` (drone -1: unknown).
  Report ReportOf(int stream, int64_t seq, int index) const;
  // The drones an alert names; false if it names an aircraft of no drone
  // of this scenario (or none).
  bool DronesOf(const v1::Alert& alert, std::vector<int>* drones) const;
  // The report behind an alert about `drones` received at `now_ns` (tick
  // -1: none) and, unless it is a lost link, its latency.
  Report Behind(const v1::Alert& alert, const std::vector<int>& drones,
                int64_t now_ns, std::optional<double>* latency_ms) const;

  // The report behind an alert about drones `drones`: the newest report (by
  // report time) of any of them sent no later than `bound_ns`; its ref_ns
  // is the latest reference of the drones' newest reports.
  Report TriggerReport(const std::vector<int>& drones, int64_t bound_ns) const;
  // Where an alert's latency is measured from for drone d's report of tick
  // k: its timestamp in real time, when it was sent as fast as possible.
  int64_t ReferenceNs(int d, int tick) const;
  // Stream of drone d, and its slot at tick k.
  int StreamOf(int d) const { return d % static_cast<int>(streams.size()); }
  int64_t SlotOf(int d, int tick) const {
    return static_cast<int64_t>(tick) *
               static_cast<int64_t>(stream_drones[StreamOf(d)].size()) +
           position[static_cast<size_t>(d)];
  }

  const Options& options;
  const Scenario& scenario;
  const bool truth;
  absl::flat_hash_map<std::string, int> index;  // aircraft id -> drone
  absl::flat_hash_map<uint64_t, int> pair_truth;
  absl::flat_hash_map<int, int> stray_truth;
  std::vector<std::unique_ptr<PositionStream>> streams;
  int64_t epoch_unix_ns = 0;  // report time of tick 0

  absl::Mutex mu;
  std::map<std::string, std::map<std::string, int64_t>> by_kind
      ABSL_GUARDED_BY(mu);
  absl::flat_hash_set<std::string> seen ABSL_GUARDED_BY(mu);  // id|state|time
  absl::flat_hash_set<std::string> distinct ABSL_GUARDED_BY(mu);  // alert ids
  int64_t alert_messages ABSL_GUARDED_BY(mu) = 0;
  int64_t duplicates ABSL_GUARDED_BY(mu) = 0;
  int64_t foreign ABSL_GUARDED_BY(mu) = 0;
  int64_t report_errors ABSL_GUARDED_BY(mu) = 0;
  std::string first_report_error ABSL_GUARDED_BY(mu);
  std::vector<double> latency_ms ABSL_GUARDED_BY(mu);
  std::vector<double> raise_latency_ms ABSL_GUARDED_BY(mu);
  std::vector<double> ack_latency_ms ABSL_GUARDED_BY(mu);
  // Per truth entry: the time (seconds since the start, simulated) of the
  // report behind its first alert (-1: none yet).
  std::vector<double> conflict_first ABSL_GUARDED_BY(mu);
  std::vector<double> stray_first ABSL_GUARDED_BY(mu);
  absl::flat_hash_set<uint64_t> unexpected_pairs ABSL_GUARDED_BY(mu);
  absl::flat_hash_set<int> unexpected_nonconforming ABSL_GUARDED_BY(mu);
  // What arrived about each drone of the truth (pairs and strays), so that
  // the summary can say what a missed one got instead.
  struct Trace {
    std::vector<std::string> alerts;  // "KIND STATE tick k", the first few
    int64_t report_errors = 0;
    std::string first_report_error;
  };
  absl::flat_hash_map<int, Trace> traced ABSL_GUARDED_BY(mu);
  // Per stream, its drones in sending order (by phase, then index), and
  // each drone's place in its stream's order (set before streaming).
  std::vector<std::vector<int>> stream_drones;
  std::vector<int64_t> position;
  // Conflict alerts about this run's aircraft that came on the position
  // streams: ids, and "id|state" of their RAISED and CLEARED messages (which
  // the server never merges, unlike UPDATED). Watchers must see them all.
  absl::flat_hash_set<std::string> conflict_ids ABSL_GUARDED_BY(mu);
  absl::flat_hash_set<std::string> conflict_transitions ABSL_GUARDED_BY(mu);
};

// One StreamPositions stream: a sender thread writes batches (one write in
// flight at a time); gRPC's threads deliver AlertBatches to OnReadDone. A
// hold keeps the reactor alive until the sender is done with it.
//
// The stream's reports are numbered by slot: slot = tick * n + j for the
// j-th of its n drones (in sending order, by phase) at tick `tick`, active
// or not. Slots go out in order, so a batch is a range of slots, and the
// bookkeeping is per batch: where its range ends and when it left.
class PositionStream final
    : public grpc::ClientBidiReactor<v1::PositionBatch, v1::AlertBatch> {
 public:
  PositionStream(Run* run, int index, int64_t max_batches)
      : run_(run),
        index_(index),
        batch_send_ns_(static_cast<size_t>(max_batches + 1)),
        batch_reports_(static_cast<size_t>(max_batches + 1)),
        batch_end_(static_cast<size_t>(max_batches + 1)) {
    for (auto& t : batch_send_ns_) t = 0;
    for (auto& t : batch_reports_) t = 0;
    for (auto& t : batch_end_) t = 0;
  }

  void Start(v1::TelemetryService::Stub* stub, const std::string& token) {
    if (!token.empty()) {
      context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    stub->async()->StreamPositions(&context_, this);
    AddHold();
    StartRead(&in_);
    StartCall();
  }

  // Whether batch `batch_seq` fits the bookkeeping (sized for the most
  // batches a run can send).
  bool HasRoom(int64_t batch_seq) const {
    return batch_seq < static_cast<int64_t>(batch_end_.size());
  }

  // Sends `batch` (which must stay untouched until the next Write returns),
  // which holds the active reports of the slots up to `end_slot`
  // (exclusive) not sent before. REQUIRES: HasRoom(batch->batch_seq()).
  // False once the stream is broken.
  bool Write(v1::PositionBatch* batch, bool more_coming, int64_t end_slot) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PositionStream* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !s->writing_ || s->broken_;
          },
          this));
      if (broken_) return false;
      writing_ = true;
    }
    const int64_t seq = batch->batch_seq();
    batch_end_[static_cast<size_t>(seq)] = end_slot;
    batch_send_ns_[static_cast<size_t>(seq)] = UnixNs();
    batch_reports_[static_cast<size_t>(seq)] =
        (seq > 1 ? batch_reports_[static_cast<size_t>(seq - 1)].load() : 0) +
        batch->reports_size();
    batches_sent_.store(seq);  // publishes the entries above to readers
    grpc::WriteOptions options;
    if (more_coming) options.set_buffer_hint();
    StartWrite(batch, options);
    return true;
  }

  // No more writes: half-close and let go of the hold.
  void CloseWrites() {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PositionStream* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !s->writing_ || s->broken_;
          },
          this));
      if (!broken_) StartWritesDone();
    }
    RemoveHold();
  }

  bool WaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](PositionStream* s)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->done_; },
            this),
        timeout);
  }
  void Cancel() { context_.TryCancel(); }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) broken_ = true;
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const int64_t now = UnixNs();
    if (in_.acked_batch_seq() > 0) {
      const int64_t seq =
          std::min<int64_t>(in_.acked_batch_seq(),
                            static_cast<int64_t>(batch_send_ns_.size()) - 1);
      acked_.store(std::max(acked_.load(), seq));
      const int64_t sent = batch_send_ns_[static_cast<size_t>(seq)].load();
      if (sent > 0) {
        absl::MutexLock lock(&run_->mu);
        run_->ack_latency_ms.push_back(static_cast<double>(now - sent) / 1e6);
      }
    }
    // A running total per stream; gRPC delivers a stream's messages in
    // order, the max only guards against a server that leaves it unset.
    superseded_.store(std::max(superseded_.load(), in_.superseded_reports()));
    run_->OnBatch(index_, in_, now);
    StartRead(&in_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
    broken_ = true;
  }

  // Slots sent no later than bound_ns: the end of the newest batch sent by
  // then (0: none).
  int64_t SlotsSentBy(int64_t bound_ns) const {
    int64_t lo = 1, hi = batches_sent_.load() + 1;  // first batch after bound
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (batch_send_ns_[static_cast<size_t>(mid)].load() <= bound_ns) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo > 1 ? batch_end_[static_cast<size_t>(lo - 1)].load() : 0;
  }
  // When the batch holding `slot` was sent (0: not sent).
  int64_t SlotSentNs(int64_t slot) const {
    int64_t lo = 1, hi = batches_sent_.load() + 1;  // first batch ending after
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (batch_end_[static_cast<size_t>(mid)].load() <= slot) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo <= batches_sent_.load()
               ? batch_send_ns_[static_cast<size_t>(lo)].load()
               : 0;
  }
  // Slots [first, end) of batch `seq`; {-1, -1} if unknown.
  std::pair<int64_t, int64_t> BatchSlots(int64_t seq) const {
    if (seq < 1 || seq > batches_sent_.load()) return {-1, -1};
    return {seq > 1 ? batch_end_[static_cast<size_t>(seq - 1)].load() : 0,
            batch_end_[static_cast<size_t>(seq)].load()};
  }

  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  int64_t acked_batches() const { return acked_.load(); }
  int64_t acked_reports() const {
    return acked_.load() > 0
               ? batch_reports_[static_cast<size_t>(acked_.load())].load()
               : 0;
  }
  // The server's latest AlertBatch.superseded_reports on this stream.
  int64_t superseded_reports() const { return superseded_.load(); }

 private:
  Run* const run_;
  const int index_;
  grpc::ClientContext context_;
  v1::AlertBatch in_;
  // Per batch_seq (index 0 unused), written by the sender before it
  // publishes the batch in batches_sent_.
  std::vector<std::atomic<int64_t>> batch_send_ns_;
  std::vector<std::atomic<int64_t>> batch_reports_;  // cumulative
  std::vector<std::atomic<int64_t>> batch_end_;      // one past its slots
  std::atomic<int64_t> batches_sent_{0};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> superseded_{0};
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

Run::Report Run::TriggerReport(const std::vector<int>& drones,
                               int64_t bound_ns) const {
  Report best;
  for (int d : drones) {
    const int64_t n = static_cast<int64_t>(stream_drones[StreamOf(d)].size());
    const int64_t sent = streams[StreamOf(d)]->SlotsSentBy(bound_ns);
    const int64_t p = position[static_cast<size_t>(d)];
    if (sent <= p) continue;
    // The drone's newest slot below `sent`, back to its newest active one.
    for (int k = static_cast<int>((sent - 1 - p) / n); k >= 0; --k) {
      const double t = scenario.ReportTime(d, k);
      if (!scenario.Active(d, t)) continue;
      if (best.tick < 0 || t > best.t_s) {
        best.drone = d;
        best.tick = k;
        best.t_s = t;
      }
      best.ref_ns = std::max(best.ref_ns, ReferenceNs(d, k));
      break;
    }
  }
  return best;
}

bool Run::DronesOf(const v1::Alert& alert, std::vector<int>* drones) const {
  for (const std::string& id : alert.aircraft_ids()) {
    auto it = index.find(id);
    if (it == index.end()) return false;
    drones->push_back(it->second);
  }
  return !drones->empty();
}

Run::Report Run::Behind(const v1::Alert& alert, const std::vector<int>& drones,
                        int64_t now_ns,
                        std::optional<double>* latency_ms) const {
  // From the newest report of the aircraft involved that was sent by the
  // alert's update_time (server clock, same machine), or by its receipt if
  // unset. Lost links are raised by the server's clock, not by a report.
  const int64_t update_ns =
      alert.has_update_time() ? alert.update_time().seconds() * 1000000000LL +
                                    alert.update_time().nanos()
                              : now_ns;
  const Report r = TriggerReport(drones, std::min(update_ns, now_ns));
  if (r.tick >= 0 && alert.kind() != v1::ALERT_KIND_LOST_LINK) {
    *latency_ms = static_cast<double>(now_ns - r.ref_ns) / 1e6;
  }
  return r;
}

Run::Report Run::ReportOf(int stream, int64_t seq, int index) const {
  const auto [first, end] = streams[stream]->BatchSlots(seq);
  const std::vector<int>& mine = stream_drones[stream];
  const int64_t n = static_cast<int64_t>(mine.size());
  // The batch holds the active reports of its slots, in order.
  for (int64_t slot = first; slot >= 0 && slot < end && index >= 0; ++slot) {
    const int d = mine[static_cast<size_t>(slot % n)];
    const int k = static_cast<int>(slot / n);
    const double t = scenario.ReportTime(d, k);
    if (!scenario.Active(d, t)) continue;
    if (index-- == 0) return {d, k, t, 0};
  }
  return {};
}

int64_t Run::ReferenceNs(int d, int tick) const {
  if (options.as_fast_as_possible) {
    return streams[StreamOf(d)]->SlotSentNs(SlotOf(d, tick));
  }
  return epoch_unix_ns +
         static_cast<int64_t>(std::llround(1e9 * scenario.ReportTime(d, tick)));
}

void Run::OnBatch(int stream, const v1::AlertBatch& batch, int64_t now_ns) {
  absl::MutexLock lock(&mu);
  report_errors += batch.errors_size();
  if (batch.errors_size() > 0 && first_report_error.empty()) {
    first_report_error = absl::StrCat(
        "batch ", batch.errors(0).batch_seq(), " report ",
        batch.errors(0).report_index(), ": ", batch.errors(0).message());
  }
  if (!traced.empty()) {
    for (const v1::ReportError& e : batch.errors()) {
      const Report r = ReportOf(stream, e.batch_seq(), e.report_index());
      auto it = traced.find(r.drone);
      if (it == traced.end()) continue;
      if (it->second.report_errors++ == 0) {
        it->second.first_report_error = absl::StrCat(
            "batch ", e.batch_seq(), " tick ", r.tick, ": ", e.message());
      }
    }
  }
  for (const v1::Alert& alert : batch.alerts()) {
    ++alert_messages;
    // An alert about aircraft on two streams comes on both: count it once.
    if (!seen.insert(absl::StrCat(alert.id(), "|", alert.state(), "|",
                                  alert.update_time().seconds(), ".",
                                  alert.update_time().nanos()))
             .second) {
      ++duplicates;
      continue;
    }
    distinct.insert(alert.id());
    ++by_kind[KindName(alert.kind())][StateName(alert.state())];
    std::vector<int> drones;
    if (!DronesOf(alert, &drones)) {
      ++foreign;
      continue;
    }
    std::optional<double> ms;
    const Report behind = Behind(alert, drones, now_ns, &ms);
    if (ms.has_value()) {
      latency_ms.push_back(*ms);
      if (alert.state() == v1::ALERT_STATE_RAISED) {
        raise_latency_ms.push_back(*ms);
      }
    }
    if (IsConflictKind(alert.kind())) {
      conflict_ids.insert(alert.id());
      if (alert.state() != v1::ALERT_STATE_UPDATED) {
        conflict_transitions.insert(
            absl::StrCat(alert.id(), "|", StateName(alert.state())));
      }
    }
    for (int d : drones) {
      auto it = traced.find(d);
      if (it != traced.end() && it->second.alerts.size() < 8) {
        it->second.alerts.push_back(absl::StrCat(
            KindName(alert.kind()), " ", StateName(alert.state()), " tick ",
            behind.tick));
      }
    }
    if (!truth) continue;
    if (IsConflictKind(alert.kind()) && drones.size() == 2) {
      auto it = pair_truth.find(PairKey(drones[0], drones[1]));
      if (it == pair_truth.end()) {
        unexpected_pairs.insert(PairKey(drones[0], drones[1]));
      } else if (conflict_first[it->second] < 0) {
        conflict_first[it->second] = behind.tick >= 0 ? behind.t_s : 0;
      }
    } else if (alert.kind() == v1::ALERT_KIND_NONCONFORMANCE) {
      auto it = stray_truth.find(drones[0]);
      if (it == stray_truth.end()) {
        unexpected_nonconforming.insert(drones[0]);
      } else if (stray_first[it->second] < 0) {
        stray_first[it->second] = behind.tick >= 0 ? behind.t_s : 0;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Watchers.

// One WatchAlerts stream over the scenario's area: what a supervisor's (or
// with an operator token, the operator's) display receives. gRPC runs its
// callbacks one at a time; the figures are read under mu_ while it runs,
// since the end of a run waits for the watchers to catch up.
class WatchStream final : public grpc::ClientReadReactor<v1::AlertBatch> {
 public:
  explicit WatchStream(Run* run) : run_(run) {}

  void Start(v1::TelemetryService::Stub* stub,
             const v1::WatchAlertsRequest& request, const std::string& token) {
    request_ = request;
    if (!token.empty()) {
      context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    stub->async()->WatchAlerts(&context_, &request_, this);
    StartRead(&in_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const int64_t now = UnixNs();
    {
      absl::MutexLock lock(&mu_);
      ready_ = true;  // the server sends a first (empty) batch at once
      if (in_.alerts_size() == 0) ++heartbeats_;
      for (const v1::Alert& alert : in_.alerts()) {
        ++alert_messages_;
        std::vector<int> drones;
        if (!run_->DronesOf(alert, &drones)) {
          ++foreign_;
          continue;
        }
        ids_.insert(alert.id());
        if (alert.state() != v1::ALERT_STATE_UPDATED) {
          transitions_.insert(
              absl::StrCat(alert.id(), "|", StateName(alert.state())));
        }
        std::optional<double> ms;
        run_->Behind(alert, drones, now, &ms);
        if (ms.has_value()) {
          latency_ms_.push_back(*ms);
          if (alert.state() == v1::ALERT_STATE_RAISED) {
            raise_latency_ms_.push_back(*ms);
          }
        }
      }
    }
    StartRead(&in_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  // Whether the first batch came within `timeout` (false at once if the
  // server refused the watch).
  bool WaitReady(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(
        absl::Condition(
            +[](WatchStream* w)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return w->ready_ || w->done_; },
            this),
        timeout);
    return ready_;
  }
  bool WaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](WatchStream* w)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return w->done_; },
            this),
        timeout);
  }

  // How many of `ids` and of `transitions` ("id|STATE") it has not seen.
  std::pair<int64_t, int64_t> Missing(
      const absl::flat_hash_set<std::string>& ids,
      const absl::flat_hash_set<std::string>& transitions) {
    absl::MutexLock lock(&mu_);
    int64_t i = 0, t = 0;
    for (const std::string& id : ids) i += !ids_.contains(id);
    for (const std::string& x : transitions) t += !transitions_.contains(x);
    return {i, t};
  }

  struct Figures {
    bool ready = false, done = false;
    grpc::Status status;
    int64_t alert_messages = 0, heartbeats = 0, foreign = 0;
    size_t distinct = 0;
    std::vector<double> latency_ms, raise_latency_ms;
  };
  Figures figures() {
    absl::MutexLock lock(&mu_);
    return {ready_,          done_,   status_,     alert_messages_,
            heartbeats_,     foreign_, ids_.size(), latency_ms_,
            raise_latency_ms_};
  }

 private:
  Run* const run_;
  grpc::ClientContext context_;
  v1::WatchAlertsRequest request_;
  v1::AlertBatch in_;
  absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  int64_t alert_messages_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t foreign_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<std::string> ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> transitions_ ABSL_GUARDED_BY(mu_);
  std::vector<double> latency_ms_ ABSL_GUARDED_BY(mu_);
  std::vector<double> raise_latency_ms_ ABSL_GUARDED_BY(mu_);
};

// The watchers' area: a circle around the scenario's centre holding every
// intent, 1 km wider (a stray ends 150 m outside its intent), at all
// altitudes and times (the watchers are cancelled at the end).
v1::WatchAlertsRequest WatchRequest(const Options& o, const Scenario& s,
                                    double* radius_m) {
  geo::LatLng centre = o.traffic.centre;
  if (!o.replay.empty()) {
    double lat = 0, lng = 0;
    for (size_t i = 0; i < s.drones().size(); ++i) {
      const DroneState st =
          s.StateAt(static_cast<int>(i), s.drones()[i].first_s);
      lat += st.position.lat_deg;
      lng += st.position.lng_deg;
    }
    const double n = static_cast<double>(s.drones().size());
    centre = {lat / n, lng / n};
  }
  double reach = 0;
  for (const Drone& d : s.drones()) {
    if (const auto* c = std::get_if<geo::Circle>(&d.intent.footprint)) {
      reach = std::max(reach,
                       geo::GeodesicDistance(centre, c->center) + c->radius_m);
    } else if (const auto* p =
                   std::get_if<geo::Polygon>(&d.intent.footprint)) {
      for (const geo::LatLng& v : p->vertices) {
        reach = std::max(reach, geo::GeodesicDistance(centre, v));
      }
    }
  }
  *radius_m = reach + 1000;
  v1::WatchAlertsRequest request;
  v1::Circle* circle =
      request.mutable_area()->mutable_volume()->mutable_outline_circle();
  circle->mutable_center()->set_lat_deg(centre.lat_deg);
  circle->mutable_center()->set_lng_deg(centre.lng_deg);
  circle->set_radius_m(*radius_m);
  return request;
}

// ---------------------------------------------------------------------------
// Intents.

struct IntentResult {
  // `rejected`: filings that met the run's own intents (a failure);
  // `rejected_foreign`: filings that met only other traffic already there.
  int64_t filed = 0, rejected = 0, activated = 0, failed = 0, ended = 0,
          rejected_foreign = 0;
  std::vector<char> foreign_flags;       // per drone: rejected_foreign
  std::vector<std::string> foreign_met;  // "intent ID" / "constraint ID"
  double seconds = 0;
  std::string first_error;
  std::vector<std::string> ids;       // per drone; empty if none
  std::vector<int64_t> versions;      // per drone
  std::vector<char> activated_flags;  // per drone
};

std::shared_ptr<grpc::Channel> Connect(const std::string& target, int id) {
  grpc::ChannelArguments args;
  args.SetInt("grpc.channel_id", id);  // distinct connections
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

// Runs fn(i) for i in [0, n) on `threads` threads.
template <typename Fn>
void ParallelFor(int64_t n, int threads, Fn fn) {
  std::atomic<int64_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int64_t i = next++; i < n; i = next++) fn(t, i);
    });
  }
  for (std::thread& th : pool) th.join();
}

void AddToken(grpc::ClientContext* context, const std::string& token) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  if (!token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
}

IntentResult FileIntents(const Options& o, const Scenario& s,
                         const std::string& run_id, absl::Time start,
                         absl::Time end) {
  IntentResult r;
  const int64_t n = static_cast<int64_t>(s.drones().size());
  r.ids.assign(static_cast<size_t>(n), "");
  r.versions.assign(static_cast<size_t>(n), 0);
  r.activated_flags.assign(static_cast<size_t>(n), 0);
  std::vector<std::unique_ptr<v1::StrategicCoordination::Stub>> stubs;
  for (int c = 0; c < 4; ++c) {
    stubs.push_back(
        v1::StrategicCoordination::NewStub(Connect(o.target, 100 + c)));
  }
  absl::Mutex mu;
  std::atomic<int64_t> filed{0}, activated{0}, failed{0};
  // Classified once every filing is done, when the run's own ids are known.
  std::vector<std::optional<v1::IntentRejection>> rejections(
      static_cast<size_t>(n));
  auto fail = [&](const std::string& what) {
    absl::MutexLock lock(&mu);
    if (r.first_error.empty()) r.first_error = what;
  };
  // Lower priorities first: a higher-priority intent may overlap a lower
  // one already filed, never the other way round (F3548).
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&s](int a, int b) {
    return s.drones()[a].priority < s.drones()[b].priority;
  });
  const auto t0 = Clock::now();
  for (size_t first = 0; first < order.size();) {
    size_t last = first;
    while (last < order.size() && s.drones()[order[last]].priority ==
                                      s.drones()[order[first]].priority) {
      ++last;
    }
    ParallelFor(
        static_cast<int64_t>(last - first), o.intent_clients,
        [&](int t, int64_t w) {
          const int64_t i = order[first + static_cast<size_t>(w)];
          v1::StrategicCoordination::Stub* stub = stubs[t % stubs.size()].get();
          const Drone& d = s.drones()[static_cast<size_t>(i)];
          v1::FileIntentRequest request;
          request.set_request_id(absl::StrCat("utmsim-", run_id, "-", i));
          request.set_priority(d.priority);
          *request.add_volumes() =
              VolumeToProto(s.IntentVolume(static_cast<int>(i), start, end));
          v1::FileIntentResponse response;
          grpc::ClientContext context;
          AddToken(&context, o.token);
          grpc::Status status = stub->FileIntent(&context, request, &response);
          if (!status.ok()) {
            ++failed;
            fail(absl::StrCat(d.aircraft_id,
                              ": FileIntent: ", status.error_code(), " ",
                              status.error_message()));
            return;
          }
          if (!response.has_intent()) {
            rejections[static_cast<size_t>(i)] = response.rejection();
            return;
          }
          ++filed;
          r.ids[static_cast<size_t>(i)] = response.intent().id();
          r.versions[static_cast<size_t>(i)] = response.intent().version();
          v1::ActivateIntentRequest activate;
          activate.set_request_id(
              absl::StrCat("utmsim-", run_id, "-", i, "-a"));
          activate.set_intent_id(response.intent().id());
          activate.set_version(response.intent().version());
          v1::ActivateIntentResponse activated_response;
          grpc::ClientContext context2;
          AddToken(&context2, o.token);
          status =
              stub->ActivateIntent(&context2, activate, &activated_response);
          if (!status.ok() || !activated_response.has_intent()) {
            ++failed;
            fail(absl::StrCat(
                d.aircraft_id, ": ActivateIntent: ",
                status.ok() ? activated_response.rejection().ShortDebugString()
                            : absl::StrCat(status.error_code(), " ",
                                           status.error_message())));
            return;
          }
          ++activated;
          r.activated_flags[static_cast<size_t>(i)] = 1;
          r.versions[static_cast<size_t>(i)] =
              activated_response.intent().version();
        });
    first = last;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const ForeignTraffic foreign =
      ClassifyRejections(rejections, r.ids, kMaxListed);
  for (int64_t i = 0; i < n; ++i) {
    const auto& rejection = rejections[static_cast<size_t>(i)];
    if (rejection.has_value() &&
        !foreign.foreign_flags[static_cast<size_t>(i)]) {
      fail(absl::StrCat(
          s.drones()[static_cast<size_t>(i)].aircraft_id,
          ": rejected: ", rejection->ShortDebugString().substr(0, 300)));
      break;
    }
  }
  r.filed = filed;
  r.rejected = foreign.own;
  r.rejected_foreign = foreign.foreign;
  r.foreign_flags = foreign.foreign_flags;
  r.foreign_met = foreign.met;
  r.activated = activated;
  r.failed = failed;
  return r;
}

// Ends every activated intent (best effort): the flights are over.
void EndIntents(const Options& o, const std::string& run_id, IntentResult* r) {
  std::unique_ptr<v1::StrategicCoordination::Stub> stub =
      v1::StrategicCoordination::NewStub(Connect(o.target, 200));
  std::atomic<int64_t> ended{0};
  ParallelFor(
      static_cast<int64_t>(r->ids.size()), o.intent_clients,
      [&](int, int64_t i) {
        if (r->ids[static_cast<size_t>(i)].empty()) return;
        if (!r->activated_flags[static_cast<size_t>(i)]) {
          // Filed but not activated: cancel it.
          v1::CancelIntentRequest request;
          request.set_request_id(absl::StrCat("utmsim-", run_id, "-", i, "-c"));
          request.set_intent_id(r->ids[static_cast<size_t>(i)]);
          request.set_version(r->versions[static_cast<size_t>(i)]);
          v1::CancelIntentResponse response;
          grpc::ClientContext context;
          AddToken(&context, o.token);
          stub->CancelIntent(&context, request, &response);
          return;
        }
        v1::EndIntentRequest request;
        request.set_request_id(absl::StrCat("utmsim-", run_id, "-", i, "-e"));
        request.set_intent_id(r->ids[static_cast<size_t>(i)]);
        request.set_version(r->versions[static_cast<size_t>(i)]);
        v1::EndIntentResponse response;
        grpc::ClientContext context;
        AddToken(&context, o.token);
        grpc::Status status = stub->EndIntent(&context, request, &response);
        if (status.error_code() == grpc::StatusCode::ABORTED) {
          // The server moved it on (NONCONFORMING, say): read the version.
          v1::GetIntentRequest get;
          get.set_intent_id(request.intent_id());
          v1::GetIntentResponse got;
          grpc::ClientContext get_context;
          AddToken(&get_context, o.token);
          if (stub->GetIntent(&get_context, get, &got).ok() &&
              got.has_intent()) {
            request.set_version(got.intent().version());
            request.set_request_id(absl::StrCat(request.request_id(), "2"));
            grpc::ClientContext retry;
            AddToken(&retry, o.token);
            status = stub->EndIntent(&retry, request, &response);
          }
        }
        if (status.ok()) ++ended;
      });
  r->ended = ended;
}

Json IntentJson(const IntentResult& r) {
  Json j;
  j["filed"] = r.filed;
  j["activated"] = r.activated;
  j["rejected"] = r.rejected;
  j["rejected_by_foreign_traffic"] = r.rejected_foreign;
  j["foreign_traffic"] = r.foreign_met;
  j["failed"] = r.failed;
  j["ended"] = r.ended;
  j["seconds"] = r.seconds;
  j["per_second"] = static_cast<double>(r.filed + r.rejected +
                                        r.rejected_foreign + r.failed) /
                    std::max(r.seconds, 1e-9);
  if (!r.first_error.empty()) j["first_error"] = r.first_error;
  return j;
}

// ---------------------------------------------------------------------------
// Streaming.

struct TargetResult {
  Json json;
  bool ok = false;
  bool truth_ok = true;
  bool unavailable = false;
};

// Sends the active reports of slots [first, end) of a stream (slot =
// tick * n + j, drone drones[j]; see PositionStream), stamped epoch + their
// report times, in batches of up to o.batch, all but the last with gRPC's
// buffer hint. Returns the first slot that held a report (-1: none).
int64_t SendSlots(const Options& o, const Scenario& s, PositionStream* stream,
                  const std::vector<int>& drones,
                  const std::vector<std::string>& intent_ids,
                  int64_t epoch_unix_ns, int64_t first, int64_t end,
                  int64_t* seq, v1::PositionBatch batches[2], int* which,
                  int64_t* reports, bool* broken) {
  const int64_t n = static_cast<int64_t>(drones.size());
  v1::PositionBatch* batch = nullptr;
  int64_t first_sent = -1;
  for (int64_t slot = first; slot < end && !*broken; ++slot) {
    const int i = drones[static_cast<size_t>(slot % n)];
    const int tick = static_cast<int>(slot / n);
    const double t = s.ReportTime(i, tick);
    if (!s.Active(i, t)) continue;
    if (first_sent < 0) first_sent = slot;
    if (batch == nullptr) {
      if (!stream->HasRoom(*seq + 1)) {
        // Not expected: RunTarget sizes the bookkeeping for the most
        // batches a run can send. Counted as a broken stream.
        std::cerr << "utmsim: more batches than planned for\n";
        *broken = true;
        break;
      }
      batch = &batches[*which];
      batch->Clear();
      batch->set_batch_seq(++*seq);
    }
    const int64_t stamp_ns =
        epoch_unix_ns + static_cast<int64_t>(std::llround(1e9 * t));
    const DroneState st = s.StateAt(i, t);
    v1::PositionReport* r = batch->add_reports();
    r->set_aircraft_id(s.drones()[i].aircraft_id);
    r->set_intent_id(intent_ids[i]);
    r->mutable_time()->set_seconds(stamp_ns / 1000000000);
    r->mutable_time()->set_nanos(static_cast<int32_t>(stamp_ns % 1000000000));
    r->mutable_position()->set_lat_deg(st.position.lat_deg);
    r->mutable_position()->set_lng_deg(st.position.lng_deg);
    r->mutable_altitude()->set_value_m(st.altitude_m);
    r->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
    r->mutable_velocity()->set_north_mps(st.north_mps);
    r->mutable_velocity()->set_east_mps(st.east_mps);
    r->mutable_velocity()->set_up_mps(st.up_mps);
    r->mutable_accuracy()->set_horizontal_m(st.horizontal_accuracy_m);
    r->mutable_accuracy()->set_vertical_m(st.vertical_accuracy_m);
    if (batch->reports_size() == o.batch) {
      const bool more = slot + 1 < end;
      *reports += batch->reports_size();
      if (!stream->Write(batch, more, slot + 1)) *broken = true;
      *which ^= 1;
      batch = nullptr;
    }
  }
  if (batch != nullptr && !*broken) {
    *reports += batch->reports_size();
    if (!stream->Write(batch, false, end)) *broken = true;
    *which ^= 1;
  }
  return first_sent;
}

TargetResult RunTarget(const Options& o, const Scenario& s,
                       const std::string& name, const std::string& target,
                       int server_pid, bool file_intents) {
  TargetResult out;
  Json& j = out.json;
  j["target"] = target;
  // Reachable at all?
  {
    std::shared_ptr<grpc::Channel> probe = Connect(target, 999);
    if (!probe->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(5))) {
      j["error"] = absl::StrCat(target, ": not reachable within 5 s");
      out.unavailable = true;
      return out;
    }
  }
  const std::string run_id =
      absl::StrFormat("%x-%x", static_cast<uint32_t>(getpid()),
                      static_cast<uint32_t>(UnixNs() & 0xffffffff));
  const int n = static_cast<int>(s.drones().size());
  IntentResult intents;
  intents.ids.assign(static_cast<size_t>(n), "");
  if (file_intents) {
    // Windows from a minute ago to ten minutes past the longest run
    // (filing and draining included).
    const absl::Time now = absl::Now();
    intents = FileIntents(o, s, run_id, now - absl::Minutes(1),
                          now + absl::Seconds(2 * s.duration_s() + 600));
    j["intents"] = IntentJson(intents);
  }
  const int k = std::min(o.streams, n);
  Run run(o, s, file_intents && name != "noop");
  // A drone whose filing met only other traffic flies without an intent: it
  // cannot stray from one, so its stray is not expected.
  std::vector<char> stray_grounded(s.strays().size(), 0);
  int strays_grounded = 0;
  for (size_t c = 0; c < s.strays().size(); ++c) {
    const size_t d = static_cast<size_t>(s.strays()[c].drone);
    if (d < intents.foreign_flags.size() && intents.foreign_flags[d]) {
      run.stray_truth.erase(s.strays()[c].drone);
      stray_grounded[c] = 1;
      ++strays_grounded;
    }
  }
  const int strays_expected =
      static_cast<int>(s.strays().size()) - strays_grounded;
  std::vector<std::unique_ptr<v1::TelemetryService::Stub>> stubs;
  // Each stream sends its drones in the order of their phases, so its
  // reports go out in the order of their times.
  std::vector<std::vector<int>> drones(static_cast<size_t>(k));
  for (int i = 0; i < n; ++i) drones[static_cast<size_t>(i % k)].push_back(i);
  run.position.assign(static_cast<size_t>(n), 0);
  for (std::vector<int>& mine : drones) {
    std::stable_sort(mine.begin(), mine.end(), [&s](int a, int b) {
      return s.drones()[a].phase_s < s.drones()[b].phase_s;
    });
    for (size_t j = 0; j < mine.size(); ++j) {
      run.position[static_cast<size_t>(mine[j])] = static_cast<int64_t>(j);
    }
  }
  run.stream_drones = drones;
  const int ticks = s.ticks();
  // Real time: the last report is due before ticks / rate; 5 s of slack for
  // a client that falls behind. As fast as possible: --duration-s of wall
  // time.
  const double wall_s =
      o.as_fast_as_possible
          ? s.duration_s()
          : std::max(s.duration_s(), ticks / s.report_rate_hz()) + 5.0;
  for (int c = 0; c < k; ++c) {
    stubs.push_back(v1::TelemetryService::NewStub(Connect(target, c)));
    // Batches: a flush sends at most ceil(its reports / batch); real time
    // flushes at most every --flush-ms (once per tick as fast as possible);
    // never more batches than reports.
    const int64_t slots = static_cast<int64_t>(drones[c].size()) * ticks;
    const int64_t flushes =
        o.as_fast_as_possible
            ? ticks
            : static_cast<int64_t>(std::ceil(wall_s * 1000 / o.flush_ms)) +
                  ticks + 1;
    const int64_t per_tick =
        (static_cast<int64_t>(drones[c].size()) + o.batch - 1) / o.batch;
    run.streams.push_back(std::make_unique<PositionStream>(
        &run, c, std::min(slots, per_tick * ticks + flushes)));
  }
  // Watchers (utmd only: the no-op server has no WatchAlerts) open before
  // the first report, so they see every alert from its start.
  const int watchers = name == "noop" ? 0 : o.watchers;
  const std::string& watch_token =
      o.watch_token.empty() ? o.token : o.watch_token;
  std::vector<std::unique_ptr<WatchStream>> watch;
  std::vector<std::unique_ptr<v1::TelemetryService::Stub>> watch_stubs;
  double watch_radius_m = 0;
  int watch_ready = 0;
  if (watchers > 0) {
    const v1::WatchAlertsRequest request = WatchRequest(o, s, &watch_radius_m);
    // Up to 16 connections; more watchers share them.
    for (int c = 0; c < std::min(watchers, 16); ++c) {
      watch_stubs.push_back(
          v1::TelemetryService::NewStub(Connect(target, 300 + c)));
    }
    for (int w = 0; w < watchers; ++w) {
      watch.push_back(std::make_unique<WatchStream>(&run));
      watch.back()->Start(watch_stubs[w % watch_stubs.size()].get(), request,
                          watch_token);
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    for (auto& w : watch) {
      watch_ready += w->WaitReady(
          std::max(deadline - absl::Now(), absl::ZeroDuration()));
    }
  }
  for (int c = 0; c < k; ++c) run.streams[c]->Start(stubs[c].get(), o.token);

  // The server's memory with the intents filed, before any track exists.
  const ProcessMemory memory0 =
      server_pid > 0 ? ReadProcessMemory(server_pid) : ProcessMemory{};
  const double server_cpu0 = server_pid > 0 ? CpuSeconds(server_pid) : -1;
  const double self_cpu0 = SelfCpuSeconds();
  const absl::Time epoch = absl::Now();
  run.epoch_unix_ns = absl::ToUnixNanos(epoch);
  const auto start = Clock::now();
  const auto stop_at =
      start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * wall_s));
  const auto flush_every = std::chrono::nanoseconds(
      static_cast<int64_t>(std::llround(o.flush_ms * 1e6)));
  std::vector<int64_t> reports(static_cast<size_t>(k), 0),
      batches(static_cast<size_t>(k), 0), ticks_sent(static_cast<size_t>(k), 0);
  std::vector<std::vector<double>> lag_ms(static_cast<size_t>(k));
  std::vector<char> broken(static_cast<size_t>(k), 0);
  std::vector<std::thread> senders;
  for (int c = 0; c < k; ++c) {
    senders.emplace_back([&, c] {
      PositionStream* stream = run.streams[c].get();
      const std::vector<int>& mine = drones[c];
      const int64_t per_tick = static_cast<int64_t>(mine.size());
      const int64_t slots = per_tick * ticks;
      // When slot `slot`'s report is due, ns since the start.
      auto due_ns = [&](int64_t slot) {
        return static_cast<int64_t>(std::llround(
            1e9 * s.ReportTime(mine[static_cast<size_t>(slot % per_tick)],
                               static_cast<int>(slot / per_tick))));
      };
      v1::PositionBatch buffers[2];
      int which = 0;
      bool is_broken = false;
      int64_t seq = 0;
      auto last_flush = start - flush_every;
      for (int64_t slot = 0; slot < slots && !is_broken;) {
        // A flush: real time, every report due by now, at most every
        // --flush-ms (with aligned phases, a whole tick at once); as fast as
        // possible, the rest of the current tick.
        int64_t end = slot + 1;
        if (o.as_fast_as_possible) {
          end = (slot / per_tick + 1) * per_tick;
        } else {
          std::this_thread::sleep_until(std::max(
              start + std::chrono::nanoseconds(due_ns(slot)),
              last_flush + flush_every));
        }
        const auto now = Clock::now();
        if (now > stop_at) break;
        if (!o.as_fast_as_possible) {
          const int64_t now_ns =
              std::chrono::duration_cast<std::chrono::nanoseconds>(now - start)
                  .count();
          while (end < slots && due_ns(end) <= now_ns) ++end;
          last_flush = now;
        }
        const int64_t first =
            SendSlots(o, s, stream, mine, intents.ids, run.epoch_unix_ns, slot,
                      end, &seq, buffers, &which, &reports[c], &is_broken);
        if (first >= 0 && !o.as_fast_as_possible) {
          // How late the flush's oldest report left, vs its timestamp.
          lag_ms[c].push_back(
              std::chrono::duration<double, std::milli>(
                  now - (start + std::chrono::nanoseconds(due_ns(first))))
                  .count());
        }
        slot = end;
        ticks_sent[c] = (slot + per_tick - 1) / per_tick;
      }
      batches[c] = seq;
      broken[c] = is_broken;
      stream->CloseWrites();
    });
  }
  for (std::thread& th : senders) th.join();
  // Real time: the ticks sent span ticks / rate seconds (the last one
  // included), unless the client fell behind.
  double send_seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  if (!o.as_fast_as_possible) {
    send_seconds =
        std::max(send_seconds, static_cast<double>(*std::max_element(
                                   ticks_sent.begin(), ticks_sent.end())) /
                                   s.report_rate_hz());
  }
  // Drain: the server acknowledges and finishes each half-closed stream.
  const auto drain_until =
      Clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(o.drain_s * 1000));
  for (auto& st : run.streams) {
    const auto left = drain_until - Clock::now();
    if (!st->WaitDone(absl::FromChrono(
            std::max(left, std::chrono::steady_clock::duration::zero())))) {
      st->Cancel();
    }
  }
  for (auto& st : run.streams) {
    if (!st->WaitDone(absl::Seconds(30))) {
      std::cerr << "utmsim: a stream did not close; exiting\n";
      std::cerr.flush();
      _exit(1);
    }
  }
  // The watchers catch up: every conflict alert the aircraft got, raised
  // and cleared, within the drain time (at least 2 s).
  double watch_catch_up_s = 0;
  if (!watch.empty()) {
    absl::flat_hash_set<std::string> ids, transitions;
    {
      absl::MutexLock lock(&run.mu);
      ids = run.conflict_ids;
      transitions = run.conflict_transitions;
    }
    const absl::Time t0 = absl::Now();
    const absl::Time until = t0 + absl::Seconds(std::max(o.drain_s, 2.0));
    for (auto& w : watch) {
      while (absl::Now() < until) {
        const auto [i, t] = w->Missing(ids, transitions);
        if ((i == 0 && t == 0) || w->WaitDone(absl::ZeroDuration())) break;
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
    watch_catch_up_s = absl::ToDoubleSeconds(absl::Now() - t0);
    for (auto& w : watch) w->Cancel();
    for (auto& w : watch) {
      if (!w->WaitDone(absl::Seconds(30))) {
        std::cerr << "utmsim: a watcher did not close; exiting\n";
        std::cerr.flush();
        _exit(1);
      }
    }
  }
  // Every track still live: the intents end below.
  const ProcessMemory memory1 =
      server_pid > 0 ? ReadProcessMemory(server_pid) : ProcessMemory{};
  const double self_cpu = SelfCpuSeconds() - self_cpu0;
  const double server_cpu =
      server_pid > 0 ? CpuSeconds(server_pid) - server_cpu0 : -1;
  if (file_intents) EndIntents(o, run_id, &intents);
  if (file_intents) j["intents"] = IntentJson(intents);

  int64_t sent = 0, sent_batches = 0, acked_batches = 0, acked_reports = 0,
          superseded = 0;
  int failed_streams = 0, drained = 0;
  std::string first_stream_error;
  std::vector<double> lags;
  for (int c = 0; c < k; ++c) {
    sent += reports[c];
    sent_batches += batches[c];
    acked_batches += run.streams[c]->acked_batches();
    acked_reports += run.streams[c]->acked_reports();
    superseded += run.streams[c]->superseded_reports();
    lags.insert(lags.end(), lag_ms[c].begin(), lag_ms[c].end());
    const grpc::Status status = run.streams[c]->status();
    if (status.ok()) {
      ++drained;
    } else if (status.error_code() != grpc::StatusCode::CANCELLED ||
               broken[c]) {
      ++failed_streams;
      if (first_stream_error.empty()) {
        first_stream_error =
            absl::StrCat(status.error_code(), " ", status.error_message());
      }
    }
  }
  j["streams"] = k;
  j["streams_failed"] = failed_streams;
  j["streams_finished_ok"] = drained;  // the server ended them with OK
  if (!first_stream_error.empty()) j["first_stream_error"] = first_stream_error;
  j["reports_sent"] = sent;
  j["batches_sent"] = sent_batches;
  j["send_seconds"] = send_seconds;
  j["reports_per_second"] = static_cast<double>(sent) / send_seconds;
  j["target_reports_per_second"] =
      o.as_fast_as_possible ? Json(nullptr)
                            : Json(static_cast<double>(n) * s.report_rate_hz());
  if (!o.as_fast_as_possible) {
    j["send_lag_ms"] = Stats(lags);  // how late ticks left, vs schedule
  }
  j["acked_batches"] = acked_batches;
  j["acked_reports"] = acked_reports;
  // Reports the server skipped for a newer one of the same aircraft (the
  // last AlertBatch.superseded_reports of each stream, summed).
  j["superseded_reports"] = superseded;
  {
    absl::MutexLock lock(&run.mu);
    // From sending the batch an ack names to receiving the ack: includes
    // the server's ack schedule (at most one a second), so it is no latency
    // figure; it shows the acks keep up.
    j["ack_delay_ms"] = Stats(run.ack_latency_ms);
    j["report_errors"] = run.report_errors;
    if (!run.first_report_error.empty()) {
      j["first_report_error"] = run.first_report_error;
    }
    Json kinds = Json::object();
    for (const auto& [kind, states] : run.by_kind) {
      for (const auto& [state, count] : states) kinds[kind][state] = count;
    }
    j["alerts"] = {{"messages", run.alert_messages},
                   {"distinct_alerts", run.distinct.size()},
                   {"duplicate_copies", run.duplicates},
                   {"foreign_aircraft", run.foreign},
                   {"by_kind", kinds}};
    j["alert_latency_ms"] = Stats(run.latency_ms);
    j["alert_latency_ms"]["basis"] =
        o.as_fast_as_possible ? "send_time" : "report_time";
    j["raise_latency_ms"] = Stats(run.raise_latency_ms);
    if (run.truth) {
      int found = 0, before = 0;
      std::vector<double> warning;
      for (size_t c = 0; c < s.conflicts().size(); ++c) {
        if (run.conflict_first[c] < 0) continue;
        ++found;
        const double w = s.conflicts()[c].loss_s - run.conflict_first[c];
        warning.push_back(w);
        if (w > 0) ++before;
      }
      int strays_found = 0;
      std::vector<double> delay;
      for (size_t c = 0; c < s.strays().size(); ++c) {
        if (run.stray_first[c] < 0) continue;
        ++strays_found;
        delay.push_back(run.stray_first[c] - s.strays()[c].exit_s);
      }
      // The misses, each with what did arrive about its drones.
      auto trace = [&](int d) {
        const Run::Trace& tr = run.traced[d];
        Json t = {{"aircraft_id", s.drones()[d].aircraft_id},
                  {"intent_id", intents.ids[d]},
                  {"intent_activated", intents.activated_flags[d] != 0},
                  {"alerts", tr.alerts},
                  {"report_errors", tr.report_errors}};
        if (!tr.first_report_error.empty()) {
          t["first_report_error"] = tr.first_report_error;
        }
        return t;
      };
      Json missed_pairs = Json::array(), missed_strays = Json::array();
      for (size_t c = 0; c < s.conflicts().size(); ++c) {
        if (run.conflict_first[c] >= 0 || missed_pairs.size() >= kMaxListed) {
          continue;
        }
        const Conflict& x = s.conflicts()[c];
        missed_pairs.push_back({{"kind", RoleName(x.kind)},
                                {"loss_s", x.loss_s},
                                {"aircraft", {trace(x.a), trace(x.b)}}});
      }
      for (size_t c = 0; c < s.strays().size(); ++c) {
        if (run.stray_first[c] >= 0 || stray_grounded[c] ||
            missed_strays.size() >= kMaxListed) {
          continue;
        }
        Json t = trace(s.strays()[c].drone);
        t["exit_s"] = s.strays()[c].exit_s;
        missed_strays.push_back(std::move(t));
      }
      Json unexpected_pairs = Json::array(), unexpected_aircraft = Json::array();
      for (uint64_t key : run.unexpected_pairs) {
        if (unexpected_pairs.size() >= kMaxListed) break;
        unexpected_pairs.push_back(
            {s.drones()[static_cast<size_t>(key >> 32)].aircraft_id,
             s.drones()[static_cast<size_t>(key & 0xffffffffu)].aircraft_id});
      }
      for (int d : run.unexpected_nonconforming) {
        if (unexpected_aircraft.size() >= kMaxListed) break;
        unexpected_aircraft.push_back(s.drones()[d].aircraft_id);
      }
      Json conflicts = {
          {"expected", s.conflicts().size()},
          {"found", found},
          {"missed", static_cast<int>(s.conflicts().size()) - found},
          {"alerted_before_loss", before},
          {"unexpected_pairs", run.unexpected_pairs.size()},
          {"warning_s", Stats(warning)},
          {"missed_list", missed_pairs},
          {"unexpected_list", unexpected_pairs}};
      Json strays = {
          {"expected", strays_expected},
          {"without_intent", strays_grounded},
          {"found", strays_found},
          {"missed", strays_expected - strays_found},
          {"unexpected_aircraft", run.unexpected_nonconforming.size()},
          {"detection_delay_s", Stats(delay)},
          {"missed_list", missed_strays},
          {"unexpected_list", unexpected_aircraft}};
      j["truth"] = {{"conflicts", conflicts}, {"strays", strays}};
      out.truth_ok = found == static_cast<int>(s.conflicts().size()) &&
                     strays_found == strays_expected &&
                     run.unexpected_pairs.empty() &&
                     run.unexpected_nonconforming.empty();
    }
  }
  bool watchers_ok = true;
  if (!watch.empty()) {
    absl::flat_hash_set<std::string> ids, transitions;
    {
      absl::MutexLock lock(&run.mu);
      ids = run.conflict_ids;
      transitions = run.conflict_transitions;
    }
    int failed = 0, complete = 0;
    int64_t messages = 0, heartbeats = 0, foreign = 0, missed_ids = 0,
            missed_transitions = 0;
    std::string first_error;
    std::vector<double> latency, raise_latency;
    for (auto& w : watch) {
      const auto [i, t] = w->Missing(ids, transitions);
      missed_ids += i;
      missed_transitions += t;
      complete += i == 0 && t == 0;
      WatchStream::Figures f = w->figures();
      // Cancelled by us is how a watcher ends; anything else failed it.
      if (!f.status.ok() &&
          f.status.error_code() != grpc::StatusCode::CANCELLED) {
        ++failed;
        if (first_error.empty()) {
          first_error = absl::StrCat(f.status.error_code(), " ",
                                     f.status.error_message());
        }
      }
      messages += f.alert_messages;
      heartbeats += f.heartbeats;
      foreign += f.foreign;
      latency.insert(latency.end(), f.latency_ms.begin(), f.latency_ms.end());
      raise_latency.insert(raise_latency.end(), f.raise_latency_ms.begin(),
                           f.raise_latency_ms.end());
    }
    Json w;
    w["count"] = watch.size();
    w["token"] = o.watch_token.empty() ? "token" : "watch_token";
    w["area_radius_m"] = watch_radius_m;
    w["ready"] = watch_ready;
    w["failed"] = failed;
    if (!first_error.empty()) w["first_error"] = first_error;
    w["alert_messages"] = messages;
    w["alert_messages_per_watcher"] =
        static_cast<double>(messages) / static_cast<double>(watch.size());
    w["empty_batches"] = heartbeats;
    w["foreign_aircraft"] = foreign;
    w["alert_latency_ms"] = Stats(latency);
    w["alert_latency_ms"]["basis"] =
        o.as_fast_as_possible ? "send_time" : "report_time";
    w["raise_latency_ms"] = Stats(raise_latency);
    w["catch_up_s"] = watch_catch_up_s;
    w["conflicts"] = {{"alerts_on_position_streams", ids.size()},
                      {"raised_and_cleared", transitions.size()},
                      {"alerts_missed", missed_ids},
                      {"raised_and_cleared_missed", missed_transitions},
                      {"watchers_complete", complete}};
    w["saw_every_conflict"] = complete == static_cast<int>(watch.size());
    j["watchers"] = w;
    watchers_ok = failed == 0 && watch_ready == static_cast<int>(watch.size());
    if (complete != static_cast<int>(watch.size())) out.truth_ok = false;
  }
  Json cpu;
  cpu["client_seconds"] = self_cpu;
  cpu["client_us_per_report"] =
      1e6 * self_cpu / static_cast<double>(std::max<int64_t>(sent, 1));
  if (server_cpu >= 0) {
    cpu["server_seconds"] = server_cpu;
    cpu["server_us_per_report"] =
        1e6 * server_cpu / static_cast<double>(std::max<int64_t>(sent, 1));
  }
  j["cpu"] = cpu;
  if (memory0.rss_bytes >= 0 && memory1.rss_bytes >= 0) {
    // Growth per drone from before the first report to the end (every
    // track live): an upper bound on a track's cost, since it includes the
    // streams' gRPC buffers and whatever the allocator keeps.
    const double drones = static_cast<double>(std::max(n, 1));
    j["server_memory"] = {
        {"rss_before_streams_bytes", memory0.rss_bytes},
        {"hwm_before_streams_bytes", memory0.hwm_bytes},
        {"rss_end_bytes", memory1.rss_bytes},
        {"hwm_end_bytes", memory1.hwm_bytes},
        {"live_tracks", n},
        {"rss_per_track_bytes",
         static_cast<double>(memory1.rss_bytes - memory0.rss_bytes) / drones},
        {"hwm_per_track_bytes",
         static_cast<double>(memory1.hwm_bytes - memory0.rss_bytes) / drones}};
  }
  out.ok = failed_streams == 0 && sent > 0 && watchers_ok &&
           (!file_intents || (intents.failed == 0 && intents.rejected == 0));
  return out;
}

// ---------------------------------------------------------------------------
// The no-op baseline: acknowledges batches, about once a second, and the
// last one when the client half-closes; never looks inside them.

class NoopStream final
    : public grpc::ServerBidiReactor<v1::PositionBatch, v1::AlertBatch> {
 public:
  NoopStream() { StartRead(&in_); }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (!ok) {
      reads_done_ = true;
      MaybeFinish();
      return;
    }
    last_seq_ = in_.batch_seq();
    if (!writing_ && Clock::now() - last_ack_ >= std::chrono::seconds(1)) {
      WriteAck();
    }
    StartRead(&in_);
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) write_failed_ = true;
    MaybeFinish();
  }
  void OnDone() override { delete this; }

 private:
  void WriteAck() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    out_.Clear();
    out_.set_acked_batch_seq(last_seq_);
    const absl::Time now = absl::Now();
    out_.mutable_server_time()->set_seconds(absl::ToUnixSeconds(now));
    out_.mutable_server_time()->set_nanos(
        static_cast<int32_t>(absl::ToUnixNanos(now) % 1000000000));
    acked_ = last_seq_;
    last_ack_ = Clock::now();
    writing_ = true;
    StartWrite(&out_);
  }
  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!reads_done_ || writing_ || finished_) return;
    if (!write_failed_ && acked_ < last_seq_) {
      WriteAck();
      return;
    }
    finished_ = true;
    Finish(grpc::Status::OK);
  }

  absl::Mutex mu_;
  v1::PositionBatch in_;
  v1::AlertBatch out_ ABSL_GUARDED_BY(mu_);
  int64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  Clock::time_point last_ack_ ABSL_GUARDED_BY(mu_) = Clock::now();
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class NoopTelemetry final : public v1::TelemetryService::CallbackService {
 public:
  grpc::ServerBidiReactor<v1::PositionBatch, v1::AlertBatch>* StreamPositions(
      grpc::CallbackServerContext*) override {
    return new NoopStream();
  }
};

// --serve-noop: the no-op server as a child process, so that it does not
// share gRPC's threads with the client. Prints "port N", serves until its
// stdin closes.
int ServeNoop() {
  NoopTelemetry noop;
  return sim::ServeNoop(&noop, "utmsim");
}

// Forks and execs this binary with --serve-noop. Must run before this
// process uses gRPC.

void Human(const std::string& name, const Json& j) {
  if (j.contains("error")) {
    std::cerr << name << ": " << j["error"].get<std::string>() << "\n";
    return;
  }
  std::cerr << absl::StrFormat(
      "%s: %d reports in %.2f s = %.0f reports/s over %d streams; %d of %d "
      "batches acked; %d report errors; %d superseded; ack delay p50 %.2f "
      "ms\n",
      name, j["reports_sent"].get<int64_t>(), j["send_seconds"].get<double>(),
      j["reports_per_second"].get<double>(), j["streams"].get<int>(),
      j["acked_batches"].get<int64_t>(), j["batches_sent"].get<int64_t>(),
      j["report_errors"].get<int64_t>(),
      j["superseded_reports"].get<int64_t>(),
      j["ack_delay_ms"]["p50"].get<double>());
  if (j.contains("cpu") && j["cpu"].contains("server_us_per_report")) {
    std::string memory;
    if (j.contains("server_memory")) {
      const Json& m = j["server_memory"];
      memory = absl::StrFormat(
          "; RSS %.1f -> %.1f MiB (peak %.1f), %.0f bytes per track",
          m["rss_before_streams_bytes"].get<double>() / (1 << 20),
          m["rss_end_bytes"].get<double>() / (1 << 20),
          m["hwm_end_bytes"].get<double>() / (1 << 20),
          m["rss_per_track_bytes"].get<double>());
    }
    std::cerr << absl::StrFormat(
        "%s: server %.2f us CPU per report%s\n", name,
        j["cpu"]["server_us_per_report"].get<double>(), memory);
  }
  if (j.contains("first_stream_error")) {
    std::cerr << name << ": " << j["streams_failed"].get<int>()
              << " streams failed, first: "
              << j["first_stream_error"].get<std::string>() << "\n";
  }
  if (j.contains("intents") &&
      j["intents"]["rejected_by_foreign_traffic"].get<int64_t>() > 0) {
    std::string met;
    for (const Json& m : j["intents"]["foreign_traffic"]) {
      absl::StrAppend(&met, met.empty() ? "" : ", ", m.get<std::string>());
    }
    std::cerr << name << ": other traffic in the area: "
              << j["intents"]["rejected_by_foreign_traffic"].get<int64_t>()
              << " intent(s) rejected for meeting " << met
              << " (those drones fly without an intent; not a failure)\n";
  }
  if (j.contains("intents") && j["intents"].contains("first_error")) {
    std::cerr << name
              << ": intents: " << j["intents"]["first_error"].get<std::string>()
              << "\n";
  }
  if (j.contains("truth")) {
    const Json& c = j["truth"]["conflicts"];
    const Json& s = j["truth"]["strays"];
    std::cerr << absl::StrFormat(
        "%s: conflicts found %d of %d (%d before the loss, %d unexpected "
        "pairs); strays found %d of %d (%d unexpected); alert latency p50 "
        "%.1f ms p99 %.1f ms\n",
        name, c["found"].get<int>(), c["expected"].get<int>(),
        c["alerted_before_loss"].get<int>(), c["unexpected_pairs"].get<int>(),
        s["found"].get<int>(), s["expected"].get<int>(),
        s["unexpected_aircraft"].get<int>(),
        j["alert_latency_ms"]["p50"].get<double>(),
        j["alert_latency_ms"]["p99"].get<double>());
    std::string missed;
    for (const Json& m : c["missed_list"]) {
      absl::StrAppend(&missed, " ",
                      m["aircraft"][0]["aircraft_id"].get<std::string>(), "/",
                      m["aircraft"][1]["aircraft_id"].get<std::string>());
    }
    for (const Json& m : s["missed_list"]) {
      absl::StrAppend(&missed, " ", m["aircraft_id"].get<std::string>());
    }
    if (!missed.empty()) std::cerr << name << ": missed:" << missed << "\n";
  }
  if (j.contains("watchers")) {
    const Json& w = j["watchers"];
    std::cerr << absl::StrFormat(
        "%s: %d watchers (%d failed): %.0f alert messages each, latency p50 "
        "%.1f ms p99 %.1f ms; %d of %d saw every conflict alert (%d "
        "raised/cleared missed in all)\n",
        name, w["count"].get<int>(), w["failed"].get<int>(),
        w["alert_messages_per_watcher"].get<double>(),
        w["alert_latency_ms"]["p50"].get<double>(),
        w["alert_latency_ms"]["p99"].get<double>(),
        w["conflicts"]["watchers_complete"].get<int>(), w["count"].get<int>(),
        w["conflicts"]["raised_and_cleared_missed"].get<int>());
    if (w.contains("first_error")) {
      std::cerr << name << ": watchers: " << w["first_error"].get<std::string>()
                << "\n";
    }
  }
}

int Main(int argc, char** argv) {
  CLI::App app{
      "utmsim: traffic simulator and load generator for utmd's "
      "TelemetryService"};
  Options o;
  TrafficOptions& t = o.traffic;
  bool serve_noop = false;
  app.add_option("--target", o.target, "utmd address (loopback only)");
  app.add_option("--token", o.token,
                 "Bearer token of an operator (intents and streams)");
  app.add_option("--drones", t.drones, "Drones in total")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--streams", o.streams,
                 "StreamPositions streams (operator connections)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--rate", t.report_rate_hz, "Reports per second per drone")
      ->check(CLI::Range(0.01, 100.0))
      ->capture_default_str();
  app.add_option("--duration-s", t.duration_s,
                 "Scenario length (simulated seconds); also bounds the "
                 "streaming wall time")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  app.add_option("--seed", t.seed, "Scenario seed")->capture_default_str();
  std::string run_id;
  app.add_option("--run-id", run_id,
                 "Part of every aircraft id (sim<seed>-<run-id>-<role>-<n>; "
                 "replay: <run-id>-<serial>) so that runs against the same "
                 "utmd do not share tracks; \"-\": none (the bare "
                 "sim<seed>-<role>-<n> ids). Default: 8 random hex digits");
  app.add_option("--batch", o.batch, "Most reports per PositionBatch")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--lat", t.centre.lat_deg, "Centre of the area, degrees")
      ->capture_default_str();
  app.add_option("--lng", t.centre.lng_deg, "Centre of the area, degrees")
      ->capture_default_str();
  app.add_option("--radius-m", t.radius_m,
                 "Radius of the area; 0: the smallest that holds the cells")
      ->capture_default_str();
  app.add_option("--ground-alt-m", t.ground_altitude_m,
                 "Ground altitude above WGS84")
      ->capture_default_str();
  app.add_option("--head-on", t.head_on_pairs, "Head-on pairs (-1: drones/100)")
      ->capture_default_str();
  app.add_option("--crossing", t.crossing_pairs,
                 "Crossing pairs (-1: drones/100)")
      ->capture_default_str();
  app.add_option("--strays", t.strays,
                 "Drones leaving their intent (-1: drones/100)")
      ->capture_default_str();
  app.add_option("--separation-h-m", t.horizontal_separation_m,
                 "Horizontal separation minimum D the scenario assumes")
      ->capture_default_str();
  app.add_option("--separation-v-m", t.vertical_separation_m,
                 "Vertical separation minimum H the scenario assumes")
      ->capture_default_str();
  app.add_option("--lookahead-s", t.lookahead_s,
                 "Look-ahead T the scenario assumes")
      ->capture_default_str();
  app.add_flag("--as-fast-as-possible", o.as_fast_as_possible,
               "Send ticks back to back; report times advance in simulated "
               "time");
  std::string phase = "spread";
  app.add_option("--phase", phase,
                 "When in each interval a drone reports: spread (its own "
                 "seeded phase in [0, 1/rate)) or aligned (all at k/rate); "
                 "replays keep their recorded times")
      ->check(CLI::IsMember({"spread", "aligned"}))
      ->capture_default_str();
  app.add_option("--flush-ms", o.flush_ms,
                 "Real time: a stream sends the reports due at most this "
                 "often (in batches of up to --batch)")
      ->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
  app.add_flag("--no-intents", o.no_intents,
               "Do not file intents (reports carry no intent id)");
  app.add_flag("--noop,!--no-noop", o.noop,
               "First run the same streams against a no-op server (a child "
               "process)")
      ->capture_default_str();
  app.add_flag("--noop-only", o.noop_only,
               "Only the no-op server (no --target needed)");
  app.add_option("--replay", o.replay,
                 "ASTM F3411 network Remote ID test flights (JSON) to replay "
                 "instead of generated traffic");
  app.add_option("--intent-clients", o.intent_clients,
                 "Concurrent FileIntent/ActivateIntent callers")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--drain-s", o.drain_s,
                 "Seconds to wait for the server to finish each stream")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--watchers", o.watchers,
                 "WatchAlerts streams over the scenario's area (utmd only)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  app.add_option("--watch-token", o.watch_token,
                 "Bearer token for the watchers, e.g. utmctl token --role "
                 "monitor (supervisor: sees every alert); default --token "
                 "(an operator sees its own aircraft's)");
  app.add_option("--server-pid", o.server_pid,
                 "utmd's pid: report its CPU time per report");
  app.add_flag("--serve-noop", serve_noop,
               "Internal: run the no-op server and print its port");
  CLI11_PARSE(app, argc, argv);
  if (serve_noop) return ServeNoop();
  t.phase = phase == "aligned" ? ReportPhase::kAligned : ReportPhase::kSpread;
  if (o.noop_only) o.noop = true;
  if (!o.noop_only && o.target.empty()) {
    std::cerr << "utmsim: --target is required (or --noop-only)\n";
    return 64;
  }
  if (!o.target.empty() && !IsLoopback(o.target)) {
    std::cerr << "utmsim: --target must be a loopback address "
                 "(127.0.0.0/8, localhost or [::1]), not "
              << o.target << "\n";
    return 64;
  }

  if (run_id.empty()) {
    // utmd keeps a silent track for 60 s under (operator, aircraft id):
    // without a fresh id per run, a run within a minute of another with the
    // same seed would meet its tracks.
    std::random_device random;
    run_id = absl::StrFormat(
        "%08x", random() ^ static_cast<uint32_t>(UnixNs() / 1000) ^
                    (static_cast<uint32_t>(getpid()) << 16));
  } else if (run_id == "-") {
    run_id.clear();
  } else if (run_id.size() > 40 ||
             run_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789._-") != std::string::npos) {
    std::cerr << "utmsim: --run-id: at most 40 letters, digits, '.', '_' "
                 "or '-', not "
              << run_id << "\n";
    return 64;
  }
  t.run_id = run_id;

  absl::StatusOr<Scenario> scenario = absl::UnknownError("");
  if (!o.replay.empty()) {
    std::ifstream in(o.replay);
    if (!in) {
      std::cerr << "utmsim: --replay " << o.replay << ": cannot read\n";
      return 66;
    }
    std::stringstream text;
    text << in.rdbuf();
    scenario = LoadRemoteIdReplay(text.str(), o.replay, run_id);
  } else {
    scenario = Scenario::Generate(t);
  }
  if (!scenario.ok()) {
    std::cerr << "utmsim: " << scenario.status().message() << "\n";
    return 64;
  }
  {
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    if (nofile.rlim_cur < static_cast<rlim_t>(o.streams + 64)) {
      std::cerr << "utmsim: ulimit -n is " << nofile.rlim_cur << "\n";
      return 64;
    }
  }

  Json summary;
  Json sc;
  sc["source"] = o.replay.empty() ? "generated" : o.replay;
  sc["drones"] = scenario->drones().size();
  sc["seed"] = o.replay.empty() ? Json(t.seed) : Json(nullptr);
  sc["run_id"] = run_id;
  sc["first_aircraft_id"] = scenario->drones().empty()
                                ? Json(nullptr)
                                : Json(scenario->drones()[0].aircraft_id);
  sc["duration_s"] = scenario->duration_s();
  sc["report_rate_hz"] = scenario->report_rate_hz();
  sc["ticks"] = scenario->ticks();
  sc["mode"] = o.as_fast_as_possible ? "as_fast_as_possible" : "real_time";
  sc["phase"] = !o.replay.empty() ? "recorded" : phase;
  sc["flush_ms"] = o.as_fast_as_possible ? Json(nullptr) : Json(o.flush_ms);
  sc["streams"] = std::min<int>(o.streams, scenario->drones().size());
  sc["batch"] = o.batch;
  if (o.replay.empty()) {
    sc["radius_m"] = scenario->radius_m();
    sc["head_on_pairs"] = std::count_if(
        scenario->conflicts().begin(), scenario->conflicts().end(),
        [](const Conflict& c) { return c.kind == DroneRole::kHeadOn; });
    sc["crossing_pairs"] = std::count_if(
        scenario->conflicts().begin(), scenario->conflicts().end(),
        [](const Conflict& c) { return c.kind == DroneRole::kCrossing; });
    sc["strays"] = scenario->strays().size();
  }
  summary["scenario"] = sc;

  bool ok = true, truth_ok = true, unavailable = false;
  double noop_rate = 0;
  if (o.noop) {
    absl::StatusOr<NoopChild> child = SpawnNoop("utmsim");
    if (!child.ok()) {
      std::cerr << "utmsim: " << child.status() << "\n";
      return 1;
    }
    TargetResult r =
        RunTarget(o, *scenario, "noop", absl::StrCat("127.0.0.1:", child->port),
                  child->pid, false);
    StopNoop(*child);
    Human("noop", r.json);
    ok = ok && r.ok;
    unavailable = unavailable || r.unavailable;
    if (r.json.contains("reports_per_second")) {
      noop_rate = r.json["reports_per_second"].get<double>();
    }
    summary["noop"] = r.json;
  }
  if (!o.noop_only) {
    TargetResult r =
        RunTarget(o, *scenario, "utmd", o.target, o.server_pid, !o.no_intents);
    Human("utmd", r.json);
    ok = ok && r.ok;
    truth_ok = r.truth_ok;
    unavailable = unavailable || r.unavailable;
    if (noop_rate > 0 && r.json.contains("reports_per_second")) {
      summary["reports_per_second_ratio_to_noop"] =
          r.json["reports_per_second"].get<double>() / noop_rate;
    }
    summary["utmd"] = r.json;
  }
  summary["ok"] = ok && truth_ok && !unavailable;
  std::cout << summary.dump() << std::endl;
  if (unavailable) return 69;
  if (!ok) return 1;
  return truth_ok ? 0 : 2;
}

}  // namespace
}  // namespace utm::sim

int main(int argc, char** argv) { return utm::sim::Main(argc, argv); }
