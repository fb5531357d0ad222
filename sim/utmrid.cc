// utmrid: a load generator for utmd's Remote ID display.
//
// It keeps --aircraft flights live over a 30 km square around Zurich by
// publishing their states (PublishFlights, 100 flights a request,
// --publishers concurrent clients), paced at --rate states a second (by
// default each flight one state a second), then measures, for --alone-s:
//   - publishing alone: the states a second sustained, and the CPU time per
//     state of utmrid and (with --server-pid) of utmd;
// then, for --duration-s each:
//   - display queries: --clients clients ask SearchFlights for random 2 km
//     views (a 1.4 km square) as fast as they can: queries per second and
//     latency percentiles;
//   - live-view delivery: --watchers WatchFlights streams (100 ms period)
//     over random 2 km views: for every flight whose state is new in an
//     update, the time from the state's publication to the update's arrival
//     (p50, p99);
// each with the publishing rate sustained meanwhile.
// The query figures come with a baseline from the same run: the identical
// query load against a no-op RemoteIdService (this binary with --serve-noop,
// a child process) that answers every SearchFlights at once with a canned
// picture of as many flights as a view holds on average.
//
// Loopback only. Prints a JSON summary on stdout, a human one on stderr.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "geo/geodesy.h"
#include "services/remoteid/display_view.h"
#include "sim/load_common.h"
#include "utm/v1/remote_id.grpc.pb.h"

