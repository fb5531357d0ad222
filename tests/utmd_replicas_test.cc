// Real utmd replicas on one real Redis, under faults.
//
//  - Three replicas, 16 client threads filing, moving and cancelling
//    overlapping intents at three priorities (the first filing of every
//    client the same volume, sent by all at once), each logical write with a
//    fixed request id that is retried (on the next replica) while the
//    answer is UNAVAILABLE or the deadline passes; mid-run one replica is
//    SIGSTOPped for 2 s and another is killed with SIGKILL and restarted on
//    the same port. Afterwards every replica shows the same live intents as
//    a fresh replica loading the ledger; those are pairwise conflict-free
//    under the rules (checked with the geometry core against the ledger's
//    order of commits); every acknowledged write is there; no request was
//    applied twice (replaying each filing names the same intent, and each
//    owner holds exactly as many intents as filings accepted).
//  - The same workload on a test-only utmd whose commits drop the guard's
//    read keys must show a violation: the check above can fail.
//  - Redis killed with SIGKILL under filing load and restarted from its AOF:
//    nothing acknowledged is lost; while it is down each replica answers
//    UNAVAILABLE at once, and health says NOT_SERVING; it says SERVING again
//    by itself once Redis is back, and filings succeed again.
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "geo/geodesy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/redis_ledger.h"
#include "services/common/volume_convert.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_replica_testing.h"
#include "tests/utmd_redis_fixture.h"

namespace utm::testing {
namespace {

using ::testing::IsEmpty;

const geo::LatLng kCentre{47.3769, 8.5417};

// How one logical write ended, after retries.
enum class Outcome { kAccepted, kRejected, kRefused, kUnknown };

struct Write {
  int client = 0;
  std::string request_id;
  bool filing = false;
  v1::FileIntentRequest file;  // when filing, to replay it
  Outcome outcome = Outcome::kUnknown;
  std::string intent_id;  // of an accepted write
  int64_t version = 0;    // of an accepted write
  grpc::StatusCode last_error = grpc::StatusCode::OK;
  int attempts = 0;  // sent this many times (the same request id)
};

struct WorkloadOptions {
  int clients = 16;
  int writes_per_client = 20;
  uint64_t seed = 20261206;
  double spread_m = 1500;
};

// Counts clients in and lets them go together: the contested first filing.
class StartLine {
 public:
  explicit StartLine(int n) : waiting_(n) {}
  void ArriveAndWait() {
    absl::MutexLock lock(&mu_);
    --waiting_;
    mu_.Await(absl::Condition(
        +[](int* n) { return *n <= 0; }, &waiting_));
  }

 private:
  absl::Mutex mu_;
  int waiting_ ABSL_GUARDED_BY(mu_);
};

// True for the answers that leave the outcome unknown: retry with the same
// request id.
bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

class UtmdReplicasTest : public UtmdRedisTest {
 protected:
  // The instant the workload's volumes are placed from: real time, as the
  // servers judge "in the past" by their own clocks.
  absl::Time base_ = absl::Now();

  geo::Volume4D RandomVolume(std::mt19937_64& rng, double spread_m) const {
    std::uniform_real_distribution<double> metres(0, spread_m);
    std::uniform_real_distribution<double> radius(60, 200);
    std::uniform_int_distribution<int> start(0, 40);
    const geo::LatLng centre = geo::GeodesicDestination(
        geo::GeodesicDestination(kCentre, 90, metres(rng)), 0, metres(rng));
    const int s = start(rng);
    return geo::Volume4D{
        geo::Volume3D{geo::Circle{centre, radius(rng)}, {400, 520}},
        {base_ + absl::Minutes(10 + s), base_ + absl::Minutes(35 + s)}};
  }

  // The volume every client files first, all at once.
  geo::Volume4D ContestedVolume() const {
    return geo::Volume4D{
        geo::Volume3D{geo::Circle{kCentre, 150}, {400, 520}},
        {base_ + absl::Minutes(20), base_ + absl::Minutes(45)}};
  }

