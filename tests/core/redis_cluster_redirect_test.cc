// Redis Cluster error replies (core/redis_cluster_redirect.h): the texts
// redis-server writes (cluster.c, clusterRedirectClient: "-%s %d %s:%d"),
// and every way one can be malformed.
#include "core/redis_cluster_redirect.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

const RedisHost kAnswered{"10.0.0.9", 7009};

RedisClusterReply classify(std::string_view text) {
  return classify_redis_cluster_error(text, kAnswered);
}

TEST(RedisClusterRedirect, MovedAndAskNameTheSlotAndTheNode) {
  RedisClusterReply moved = classify("MOVED 3999 127.0.0.1:6381");
  EXPECT_EQ(moved.error, RedisClusterError::kMoved);
  EXPECT_EQ(moved.slot, 3999);
  EXPECT_EQ(moved.target, (RedisHost{"127.0.0.1", 6381}));
  EXPECT_EQ(moved.why, "");

  RedisClusterReply ask = classify("ASK 16383 redis-2.internal:7000");
  EXPECT_EQ(ask.error, RedisClusterError::kAsk);
  EXPECT_EQ(ask.slot, 16383);
  EXPECT_EQ(ask.target, (RedisHost{"redis-2.internal", 7000}));

  RedisClusterReply zero = classify("-MOVED 0 h:1");  // with the RESP '-' too
  EXPECT_EQ(zero.error, RedisClusterError::kMoved);
  EXPECT_EQ(zero.slot, 0);
  EXPECT_EQ(zero.target, (RedisHost{"h", 1}));
}

TEST(RedisClusterRedirect, Ipv6EndpointsWithAndWithoutBrackets) {
  // What Redis writes: the address as it is, the port after the last colon.
  RedisClusterReply plain = classify("MOVED 12182 ::1:7000");
  EXPECT_EQ(plain.error, RedisClusterError::kMoved);
  EXPECT_EQ(plain.target, (RedisHost{"::1", 7000}));
  RedisClusterReply full = classify("ASK 1 2001:db8::17:30001");
  EXPECT_EQ(full.target, (RedisHost{"2001:db8::17", 30001}));
  RedisClusterReply bracketed = classify("MOVED 5 [fe80::1]:7001");
  EXPECT_EQ(bracketed.error, RedisClusterError::kMoved);
  EXPECT_EQ(bracketed.target, (RedisHost{"fe80::1", 7001}));
}

TEST(RedisClusterRedirect, AnEmptyEndpointIsTheNodeThatAnswered) {
  // cluster-preferred-endpoint-type unknown-endpoint: "MOVED 3999 :6381".
  RedisClusterReply r = classify("MOVED 3999 :6381");
  EXPECT_EQ(r.error, RedisClusterError::kMoved);
  EXPECT_EQ(r.target, (RedisHost{"10.0.0.9", 6381}));
}

