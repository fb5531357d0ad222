// Which replicas of the telemetry tier are alive: a member set in Redis
// with a lease per member.
//
// Each replica has a member id (unique per process start, e.g.
// "<pod name>:<port>" or a UUID). It keeps itself in the sorted set
// `{tele}:members` with score = its lease's expiry in milliseconds, computed
// from Redis's own TIME so that replicas' clocks do not matter, and renews
// it every `refresh`; in the same round trip it removes expired members and
// reads the live ones (score > Redis's now). Every replica therefore sees a
// new member within `refresh`, a stopped one at once (Stop removes it) and a
// crashed one within `lease` + `refresh`. Views of two replicas may differ
// for up to `refresh`: region ownership (regions.h) may then briefly have
// two owners or none for a region, which deterministic alert ids turn into
// duplicates, not gaps (docs/scaling.md).
//
// While Redis is unreachable the last view is kept (with this replica in
// it) and healthy() turns false once no renewal succeeded for a lease.
//
// Thread-safe. Typical usage:
//   Membership members(options);
//   members.Start();             // joins, then renews on its own thread
//   std::shared_ptr<const std::vector<std::string>> v = members.view();
//   members.Stop();              // leaves
#ifndef UTM_SERVICES_TELEMETRY_MEMBERSHIP_H_
#define UTM_SERVICES_TELEMETRY_MEMBERSHIP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_client.h"

namespace utm::telemetry {

struct MembershipOptions {
  redis::ClientOptions redis;
  // REQUIRES: 1..200 bytes, printable ASCII without spaces (it names a
  // Pub/Sub channel and shows in logs).
  std::string member_id;
  // The sorted set. DEFAULT: "{tele}:members" (its own hash tag: the
  // telemetry tier shares nothing with the ledger's "{utm}:" keys).
  std::string key = "{tele}:members";
  // Renewal and view refresh period. DEFAULT: 500 ms.
  absl::Duration refresh = absl::Milliseconds(500);
  // How long a member stays in the set without renewing. REQUIRES: at least
  // twice `refresh`. DEFAULT: 3 s.
  absl::Duration lease = absl::Seconds(3);
};

// OK when `id` can be a member id: 1..200 bytes of printable ASCII without
// spaces; INVALID_ARGUMENT naming member_id and the problem otherwise.
absl::Status CheckMemberId(absl::string_view id);

class Membership {
 public:
  explicit Membership(MembershipOptions options);
  ~Membership();  // Stop()
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Checks the options (INVALID_ARGUMENT naming the field), joins once
  // (UNAVAILABLE when Redis cannot be reached: the thread still starts and
  // keeps trying, with this replica alone in its view), then renews on a
  // thread. FAILED_PRECONDITION when already started.
  absl::Status Start();
  // Leaves the set (best effort, bounded by the client's timeouts) and ends
  // the thread. Idempotent.
  void Stop();

  // The live members, sorted, this one included. Never null.
  std::shared_ptr<const std::vector<std::string>> view() const;
  // The last renewal succeeded less than `lease` ago.
  bool healthy() const;
  // One renewal and refresh now (the thread does it every `refresh`).
  absl::Status Refresh();

  const std::string& member_id() const { return options_.member_id; }
  // Renewals that failed since Start (Redis unreachable).
  int64_t failed_refreshes() const { return failed_.load(); }

 private:
  const MembershipOptions options_;
  std::unique_ptr<redis::Client> client_;  // set by Start
  std::thread thread_;
  absl::Notification stop_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int64_t> failed_{0};
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<std::string>> view_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ok_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace utm::telemetry

#endif  // UTM_SERVICES_TELEMETRY_MEMBERSHIP_H_
