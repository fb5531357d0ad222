#include "services/common/pseudonym.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::pseudonym {
namespace {

using ::testing::HasSubstr;

std::string Key(char first) {
  std::string key(kKeyBytes, '\0');
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(first + i);
  return key;
}

TEST(Pseudonymizer, MatchesAnIndependentHmacSha256) {
  // Python's hmac.new(bytes(range(32)), b"utm-pseudonym-v1:operator-42",
  // hashlib.sha256).hexdigest(): the domain prefix and the MAC are as
  // documented, so another implementation can find the same records.
  absl::StatusOr<Pseudonymizer> p = Pseudonymizer::Create(Key(0));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Of("operator-42"),
            "fe8a6061bbcfd05ea00b3cd1d81963b1c926cb1392da2be20343bd9add5f9270");
}

TEST(Pseudonymizer, StableOverCallsAndDistinctOverIdsAndKeys) {
  absl::StatusOr<Pseudonymizer> a = Pseudonymizer::Create(Key(1));
  absl::StatusOr<Pseudonymizer> a_again = Pseudonymizer::Create(Key(1));
  absl::StatusOr<Pseudonymizer> b = Pseudonymizer::Create(Key(2));
  ASSERT_TRUE(a.ok() && a_again.ok() && b.ok());
  const std::string name = a->Of("alice");
  EXPECT_EQ(name.size(), kPseudonymChars);
  EXPECT_EQ(name, a_again->Of("alice"));
  EXPECT_NE(name, a->Of("alicf"));
  EXPECT_NE(name, a->Of(""));
  EXPECT_NE(name, b->Of("alice"));
  EXPECT_EQ(name.find("alice"), std::string::npos);
}

TEST(Pseudonymizer, RefusesAKeyOfTheWrongSize) {
  for (size_t size : {0, 16, 31, 33, 64}) {
    absl::StatusOr<Pseudonymizer> p =
        Pseudonymizer::Create(std::string(size, 'k'));
    ASSERT_FALSE(p.ok()) << size;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(), HasSubstr("32 bytes"));
  }
}

class LoadKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("pseudonym-test-", ::getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LoadKeyTest, CreatesThePrivateDataDirKeyOnceAndKeepsIt) {
  absl::StatusOr<std::string> first = LoadKey("", dir_.string());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), kKeyBytes);
  struct stat st;
  ASSERT_EQ(::stat((dir_ / kKeyFileName).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  absl::StatusOr<std::string> second = LoadKey("", dir_.string());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
}

TEST_F(LoadKeyTest, ReadsAGivenKeyAndNamesTheFlagWhenItIsBad) {
  ::setenv("UTM_PSEUDONYM_TEST_KEY", std::string(64, 'a').c_str(), 1);
  absl::StatusOr<std::string> key =
      LoadKey("env:UTM_PSEUDONYM_TEST_KEY", dir_.string());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, std::string(kKeyBytes, '\xaa'));
  // Nothing is created in the data directory when a key is given.
  EXPECT_FALSE(std::filesystem::exists(dir_ / kKeyFileName));

  ::setenv("UTM_PSEUDONYM_TEST_KEY", "abc", 1);
  key = LoadKey("env:UTM_PSEUDONYM_TEST_KEY", dir_.string());
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(key.status().message(), HasSubstr("--pseudonym-key"));
  EXPECT_THAT(key.status().message(), ::testing::Not(HasSubstr("abc")));
  ::unsetenv("UTM_PSEUDONYM_TEST_KEY");
}

}  // namespace
}  // namespace utm::pseudonym
