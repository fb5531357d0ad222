#include "services/common/port_reservation.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/listen_address.h"
#include "services/common/server.h"

namespace utm {
namespace {

using ::testing::HasSubstr;

// A loopback socket listening on a free port, as another server would.
class Listener {
 public:
  Listener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t length = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

TEST(PortReservation, PortZeroPicksAPortTheServerThenBinds) {
  absl::StatusOr<PortReservation> claimed =
      PortReservation::Claim("127.0.0.1:0");
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_GT(claimed->port(), 0);
  EXPECT_EQ(claimed->address(), absl::StrCat("127.0.0.1:", claimed->port()));
  ServerOptions options;
  options.listen_address = claimed->address();
  claimed->Release();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, {});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->port(), claimed->port());
}

TEST(PortReservation, APortInUseIsUnavailableNamingTheAddress) {
  Listener other;
  const std::string address = absl::StrCat("127.0.0.1:", other.port());
  absl::StatusOr<PortReservation> claimed = PortReservation::Claim(address);
  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(claimed.status().message(),
              HasSubstr(absl::StrCat("cannot listen on ", address,
                                     ": Address already in use")));
}

TEST(PortReservation, MalformedAddressesAreInvalid) {
  for (const char* address :
       {"127.0.0.1", "127.0.0.1:99999", "127.0.0.1:-1", ":80", "host:x"}) {
    absl::StatusOr<PortReservation> claimed = PortReservation::Claim(address);
    ASSERT_FALSE(claimed.ok()) << address;
    EXPECT_EQ(claimed.status().code(), absl::StatusCode::kInvalidArgument)
        << address;
    EXPECT_THAT(claimed.status().message(), HasSubstr("port from 0 to 65535"))
        << address;
  }
}

TEST(ListenAddress, HostAndPort) {
  absl::StatusOr<ListenAddress> a = ParseListenAddress("[::1]:7400", "--x");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 7400);
  a = ParseListenAddress("localhost:0", "--x");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 0);
  for (const char* bad :
       {"localhost", ":7400", "[]:7400", "host:", "host:65536", "host:-1",
        "host:12ab", "host: 80", ""}) {
    a = ParseListenAddress(bad, "--metrics");
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(a.status().message(),
              absl::StrCat("--metrics \"", bad,
                           "\": expected host:port with a port from 0 to "
                           "65535"))
        << bad;
  }
}

TEST(PortReservation, AHostNotOfThisMachineIsUnavailable) {
  // TEST-NET-1 (RFC 5737) is never an address of this host.
  absl::StatusOr<PortReservation> claimed =
      PortReservation::Claim("192.0.2.1:0");
  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(claimed.status().message(),
              HasSubstr("cannot listen on 192.0.2.1:0"));
}

}  // namespace
}  // namespace utm
