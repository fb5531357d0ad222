// The parts of the Redis client that need no server: addresses, password
// files, replies as text.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"

namespace utm::redis {
namespace {

using ::testing::HasSubstr;
// ---------------------------------------------------------------- parsing

TEST(ParseHostPort, AcceptsHostsAddressesAndNames) {
  struct Case {
    std::string in;
    std::string host;
    int port;
  };
  for (const Case& c : std::vector<Case>{
           {"127.0.0.1:6379", "127.0.0.1", 6379},
           {"[::1]:6380", "::1", 6380},
           {"[fe80::1%eth0]:1", "fe80::1%eth0", 1},
           {"redis-0.redis.utm.svc.cluster.local:65535",
            "redis-0.redis.utm.svc.cluster.local", 65535},
       }) {
    absl::StatusOr<std::pair<std::string, int>> got = ParseHostPort(c.in, "addr");
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status();
    EXPECT_EQ(got->first, c.host) << c.in;
    EXPECT_EQ(got->second, c.port) << c.in;
    EXPECT_EQ(JoinHostPort(got->first, got->second), c.in);
  }
}

TEST(ParseHostPort, RejectsMalformedWithFieldAndReason) {
  struct Case {
    std::string in;
    std::string fragment;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty, expected host:port"},
           {"localhost", "missing :port"},
           {"::1:6379", "an IPv6 address needs brackets"},
           {"[::1:6379", "'[' without ']'"},
           {"[::1]6379", "expected :port after ']'"},
           {":6379", "empty host"},
           {"[]:6379", "empty host"},
           {"host:", "port is not a number"},
           {"host:63a", "port is not a number"},
           {"host:+80", "port is not a number"},
           {"host:0", "port must be 1 to 65535"},
           {"host:65536", "port must be 1 to 65535"},
           {"host:99999999999999", "port is not a number"},
           {"ho st:1", "invalid byte in host at offset 2"},
           {std::string("a\0b:1", 5), "invalid byte in host at offset 1"},
       }) {
    absl::StatusOr<std::pair<std::string, int>> got =
        ParseHostPort(c.in, "sentinels[1]");
    ASSERT_FALSE(got.ok()) << c.in;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << c.in;
    EXPECT_THAT(got.status().message(), HasSubstr("sentinels[1]")) << c.in;
    EXPECT_THAT(got.status().message(), HasSubstr(c.fragment)) << c.in;
  }
}

TEST(ParseHostPort, QuotesAtMostAPrefixOfHugeInput) {
  const std::string huge(1 << 20, 'x');
  absl::StatusOr<std::pair<std::string, int>> got = ParseHostPort(huge, "addr");
  ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(got.status().message().size(), 200u);
  EXPECT_THAT(got.status().message(), HasSubstr("(1048576 bytes)"));
}

class PasswordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/utm-redis-password-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
};

TEST_F(PasswordFileTest, FirstLineWithoutItsNewline) {
  EXPECT_EQ(*ReadPasswordFile(Write("a", "s3cret\n")), "s3cret");
  EXPECT_EQ(*ReadPasswordFile(Write("b", "s3cret\r\n")), "s3cret");
  EXPECT_EQ(*ReadPasswordFile(Write("c", "s3cret")), "s3cret");
  EXPECT_EQ(*ReadPasswordFile(Write("d", " spaced pass \nsecond line\n")),
            " spaced pass ");
}

TEST_F(PasswordFileTest, PreciseErrors) {
  absl::StatusOr<std::string> missing = ReadPasswordFile(dir_ + "/none");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir_ + "/none"));

  absl::StatusOr<std::string> directory = ReadPasswordFile(dir_);
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(directory.status().message(), HasSubstr("is a directory"));

  absl::StatusOr<std::string> empty = ReadPasswordFile(Write("e", "\n"));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("is empty"));

  absl::StatusOr<std::string> huge =
      ReadPasswordFile(Write("h", std::string(5000, 'p')));
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(huge.status().message(), HasSubstr("larger than 4096 bytes"));

  EXPECT_EQ(ReadPasswordFile("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Reply, DebugStringIsBounded) {
  Reply big;
  big.type = Reply::Type::kArray;
  for (int i = 0; i < 1000; ++i) {
    Reply e;
    e.type = Reply::Type::kString;
    e.str = std::string(10000, '\x01');
    big.elements.push_back(e);
  }
  const std::string text = big.DebugString();
  EXPECT_LT(text.size(), 600u);
  EXPECT_THAT(text, HasSubstr("\\x01"));
  EXPECT_THAT(text, HasSubstr("more]"));

  Reply error;
  error.type = Reply::Type::kError;
  error.str = "WRONGTYPE Operation against a key";
  EXPECT_EQ(error.DebugString(), "error \"WRONGTYPE Operation against a key\"");
}

}  // namespace
}  // namespace utm::redis
