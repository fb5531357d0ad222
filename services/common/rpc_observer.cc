#include "services/common/rpc_observer.h"

#include <grpcpp/support/status.h>

#include <map>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/log/log.h"

namespace utm {

namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

// As logs and error texts name codes: "INVALID_ARGUMENT".
std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// As Prometheus' gRPC exporters label them: "InvalidArgument".
const char* MetricCodeName(int code) {
  static constexpr const char* kNames[] = {"OK",
                                           "Canceled",
                                           "Unknown",
                                           "InvalidArgument",
                                           "DeadlineExceeded",
                                           "NotFound",
                                           "AlreadyExists",
                                           "PermissionDenied",
                                           "ResourceExhausted",
                                           "FailedPrecondition",
                                           "Aborted",
                                           "OutOfRange",
                                           "Unimplemented",
                                           "Internal",
                                           "Unavailable",
                                           "DataLoss",
                                           "Unauthenticated"};
  return kNames[code];
}

// The caller's mistakes, logged at info; the rest are the server's, at
// warning.
bool IsCallersError(int code) {
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return true;
    default:
      return false;
  }
}

std::string NewRequestId() {
  thread_local absl::BitGen bits;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(bits),
                         absl::Uniform<uint64_t>(bits));
}

class CallObserver : public grpc::experimental::Interceptor {
 public:
  CallObserver(RpcStats* stats, RpcStats::Method* method, std::string path)
      : stats_(stats),
        method_(method),
        path_(std::move(path)),
        request_id_(NewRequestId()),
        start_(absl::Now()) {
    if (method_->started != nullptr) method_->started->Add();
  }

  // A call cancelled before the server sent its status ends here.
  ~CallObserver() override {
    if (!ended_) End(static_cast<int>(grpc::StatusCode::CANCELLED), "");
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      if (auto* metadata = methods->GetRecvInitialMetadata()) {
        auto it = metadata->find(kRequestIdKey);
        if (it != metadata->end()) {
          std::string id(it->second.data(), it->second.size());
          if (IsValidRequestId(id)) request_id_ = std::move(id);
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (auto* metadata = methods->GetSendInitialMetadata()) {
        metadata->emplace(kRequestIdKey, request_id_);
        sent_initial_id_ = true;
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      if (!sent_initial_id_) {
        if (auto* trailing = methods->GetSendTrailingMetadata()) {
          trailing->emplace(kRequestIdKey, request_id_);
        }
      }
      const grpc::Status status = methods->GetSendStatus();
      End(static_cast<int>(status.error_code()), status.error_message());
    }
    methods->Proceed();
  }

 private:
  void End(int code, const std::string& message) {
    ended_ = true;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    stats_->Handled(method_, code, seconds);
    const log::Level level = code == 0              ? log::Level::kDebug
                             : IsCallersError(code) ? log::Level::kInfo
                                                    : log::Level::kWarning;
    if (!log::Enabled(level)) return;
    log::Line line(level);
    line.With("request_id", request_id_)
        .With("method", path_)
        .With("code", CodeName(code))
        .With("duration_ms", seconds * 1e3);
    if (code != 0 && log::Sensitive()) line.With("error", message);
    line << "call " << (code == 0 ? "done" : "failed");
  }

  RpcStats* const stats_;
  RpcStats::Method* const method_;
  const std::string path_;
  std::string request_id_;
  const absl::Time start_;
  bool sent_initial_id_ = false;
  bool ended_ = false;
};

}  // namespace

bool IsValidRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

RpcStats::Method* RpcStats::ForMethod(const char* path,
                                      ServerRpcInfo::Type type) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Method>& slot = methods_[path];
  if (slot != nullptr) return slot.get();
  slot = std::make_unique<Method>();
  absl::string_view full(path);
  absl::ConsumePrefix(&full, "/");
  const size_t slash = full.find('/');
  slot->service = std::string(full.substr(0, slash));
  slot->name = slash == absl::string_view::npos
                   ? std::string()
                   : std::string(full.substr(slash + 1));
  slot->type = TypeName(type);
  if (catalog_ != nullptr) {
    const metrics::Labels labels = {{"grpc_service", slot->service},
                                    {"grpc_method", slot->name},
                                    {"grpc_type", slot->type}};
    slot->started = catalog_->AddCounter("grpc_server_started_total",
                                         "Calls started, by method.", labels);
    slot->seconds = catalog_->AddHistogram(
        "grpc_server_handling_seconds",
        "Time from a call's start to its status (a stream's whole life).",
        labels, metrics::Histogram::LatencyBounds());
  }
  return slot.get();
}

void RpcStats::Handled(Method* method, int code, double seconds) {
  if (catalog_ == nullptr) return;
  if (code < 0 || code >= static_cast<int>(method->handled.size())) {
    code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  metrics::Counter* counter = method->handled[code].load();
  if (counter == nullptr) {
    absl::MutexLock lock(&mu_);
    counter = method->handled[code].load();
    if (counter == nullptr) {
      counter = catalog_->AddCounter("grpc_server_handled_total",
                                     "Calls ended, by method and code.",
                                     {{"grpc_service", method->service},
                                      {"grpc_method", method->name},
                                      {"grpc_type", method->type},
                                      {"grpc_code", MetricCodeName(code)}});
      method->handled[code].store(counter);
    }
  }
  counter->Add();
  if (method->seconds != nullptr) method->seconds->Observe(seconds);
}

RpcObserverFactory::RpcObserverFactory(RpcStats* stats)
    : stats_(stats != nullptr ? stats : &no_stats_) {}

grpc::experimental::Interceptor* RpcObserverFactory::CreateServerInterceptor(
    ServerRpcInfo* info) {
  const char* path = info->method() != nullptr ? info->method() : "";
  return new CallObserver(stats_, stats_->ForMethod(path, info->type()), path);
}

}  // namespace utm
