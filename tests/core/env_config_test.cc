#include "core/env_config.h"

#include <gtest/gtest.h>

#include <map>

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
  env.text("URL", "", "", Visibility::kUrlPassword);
  env.reject("TOKEN", "s3cret", "anything", Visibility::kSecret);
  EXPECT_EQ(env.entries()[0].shown_value, "****");
  EXPECT_EQ(env.entries()[1].shown_value, "redis://user:****@host:6379/0");
  EXPECT_EQ(env.errors()[0].value, "****");
  EXPECT_EQ(env.error_report().find("s3cret"), std::string::npos);
}

TEST(MaskUrlSecret, HandlesEveryShape) {
  EXPECT_EQ(mask_url_secret("redis://host:6379"), "redis://host:6379");
  EXPECT_EQ(mask_url_secret("redis://:pw@host:6379"), "redis://:****@host:6379");
  EXPECT_EQ(mask_url_secret("redis://pw@host"), "redis://****@host");
  EXPECT_EQ(mask_url_secret("http://host/path@x"), "http://host/path@x");
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
