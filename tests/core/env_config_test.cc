#include "core/env_config.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "tests/support/env_map.h"

namespace streamshift {
namespace {

using testing::env_from;

TEST(EnvReader, IntegerDefaultsAndRanges) {
  auto env =
      env_from({{"IN_RANGE", "42"}, {"TOO_BIG", "101"}, {"NOT_A_NUMBER", "4x"}, {"EMPTY", ""}});
  EXPECT_EQ(env.integer("UNSET", 7, 0, 100, ""), 7);
  EXPECT_EQ(env.integer("IN_RANGE", 7, 0, 100, ""), 42);
  EXPECT_EQ(env.integer("TOO_BIG", 7, 0, 100, ""), 7);
  EXPECT_EQ(env.integer("NOT_A_NUMBER", 7, 0, 100, ""), 7);
  EXPECT_EQ(env.integer("EMPTY", 7, 0, 100, ""), 7);
  ASSERT_EQ(env.errors().size(), 3u);
  EXPECT_EQ(env.errors()[0].name, "TOO_BIG");
  EXPECT_EQ(env.errors()[0].value, "101");
  EXPECT_EQ(env.errors()[0].allowed, "an integer from 0 to 100");
  EXPECT_NE(env.error_report().find("NOT_A_NUMBER=\"4x\""), std::string::npos);
  EXPECT_EQ(env.entries().size(), 5u);
}

TEST(EnvReader, BooleansAcceptCommonSpellings) {
  auto env = env_from({{"A", "TRUE"}, {"B", "0"}, {"C", "yes"}, {"D", "maybe"}});
  EXPECT_TRUE(env.boolean("A", false, ""));
  EXPECT_FALSE(env.boolean("B", true, ""));
  EXPECT_TRUE(env.boolean("C", false, ""));
  EXPECT_TRUE(env.boolean("D", true, ""));
  ASSERT_EQ(env.errors().size(), 1u);
  EXPECT_EQ(env.errors()[0].name, "D");
}

TEST(EnvReader, ChoiceIsCaseInsensitive) {
  auto env = env_from({{"LEVEL", "DEBUG"}, {"BAD", "loud"}});
  EXPECT_EQ(env.choice("LEVEL", "info", {"debug", "info"}, ""), "debug");
  EXPECT_EQ(env.choice("BAD", "info", {"debug", "info"}, ""), "info");
  ASSERT_EQ(env.errors().size(), 1u);
  EXPECT_EQ(env.errors()[0].allowed, "one of debug info");
}

TEST(EnvReader, SecretsAreMaskedInEntriesAndErrors) {
  auto env = env_from({{"TOKEN", "s3cret"}, {"URL", "redis://user:pw@host:6379/0"}});
  env.text("TOKEN", "", "", Visibility::kSecret);
  env.redis_url("URL", "", "");
  env.reject("TOKEN", "s3cret", "anything", Visibility::kSecret);
  EXPECT_EQ(env.entries()[0].shown_value, "****");
  EXPECT_EQ(env.entries()[1].shown_value, "redis://user:****@host:6379/0");
  EXPECT_EQ(env.errors()[0].value, "****");
  EXPECT_EQ(env.error_report().find("s3cret"), std::string::npos);
}

// What REDIS_URL shows (check-config, config errors, the "invalid
// configuration" log) for one value: the entry and the error report.
std::string shown_redis_url(const std::string& url, bool* valid = nullptr) {
  auto env = env_from({{"REDIS_URL", url}});
  bool ok = env.redis_url("REDIS_URL", "redis://127.0.0.1:6379/0", "").has_value();
  if (valid != nullptr) *valid = ok;
  return env.entries().at(0).shown_value + "\n" + env.error_report();
}

// The masking followed the first "/" and the first "@" while the parser
// takes the last "@": these printed the password.
TEST(EnvReader, RedisUrlIsShownFromTheParsedEndpoint) {
  EXPECT_EQ(shown_redis_url("redis://:Zm9v/YmFyc2VjcmV0@127.0.0.1:16379/0"),
            "redis://:****@127.0.0.1:16379/0\n");
  EXPECT_EQ(shown_redis_url("redis://:p@ssw0rdXYZ@redis:6379"), "redis://:****@redis:6379/0\n");
  EXPECT_EQ(shown_redis_url("redis://p@ssw0rdXYZ@redis"), "redis://:****@redis:6379/0\n");
  EXPECT_EQ(shown_redis_url("redis://:s://:*secret@host:6380/2"), "redis://:****@host:6380/2\n");
  EXPECT_EQ(shown_redis_url("redis://app%3Aone:pw@[::1]:7000/3"),
            "redis://app%3Aone:****@[::1]:7000/3\n");
  EXPECT_EQ(shown_redis_url("redis://h"), "redis://h:6379/0\n");
  EXPECT_EQ(shown_redis_url("rediss://:s://:*secret@host:6380/2"), "rediss://:****@host:6380/2\n");
}

TEST(EnvReader, AnInvalidUrlShowsOnlyItsSchemeAndLength) {
  bool valid = true;
  std::string shown = shown_redis_url("redis://:topsecret@h/99", &valid);
  EXPECT_FALSE(valid);
  EXPECT_EQ(shown,
            "redis://<invalid, 23 bytes>\nREDIS_URL=\"redis://<invalid, 23 bytes>\": invalid, "
            "allowed: " +
                std::string(kRedisUrlFormat) + ": database must be a number from 0 to 15\n");
  // A bare password, or a URL missing its scheme: nothing of it.
  EXPECT_EQ(shown_redis_url("hunter2hunter2").find("hunter"), std::string::npos);
  EXPECT_EQ(shown_redis_url(":s3cr3t@redis:6379").find("s3cr3t"), std::string::npos);
  EXPECT_EQ(shown_redis_url("rediss://:s3cr3t@redis:6379/16").substr(0, 28),
            "rediss://<invalid, 30 bytes>");
  EXPECT_EQ(shown_redis_url("redis-cluster://:s3cr3t@a:1/2").substr(0, 36),
            "redis-cluster://<invalid, 29 bytes>\n");
  EXPECT_EQ(shown_redis_url("rediss-cluster://:s3cr3t@a,,b").substr(0, 37),
            "rediss-cluster://<invalid, 29 bytes>\n");

  auto env =
      env_from({{"UP", "http://user:s3cr3t@signalr:5000"}, {"OK", "http://signalr:80/api/"}});
  EXPECT_FALSE(env.http_url("UP", "http://127.0.0.1:5000", ""));
  ASSERT_TRUE(env.http_url("OK", "http://127.0.0.1:5000", ""));
  EXPECT_EQ(env.entries()[0].shown_value, "http://<invalid, 31 bytes>");
  EXPECT_EQ(env.entries()[1].shown_value, "http://signalr:80/api");
  EXPECT_EQ(env.error_report().find("s3cr3t"), std::string::npos) << env.error_report();
}

// Many generated REDIS_URL values, valid and not: no 3-byte run of the
// password (as written, or percent-decoded) appears in what is shown,
// unless it is also part of what is public anyway (host, port, user...).
TEST(EnvReader, NoPasswordBytesSurviveMaskingOfGeneratedUrls) {
  const std::string kParseErrors =
      "must start with redis://, rediss://, redis-sentinel:// or rediss-sentinel://\ndatabase must "
      "be a number from 0 to 15\nhost is "
      "missing\nhost or port is malformed";
  std::mt19937_64 rng(7);
  const std::string alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@/:%*?#[]!$&'()+,;= "
      "~\t\xc3\xa9";
  const std::vector<std::string> hosts = {"127.0.0.1", "redis", "redis.default.svc", "[::1]",
                                          "10.0.0.5"};
  const std::vector<std::string> tails = {"", ":6379", ":16379/0", "/", "/15", ":1/2"};
  const std::vector<std::string> bad_tails = {":99999", "/99", ":0", ":port", "/x"};
  int checked = 0, valid_count = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string password;
    size_t len = 3 + rng() % 22;
    for (size_t i = 0; i < len; ++i) password += alphabet[rng() % alphabet.size()];
    if (rng() % 6 == 0) password.insert(rng() % password.size(), rng() % 2 ? "://" : "@/");
    std::string user;
    int shape = static_cast<int>(rng() % 3);
    if (shape == 1)
      for (size_t i = 0, n = 1 + rng() % 8; i < n; ++i) user += "abcdefgh0123._-"[rng() % 15];
    if (shape == 2 && password.find(':') != std::string::npos) shape = 0;  // else user:password
    std::string scheme = "redis://";
    switch (rng() % 10) {
      case 0:
        scheme = "rediss://";
        break;
      case 1:
        scheme = "";
        break;
      case 2:
        scheme = "http://";
        break;
      default:
        break;
    }
    std::string prefix = scheme + (shape == 0 ? ":" : shape == 1 ? user + ":" : "");
    std::string suffix =
        "@" + hosts[rng() % hosts.size()] +
        (rng() % 5 == 0 ? bad_tails[rng() % bad_tails.size()] : tails[rng() % tails.size()]);
    std::string url = prefix + password + suffix;
    bool valid = false;
    std::string shown = shown_redis_url(url, &valid);
    valid_count += valid;

    std::string decoded, why;
    if (auto ep = parse_redis_url(url, &why)) decoded = ep->password;
    // What any output may hold besides the password: the rest of the URL,
    // the defaults, and the fixed words of the masking and of the errors.
    std::string public_text =
        prefix + "\n" + suffix + "\n" + std::to_string(url.size()) +
        " bytes>\n:6379/0\n<invalid, ****@\nREDIS_URL=\"\": invalid, allowed: " +
        std::string(kRedisUrlFormat) + kParseErrors;
    for (const std::string& secret : {password, decoded}) {
      for (size_t i = 0; i + 3 <= secret.size(); ++i) {
        std::string run = secret.substr(i, 3);
        if (public_text.find(run) != std::string::npos) continue;
        EXPECT_EQ(shown.find(run), std::string::npos)
            << "password bytes '" << run << "' of " << url << " shown as: " << shown;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20000);
  EXPECT_GT(valid_count, 1000);
}

}  // namespace
}  // namespace streamshift

namespace streamshift {
namespace {

TEST(EnvReader, ListsAreTrimmedAndSkipEmptyItems) {
  auto env = testing::env_from({{"L", " a, b ,,c "}});
  EXPECT_EQ(env.list("L", "x", ""), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(env.list("UNSET", "x,y", ""), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(env.entries().back().shown_value, "x,y");
}

}  // namespace
}  // namespace streamshift
