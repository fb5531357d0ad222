// Starting and stopping utmd's gRPC server.
//
// Every server we run serves the standard gRPC health checking service
// (grpc.health.v1.Health, SERVING while up) and server reflection, gives
// every call a request id, logs and counts it (rpc_observer.h), binds the
// address it is given (port 0 picks a free port, as tests do), and shuts down
// gracefully: new calls are refused, calls in flight get until the deadline.
//
// Typical usage:
//   ServerOptions options;
//   options.listen_address = "127.0.0.1:0";
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
//                        Server::Start(options, {&intent_service}));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(5));
#ifndef UTM_SERVICES_COMMON_SERVER_H_
#define UTM_SERVICES_COMMON_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace utm {

class RpcStats;

struct ServerOptions {
  // host:port to listen on. DEFAULT: loopback only, utmd's port.
  std::string listen_address = "127.0.0.1:7400";
  // PEM files: when both are set the server speaks TLS only. DEFAULT: none
  // (plaintext, for loopback and for deployments that terminate TLS in
  // front of utmd).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Largest request or response, bytes. DEFAULT: 16 MiB (a 1,000-vertex
  // polygon is ~30 kB; a query page of intents a few MB).
  int max_message_bytes = 16 << 20;
  // Per-method counts and latencies (services/common/rpc_observer.h); not
  // owned, must outlive the server. DEFAULT: none (request ids and call logs
  // are kept anyway).
  RpcStats* rpc_stats = nullptr;
};

// A running gRPC server. Thread-safe.
class Server {
 public:
  // Builds and starts a server with `services` (not owned; they must outlive
  // the server). INVALID_ARGUMENT for a malformed address; UNAVAILABLE when
  // it cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options,
      const std::vector<grpc::Service*>& services);

  ~Server();  // Shuts down with a zero deadline if still running.

  // The port actually bound (resolves port 0).
  int port() const { return port_; }

  // Sets what gRPC health checking answers for `service` (a full service
  // name such as "utm.v1.StrategicCoordination", or "" for the server as a
  // whole). Until Shutdown(), which marks everything NOT_SERVING.
  void SetServingStatus(const std::string& service, bool serving);

  // Marks the server NOT_SERVING, refuses new calls, and waits up to
  // `deadline` for calls in flight before cancelling them. Idempotent.
  void Shutdown(absl::Duration deadline);

 private:
  Server(std::unique_ptr<grpc::Server> server, int port);

  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_SERVER_H_