namespace utm::sim {
namespace {

const geo::LatLng kCentre{47.3769, 8.5417};
constexpr double kSideM = 30000;
constexpr int kFlightsPerRequest = 100;

struct Options {
  std::string target;
  std::string operator_token;
  std::string display_token;
  int64_t aircraft = 10000;
  double rate = 0;  // states a second in all; 0: one per flight a second
  int server_pid = 0;
  double alone_s = 5;
  int publishers = 4;
  int clients = 8;
  int watchers = 16;
  double duration_s = 20;
  bool noop = true;
};

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return ts;
}

absl::Time FromTs(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// A CTA-2063-A serial for flight i: code UTMS, length 8, 8 digits.
std::string Serial(int64_t i) { return absl::StrFormat("UTMS8%08d", i); }

geo::LatLng RandomPoint(std::mt19937_64& rng, double margin_m = 0) {
  std::uniform_real_distribution<double> u(-kSideM / 2 + margin_m,
                                           kSideM / 2 - margin_m);
  return geo::GeodesicDestination(geo::GeodesicDestination(kCentre, 0, u(rng)),
                                  90, u(rng));
}

std::shared_ptr<grpc::Channel> Channel(const std::string& target, int i) {
  grpc::ChannelArguments args;
  args.SetInt("utm.channel", i);  // a distinct connection per client
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

void Authorize(grpc::ClientContext* c, const std::string& token) {
  if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
}

// Publishes every flight's next state, --rate states a second in all (by
// default each flight once a second), in requests of 100 flights spread
// evenly over time, until `stop`. Each of the --publishers clients owns
// every publishers-th request and keeps up to kInFlight of them in flight
// on its own connection (the callback API), so that one slow answer does
// not hold the others back. The schedule is open-loop: a client that falls
// behind sends at once until it has caught up (at most a second's worth;
// beyond that it skips ahead), and the rate measured says what was
// sustained. Requests are reused (cleared, refilled), so that the
// client does not allocate per state. Flight i circles 100 m around its own
// centre; each state is stamped with the moment its request is built, for
// the delivery latency.
class Publisher {
 public:
  Publisher(const Options& o, std::atomic<bool>* stop) : o_(o), stop_(stop) {
    std::mt19937_64 rng(1);
    flights_.reserve(o.aircraft);
    for (int64_t i = 0; i < o.aircraft; ++i) {
      Circle& c = flights_.emplace_back();
      c.serial = Serial(i);
      c.centre = RandomPoint(rng, 1000);
      // Over 100 m the geodesic and this local linear form agree to well
      // under a millimetre; it spares the client a geodesic per state.
      const geo::LatLng n = geo::GeodesicDestination(c.centre, 0, kCircleM);
      const geo::LatLng e = geo::GeodesicDestination(c.centre, 90, kCircleM);
      c.north = {n.lat_deg - c.centre.lat_deg, n.lng_deg - c.centre.lng_deg};
      c.east = {e.lat_deg - c.centre.lat_deg, e.lng_deg - c.centre.lng_deg};
    }
  }

  void Run() {
    for (int p = 0; p < o_.publishers; ++p) {
      lanes_.push_back(std::make_unique<Lane>());
    }
    std::vector<std::thread> threads;
    for (int p = 0; p < o_.publishers; ++p) {
      threads.emplace_back([this, p] { Loop(p); });
    }
    for (std::thread& t : threads) t.join();
  }

  int64_t published() const { return published_.load(); }
  int64_t failed() const { return failed_.load(); }

 private:
  static constexpr double kCircleM = 100;
  static constexpr int kInFlight = 4;

  struct Circle {
    std::string serial;
    geo::LatLng centre;
    geo::LatLng north, east;  // degrees from the centre to 100 m N / E
  };
  struct Call {
    std::optional<grpc::ClientContext> context;
    v1::PublishFlightsRequest request;
    v1::PublishFlightsResponse response;
  };
  // One client's calls; it outlives every callback (Run joins the clients,
  // which wait for their calls).
  struct Lane {
    std::vector<Call> calls = std::vector<Call>(kInFlight);
    absl::Mutex mu;
    std::vector<Call*> idle ABSL_GUARDED_BY(mu);
  };

  // Fills `request` with the states of request number `r` at `now`.
  void Build(int64_t r, absl::Time now, v1::PublishFlightsRequest* request) {
    request->Clear();  // keeps the flights and states for reuse
    const google::protobuf::Timestamp ts = Ts(now);
    const double now_s = absl::ToDoubleSeconds(now - absl::UnixEpoch());
    for (int64_t i = r * kFlightsPerRequest;
         i < std::min(o_.aircraft, (r + 1) * kFlightsPerRequest); ++i) {
      const Circle& c = flights_[i];
      v1::PublishedFlight* f = request->add_flights();
      f->set_uas_id(c.serial);
      f->set_uas_id_type(v1::UAS_ID_TYPE_SERIAL_NUMBER);
      v1::PublishedState* s = f->add_states();
      *s->mutable_time() = ts;
      const double angle = std::fmod(now_s * 2 + static_cast<double>(i), 360);
      const double cos_a = std::cos(angle * M_PI / 180);
      const double sin_a = std::sin(angle * M_PI / 180);
      s->mutable_position()->set_lat_deg(
          c.centre.lat_deg + cos_a * c.north.lat_deg + sin_a * c.east.lat_deg);
      s->mutable_position()->set_lng_deg(
          c.centre.lng_deg + cos_a * c.north.lng_deg + sin_a * c.east.lng_deg);
      s->mutable_altitude()->set_value_m(500);
      s->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      s->set_track_deg(std::fmod(angle + 90, 360));
      s->set_speed_mps(3.5);
    }
  }

  void Loop(int p) {
    auto stub = v1::RemoteIdService::NewStub(Channel(o_.target, 100 + p));
    const int64_t requests =
        (o_.aircraft + kFlightsPerRequest - 1) / kFlightsPerRequest;
    std::vector<int64_t> mine;
    for (int64_t r = p; r < requests; r += o_.publishers) mine.push_back(r);
    if (mine.empty()) return;
    // This client's share of the rate, in requests a second.
    const double per_s = o_.rate / kFlightsPerRequest / o_.publishers;
    const absl::Duration interval = absl::Seconds(1 / per_s);
    Lane& lane = *lanes_[p];
    {
      absl::MutexLock lock(&lane.mu);
      for (Call& c : lane.calls) lane.idle.push_back(&c);
    }
    auto some_idle = [](std::vector<Call*>* v) { return !v->empty(); };
    auto all_idle = [](std::vector<Call*>* v) {
      return v->size() == static_cast<size_t>(kInFlight);
    };
    absl::Time next = absl::Now();
    for (size_t k = 0; !stop_->load(); k = (k + 1) % mine.size()) {
      const absl::Time now = absl::Now();
      if (next > now) {
        absl::SleepFor(next - now);
      } else if (now - next > absl::Seconds(1)) {
        // More than a round of states behind (a stall, or more than the
        // machine can carry): those are dropped rather than sent in a burst
        // that would then count as queueing in the next measurement.
        next = now;
      }
      next += interval;
      Call* call = nullptr;
      {
        absl::MutexLock lock(&lane.mu);
        lane.mu.Await(absl::Condition(+some_idle, &lane.idle));
        call = lane.idle.back();
        lane.idle.pop_back();
      }
      Build(mine[k], absl::Now(), &call->request);
      call->context.emplace();
      Authorize(&*call->context, o_.operator_token);
      call->context->set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::seconds(10));
      stub->async()->PublishFlights(
          &*call->context, &call->request, &call->response,
          [this, call, &lane](grpc::Status s) {
            if (s.ok()) {
              published_ += call->request.flights_size();
            } else {
              ++failed_;
            }
            absl::MutexLock lock(&lane.mu);
            lane.idle.push_back(call);
          });
    }
    absl::MutexLock lock(&lane.mu);
    lane.mu.Await(absl::Condition(+all_idle, &lane.idle));
  }

  const Options& o_;
  std::atomic<bool>* const stop_;
  std::vector<Circle> flights_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::atomic<int64_t> published_{0};
  std::atomic<int64_t> failed_{0};
};

// The publishing rate over a stretch of the run, and the CPU each process
// spent per state published in it (utmrid's includes its query or watch
// clients; utmd's is -1 without --server-pid).
struct Phase {
  double states_per_s = 0;
  double client_us_per_state = 0;
  double server_us_per_state = -1;
};

template <typename F>
Phase Measure(const Publisher& publisher, int server_pid, F run) {
  const double client0 = SelfCpuSeconds();
  const double server0 = server_pid > 0 ? CpuSeconds(server_pid) : -1;
  const int64_t published0 = publisher.published();
  const absl::Time t0 = absl::Now();
  run();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - t0);
  const double states = static_cast<double>(publisher.published() - published0);
  Phase p;
  p.states_per_s = states / elapsed;
  if (states > 0) {
    p.client_us_per_state = (SelfCpuSeconds() - client0) / states * 1e6;
    if (server0 >= 0) {
      p.server_us_per_state = (CpuSeconds(server_pid) - server0) / states * 1e6;
    }
  }
  return p;
}

struct QueryFigures {
  double qps = 0;
  double p50_ms = 0, p99_ms = 0;
  double flights_per_view = 0;
  int64_t errors = 0;
};

QueryFigures Queries(const std::string& target, const std::string& token,
                     int clients, double duration_s) {
  std::vector<std::vector<double>> latencies(clients);
  std::vector<int64_t> shown(clients, 0), errors(clients, 0);
  const absl::Time end = absl::Now() + absl::Seconds(duration_s);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = v1::RemoteIdService::NewStub(Channel(target, c));
      std::mt19937_64 rng(1000 + c);
      while (absl::Now() < end) {
        v1::SearchFlightsRequest request;
        *request.mutable_view() =
            remoteid::DisplayView::SquareAround(RandomPoint(rng, 1000), 1400);
        grpc::ClientContext context;
        Authorize(&context, token);
        v1::SearchFlightsResponse response;
        const absl::Time t0 = absl::Now();
        const grpc::Status s =
            stub->SearchFlights(&context, request, &response);
        latencies[c].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        if (!s.ok()) ++errors[c];
        shown[c] += response.flights_size();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  QueryFigures f;
  std::vector<double> all;
  int64_t total_shown = 0;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    total_shown += shown[c];
    f.errors += errors[c];
  }
  f.qps = static_cast<double>(all.size()) / duration_s;
  f.p50_ms = Percentile(all, 0.5);
  f.p99_ms = Percentile(all, 0.99);
  f.flights_per_view =
      all.empty() ? 0 : static_cast<double>(total_shown) / all.size();
  return f;
}

struct DeliveryFigures {
  double p50_ms = 0, p99_ms = 0;
  int64_t samples = 0;
  int64_t updates = 0;
};

// Each watcher's flights, newest state time seen; a newer one in an update
// is a delivery whose latency is the arrival minus the state's time (the
// publisher stamps states with the moment it sends them).
DeliveryFigures Deliveries(const std::string& target, const std::string& token,
                           int watchers, double duration_s) {
  std::vector<std::vector<double>> latencies(watchers);
  std::vector<int64_t> updates(watchers, 0);
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(watchers);
  for (int w = 0; w < watchers; ++w) {
    contexts[w] = std::make_unique<grpc::ClientContext>();
    Authorize(contexts[w].get(), token);
    contexts[w]->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000)));
  }
  for (int w = 0; w < watchers; ++w) {
    threads.emplace_back([&, w] {
      auto stub = v1::RemoteIdService::NewStub(Channel(target, 200 + w));
      std::mt19937_64 rng(5000 + w);
      v1::WatchFlightsRequest request;
      *request.mutable_view() =
          remoteid::DisplayView::SquareAround(RandomPoint(rng, 1000), 1400);
      request.mutable_period()->set_nanos(100000000);
      auto reader = stub->WatchFlights(contexts[w].get(), request);
      std::unordered_map<std::string, absl::Time> last;
      v1::FlightsUpdate update;
      bool first = true;
      while (reader->Read(&update)) {
        const absl::Time arrived = absl::Now();
        ++updates[w];
        for (const v1::RidFlight& f : update.flights()) {
          const absl::Time t = FromTs(f.time());
          auto [it, inserted] = last.emplace(f.id(), t);
          if (!inserted && t > it->second) {
            it->second = t;
            if (!first) {
              latencies[w].push_back(absl::ToDoubleMilliseconds(arrived - t));
            }
          }
        }
        first = false;
      }
      reader->Finish();
    });
  }
  for (std::thread& t : threads) t.join();
  DeliveryFigures f;
  std::vector<double> all;
  for (int w = 0; w < watchers; ++w) {
    all.insert(all.end(), latencies[w].begin(), latencies[w].end());
    f.updates += updates[w];
  }
  f.samples = static_cast<int64_t>(all.size());
  f.p50_ms = Percentile(all, 0.5);
  f.p99_ms = Percentile(all, 0.99);
  return f;
}