  // Sends one logical write until its outcome is known: on UNAVAILABLE or a
  // passed deadline, the same request goes to the next replica, for at most
  // 30 s. `send(stub, context)` makes one attempt.
  template <typename Send>
  void Resolve(int first_replica, Write& w, const Send& send) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    int r = first_replica;
    while (absl::Now() < give_up) {
      const std::string address = replica_addresses_[r];
      auto stub = Strategic(address);
      ++w.attempts;
      grpc::Status status = send(*stub);
      if (status.ok()) return;  // send() set the outcome
      w.last_error = status.error_code();
      if (!Retryable(status.error_code())) {
        w.outcome = Outcome::kRefused;
        return;
      }
      r = (r + 1) % static_cast<int>(replica_addresses_.size());
      absl::SleepFor(absl::Milliseconds(50));
    }
    w.outcome = Outcome::kUnknown;
  }

  // Starts the workload's clients in `threads`; each appends its writes to
  // its own entry of `per_client`. `acks` counts accepted writes as they
  // happen (for the fault schedule).
  // With `stop`, a client also ends once it is set.
  void RunClients(const WorkloadOptions& options, std::atomic<int>* acks,
                  std::vector<std::thread>* threads,
                  std::vector<std::vector<Write>>* per_client,
                  const std::atomic<bool>* stop = nullptr) {
    per_client->assign(options.clients, {});
    // Every client's first write is the same filing at the same priority,
    // sent by all at once: one may be accepted, the others must see it.
    auto start = std::make_shared<StartLine>(options.clients);
    for (int c = 0; c < options.clients; ++c) {
      threads->emplace_back([this, c, options, acks, per_client, stop,
                             start] {
        std::vector<Write>& writes = (*per_client)[c];
        std::mt19937_64 rng(options.seed * 1000 + c);
        const std::string owner = absl::StrCat("op-", c);
        const std::string token =
            Token(owner, {auth::Scope::kStrategicCoordination});
        std::vector<std::pair<std::string, int64_t>> mine;  // id, version
        const int first =
            c % static_cast<int>(replica_addresses_.size());
        for (int n = 0; n < options.writes_per_client; ++n) {
          if (stop != nullptr && stop->load()) break;
          Write w;
          w.client = c;
          w.request_id = absl::StrCat(owner, "-", n);
          const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
          const int32_t priority =
              10 * std::uniform_int_distribution<int>(0, 2)(rng);
          if (kind < 7 || mine.empty()) {
            w.filing = true;
            w.file.set_request_id(w.request_id);
            w.file.set_priority(n == 0 ? 10 : priority);
            *w.file.add_volumes() = VolumeToProto(
                n == 0 ? ContestedVolume()
                       : RandomVolume(rng, options.spread_m));
            if (n == 0) start->ArriveAndWait();
            Resolve(first, w, [&](v1::StrategicCoordination::Stub& stub) {
              v1::FileIntentResponse response;
              grpc::Status s = stub.FileIntent(
                  Context(token, absl::Seconds(3)).get(), w.file, &response);
              if (s.ok()) {
                if (response.has_intent()) {
                  w.outcome = Outcome::kAccepted;
                  w.intent_id = response.intent().id();
                  w.version = response.intent().version();
                } else {
                  w.outcome = Outcome::kRejected;
                }
              }
              return s;
            });
          } else {
            const size_t pick = std::uniform_int_distribution<size_t>(
                0, mine.size() - 1)(rng);
            w.intent_id = mine[pick].first;
            if (kind < 9) {
              v1::ModifyIntentRequest request;
              request.set_request_id(w.request_id);
              request.set_intent_id(mine[pick].first);
              request.set_version(mine[pick].second);
              request.set_priority(priority);
              *request.add_volumes() =
                  VolumeToProto(RandomVolume(rng, options.spread_m));
              Resolve(first, w, [&](v1::StrategicCoordination::Stub& stub) {
                v1::ModifyIntentResponse response;
                grpc::Status s = stub.ModifyIntent(
                    Context(token, absl::Seconds(3)).get(), request,
                    &response);
                if (s.ok()) {
                  w.outcome = response.has_intent() ? Outcome::kAccepted
                                                    : Outcome::kRejected;
                  if (response.has_intent()) {
                    w.version = response.intent().version();
                  }
                }
                return s;
              });
            } else {
              v1::CancelIntentRequest request;
              request.set_request_id(w.request_id);
              request.set_intent_id(mine[pick].first);
              request.set_version(mine[pick].second);
              Resolve(first, w, [&](v1::StrategicCoordination::Stub& stub) {
                v1::CancelIntentResponse response;
                grpc::Status s = stub.CancelIntent(
                    Context(token, absl::Seconds(3)).get(), request,
                    &response);
                if (s.ok()) {
                  w.outcome = Outcome::kAccepted;
                  w.version = response.intent().version();
                }
                return s;
              });
            }
          }
          if (w.outcome == Outcome::kAccepted) {
            ++*acks;
            if (w.filing) {
              // The contested intent stays where it is, so that the check
              // afterwards sees how the race at the start line ended.
              if (n > 0) mine.emplace_back(w.intent_id, w.version);
            } else {
              for (auto it = mine.begin(); it != mine.end(); ++it) {
                if (it->first != w.intent_id) continue;
                it->second = w.version;
                if (kind == 9) mine.erase(it);  // cancelled
                break;
              }
            }
          }
          writes.push_back(std::move(w));
        }
      });
    }
  }

