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
  EXPECT_FALSE(plain->tls);
  EXPECT_FALSE(full->tls);
}

TEST(RedisUrl, RedissIsTlsWithTheSameShapeAndDefaultPort) {
  std::string why;
  auto bare = parse_redis_url("rediss://redis.internal", &why);
  ASSERT_TRUE(bare) << why;
  EXPECT_TRUE(bare->tls);
  EXPECT_EQ(bare->host, "redis.internal");
  EXPECT_EQ(bare->port, 6379);
  EXPECT_EQ(bare->db, 0);
  auto azure = parse_redis_url("rediss://:k%2Fey@cache.redis.cache.windows.net:6380/2", &why);
  ASSERT_TRUE(azure) << why;
  EXPECT_TRUE(azure->tls);
  EXPECT_EQ(azure->password, "k/ey");
  EXPECT_EQ(azure->port, 6380);
  EXPECT_EQ(azure->db, 2);
  auto acl = parse_redis_url("rediss://app:pw@[::1]:7000", &why);
  ASSERT_TRUE(acl) << why;
  EXPECT_TRUE(acl->tls);
  EXPECT_EQ(acl->user, "app");
  EXPECT_EQ(acl->host, "::1");
  EXPECT_EQ(redacted_redis_url(*acl), "rediss://app:****@[::1]:7000/0");
  EXPECT_EQ(redacted_redis_url(*bare), "rediss://redis.internal:6379/0");
}

TEST(RedisUrl, RejectsWithoutEchoingThePassword) {
  std::string why;
  EXPECT_FALSE(parse_redis_url("http://h", &why));
  EXPECT_EQ(why,
            "must start with redis://, rediss://, redis-sentinel://, rediss-sentinel://, "
            "redis-cluster:// or rediss-cluster://");
  EXPECT_FALSE(parse_redis_url("redisss://h", &why));
  EXPECT_FALSE(parse_redis_url("rediss://:topsecret@h/99", &why));
  EXPECT_EQ(why.find("topsecret"), std::string::npos);
  EXPECT_FALSE(parse_redis_url("redis://:topsecret@h/99", &why));
  EXPECT_EQ(why.find("topsecret"), std::string::npos);
  EXPECT_FALSE(parse_redis_url("redis://h:0", &why));
  EXPECT_FALSE(parse_redis_url("redis://", &why));
}

