// A workload for ledger backends: replicas booking intervals on a line.
//
// Each replica keeps a read model of the bookings through its own Follower,
// decides on it that an interval is free, and commits the booking with the
// buckets it covers as the guard's keys. Whatever the interleaving, the
// bookings that commit must be pairwise disjoint: the property the strategic
// tier relies on for flight intents, on a model small enough to check
// exhaustively. Shared by the tests of every backend.
#ifndef UTM_SERVICES_COMMON_LEDGER_LEDGER_TESTING_H_
#define UTM_SERVICES_COMMON_LEDGER_LEDGER_TESTING_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/ledger/follower.h"
#include "services/common/ledger/ledger.h"

namespace utm::ledger::testing {

inline constexpr char kBookings[] = "bookings";

struct Interval {
  int lo = 0;
  int hi = 0;  // closed
  bool Overlaps(const Interval& o) const { return lo <= o.hi && o.lo <= hi; }
};

inline std::string EncodeInterval(const Interval& i) {
  return absl::StrCat(i.lo, ",", i.hi);
}
inline Interval DecodeInterval(absl::string_view s) {
  std::vector<absl::string_view> parts = absl::StrSplit(s, ',');
  Interval i;
  if (parts.size() == 2) {
    (void)absl::SimpleAtoi(parts[0], &i.lo);
    (void)absl::SimpleAtoi(parts[1], &i.hi);
  }
  return i;
}

// One replica's read model of the bookings.
class BookingModel {
 public:
  void AddTo(Follower* follower) {
    follower->AddTable(
        kBookings,
        [this](absl::string_view key, const std::optional<std::string>& v) {
          absl::MutexLock lock(&mu_);
          if (v) {
            bookings_[std::string(key)] = DecodeInterval(*v);
          } else {
            bookings_.erase(std::string(key));
          }
        },
        [this] {
          absl::MutexLock lock(&mu_);
          bookings_.clear();
        });
  }
  bool Free(const Interval& i) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, b] : bookings_) {
      if (b.Overlaps(i)) return false;
    }
    return true;
  }
  std::map<std::string, Interval> bookings() const {
    absl::MutexLock lock(&mu_);
    return bookings_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, Interval> bookings_ ABSL_GUARDED_BY(mu_);
};

// The buckets (of 10 units) an interval covers.
inline std::vector<std::string> BucketKeys(const Interval& i) {
  std::vector<std::string> keys;
  for (int b = i.lo / 10; b <= i.hi / 10; ++b) {
    keys.push_back(absl::StrCat("bucket/", b));
  }
  return keys;
}

struct WorkloadOptions {
  int replicas = 4;
  int attempts_per_replica = 60;
  int line_length = 2000;
  int max_interval = 40;
  // Pause between deciding and committing, widening the race window as a
  // network round trip or a GC pause would.
  absl::Duration think = absl::Microseconds(200);
  // Leave the guard's read keys out: the broken protocol the workload must
  // catch.
  bool unguarded = false;
  uint64_t seed = 1;
};

struct WorkloadResult {
  int committed = 0;
  int moved = 0;  // retries after a read key changed
  int refused = 0;  // the interval was taken
  int errors = 0;
  std::map<std::string, Interval> final_bookings;
  // Pairs of committed bookings that overlap: must be empty.
  std::vector<std::pair<std::string, std::string>> overlaps;
  // Whether every replica's model equals the final table at the end.
  bool models_agree = true;
};

// Runs the workload: `make_ledger(i)` gives replica i its own connection to
// the shared ledger (the same object for in-process backends).
inline WorkloadResult RunBookingWorkload(
    const std::function<Ledger*(int)>& make_ledger,
    const WorkloadOptions& options) {
  struct Replica {
    Ledger* ledger;
    // The model first: the follower, which calls into it, goes (and stops)
    // first.
    BookingModel model;
    std::unique_ptr<Follower> follower;
  };
  std::vector<std::unique_ptr<Replica>> replicas;
  for (int r = 0; r < options.replicas; ++r) {
    auto replica = std::make_unique<Replica>();
    replica->ledger = make_ledger(r);
    FollowerOptions fo;
    fo.poll = absl::Milliseconds(50);
    replica->follower = std::make_unique<Follower>(replica->ledger, fo);
    replica->model.AddTo(replica->follower.get());
    if (!replica->follower->Start().ok()) {
      WorkloadResult failed;
      failed.errors = 1;
      return failed;
    }
    replicas.push_back(std::move(replica));
  }
  absl::Mutex mu;
  WorkloadResult result;
  std::vector<std::thread> threads;
  for (int r = 0; r < options.replicas; ++r) {
    threads.emplace_back([&, r] {
      Replica& replica = *replicas[r];
      absl::BitGen gen(std::seed_seq{options.seed, static_cast<uint64_t>(r)});
      for (int a = 0; a < options.attempts_per_replica; ++a) {
        Interval want;
        want.lo = absl::Uniform(gen, 0, options.line_length - options.max_interval);
        want.hi = want.lo + absl::Uniform(gen, 0, options.max_interval);
        const std::string id = absl::StrCat("r", r, "-", a);
        for (int attempt = 0; attempt < 50; ++attempt) {
          const Position base = replica.follower->applied();
          if (!replica.model.Free(want)) {
            absl::MutexLock lock(&mu);
            ++result.refused;
            break;
          }
          absl::SleepFor(options.think);
          Guard guard;
          guard.base = base;
          guard.writes = BucketKeys(want);
          if (!options.unguarded) guard.reads = guard.writes;
          absl::StatusOr<CommitResult> c = replica.ledger->CommitAndWait(
              guard, {store::Put(kBookings, id, EncodeInterval(want))});
          if (!c.ok()) {
            absl::MutexLock lock(&mu);
            ++result.errors;
            break;
          }
          if (c->status == CommitStatus::kCommitted) {
            (void)replica.follower->WaitApplied(c->position.seq);
            absl::MutexLock lock(&mu);
            ++result.committed;
            break;
          }
          {
            absl::MutexLock lock(&mu);
            ++result.moved;
          }
          (void)replica.follower->CatchUp();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // The truth: a fresh load of the table.
  std::map<std::string, Interval> truth;
  absl::StatusOr<Position> at = replicas[0]->ledger->Load(
      {kBookings}, [&](absl::string_view, absl::string_view key,
                       absl::string_view value) {
        truth[std::string(key)] = DecodeInterval(value);
      });
  if (!at.ok()) ++result.errors;
  for (auto a = truth.begin(); a != truth.end(); ++a) {
    for (auto b = std::next(a); b != truth.end(); ++b) {
      if (a->second.Overlaps(b->second)) {
        result.overlaps.emplace_back(a->first, b->first);
      }
    }
  }
  for (auto& replica : replicas) {
    if (!replica->follower->CatchUp().ok() ||
        replica->model.bookings().size() != truth.size()) {
      result.models_agree = false;
    }
    replica->follower->Stop();
  }
  result.final_bookings = std::move(truth);
  return result;
}

}  // namespace utm::ledger::testing

#endif  // UTM_SERVICES_COMMON_LEDGER_LEDGER_TESTING_H_
