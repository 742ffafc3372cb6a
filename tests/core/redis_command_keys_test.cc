// The routing key of each command the programs send to a cluster.
#include "core/redis_command_keys.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace streamshift {
namespace {

std::optional<std::string> key_of(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  std::optional<std::string_view> key =
      redis_command_key(static_cast<int>(args.size()), argv.data(), lens.data());
  if (!key) return std::nullopt;
  return std::string(*key);
}

TEST(RedisCommandKeys, SingleKeyCommandsRouteByTheirFirstArgument) {
  for (const char* name :
       {"XADD",      "XACK",   "XAUTOCLAIM", "XCLAIM", "XPENDING", "XLEN", "XRANGE",
        "XREVRANGE", "XTRIM",  "XDEL",       "XSETID", "GET",      "SET",  "DEL",
        "EXISTS",    "EXPIRE", "PEXPIRE",    "TTL",    "TYPE",     "MGET"}) {
    EXPECT_EQ(key_of({name, "events:chat", "x", "y"}), "events:chat") << name;
  }
  EXPECT_EQ(key_of({"xadd", "s", "*", "f", "v"}), "s");
  EXPECT_EQ(key_of({"XaDd", "s", "*", "f", "v"}), "s");
}

TEST(RedisCommandKeys, SubcommandsRouteByTheirSecondArgument) {
  EXPECT_EQ(key_of({"XINFO", "STREAM", "events:chat"}), "events:chat");
  EXPECT_EQ(key_of({"XGROUP", "CREATE", "events:chat", "g", "$", "MKSTREAM"}), "events:chat");
  EXPECT_EQ(key_of({"xgroup", "createconsumer", "s", "g", "c"}), "s");
}

TEST(RedisCommandKeys, ScriptsRouteByTheirFirstKeyAndWithoutKeysGoAnywhere) {
  EXPECT_EQ(key_of({"EVAL", "return 1", "2", "a", "b", "arg"}), "a");
  EXPECT_EQ(key_of({"EVALSHA", "abc", "1", "k"}), "k");
  EXPECT_EQ(key_of({"FCALL", "f", "1", "k", "arg"}), "k");
  EXPECT_EQ(key_of({"EVAL", "return 1", "0", "arg"}), std::nullopt);
  EXPECT_EQ(key_of({"EVAL", "return 1", "x", "arg"}), std::nullopt);
  EXPECT_EQ(key_of({"EVAL", "return 1", "1"}), std::nullopt);
}

TEST(RedisCommandKeys, StreamReadsRouteByTheFirstKeyAfterStreams) {
  EXPECT_EQ(key_of({"XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "BLOCK", "100", "STREAMS",
                    "a:{s1}", "b:{s1}", ">", ">"}),
            "a:{s1}");
  EXPECT_EQ(key_of({"xread", "count", "1", "streams", "s", "0"}), "s");
  EXPECT_EQ(key_of({"XREAD", "COUNT", "1", "STREAMS"}), std::nullopt);
}

// A group or consumer named "streams", or a COUNT or BLOCK of that value
// (not a number: Redis refuses it, routed anywhere), is not the STREAMS
// keyword.
TEST(RedisCommandKeys, StreamsIsTheKeywordNotAGroupConsumerOrOptionValue) {
  EXPECT_EQ(key_of({"XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s", ">"}), "s");
  EXPECT_EQ(key_of({"XREADGROUP", "GROUP", "g", "streams", "STREAMS", "s", ">"}), "s");
  EXPECT_EQ(
      key_of({"XREADGROUP", "GROUP", "streams", "streams", "COUNT", "1", "STREAMS", "s", ">"}),
      "s");
  EXPECT_EQ(key_of({"xreadgroup", "group", "g", "c", "block", "streams", "streams", "s", ">"}),
            "s");
  EXPECT_EQ(key_of({"XREAD", "COUNT", "streams", "STREAMS", "s", "0"}), "s");
  EXPECT_EQ(key_of({"XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "s", ">"}), "s");
  EXPECT_EQ(key_of({"XREADGROUP", "GROUP", "streams", "c"}), std::nullopt);
}

TEST(RedisCommandKeys, EverythingElseAndShortCommandsAreKeyless) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"PING"},
                                             {"WAIT", "1", "100"},
                                             {"INFO", "replication"},
                                             {"CLUSTER", "SLOTS"},
                                             {"ROLE"},
                                             {"SCRIPT", "LOAD", "return 1"},
                                             {"GET"},
                                             {"XINFO", "STREAM"},
                                             {"GETX", "k"}}) {
    EXPECT_EQ(key_of(args), std::nullopt) << args[0];
  }
  EXPECT_EQ(redis_command_key(0, nullptr, nullptr), std::nullopt);
}

}  // namespace
}  // namespace streamshift