TEST(RedisClusterRedirect, AMalformedRedirectSaysWhatIsWrong) {
  struct Case {
    std::string_view text;
    std::string_view why;
  };
  const Case cases[] = {
      {"MOVED", "MOVED: not <slot> <endpoint>:<port>"},
      {"MOVED 3999", "MOVED: not <slot> <endpoint>:<port>"},
      {"ASK 16384 h:1", "ASK: the slot is not a number from 0 to 16383"},
      {"MOVED -1 h:1", "MOVED: the slot is not a number from 0 to 16383"},
      {"MOVED +1 h:1", "MOVED: the slot is not a number from 0 to 16383"},
      {"MOVED 99999999999999999999 h:1", "MOVED: the slot is not a number from 0 to 16383"},
      {"MOVED x h:1", "MOVED: the slot is not a number from 0 to 16383"},
      {"MOVED  1 h:1", "MOVED: the slot is not a number from 0 to 16383"},
      {"MOVED 1 h", "MOVED: the address has no :port"},
      {"MOVED 1 h:0", "MOVED: the port is not a number from 1 to 65535"},
      {"MOVED 1 h:65536", "MOVED: the port is not a number from 1 to 65535"},
      {"MOVED 1 h:", "MOVED: the port is not a number from 1 to 65535"},
      {"MOVED 1 h:1 trailing", "MOVED: the port is not a number from 1 to 65535"},
      {"MOVED 1 h:1\r\n", "MOVED: the port is not a number from 1 to 65535"},
      {"MOVED 1  h:1", "MOVED: the endpoint ' h' is not a host name or address"},
      {"MOVED 1 a b:1", "MOVED: the endpoint 'a b' is not a host name or address"},
      {"MOVED 1 h\x01:1", "MOVED: the endpoint 'h?' is not a host name or address"},
      {"MOVED 1 []:1", "MOVED: the endpoint '[]' is not a host name or address"},
      {"ASK 1 ?:7000",
       "ASK: the endpoint is '?': the node is to be reached by a hostname it does not have "
       "(cluster-preferred-endpoint-type hostname)"},
  };
  for (const Case& c : cases) {
    RedisClusterReply r = classify(c.text);
    EXPECT_EQ(r.error, RedisClusterError::kBadRedirect) << c.text;
    EXPECT_EQ(r.why, c.why) << c.text;
    EXPECT_EQ(r.target, RedisHost{}) << c.text;
    EXPECT_EQ(redis_cluster_action(r.error), RedisClusterAction::kRefreshTopology);
  }
}

TEST(RedisClusterRedirect, TheOtherClusterErrorsAndTheirActions) {
  struct Case {
    std::string_view text;
    RedisClusterError error;
    RedisClusterAction action;
    std::string_view name;
  };
  const Case cases[] = {
      {"MOVED 1 h:1", RedisClusterError::kMoved, RedisClusterAction::kRedirect, "moved"},
      {"ASK 1 h:1", RedisClusterError::kAsk, RedisClusterAction::kAsking, "ask"},
      {"TRYAGAIN Multiple keys request during rehashing of slot", RedisClusterError::kTryAgain,
       RedisClusterAction::kRetryLater, "tryagain"},
      {"CLUSTERDOWN The cluster is down", RedisClusterError::kClusterDown,
       RedisClusterAction::kRetryLater, "clusterdown"},
      {"CLUSTERDOWN Hash slot not served", RedisClusterError::kClusterDown,
       RedisClusterAction::kRetryLater, "clusterdown"},
      {"CLUSTERDOWN", RedisClusterError::kClusterDown, RedisClusterAction::kRetryLater,
       "clusterdown"},
      {"CROSSSLOT Keys in request don't hash to the same slot", RedisClusterError::kCrossSlot,
       RedisClusterAction::kFail, "crossslot"},
      {"ERR unknown command 'FOO'", RedisClusterError::kNone, RedisClusterAction::kReturn, "none"},
      {"NOGROUP No such key 'events:chat' or consumer group", RedisClusterError::kNone,
       RedisClusterAction::kReturn, "none"},
      {"moved 1 h:1", RedisClusterError::kNone, RedisClusterAction::kReturn, "none"},
      {"MOVEDX 1 h:1", RedisClusterError::kNone, RedisClusterAction::kReturn, "none"},
      {"ASKING", RedisClusterError::kNone, RedisClusterAction::kReturn, "none"},
      {"", RedisClusterError::kNone, RedisClusterAction::kReturn, "none"},
      {"MOVED x", RedisClusterError::kBadRedirect, RedisClusterAction::kRefreshTopology,
       "bad_redirect"},
  };
  for (const Case& c : cases) {
    RedisClusterReply r = classify(c.text);
    EXPECT_EQ(r.error, c.error) << c.text;
    EXPECT_EQ(redis_cluster_action(r.error), c.action) << c.text;
    EXPECT_EQ(redis_cluster_error_name(r.error), c.name) << c.text;
  }
}

}  // namespace
}  // namespace streamshift
