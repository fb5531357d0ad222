#include "services/utmctl/stream_watchdog.h"

#include <csignal>
#include <cstdint>

#include "absl/time/time.h"
#include "services/utmctl/constraint_commands.h"
#include "services/utmctl/intent_commands.h"

namespace utm::ctl {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void OnStopSignal(int signal) { g_stop_signal = signal; }

// How soon a signal or the timeout is noticed.
constexpr absl::Duration kPoll = absl::Milliseconds(50);

std::chrono::steady_clock::time_point Deadline(double timeout_s) {
  if (timeout_s <= 0) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::now() +
         std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
}

}  // namespace

void CatchStopSignals() {
  g_stop_signal = 0;
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

int StopSignal() { return g_stop_signal; }

StreamWatchdog::StreamWatchdog(grpc::ClientContext* context, double timeout_s)
    : context_(context), deadline_(Deadline(timeout_s)) {
  thread_ = std::thread([this] { Run(); });
}

StreamWatchdog::~StreamWatchdog() { Finish(); }

StreamWatchdog::Stop StreamWatchdog::Finish() {
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  return stop_;
}

void StreamWatchdog::Run() {
  absl::MutexLock lock(&mu_);
  while (!done_) {
    if (StopSignal() != 0) {
      stop_ = Stop::kSignal;
    } else if (std::chrono::steady_clock::now() >= deadline_) {
      stop_ = Stop::kTimeout;
    }
    if (stop_ != Stop::kNone) {
      context_->TryCancel();
      return;
    }
    mu_.AwaitWithTimeout(absl::Condition(&done_), kPoll);
  }
}

int WatchExitCode(WatchEnd end, const grpc::Status& status) {
  switch (end) {
    case WatchEnd::kDone:
      return 0;
    case WatchEnd::kTimeout:
      return kExitWatchTimeout;
    case WatchEnd::kFailed:
      return ExitForStatus(status);
  }
  return 0;
}

}  // namespace utm::ctl
