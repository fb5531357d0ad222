#include "services/telemetry/membership.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"

namespace utm::telemetry {

Membership::Membership(MembershipOptions options)
    : options_(std::move(options)),
      view_(std::make_shared<const std::vector<std::string>>(
          std::vector<std::string>{options_.member_id})) {}

Membership::~Membership() { Stop(); }

absl::Status CheckMemberId(absl::string_view id) {
  if (id.empty() || id.size() > 200) {
    return absl::InvalidArgumentError(
        absl::StrCat("member_id: must be 1 to 200 bytes, not ", id.size()));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    if (c <= ' ' || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "member_id: byte ", i, " is not printable ASCII without spaces"));
    }
  }
  return absl::OkStatus();
}

absl::Status Membership::Start() {
  UTM_RETURN_IF_ERROR(CheckMemberId(options_.member_id));
  if (options_.refresh <= absl::ZeroDuration() ||
      options_.lease < 2 * options_.refresh) {
    return absl::InvalidArgumentError(
        "lease: must be at least twice refresh, which must be positive");
  }
  if (started_.exchange(true)) {
    return absl::FailedPreconditionError("membership already started");
  }
  absl::Status joined;
  absl::StatusOr<std::unique_ptr<redis::Client>> client =
      redis::Client::Connect(options_.redis);
  if (client.ok()) {
    client_ = *std::move(client);
    joined = Refresh();
  } else if (client.status().code() == absl::StatusCode::kUnavailable) {
    joined = client.status();
  } else {
    return client.status();  // a bad address or credentials: not transient
  }
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.refresh)) {
      if (client_ == nullptr) {
        absl::StatusOr<std::unique_ptr<redis::Client>> c =
            redis::Client::Connect(options_.redis);
        if (!c.ok()) {
          ++failed_;
          continue;
        }
        client_ = *std::move(c);
      }
      if (!Refresh().ok()) ++failed_;
    }
  });
  return joined;
}

void Membership::Stop() {
  if (!started_.load() || stopped_.exchange(true)) return;
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
  // Leaving at once moves this replica's regions now, not after the lease.
  if (client_ != nullptr) {
    (void)client_->Command({"ZREM", options_.key, options_.member_id});
  }
}

std::shared_ptr<const std::vector<std::string>> Membership::view() const {
  absl::MutexLock lock(&mu_);
  return view_;
}

bool Membership::healthy() const {
  absl::MutexLock lock(&mu_);
  return absl::Now() - last_ok_ < options_.lease;
}

absl::Status Membership::Refresh() {
  if (client_ == nullptr) {
    return absl::FailedPreconditionError("membership not started");
  }
  // Redis's clock, so that the replicas' clocks do not matter.
  UTM_ASSIGN_OR_RETURN(redis::Reply time, client_->Command({"TIME"}));
  int64_t sec = 0, usec = 0;
  if (time.elements.size() != 2 ||
      !absl::SimpleAtoi(time.elements[0].str, &sec) ||
      !absl::SimpleAtoi(time.elements[1].str, &usec)) {
    return absl::InternalError(
        absl::StrCat("TIME answered ", time.DebugString()));
  }
  const int64_t now_ms = sec * 1000 + usec / 1000;
  const int64_t expiry_ms =
      now_ms + absl::ToInt64Milliseconds(options_.lease);
  UTM_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> replies,
      client_->Pipeline(
          {{"ZADD", options_.key, absl::StrCat(expiry_ms), options_.member_id},
           {"ZREMRANGEBYSCORE", options_.key, "-inf", absl::StrCat(now_ms)},
           {"ZRANGEBYSCORE", options_.key, absl::StrCat("(", now_ms), "+inf"}}));
  for (const redis::Reply& r : replies) {
    if (r.is_error()) {
      return absl::InternalError(
          absl::StrCat("membership: ", r.DebugString()));
    }
  }
  std::vector<std::string> members;
  members.reserve(replies[2].elements.size() + 1);
  for (const redis::Reply& m : replies[2].elements) members.push_back(m.str);
  if (std::find(members.begin(), members.end(), options_.member_id) ==
      members.end()) {
    members.push_back(options_.member_id);
  }
  std::sort(members.begin(), members.end());
  auto view = std::make_shared<const std::vector<std::string>>(
      std::move(members));
  absl::MutexLock lock(&mu_);
  view_ = std::move(view);
  last_ok_ = absl::Now();
  return absl::OkStatus();
}

}  // namespace utm::telemetry