// The no-op display: at once, a canned picture of as many flights (each
// with a two-position track) as a view of the real display holds on
// average, so that the baseline ships the same bytes.
class NoopRemoteId final : public v1::RemoteIdService::CallbackService {
 public:
  explicit NoopRemoteId(int flights) {
    for (int i = 0; i < flights; ++i) {
      v1::RidFlight* f = canned_.add_flights();
      f->set_id(Serial(i));
      f->set_source(v1::RID_SOURCE_NETWORK_PUBLISHED);
      *f->mutable_time() = Ts(absl::Now());
      f->mutable_position()->set_lat_deg(kCentre.lat_deg);
      f->mutable_position()->set_lng_deg(kCentre.lng_deg);
      f->mutable_altitude()->set_value_m(500);
      f->mutable_altitude()->set_reference(v1::ALTITUDE_REFERENCE_W84);
      f->set_has_velocity(true);
      f->set_speed_mps(3.5);
      f->set_status(v1::RID_OPERATIONAL_STATUS_UNDECLARED);
      for (int k = 0; k < 2; ++k) {
        v1::RidPosition* p = f->add_recent_positions();
        *p->mutable_time() = f->time();
        *p->mutable_position() = f->position();
        *p->mutable_altitude() = f->altitude();
      }
    }
  }
  grpc::ServerUnaryReactor* SearchFlights(
      grpc::CallbackServerContext* context, const v1::SearchFlightsRequest*,
      v1::SearchFlightsResponse* response) override {
    *response = canned_;
    auto* r = context->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

 private:
  v1::SearchFlightsResponse canned_;
};

int Main(int argc, char** argv) {
  Options o;
  bool serve_noop = false;
  int noop_flights = 0;
  CLI::App app(
      "utmrid: load on utmd's Remote ID display, with a no-op "
      "baseline");
  app.add_flag("--serve-noop", serve_noop, "Serve the no-op display (child)");
  app.add_option("--noop-flights", noop_flights,
                 "Flights in the no-op display's canned picture (child)");
  app.add_option("--target", o.target, "utmd, host:port (loopback only)");
  app.add_option("--token", o.operator_token, "An operator token (publishes)");
  app.add_option("--display-token", o.display_token, "A display token");
  app.add_option("--aircraft", o.aircraft, "Live flights")
      ->capture_default_str();
  app.add_option("--rate", o.rate,
                 "States published a second in all (paced); DEFAULT: one "
                 "per flight a second");
  app.add_option("--server-pid", o.server_pid,
                 "utmd's pid, for its CPU per state (optional)");
  app.add_option("--alone-s", o.alone_s,
                 "Seconds of publishing alone, measured first")
      ->capture_default_str();
  app.add_option("--publishers", o.publishers, "Publishing clients")
      ->capture_default_str();
  app.add_option("--clients", o.clients, "Query clients")
      ->capture_default_str();
  app.add_option("--watchers", o.watchers, "WatchFlights streams")
      ->capture_default_str();
  app.add_option("--duration-s", o.duration_s, "Seconds per measurement")
      ->capture_default_str();
  app.add_flag("!--no-noop", o.noop, "Skip the no-op baseline");
  CLI11_PARSE(app, argc, argv);
  if (serve_noop) {
    NoopRemoteId noop(noop_flights);
    return ServeNoop(&noop, "utmrid");
  }
  if (o.aircraft < 1 || o.publishers < 1 || o.rate < 0 || o.alone_s < 0) {
    std::cerr << "utmrid: --aircraft and --publishers must be at least 1, "
                 "--rate and --alone-s not negative\n";
    return 64;
  }
  if (o.target.empty() || !IsLoopback(o.target)) {
    std::cerr << "utmrid: --target must be a loopback address\n";
    return 64;
  }
  QueryFigures baseline;
  if (o.noop) {
    // As many flights as a 1.4 km square holds on average.
    const double per_view =
        static_cast<double>(o.aircraft) * (1400.0 * 1400.0) / (kSideM * kSideM);
    absl::StatusOr<NoopChild> child = SpawnNoop(
        argv[0], {"--noop-flights",
                  absl::StrCat(static_cast<int>(std::lround(per_view)))});
    if (!child.ok()) {
      std::cerr << "utmrid: " << child.status() << "\n";
      return 1;
    }
    baseline = Queries(absl::StrCat("127.0.0.1:", child->port), "", o.clients,
                       o.duration_s);
    StopNoop(*child);
  }
  if (o.rate <= 0) o.rate = static_cast<double>(o.aircraft);
  std::atomic<bool> stop{false};
  Publisher publisher(o, &stop);
  std::thread publishing([&] { publisher.Run(); });
  // Three seconds of states so that every flight is live with a track.
  absl::SleepFor(absl::Seconds(3));
  // Publishing alone, then with the query load, then with the watchers.
  const Phase alone = Measure(publisher, o.server_pid, [&] {
    absl::SleepFor(absl::Seconds(o.alone_s));
  });
  QueryFigures queries;
  const Phase querying = Measure(publisher, o.server_pid, [&] {
    queries = Queries(o.target, o.display_token, o.clients, o.duration_s);
  });
  DeliveryFigures delivery;
  const Phase watching = Measure(publisher, o.server_pid, [&] {
    delivery = Deliveries(o.target, o.display_token, o.watchers, o.duration_s);
  });
  stop = true;
  publishing.join();
  std::cerr << absl::StrFormat(
      "utmrid: %d live aircraft, publishing paced at %.0f states/s (%d "
      "failed requests)\n"
      "  publishing alone: %.0f states/s; CPU per state: utmrid %.2f us, "
      "utmd %.2f us\n"
      "  SearchFlights (2 km views): %.0f/s, p50 %.2f ms, p99 %.2f ms, %.1f "
      "flights a view, %d errors; no-op baseline %.0f/s, p99 %.2f ms; "
      "meanwhile %.0f states/s published\n"
      "  WatchFlights delivery (state -> display): p50 %.0f ms, p99 %.0f ms "
      "over %d deliveries, %d updates; meanwhile %.0f states/s published, "
      "CPU per state: utmrid %.2f us, utmd %.2f us\n",
      o.aircraft, o.rate, publisher.failed(), alone.states_per_s,
      alone.client_us_per_state, alone.server_us_per_state, queries.qps,
      queries.p50_ms, queries.p99_ms, queries.flights_per_view, queries.errors,
      baseline.qps, baseline.p99_ms, querying.states_per_s, delivery.p50_ms,
      delivery.p99_ms, delivery.samples, delivery.updates,
      watching.states_per_s, watching.client_us_per_state,
      watching.server_us_per_state);
  std::cout << absl::StrFormat(
      "{\"aircraft\": %d, \"rate\": %.0f, \"publish_failures\": %d, "
      "\"alone_states_per_s\": %.0f, \"alone_utmrid_us_per_state\": %.2f, "
      "\"alone_utmd_us_per_state\": %.2f, \"search_qps\": %.0f, "
      "\"search_p50_ms\": %.3f, \"search_p99_ms\": %.3f, "
      "\"flights_per_view\": %.1f, \"search_errors\": %d, "
      "\"noop_qps\": %.0f, \"noop_p99_ms\": %.3f, "
      "\"search_states_per_s\": %.0f, \"delivery_p50_ms\": %.1f, "
      "\"delivery_p99_ms\": %.1f, \"deliveries\": %d, "
      "\"delivery_states_per_s\": %.0f, \"delivery_utmrid_us_per_state\": "
      "%.2f, \"delivery_utmd_us_per_state\": %.2f}\n",
      o.aircraft, o.rate, publisher.failed(), alone.states_per_s,
      alone.client_us_per_state, alone.server_us_per_state, queries.qps,
      queries.p50_ms, queries.p99_ms, queries.flights_per_view, queries.errors,
      baseline.qps, baseline.p99_ms, querying.states_per_s, delivery.p50_ms,
      delivery.p99_ms, delivery.samples, watching.states_per_s,
      watching.client_us_per_state, watching.server_us_per_state);
  return queries.errors > 0 || publisher.failed() > 0 ? 1 : 0;
}

}  // namespace
}  // namespace utm::sim

int main(int argc, char** argv) { return utm::sim::Main(argc, argv); }