  // What the replicas hold, checked against a fresh replica's load of the
  // ledger. Appends every problem found to `problems`.
  void CheckAfterwards(const std::vector<Write>& writes,
                       const std::string& token_subject_prefix,
                       std::vector<std::string>* problems,
                       std::vector<std::string>* rule_violations) {
    ledger::RedisLedgerOptions lo;
    lo.client.addr = redis_->addr();
    absl::StatusOr<std::unique_ptr<ledger::RedisLedger>> ledger =
        ledger::RedisLedger::Open(lo);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    const std::map<std::string, uint64_t> put_at =
        intent::testing::IntentCommitOrder(ledger->get(), rule_violations);
    intent::IntentCore truth(intent::IntentOptions(), RealClock::Get());
    ledger::Follower follower(ledger->get());
    truth.UseLedger(ledger->get(), &follower);
    ASSERT_TRUE(follower.Start().ok());
    const geo::Volume4D everything{
        geo::Volume3D{geo::Circle{kCentre, 6000}, {0, 2000}},
        {base_, base_ + absl::Hours(3)}};
    const std::vector<intent::IntentView> live =
        truth.Query("checker", everything);
    intent::testing::CheckLiveIntents(live, put_at, rule_violations);
    std::set<std::pair<std::string, int64_t>> want;
    for (const intent::IntentView& v : live) {
      want.emplace(v.intent.id, v.intent.version);
    }

    // Every replica shows the same live intents (its follower may lag a
    // little: up to 10 s).
    const std::string reader =
        Token("checker", {auth::Scope::kConformanceMonitoring});
    for (const std::string& address : replica_addresses_) {
      std::set<std::pair<std::string, int64_t>> got;
      const absl::Time deadline = absl::Now() + absl::Seconds(10);
      do {
        got.clear();
        v1::QueryIntentsRequest request;
        *request.mutable_area() = VolumeToProto(everything);
        request.set_page_size(1000);
        auto stub = Strategic(address);
        for (int page = 0; page < 20; ++page) {
          v1::QueryIntentsResponse response;
          grpc::Status s =
              stub->QueryIntents(Context(reader).get(), request, &response);
          if (!s.ok()) {
            problems->push_back(absl::StrCat(address, " QueryIntents: ",
                                             s.error_message()));
            break;
          }
          for (const v1::FlightIntentView& v : response.intents()) {
            got.emplace(v.id(), v.version());
          }
          if (response.next_page_token().empty()) break;
          request.set_page_token(response.next_page_token());
        }
        if (got == want) break;
        absl::SleepFor(absl::Milliseconds(200));
      } while (absl::Now() < deadline);
      if (got != want) {
        problems->push_back(absl::StrCat(address, " shows ", got.size(),
                                         " live intents, the ledger ",
                                         want.size()));
      }
    }

    // Every acknowledged write is there, at least at the version
    // acknowledged; each owner holds exactly the intents of its accepted
    // filings (a request applied twice would make two).
    std::map<std::string, int> filed_by;
    for (const Write& w : writes) {
      const std::string owner = absl::StrCat(token_subject_prefix, w.client);
      if (w.outcome == Outcome::kUnknown) {
        problems->push_back(absl::StrCat(w.request_id,
                                         ": no answer within 30 s (last: ",
                                         w.last_error, ")"));
        continue;
      }
      if (w.outcome != Outcome::kAccepted) continue;
      if (w.filing) ++filed_by[owner];
      absl::StatusOr<intent::IntentView> view =
          truth.Get(owner, w.intent_id);
      if (!view.ok()) {
        problems->push_back(absl::StrCat(w.request_id, " acknowledged ",
                                         w.intent_id, ", which is gone: ",
                                         view.status().ToString()));
      } else if (view->intent.version < w.version) {
        problems->push_back(absl::StrCat(
            w.request_id, " acknowledged version ", w.version, " of ",
            w.intent_id, "; the ledger has ", view->intent.version));
      }
    }
    const std::vector<intent::IntentState> all = {
        intent::IntentState::kAccepted,      intent::IntentState::kActivated,
        intent::IntentState::kNonconforming, intent::IntentState::kContingent,
        intent::IntentState::kEnded,         intent::IntentState::kCancelled};
    for (const auto& [owner, filed] : filed_by) {
      const intent::IntentCore::OwnedPage page =
          truth.ListOwned(owner, all, "", 100000);
      if (static_cast<int>(page.intents.size()) != filed) {
        problems->push_back(absl::StrCat(owner, " holds ", page.intents.size(),
                                         " intents for ", filed,
                                         " accepted filings"));
      }
    }
    // Replaying each filing with its request id, on any replica, answers
    // the first outcome again.
    for (size_t i = 0; i < writes.size(); ++i) {
      const Write& w = writes[i];
      if (!w.filing || (w.outcome != Outcome::kAccepted &&
                        w.outcome != Outcome::kRejected)) {
        continue;
      }
      const std::string token =
          Token(absl::StrCat(token_subject_prefix, w.client),
                {auth::Scope::kStrategicCoordination});
      auto stub = Strategic(replica_addresses_[i % replica_addresses_.size()]);
      v1::FileIntentResponse response;
      grpc::Status s =
          stub->FileIntent(Context(token).get(), w.file, &response);
      if (!s.ok()) {
        problems->push_back(absl::StrCat("replay of ", w.request_id, ": ",
                                         s.error_message()));
      } else if (response.has_intent() !=
                     (w.outcome == Outcome::kAccepted) ||
                 (response.has_intent() &&
                  response.intent().id() != w.intent_id)) {
        problems->push_back(absl::StrCat(
            "replay of ", w.request_id, " answered ",
            response.has_intent() ? response.intent().id() : "a rejection",
            "; first answer: ",
            w.outcome == Outcome::kAccepted ? w.intent_id : "a rejection"));
      }
    }
    follower.Stop();
    // Readable when many fail at once.
    if (problems->size() > 20) {
      const size_t more = problems->size() - 20;
      problems->resize(20);
      problems->push_back(absl::StrCat("... and ", more, " more"));
    }
  }

