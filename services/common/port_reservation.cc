#include "services/common/port_reservation.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/listen_address.h"

namespace utm {

absl::StatusOr<PortReservation> PortReservation::Claim(
    const std::string& listen_address) {
  absl::StatusOr<ListenAddress> parsed =
      ParseListenAddress(listen_address, "listen address");
  if (!parsed.ok()) return parsed.status();
  const std::string& name = parsed->host;
  const int port = parsed->port;
  // As given ("[::1]" keeps its brackets), for address().
  const std::string host = listen_address.substr(0, listen_address.rfind(':'));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
      rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", listen_address, ": ", ::gai_strerror(rc)));
  }
  PortReservation reservation(host, port, {});
  absl::Status failure;
  for (addrinfo* a = found; a != nullptr && failure.ok(); a = a->ai_next) {
    const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      failure = absl::UnavailableError(absl::StrCat(
          "cannot listen on ", listen_address, ": ", std::strerror(errno)));
      break;
    }
    reservation.fds_.push_back(fd);
    const int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage address{};
    std::memcpy(&address, a->ai_addr, a->ai_addrlen);
    // The first address picks the port when 0 was asked for; the others
    // take the same.
    const uint16_t want = htons(static_cast<uint16_t>(reservation.port_));
    if (a->ai_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = want;
    } else {
      reinterpret_cast<sockaddr_in*>(&address)->sin_port = want;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), a->ai_addrlen) !=
        0) {
      failure = absl::UnavailableError(absl::StrCat(
          "cannot listen on ", listen_address, ": ", std::strerror(errno),
          errno == EADDRINUSE ? " (another utmd, or another server, holds it)"
                              : ""));
      break;
    }
    if (reservation.port_ == 0) {
      sockaddr_storage bound{};
      socklen_t length = sizeof(bound);
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) ==
          0) {
        reservation.port_ =
            ntohs(bound.ss_family == AF_INET6
                      ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                      : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      }
    }
  }
  ::freeaddrinfo(found);
  if (!failure.ok()) return failure;
  if (reservation.fds_.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen_address, ": no address"));
  }
  return reservation;
}

PortReservation::PortReservation(PortReservation&& other) noexcept
    : host_(std::move(other.host_)),
      port_(other.port_),
      fds_(std::exchange(other.fds_, {})) {}

PortReservation& PortReservation::operator=(PortReservation&& other) noexcept {
  if (this != &other) {
    Release();
    host_ = std::move(other.host_);
    port_ = other.port_;
    fds_ = std::exchange(other.fds_, {});
  }
  return *this;
}

PortReservation::~PortReservation() { Release(); }

std::string PortReservation::address() const {
  return absl::StrCat(host_, ":", port_);
}

void PortReservation::Release() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

}  // namespace utm
