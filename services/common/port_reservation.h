// Claims utmd's listen address before anything slow happens.
//
// gRPC binds its port only when the server is built, and the server can be
// built only once the services exist, which is after the store has loaded
// (seconds for a large store). A PortReservation binds the address first, so
// that a port already in use fails a start at once; it is released just
// before the gRPC server binds the same port. Its sockets are bound but do
// not listen: a client connecting during recovery is refused at once rather
// than left waiting.
//
// The window between Release() and gRPC's bind is a few microseconds; a
// process that takes the port inside it makes Server::Start fail with
// UNAVAILABLE, as it would without the reservation.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(PortReservation port,
//                        PortReservation::Claim("127.0.0.1:0"));
//   ... load the store ...
//   options.listen_address = port.address();  // port 0 resolved
//   port.Release();
//   Server::Start(options, services);
#ifndef UTM_SERVICES_COMMON_PORT_RESERVATION_H_
#define UTM_SERVICES_COMMON_PORT_RESERVATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace utm {

// Bound sockets for every address of a "host:port". Movable, not copyable;
// not thread-safe.
class PortReservation {
 public:
  // Binds every address `listen_address` ("host:port", "[v6]:port") resolves
  // to, with SO_REUSEADDR as gRPC does (so a port whose old connections are in
  // TIME_WAIT is not refused). Port 0 picks a free port, the same for every
  // address. INVALID_ARGUMENT for a malformed address or port; UNAVAILABLE
  // when the port is in use or the host is not an address of this machine,
  // naming the address and the system's reason.
  static absl::StatusOr<PortReservation> Claim(
      const std::string& listen_address);

  PortReservation(PortReservation&& other) noexcept;
  PortReservation& operator=(PortReservation&& other) noexcept;
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;
  ~PortReservation();  // Releases.

  // The port claimed (port 0 resolved).
  int port() const { return port_; }
  // The host as given and the claimed port: what Server::Start should bind.
  std::string address() const;

  // Closes the sockets, so that the gRPC server can bind the port.
  // Idempotent.
  void Release();

 private:
  PortReservation(std::string host, int port, std::vector<int> fds)
      : host_(std::move(host)), port_(port), fds_(std::move(fds)) {}

  std::string host_;  // as given: "127.0.0.1", "[::]", "localhost"
  int port_ = 0;
  std::vector<int> fds_;
};

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_PORT_RESERVATION_H_