TEST(RedisUrl, RedactedUrlParsesBackToTheSameEndpoint) {
  std::string why;
  for (const char* url :
       {"redis://app%3A%40x:p%40ss@10.0.0.5:6380/3", "redis://:pw@[::1]:1/15", "redis://host",
        "redis://user:@host", "rediss://u:p@h:6380/1", "rediss://h"}) {
    auto ep = parse_redis_url(url, &why);
    ASSERT_TRUE(ep) << url << ": " << why;
    std::string shown = redacted_redis_url(*ep);
    auto back = parse_redis_url(shown, &why);
    ASSERT_TRUE(back) << shown << ": " << why;
    EXPECT_EQ(back->user, ep->user) << shown;
    EXPECT_EQ(back->host, ep->host) << shown;
    EXPECT_EQ(back->port, ep->port) << shown;
    EXPECT_EQ(back->db, ep->db) << shown;
    EXPECT_EQ(back->tls, ep->tls) << shown;
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
  for (std::string_view url :
       {std::string_view("redis://ho st:6379"), std::string_view("redis://host\n:6379"),
        std::string_view("redis://h\0st", 12), std::string_view("redis://h\x7fst"),
        std::string_view("redis://\xbfhost")}) {
    EXPECT_FALSE(parse_redis_url(url, &why)) << url;
  }
  EXPECT_TRUE(parse_redis_url("redis://redis.internal:6380/1", &why)) << why;
  EXPECT_TRUE(parse_redis_url("redis://[::1]:6380", &why)) << why;
}

TEST(RedisUrl, SentinelListsTheSentinelsAndTheMasterName) {
  std::string why;
  auto one = parse_redis_url("redis-sentinel://sentinel#mymaster", &why);
  ASSERT_TRUE(one) << why;
  EXPECT_TRUE(one->sentinel_mode());
  EXPECT_FALSE(one->tls);
  ASSERT_EQ(one->sentinels.size(), 1u);
  EXPECT_EQ(one->sentinels[0], (RedisHost{"sentinel", 26379}));
  EXPECT_EQ(one->master_name, "mymaster");
  EXPECT_EQ(one->db, 0);
  EXPECT_TRUE(one->host.empty());
  EXPECT_EQ(redacted_redis_url(*one), "redis-sentinel://sentinel:26379/0#mymaster");

  auto many =
      parse_redis_url("rediss-sentinel://app:p%40ss@10.0.0.1:5000,[::1],s3:26380/4#cache-1", &why);
  ASSERT_TRUE(many) << why;
  EXPECT_TRUE(many->tls);
  EXPECT_EQ(many->user, "app");
  EXPECT_EQ(many->password, "p@ss");
  EXPECT_EQ(many->db, 4);
  ASSERT_EQ(many->sentinels.size(), 3u);
  EXPECT_EQ(many->sentinels[0], (RedisHost{"10.0.0.1", 5000}));
  EXPECT_EQ(many->sentinels[1], (RedisHost{"::1", 26379}));
  EXPECT_EQ(many->sentinels[2], (RedisHost{"s3", 26380}));
  EXPECT_EQ(many->master_name, "cache-1");
  std::string shown = redacted_redis_url(*many);
  EXPECT_EQ(shown, "rediss-sentinel://app:****@10.0.0.1:5000,[::1]:26379,s3:26380/4#cache-1");
  auto back = parse_redis_url(shown, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->sentinels, many->sentinels);
  EXPECT_EQ(back->master_name, many->master_name);
  EXPECT_EQ(back->db, 4);
  EXPECT_TRUE(back->tls);

  // Standalone URLs have no sentinels.
  auto plain = parse_redis_url("redis://h:1/2", &why);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->sentinel_mode());
}

TEST(RedisUrl, SentinelWithoutMasterNameOrHostsIsAClearError) {
  std::string why;
  EXPECT_FALSE(parse_redis_url("redis-sentinel://s1:26379,s2:26379/0", &why));
  EXPECT_EQ(why, "a sentinel URL ends with #master-name (the name the Sentinels monitor)");
  EXPECT_FALSE(parse_redis_url("redis-sentinel://s1#", &why));
  EXPECT_EQ(why, "a sentinel URL ends with #master-name (the name the Sentinels monitor)");
  EXPECT_FALSE(parse_redis_url("redis-sentinel://:topsecret@/0#m", &why));
  EXPECT_EQ(why, "a sentinel URL lists at least one Sentinel host[:port]");
  EXPECT_FALSE(parse_redis_url("redis-sentinel://s1,,s3#m", &why));
  EXPECT_EQ(why, "Sentinel 2: host is missing");
  EXPECT_FALSE(parse_redis_url("redis-sentinel://:topsecret@s1:99999#m", &why));
  EXPECT_EQ(why, "Sentinel 1: host or port is malformed");
  EXPECT_NE(kRedisUrlFormat.find("redis[s]-sentinel://"), std::string_view::npos);
  EXPECT_NE(kRedisUrlFormat.find("#master-name"), std::string_view::npos);
}

