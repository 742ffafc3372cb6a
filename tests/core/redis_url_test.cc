#include "core/redis_url.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(RedisUrl, AllShapes) {
  std::string why;
  auto plain = parse_redis_url("redis://localhost", &why);
  ASSERT_TRUE(plain) << why;
  EXPECT_EQ(plain->host, "localhost");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  auto full = parse_redis_url("redis://app:p%40ss@10.0.0.5:6380/3", &why);
  ASSERT_TRUE(full) << why;
  EXPECT_EQ(full->user, "app");
  EXPECT_EQ(full->password, "p@ss");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->db, 3);
  auto pw_only = parse_redis_url("redis://:secret@h:1/", &why);
  ASSERT_TRUE(pw_only);
  EXPECT_EQ(pw_only->user, "");
  EXPECT_EQ(pw_only->password, "secret");
  auto v6 = parse_redis_url("redis://[::1]:6390", &why);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
}

TEST(RedisUrl, RejectsWithoutEchoingThePassword) {
  std::string why;
  EXPECT_FALSE(parse_redis_url("rediss://h", &why));
  EXPECT_NE(why.find("TLS"), std::string::npos);
  EXPECT_FALSE(parse_redis_url("http://h", &why));
  EXPECT_FALSE(parse_redis_url("redis://:topsecret@h/99", &why));
  EXPECT_EQ(why.find("topsecret"), std::string::npos);
  EXPECT_FALSE(parse_redis_url("redis://h:0", &why));
  EXPECT_FALSE(parse_redis_url("redis://", &why));
}

TEST(RedisUrl, RedactedUrlParsesBackToTheSameEndpoint) {
  std::string why;
  for (const char* url : {"redis://app%3A%40x:p%40ss@10.0.0.5:6380/3", "redis://:pw@[::1]:1/15",
                          "redis://host", "redis://user:@host"}) {
    auto ep = parse_redis_url(url, &why);
    ASSERT_TRUE(ep) << url << ": " << why;
    std::string shown = redacted_redis_url(*ep);
    auto back = parse_redis_url(shown, &why);
    ASSERT_TRUE(back) << shown << ": " << why;
    EXPECT_EQ(back->user, ep->user) << shown;
    EXPECT_EQ(back->host, ep->host) << shown;
    EXPECT_EQ(back->port, ep->port) << shown;
    EXPECT_EQ(back->db, ep->db) << shown;
    EXPECT_EQ(back->password, ep->password.empty() ? "" : "****") << shown;
  }
  auto ep = parse_redis_url("redis://app%3A%40x:p%40ss@10.0.0.5:6380/3", &why);
  EXPECT_EQ(redacted_redis_url(*ep), "redis://app%3A%40x:****@10.0.0.5:6380/3");
}

}  // namespace
}  // namespace streamshift

namespace streamshift {
namespace {

TEST(RedisUrl, AHostWithControlBytesOrSpacesIsRefused) {
  std::string why;
  for (std::string_view url : {std::string_view("redis://ho st:6379"),
                               std::string_view("redis://host\n:6379"),
                               std::string_view("redis://h\0st", 12), std::string_view("redis://h\x7fst"),
                               std::string_view("redis://\xbfhost")}) {
    EXPECT_FALSE(parse_redis_url(url, &why)) << url;
  }
  EXPECT_TRUE(parse_redis_url("redis://redis.internal:6380/1", &why)) << why;
  EXPECT_TRUE(parse_redis_url("redis://[::1]:6380", &why)) << why;
}

}  // namespace
}  // namespace streamshift
