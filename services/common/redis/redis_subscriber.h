// A Redis Pub/Sub subscriber: its own connection, SUBSCRIBEd to a fixed set
// of channels, and one thread that calls a handler for every message.
//
// Pub/Sub is fire-and-forget: a message published while the subscriber is
// disconnected is never delivered to it. The subscriber reconnects and
// subscribes again by itself, with a backoff that doubles from
// `reconnect_min` to `reconnect_max`, after the server closed the
// connection, restarted, or stopped answering (a PING every `ping_interval`
// while idle; no answer within `dead_after` drops the connection). Sentinel
// deployments are followed: each attempt resolves the primary again through
// a Client (redis_client.h). A PUBLISH on the primary reaches subscribers of
// the replicas too, but subscribing where commands go keeps one address.
//
// Stop() is bounded: the thread polls its socket at most `poll_interval` at
// a time and every connect attempt is bounded by connect_timeout, so Stop()
// returns within about connect_timeout + poll_interval + the handler's
// running call.
//
// This file and redis_client.cc are the only users of hiredis.
//
// Typical usage:
//   SubscriberOptions options;
//   options.client.addr = "127.0.0.1:6379";
//   options.channels = {"utm:tele:alerts"};
//   Subscriber sub(options, [](absl::string_view channel,
//                              absl::string_view payload) { ... });
//   sub.Start();
//   ...
//   sub.Stop();  // or the destructor
#ifndef UTM_SERVICES_COMMON_REDIS_REDIS_SUBSCRIBER_H_
#define UTM_SERVICES_COMMON_REDIS_REDIS_SUBSCRIBER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_client.h"

namespace utm::redis {

struct SubscriberOptions {
  // Where and how to connect (addr or sentinels, AUTH, connect_timeout).
  ClientOptions client;
  // Channels to SUBSCRIBE to (exact names, binary-safe). REQUIRES: not
  // empty, each not empty.
  std::vector<std::string> channels;
  // How long the thread waits on its socket before checking for Stop().
  // DEFAULT: 50 ms.
  absl::Duration poll_interval = absl::Milliseconds(50);
  // PING sent when nothing arrived for this long. DEFAULT: 1 s.
  absl::Duration ping_interval = absl::Seconds(1);
  // The connection is dropped (and made again) when nothing at all arrived
  // for this long, PING answers included. REQUIRES: > ping_interval.
  // DEFAULT: 3 s.
  absl::Duration dead_after = absl::Seconds(3);
  // Backoff between attempts to connect and subscribe. DEFAULT: 50 ms,
  // doubling up to 2 s.
  absl::Duration reconnect_min = absl::Milliseconds(50);
  absl::Duration reconnect_max = absl::Seconds(2);
};

class Subscriber {
 public:
  // Called on the subscriber's thread, once per message, in the order the
  // server sent them. It must not call Stop() (that would wait for itself).
  using Handler =
      std::function<void(absl::string_view channel, absl::string_view payload)>;

  Subscriber(SubscriberOptions options, Handler handler);
  // Stops it.
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Checks the options and starts the thread, which connects and
  // subscribes (and keeps doing so). INVALID_ARGUMENT naming the option;
  // FAILED_PRECONDITION when already started. It does not wait for the
  // subscription: see WaitSubscribed().
  absl::Status Start();
  // Ends the thread and the connection; bounded (see the file comment).
  // Idempotent; thread-safe.
  void Stop();

  // Waits until every channel is subscribed on the current connection, at
  // most `timeout`. True when subscribed.
  bool WaitSubscribed(absl::Duration timeout) const;
  bool subscribed() const { return subscribed_.load(); }

  // Messages handed to the handler, and successful (re)subscriptions.
  int64_t messages() const { return messages_.load(); }
  int64_t subscriptions() const { return subscriptions_.load(); }
  // Why the last connection ended or attempt failed ("" when none did).
  std::string last_error() const;

 private:
  void Run();
  // One connection: connects, subscribes, reads until Stop() or an error.
  // Returns the error that ended it (OK after Stop()).
  absl::Status Session();

  const SubscriberOptions options_;
  const Handler handler_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stop_{false};
  absl::Notification stopped_;  // wakes the backoff sleep
  std::atomic<bool> subscribed_{false};
  std::atomic<int64_t> messages_{0};
  std::atomic<int64_t> subscriptions_{0};
  mutable absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace utm::redis

#endif  // UTM_SERVICES_COMMON_REDIS_REDIS_SUBSCRIBER_H_