TEST(RedisUrl, ClusterListsTheSeedNodes) {
  std::string why;
  auto one = parse_redis_url("redis-cluster://node-1", &why);
  ASSERT_TRUE(one) << why;
  EXPECT_EQ(one->mode(), RedisMode::kCluster);
  EXPECT_TRUE(one->cluster_mode());
  EXPECT_FALSE(one->sentinel_mode());
  EXPECT_FALSE(one->tls);
  EXPECT_EQ(one->cluster_seeds, (std::vector<RedisHost>{{"node-1", 6379}}));
  EXPECT_TRUE(one->host.empty());
  EXPECT_EQ(one->db, 0);
  EXPECT_EQ(redacted_redis_url(*one), "redis-cluster://node-1:6379/0");

  auto many = parse_redis_url("rediss-cluster://app:p%40ss@10.0.0.1:7000,[::1],n3:7002/0", &why);
  ASSERT_TRUE(many) << why;
  EXPECT_TRUE(many->tls);
  EXPECT_EQ(many->user, "app");
  EXPECT_EQ(many->password, "p@ss");
  EXPECT_EQ(many->cluster_seeds,
            (std::vector<RedisHost>{{"10.0.0.1", 7000}, {"::1", 6379}, {"n3", 7002}}));
  std::string shown = redacted_redis_url(*many);
  EXPECT_EQ(shown, "rediss-cluster://app:****@10.0.0.1:7000,[::1]:6379,n3:7002/0");
  auto back = parse_redis_url(shown, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->cluster_seeds, many->cluster_seeds);
  EXPECT_EQ(back->user, "app");
  EXPECT_TRUE(back->tls);

  auto slash = parse_redis_url("redis-cluster://:pw@a:1,b:2/", &why);
  ASSERT_TRUE(slash) << why;
  EXPECT_EQ(redacted_redis_url(*slash), "redis-cluster://:****@a:1,b:2/0");

  EXPECT_EQ(parse_redis_url("redis://h", &why)->mode(), RedisMode::kStandalone);
  EXPECT_EQ(parse_redis_url("redis-sentinel://s#m", &why)->mode(), RedisMode::kSentinel);
  EXPECT_FALSE(parse_redis_url("redis-sentinel://s#m", &why)->cluster_mode());
}

TEST(RedisUrl, ClusterRefusesAnotherDatabaseAndAnEmptySeedList) {
  std::string why;
  EXPECT_FALSE(parse_redis_url("redis-cluster://:topsecret@a:1,b:2/3", &why));
  EXPECT_EQ(why, "Redis Cluster has only database 0: end the URL with /0 or with the last host");
  EXPECT_FALSE(parse_redis_url("rediss-cluster://a/99", &why));
  EXPECT_EQ(why, "Redis Cluster has only database 0: end the URL with /0 or with the last host");
  EXPECT_FALSE(parse_redis_url("redis-cluster://:topsecret@/0", &why));
  EXPECT_EQ(why, "a cluster URL lists at least one seed node host[:port]");
  EXPECT_EQ(why.find("topsecret"), std::string::npos);
  EXPECT_FALSE(parse_redis_url("redis-cluster://a,,c", &why));
  EXPECT_EQ(why, "seed node 2: host is missing");
  EXPECT_FALSE(parse_redis_url("redis-cluster://a:1,b:99999", &why));
  EXPECT_EQ(why, "seed node 2: host or port is malformed");
  EXPECT_FALSE(parse_redis_url("redis-cluster://a#m", &why));
  EXPECT_EQ(why, "seed node 1: host has a character no host name or address has");
  EXPECT_FALSE(parse_redis_url("redis-clusters://a", &why));
  EXPECT_NE(kRedisUrlFormat.find("redis[s]-cluster://"), std::string_view::npos);
  EXPECT_NE(kRedisUrlFormat.find("[/0]"), std::string_view::npos);
}

TEST(RedisUrl, BracketsArePartOfNoHostName) {
  EXPECT_TRUE(plausible_redis_host("redis-1.internal"));
  EXPECT_TRUE(plausible_redis_host("::1"));
  for (std::string_view host : {"", "a[b", "a]", "a b", "a,b", "a?b"}) {
    EXPECT_FALSE(plausible_redis_host(host)) << host;
  }
}

}  // namespace
}  // namespace streamshift
