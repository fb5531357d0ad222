// Pool and Pool::Lease of redis_client.h.
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/redis/redis_client.h"

namespace utm::redis {

Pool::Pool(ClientOptions options, int max_size, absl::Duration acquire_timeout)
    : options_(std::move(options)),
      max_size_(max_size < 1 ? 1 : max_size),
      acquire_timeout_(acquire_timeout) {}

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      client_(std::exchange(other.client_, nullptr)) {}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Return();
    pool_ = std::exchange(other.pool_, nullptr);
    client_ = std::exchange(other.client_, nullptr);
  }
  return *this;
}

Pool::Lease::~Lease() { Return(); }

void Pool::Lease::Return() {
  if (pool_ != nullptr && client_ != nullptr) pool_->Release(client_);
  pool_ = nullptr;
  client_ = nullptr;
}

absl::StatusOr<Pool::Lease> Pool::Acquire() {
  Client* client = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto can_acquire = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() ||
             static_cast<int>(clients_.size()) + connecting_ < max_size_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&can_acquire),
                              acquire_timeout_)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "redis: all ", max_size_, " pooled connections busy for ",
          absl::FormatDuration(acquire_timeout_)));
    }
    if (!idle_.empty()) {
      client = idle_.back();
      idle_.pop_back();
    } else {
      ++connecting_;
    }
  }
  if (client != nullptr) {
    // An idle client whose last call failed has no connection: reconnect
    // now, so that a Redis that is down is reported here.
    if (absl::Status s = client->EnsureConnected(); !s.ok()) {
      Release(client);
      return s;
    }
    return Lease(this, client);
  }
  absl::StatusOr<std::unique_ptr<Client>> created = Client::Connect(options_);
  absl::MutexLock lock(&mu_);
  --connecting_;
  if (!created.ok()) return created.status();
  client = created->get();
  clients_.push_back(std::move(*created));
  return Lease(this, client);
}

void Pool::Release(Client* client) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(client);
}

int64_t Pool::round_trips() const {
  absl::MutexLock lock(&mu_);
  int64_t sum = 0;
  for (const std::unique_ptr<Client>& c : clients_) sum += c->round_trips();
  return sum;
}

int Pool::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(clients_.size());
}

}  // namespace utm::redis