  std::vector<std::string> replica_addresses_;
};

std::string Summary(const std::vector<std::vector<Write>>& per_client,
                    std::vector<Write>* all) {
  int accepted = 0, rejected = 0, refused = 0, unknown = 0, retried = 0;
  for (const std::vector<Write>& ws : per_client) {
    for (const Write& w : ws) {
      retried += w.attempts > 1;
      accepted += w.outcome == Outcome::kAccepted;
      rejected += w.outcome == Outcome::kRejected;
      refused += w.outcome == Outcome::kRefused;
      unknown += w.outcome == Outcome::kUnknown;
      all->push_back(w);
    }
  }
  return absl::StrCat(accepted, " accepted, ", rejected, " rejected, ",
                      refused, " refused (stale version...), ", unknown,
                      " unknown; ", retried, " sent more than once");
}

TEST_F(UtmdReplicasTest, RulesHoldAcrossStoppedAndKilledReplicas) {
  for (int i = 0; i < 3; ++i) {
    UtmdProcess* p = StartReplica();
    ASSERT_NE(p, nullptr);
    replica_addresses_.push_back(p->address());
  }
  // The clients write until told to stop (at most 150 writes each).
  WorkloadOptions options;
  options.writes_per_client = 150;
  std::cerr << "seed " << options.seed << "\n";
  std::atomic<int> acks{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<std::vector<Write>> per_client;
  RunClients(options, &acks, &threads, &per_client, &stop);

  // The faults, from this thread (the replicas die with the thread that
  // started them): once the run is under way, stop replica 1 for 2 s and,
  // meanwhile, kill replica 2 and start it again on its port.
  auto await_acks = [&](int n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (acks.load() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  };
  await_acks(30);
  const int acks_before = acks.load();
  const absl::Time stopped = absl::Now();
  replicas_[1]->Stop();
  absl::SleepFor(absl::Milliseconds(500));
  replicas_[2]->Kill9();
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(replicas_[2]->Restart().ok());
  absl::SleepFor(absl::Seconds(2) - (absl::Now() - stopped));
  replicas_[1]->Continue();
  // Writes go on through the resumed and the restarted replicas.
  const int acks_after_faults = acks.load();
  await_acks(acks_after_faults + 30);
  stop = true;
  for (std::thread& t : threads) t.join();
  std::vector<Write> writes;
  const std::string summary = Summary(per_client, &writes);
  std::cerr << summary << "; faults after " << acks_before << " acks\n";
  EXPECT_GE(acks.load(), acks_after_faults + 30)
      << "writes went on after the faults";
  int retried = 0;
  for (const Write& w : writes) retried += w.attempts > 1;
  EXPECT_GT(retried, 0) << "the faults hit no write in flight";

  std::vector<std::string> problems, violations;
  CheckAfterwards(writes, "op-", &problems, &violations);
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_THAT(violations, IsEmpty());
}

TEST_F(UtmdReplicasTest, UnguardedReplicasAreCaught) {
  if (unguarded_.empty()) GTEST_SKIP() << "UTMD_UNGUARDED_BINARY is not set";
  for (int i = 0; i < 3; ++i) {
    UtmdProcess* p = StartReplica({}, unguarded_);
    ASSERT_NE(p, nullptr);
    replica_addresses_.push_back(p->address());
  }
  WorkloadOptions options;
  options.writes_per_client = 20;
  std::cerr << "seed " << options.seed << "\n";
  std::atomic<int> acks{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<Write>> per_client;
  RunClients(options, &acks, &threads, &per_client);
  for (std::thread& t : threads) t.join();
  std::vector<Write> writes;
  std::cerr << Summary(per_client, &writes) << "\n";
  std::vector<std::string> problems, violations;
  CheckAfterwards(writes, "op-", &problems, &violations);
  EXPECT_THAT(violations, ::testing::Not(IsEmpty()))
      << "the unguarded build let every write through the rules: the check "
         "of the guarded run could not have failed";
  std::cerr << violations.size() << " violations, e.g. "
            << (violations.empty() ? "-" : violations[0]) << "\n";
}

TEST_F(UtmdReplicasTest, RedisKilledUnderLoadLosesNothingAndHealthFollows) {
  for (int i = 0; i < 3; ++i) {
    UtmdProcess* p = StartReplica();
    ASSERT_NE(p, nullptr);
    replica_addresses_.push_back(p->address());
  }
  // 4 writers, each filing at its own spots of a 250 m grid (no conflicts),
  // retrying the same request id on the next replica until answered.
  constexpr int kWriters = 4;
  constexpr int kMaxPerWriter = 400;  // bound; the run stops much sooner
  std::atomic<int> acks{0};
  std::atomic<bool> enough{false};
  std::vector<std::vector<Write>> per_client(kWriters);
  std::vector<std::thread> threads;
  for (int c = 0; c < kWriters; ++c) {
    threads.emplace_back([&, c] {
      const std::string owner = absl::StrCat("op-", c);
      const std::string token =
          Token(owner, {auth::Scope::kStrategicCoordination});
      for (int n = 0; n < kMaxPerWriter && !enough.load(); ++n) {
        Write w;
        w.client = c;
        w.filing = true;
        w.request_id = absl::StrCat(owner, "-", n);
        w.file.set_request_id(w.request_id);
        const geo::LatLng at = geo::GeodesicDestination(
            geo::GeodesicDestination(kCentre, 90, (n % 20) * 250.0), 0,
            (c * 20 + n / 20) * 250.0);
        *w.file.add_volumes() = VolumeToProto(geo::Volume4D{
            geo::Volume3D{geo::Circle{at, 50}, {500, 600}},
            {base_ + absl::Minutes(10), base_ + absl::Minutes(40)}});
        Resolve(c % 3, w, [&](v1::StrategicCoordination::Stub& stub) {
          v1::FileIntentResponse response;
          grpc::Status s = stub.FileIntent(
              Context(token, absl::Seconds(3)).get(), w.file, &response);
          if (s.ok()) {
            w.outcome = response.has_intent() ? Outcome::kAccepted
                                              : Outcome::kRejected;
            if (response.has_intent()) {
              w.intent_id = response.intent().id();
              w.version = response.intent().version();
            }
          }
          return s;
        });
        if (w.outcome == Outcome::kAccepted) ++acks;
        per_client[c].push_back(std::move(w));
      }
    });
  }
  auto await_acks = [&](int n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (acks.load() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return acks.load() >= n;
  };
  EXPECT_TRUE(await_acks(60));

  redis_->Kill9();
  const int acks_at_kill = acks.load();
  // While Redis is down: health turns NOT_SERVING (the probe runs every
  // 500 ms), and a filing on any replica answers UNAVAILABLE within the
  // Redis client's timeouts (2 s per command), not the call's deadline.
  const std::string token = Token("probe", {auth::Scope::kStrategicCoordination});
  for (size_t r = 0; r < replica_addresses_.size(); ++r) {
    const std::string& address = replica_addresses_[r];
    EXPECT_TRUE(AwaitHealth(address, "NOT_SERVING", absl::Seconds(5)))
        << address << " says " << Health(address);
    EXPECT_EQ(Health(address, "utm.v1.StrategicCoordination"), "NOT_SERVING");
    EXPECT_EQ(Health(address, "utm.v1.TelemetryService"), "SERVING")
        << "telemetry keeps nothing in Redis";
    v1::FileIntentRequest request;
    request.set_request_id(absl::StrCat("probe-", r));
    *request.add_volumes() = VolumeToProto(geo::Volume4D{
        geo::Volume3D{geo::Circle{geo::GeodesicDestination(kCentre, 180, 5000),
                                  50},
                      {500, 600}},
        {base_ + absl::Minutes(10), base_ + absl::Minutes(40)}});
    v1::FileIntentResponse response;
    const absl::Time start = absl::Now();
    grpc::Status s = Strategic(address)->FileIntent(
        Context(token, absl::Seconds(20)).get(), request, &response);
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << address << ": " << s.error_message();
    EXPECT_LT(took, absl::Seconds(4))
        << address << " took " << took << " to refuse: it must not hang";
  }
  EXPECT_LE(acks.load(), acks_at_kill + kWriters)
      << "at most the commits in flight at the kill are acknowledged";

  ASSERT_TRUE(redis_->Restart().ok());
  for (const std::string& address : replica_addresses_) {
    EXPECT_TRUE(AwaitHealth(address, "SERVING", absl::Seconds(10)))
        << address << " says " << Health(address);
    EXPECT_EQ(Health(address, "utm.v1.StrategicCoordination"), "SERVING");
  }
  const int acks_at_restart = acks.load();
  EXPECT_TRUE(await_acks(acks_at_restart + 40))
      << "filings succeed again once Redis is back";
  enough = true;
  for (std::thread& t : threads) t.join();
  std::vector<Write> writes;
  std::cerr << Summary(per_client, &writes) << "; Redis killed after "
            << acks_at_kill << " acks\n";
  std::vector<std::string> problems, violations;
  CheckAfterwards(writes, "op-", &problems, &violations);
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_THAT(violations, IsEmpty());
}

}  // namespace
}  // namespace utm::testing
