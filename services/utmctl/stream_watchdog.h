// Ending a blocking client stream from outside. A thread blocked in a
// stream's Read() returns only when a message arrives or the call ends, so
// the streaming commands (`constraint watch`, `telemetry watch`) run a
// watchdog that cancels the call's context on --timeout-s or on SIGINT /
// SIGTERM, and then say why they stopped. `telemetry fly` uses the stop
// signals alone: it polls them between reports.
//
// Typical usage:
//   CatchStopSignals();  // before the stream opens
//   std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
//   auto reader = client.stub()->WatchAlerts(context.get(), request);
//   StreamWatchdog watchdog(context.get(), args.timeout_s);
//   while (reader->Read(&batch)) { ... }
//   const StreamWatchdog::Stop stop = watchdog.Finish();
//   const grpc::Status status = reader->Finish();
#ifndef UTM_SERVICES_UTMCTL_STREAM_WATCHDOG_H_
#define UTM_SERVICES_UTMCTL_STREAM_WATCHDOG_H_

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace utm::ctl {

// Installs SIGINT and SIGTERM handlers that record the signal instead of
// ending the process, and forgets any signal recorded before. Call from the
// main thread before starting the threads of a stream.
void CatchStopSignals();

// The last signal recorded since CatchStopSignals(); 0 if none.
// Thread-safe.
int StopSignal();

// Cancels a stream's context once `timeout_s` has passed or a stop signal
// is recorded, from a thread of its own, until Finish(). Not copyable; the
// methods are called from one thread.
class StreamWatchdog {
 public:
  // Why the watchdog cancelled the stream.
  enum class Stop { kNone, kTimeout, kSignal };

  // Starts watching `context` (not owned; outlives this). `timeout_s`: 0
  // for no timeout. REQUIRES: timeout_s >= 0, CatchStopSignals() called.
  StreamWatchdog(grpc::ClientContext* context, double timeout_s);
  // Finish()es.
  ~StreamWatchdog();

  StreamWatchdog(const StreamWatchdog&) = delete;
  StreamWatchdog& operator=(const StreamWatchdog&) = delete;

  // Stops watching (joins the thread; a signal or timeout afterwards no
  // longer cancels anything) and returns why the stream was cancelled,
  // kNone if it was not. Idempotent.
  Stop Finish();

 private:
  void Run();

  grpc::ClientContext* const context_;
  const std::chrono::steady_clock::time_point deadline_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  Stop stop_ ABSL_GUARDED_BY(mu_) = Stop::kNone;
  std::thread thread_;
};

// How a watch of whole pictures (`rid watch`, `fleet watch`) ended.
enum class WatchEnd {
  kDone,     // --count updates, a stop signal, or the server ended it
  kTimeout,  // --timeout-s before --count updates (exit 75)
  kFailed,   // the call failed: see the status
};

// The exit code of a watch that ended so: 0, 75, or the failed call's.
int WatchExitCode(WatchEnd end, const grpc::Status& status);

// Reads `reader` (opened on `context`, after CatchStopSignals()) and calls
// `print` with each message, until `count` messages (0: no limit), the
// `timeout_s` (0: none) or a stop signal, or the end of the stream. Says
// on stderr how many of `count` came before a timeout.
template <typename Message>
WatchEnd RunWatch(grpc::ClientContext* context,
                  grpc::ClientReader<Message>* reader, int64_t count,
                  double timeout_s,
                  const std::function<void(const Message&)>& print,
                  grpc::Status* status) {
  StreamWatchdog watchdog(context, timeout_s);
  int64_t counted = 0;
  bool reached = false;
  Message message;
  while (!reached && reader->Read(&message)) {
    print(message);
    if (count > 0 && ++counted >= count) reached = true;
  }
  const StreamWatchdog::Stop stop = watchdog.Finish();
  if (reached) context->TryCancel();
  *status = reader->Finish();
  if (reached || stop == StreamWatchdog::Stop::kSignal) return WatchEnd::kDone;
  if (stop == StreamWatchdog::Stop::kNone && !status->ok()) {
    return WatchEnd::kFailed;
  }
  if (count > 0) {
    std::cerr << "watch: " << counted << " of " << count
              << " update(s) before --timeout-s\n";
    return WatchEnd::kTimeout;
  }
  return WatchEnd::kDone;
}

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_STREAM_WATCHDOG_H_
