// A workload for replicated intent cores: several IntentCores, each a
// replica with its own Follower on one shared ledger, and clients filing,
// moving and cancelling overlapping intents at mixed priorities through
// whichever replica they are given. Afterwards the live intents are checked
// against the rules from the ledger's own order of commits:
//  - no two live intents of equal priority overlap;
//  - where a lower-priority intent overlaps a higher one, the lower one's
//    current version was committed before the higher one's (a write is
//    never accepted over a higher-priority intent already there).
// Shared by the tests of the local and the Redis ledger, and (the checks
// alone) by the end-to-end test of utmd replicas.
#ifndef UTM_SERVICES_INTENT_INTENT_REPLICA_TESTING_H_
#define UTM_SERVICES_INTENT_INTENT_REPLICA_TESTING_H_

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "geo/geodesy.h"
#include "geo/intersect.h"
#include "services/common/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/forwarding_ledger.h"
#include "services/common/ledger/ledger.h"
#include "services/intent/intent_core.h"

namespace utm::intent::testing {

inline const absl::Time kReplicaNow = absl::FromUnixSeconds(1'800'000'000);
inline const geo::LatLng kReplicaCentre{47.3769, 8.5417};

// A ledger that forgets the guard's reads: the broken protocol the workload
// must catch. `latency` before each commit stands for the network round trip
// a local ledger does not have, which is when replicas race.
class UnguardedLedger final : public ledger::ForwardingLedger {
 public:
  explicit UnguardedLedger(ledger::Ledger* inner,
                           absl::Duration latency = absl::Milliseconds(2))
      : ForwardingLedger(inner), latency_(latency) {}
  void Commit(ledger::Guard guard, std::vector<store::Mutation> mutations,
              Done done) override {
    absl::SleepFor(latency_);
    guard.reads.clear();
    guard.base = *inner()->Latest();  // never "moved", never "reload"
    inner()->Commit(std::move(guard), std::move(mutations), std::move(done));
  }

 private:
  const absl::Duration latency_;
};

// A ledger whose commits wait at a gate until it opens: a replica paused
// (by a GC, or SIGSTOP) between deciding a write and committing it.
class GatedLedger final : public ledger::ForwardingLedger {
 public:
  using ForwardingLedger::ForwardingLedger;
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Until a commit waits at the closed gate.
  void AwaitWaiter() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n) { return *n > 0; }, &waiting_));
  }
  void Commit(ledger::Guard guard, std::vector<store::Mutation> mutations,
              Done done) override {
    {
      absl::MutexLock lock(&mu_);
      ++waiting_;
      mu_.Await(absl::Condition(&open_));
      --waiting_;
    }
    inner()->Commit(std::move(guard), std::move(mutations), std::move(done));
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

struct ReplicaWorkloadOptions {
  int replicas = 3;
  int clients = 16;
  int writes_per_client = 20;
  uint64_t seed = 7;
};

struct ReplicaWorkloadResult {
  int accepted = 0;
  int rejected = 0;
  int errors = 0;
  std::string first_error;
  // Writes answered UNAVAILABLE (the airspace kept changing under them) and
  // retried by the client with the same request id, as the API asks.
  int client_retries = 0;
  int64_t retries = 0;
  size_t live = 0;
  std::vector<std::string> violations;
};

inline geo::Volume4D RandomVolume(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> metres(0, 1500);
  std::uniform_real_distribution<double> radius(60, 200);
  std::uniform_int_distribution<int> start(0, 40);
  const geo::LatLng centre = geo::GeodesicDestination(
      geo::GeodesicDestination(kReplicaCentre, 90, metres(rng)), 0,
      metres(rng));
  const int s = start(rng);
  return geo::Volume4D{geo::Volume3D{geo::Circle{centre, radius(rng)},
                                     {400, 520}},
                       {kReplicaNow + absl::Minutes(5 + s),
                        kReplicaNow + absl::Minutes(30 + s)}};
}

// The sequence of the entry that wrote each intent's current version, read
// from the whole feed of `ledger`; a read error is appended to `violations`.
inline std::map<std::string, uint64_t> IntentCommitOrder(
    ledger::Ledger* ledger, std::vector<std::string>* violations) {
  std::map<std::string, uint64_t> put_at;
  ledger::Position at;
  while (true) {
    absl::StatusOr<std::vector<ledger::Entry>> entries =
        ledger->Read(at, 1000, absl::ZeroDuration());
    if (!entries.ok()) {
      violations->push_back(entries.status().ToString());
      break;
    }
    if (entries->empty()) break;
    for (const ledger::Entry& e : *entries) {
      for (const store::Mutation& m : e.mutations) {
        if (m.table == IntentCore::kIntentsTable && m.value) put_at[m.key] = e.seq;
      }
      at = ledger::Position{e.seq, e.hash};
    }
  }
  return put_at;
}

// Checks the rules over `live` (pairwise, with the geometry core), given
// the ledger's order of commits `put_at` (IntentCommitOrder): no two
// intents of equal priority overlap, and where a lower-priority intent
// overlaps a higher one, the lower one's current version was committed
// first. Appends one line per violation.
inline void CheckLiveIntents(const std::vector<IntentView>& live,
                             const std::map<std::string, uint64_t>& put_at,
                             std::vector<std::string>* violations) {
  auto seq = [&](const std::string& id) -> uint64_t {
    auto it = put_at.find(id);
    return it == put_at.end() ? 0 : it->second;
  };
  for (size_t i = 0; i < live.size(); ++i) {
    for (size_t j = i + 1; j < live.size(); ++j) {
      const Intent& a = live[i].intent;
      const Intent& b = live[j].intent;
      bool overlap = false;
      for (const geo::Volume4D& va : a.volumes) {
        for (const geo::Volume4D& vb : b.volumes) {
          overlap = overlap || geo::Intersect(va, vb);
        }
      }
      if (!overlap) continue;
      const Intent& low = a.priority <= b.priority ? a : b;
      const Intent& high = a.priority <= b.priority ? b : a;
      if (a.priority == b.priority) {
        violations->push_back(absl::StrCat(
            a.id, " and ", b.id, " overlap at equal priority ", a.priority));
      } else if (seq(low.id) > seq(high.id)) {
        violations->push_back(absl::StrCat(
            low.id, " (priority ", low.priority, ", entry ", seq(low.id),
            ") was accepted over ", high.id, " (priority ", high.priority,
            ", entry ", seq(high.id), ")"));
      }
    }
  }
}

inline ReplicaWorkloadResult RunReplicaWorkload(
    const std::function<ledger::Ledger*(int)>& ledger_of,
    const ReplicaWorkloadOptions& options) {
  SimulatedClock clock(kReplicaNow);
  struct Replica {
    // The core first: the follower, which calls into it, goes (and stops)
    // first.
    std::unique_ptr<IntentCore> core;
    std::unique_ptr<ledger::Follower> follower;
  };
  std::vector<Replica> replicas(options.replicas);
  ReplicaWorkloadResult result;
  for (int r = 0; r < options.replicas; ++r) {
    ledger::FollowerOptions fo;
    fo.poll = absl::Milliseconds(50);
    replicas[r].follower =
        std::make_unique<ledger::Follower>(ledger_of(r), fo);
    replicas[r].core = std::make_unique<IntentCore>(IntentOptions(), &clock);
    replicas[r].core->UseLedger(ledger_of(r), replicas[r].follower.get());
    absl::Status s = replicas[r].follower->Start();
    if (!s.ok()) {
      result.errors = 1;
      result.first_error = s.ToString();
      return result;
    }
  }
  absl::Mutex mu;
  std::vector<std::thread> clients;
  for (int c = 0; c < options.clients; ++c) {
    clients.emplace_back([&, c] {
      IntentCore& core = *replicas[c % options.replicas].core;
      std::mt19937_64 rng(options.seed * 1000 + c);
      const std::string owner = absl::StrCat("op-", c);
      std::vector<std::pair<std::string, int64_t>> mine;  // id, version
      for (int w = 0; w < options.writes_per_client; ++w) {
        const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
        const int32_t priority =
            10 * std::uniform_int_distribution<int>(0, 2)(rng);
        std::function<absl::StatusOr<WriteOutcome>()> write;
        const std::string request_id = absl::StrCat(owner, "-", w);
        if (kind < 7 || mine.empty()) {
          write = [&core, owner, request_id, priority,
                   v = RandomVolume(rng)] {
            return core.File(owner, {request_id, priority, {v}});
          };
        } else {
          const size_t pick =
              std::uniform_int_distribution<size_t>(0, mine.size() - 1)(rng);
          const auto [id, version] = mine[pick];
          if (kind < 9) {
            write = [&core, owner, request_id, id = id, version = version,
                     priority, v = RandomVolume(rng)] {
              return core.Modify(owner,
                                 {request_id, id, version, priority, {v}});
            };
          } else {
            write = [&core, owner, request_id, id = id, version = version] {
              return core.Transition(owner, {request_id, id, version,
                                              IntentState::kCancelled, {}});
            };
          }
        }
        // UNAVAILABLE asks the client to retry with the same request id:
        // a few times, as a client would.
        absl::StatusOr<WriteOutcome> out = write();
        int client_retries = 0;
        for (; client_retries < 4 && absl::IsUnavailable(out.status());
             ++client_retries) {
          out = write();
        }
        absl::MutexLock lock(&mu);
        result.client_retries += client_retries;
        if (!out.ok()) {
          if (++result.errors == 1) result.first_error = out.status().ToString();
          continue;
        }
        if (!out->accepted()) {
          ++result.rejected;
          continue;
        }
        ++result.accepted;
        bool known = false;
        for (auto& [id, version] : mine) {
          if (id == out->intent->id) {
            version = out->intent->version;
            known = true;
          }
        }
        if (!known) mine.emplace_back(out->intent->id, out->intent->version);
        if (!IsLive(out->intent->state)) {
          for (auto it = mine.begin(); it != mine.end(); ++it) {
            if (it->first == out->intent->id) {
              mine.erase(it);
              break;
            }
          }
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (const Replica& r : replicas) result.retries += r.core->ledger_retries();

  // The ledger's order: the sequence of each intent's current version.
  ledger::Ledger* ledger = ledger_of(0);
  const std::map<std::string, uint64_t> put_at =
      IntentCommitOrder(ledger, &result.violations);
  // The live intents as a fresh replica loads them.
  ledger::FollowerOptions truth_options;
  truth_options.poll = absl::Milliseconds(50);
  IntentCore truth(IntentOptions(), &clock);
  ledger::Follower follower(ledger, truth_options);
  truth.UseLedger(ledger, &follower);
  if (absl::Status s = follower.Start(); !s.ok()) {
    result.violations.push_back(s.ToString());
    return result;
  }
  geo::Volume4D everything{
      geo::Volume3D{geo::Circle{kReplicaCentre, 5000}, {0, 2000}},
      {kReplicaNow, kReplicaNow + absl::Hours(3)}};
  const std::vector<IntentView> live = truth.Query("checker", everything);
  result.live = live.size();
  CheckLiveIntents(live, put_at, &result.violations);
  for (Replica& r : replicas) r.follower->Stop();
  return result;
}

}  // namespace utm::intent::testing

#endif  // UTM_SERVICES_INTENT_INTENT_REPLICA_TESTING_H_
