// Reading all of a Redis, for the tests that prove what is (not) kept in it:
// every key and every value under it, read by the key's type, and the keys
// matching a pattern. Header-only; the test links utm_redis.
//
// Typical usage:
//   std::string all = test_util::AllOfRedis(**client);
//   EXPECT_THAT(all, Not(HasSubstr(operator_id)));
//   EXPECT_THAT(test_util::RedisKeys(addr, "{utm}:flog:*"), IsEmpty());
#ifndef UTM_TESTS_REDIS_SCAN_UTIL_H_
#define UTM_TESTS_REDIS_SCAN_UTIL_H_

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/redis/redis_client.h"

namespace utm::test_util {

// Every key of the Redis and every value under it, read by its type, each
// string of a reply (however nested) on a line of its own. A key of a type
// it cannot read fails the test.
inline std::string AllOfRedis(redis::Client& c) {
  std::string all;
  std::string cursor = "0";
  for (int page = 0; page < 10000; ++page) {
    absl::StatusOr<redis::Reply> r =
        c.Command({"SCAN", cursor, "COUNT", "1000"});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->elements.size() != 2) break;
    cursor = r->elements[0].str;
    for (const redis::Reply& key : r->elements[1].elements) {
      absl::StrAppend(&all, "\n", key.str, "\n");
      absl::StatusOr<redis::Reply> type = c.Command({"TYPE", key.str});
      if (!type.ok()) continue;
      std::vector<std::string> read;
      if (type->str == "string") read = {"GET", key.str};
      if (type->str == "hash") read = {"HGETALL", key.str};
      if (type->str == "list") read = {"LRANGE", key.str, "0", "-1"};
      if (type->str == "set") read = {"SMEMBERS", key.str};
      if (type->str == "zset") {
        read = {"ZRANGE", key.str, "0", "-1", "WITHSCORES"};
      }
      if (type->str == "stream") read = {"XRANGE", key.str, "-", "+"};
      EXPECT_FALSE(read.empty()) << "a key of type " << type->str;
      if (read.empty()) continue;
      absl::StatusOr<redis::Reply> value = c.Command(read);
      if (!value.ok()) continue;
      std::vector<const redis::Reply*> todo = {&*value};
      while (!todo.empty()) {
        const redis::Reply* v = todo.back();
        todo.pop_back();
        absl::StrAppend(&all, v->str, "\n");
        for (const redis::Reply& e : v->elements) todo.push_back(&e);
      }
    }
    if (cursor == "0") break;
  }
  return all;
}

// The keys matching `pattern` (KEYS) in the Redis at `addr`, sorted.
inline std::vector<std::string> RedisKeys(const std::string& addr,
                                          const std::string& pattern) {
  redis::ClientOptions o;
  o.addr = addr;
  absl::StatusOr<std::unique_ptr<redis::Client>> c = redis::Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  std::vector<std::string> keys;
  if (!c.ok()) return keys;
  absl::StatusOr<redis::Reply> r = (*c)->Command({"KEYS", pattern});
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return keys;
  for (const redis::Reply& e : r->elements) keys.push_back(e.str);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace utm::test_util

#endif  // UTM_TESTS_REDIS_SCAN_UTIL_H_
