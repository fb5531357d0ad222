// What a Server records of every call it serves (services/common/server.h
// installs it on every server).
//
// - A request id: taken from the client's "x-request-id" metadata when it
//   sends a well-formed one (1-64 of A-Z a-z 0-9 . _ -), as a proxy in
//   front of utmd does, else a new random one. It is returned to the client
//   as "x-request-id" in the response's initial and trailing metadata, and
//   every log line about the call carries it, so a refusal a client reports
//   can be found in the log.
// - Metrics, when given a catalog, in the names Prometheus' gRPC exporters
//   use (so existing dashboards apply):
//     grpc_server_started_total{grpc_service,grpc_method,grpc_type}
//     grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
//     grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}
//       (histogram: from the call's start to its status)
// - A log line for each call that fails (info for the caller's errors,
//   warning for the server's), and for every call at log level debug: the
//   request id, method, code and duration. The status text, which may hold
//   coordinates or names from the request, only with log::Sensitive().
#ifndef UTM_SERVICES_COMMON_RPC_OBSERVER_H_
#define UTM_SERVICES_COMMON_RPC_OBSERVER_H_

#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/common/metrics/metrics.h"

namespace utm {

// The metadata key of the request id, in requests and responses.
inline constexpr char kRequestIdKey[] = "x-request-id";

// Counts per method; shared by the interceptors of every call. Thread-safe.
class RpcStats {
 public:
  // `catalog` null: nothing is counted (ids and logs still work).
  explicit RpcStats(metrics::Catalog* catalog) : catalog_(catalog) {}

  struct Method {
    std::string service;  // "utm.v1.StrategicCoordination"
    std::string name;     // "FileIntent"
    std::string
        type;  // "unary", "client_stream", "server_stream", "bidi_stream"
    metrics::Counter* started = nullptr;
    metrics::Histogram* seconds = nullptr;
    // By grpc::StatusCode (0-16), made on first use.
    std::array<std::atomic<metrics::Counter*>, 17> handled{};
  };
  // The stats of `path` ("/package.Service/Method"); made on first use.
  Method* ForMethod(const char* path,
                    grpc::experimental::ServerRpcInfo::Type type);
  // Counts a call of `method` ended with `code`.
  void Handled(Method* method, int code, double seconds);

 private:
  metrics::Catalog* const catalog_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_
      ABSL_GUARDED_BY(mu_);
};

// The interceptor factory for grpc::ServerBuilder.
class RpcObserverFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `stats`: not owned; may be null (no metrics).
  explicit RpcObserverFactory(RpcStats* stats);
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  RpcStats* const stats_;
  RpcStats no_stats_{nullptr};
};

// Whether `id` is a request id a client may choose.
bool IsValidRequestId(const std::string& id);

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_RPC_OBSERVER_H_
