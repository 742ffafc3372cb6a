// The sender with fake links and a hand-moved clock: the rollout's choice, the XADD's one
// completion, fallbacks, 503s, the circuit and dual write, for fresh and held events alike.
#include "proxy/event_sender.h"

#include <gtest/gtest.h>

#include "proxy/rollout.h"
#include "tests/proxy/event_fakes.h"

namespace streamshift::testing {
namespace {

class EventSenderTest : public EventPathTest<::testing::TestWithParam<bool>> {
 protected:
  EventSenderTest() {
    settings_.circuit_failures = 2;
    settings_.circuit_open_ms = 5000;
  }

  // A chat_message event in `room`; held (the coalescer's copy) when `held`.
  Event event(const std::string& id, bool held, const std::string& room = "r1") {
    Event e(&client_, keep(post("/internal/broadcast/chat", "{\"n\":\"" + id + "\"}")), "10.0.0.7");
    e.stream = "events:chat";
    e.fields.event_id = id;
    e.fields.event_type = "chat_message";
    e.fields.room_id = room;
    e.ts_ms = 1700000000000;
    e.type = counts().accounting.type("chat_message");
    return held ? e.hold() : std::move(e);
  }
  void send(const std::string& id, bool held, const std::string& room = "r1") {
    sender().send(event(id, held, room));
  }
  uint64_t typed(Outcome o) { return counts().of_type("chat_message", o); }
  // The one answer the client got.
  void expect_reply(int status, const std::string& body, const std::string& headers) {
    ASSERT_EQ(links_.replies.size(), 1u);
    EXPECT_EQ(links_.replies[0].client, &client_);
    EXPECT_EQ(links_.replies[0].answer.status, status);
    EXPECT_EQ(links_.replies[0].answer.body, body);
    EXPECT_EQ(links_.replies[0].answer.headers, headers);
  }
};

TEST_F(EventSenderTest, StoredWithTheEntryIdIsAnswered202Accepted) {
  settings_.ack_status = 201;
  send("e1", false);
  ASSERT_EQ(links_.xadds.size(), 1u);
  EXPECT_EQ(links_.xadds[0].stream, "events:chat");
  EXPECT_EQ(links_.xadds[0].body, "{\"n\":\"e1\"}");
  links_.store(0, "1-0");
  expect_reply(201,
               "{\"status\":\"accepted\",\"transport\":\"redis_streams\",\"stream\":"
               "\"events:chat\",\"id\":\"1-0\",\"event_id\":\"e1\"}",
               "X-Event-Transport: redis_streams\r\nX-Event-Id: e1\r\n");
  EXPECT_EQ(typed(Outcome::kStored), 1u);
  EXPECT_EQ(counts().get(Outcome::kStored), 1u);
  EXPECT_EQ(counts().sample("events_published_total{event_type=\"chat_message\",status=\"success\","
                            "transport=\"redis_streams\"}"),
            1.0);
}

TEST_F(EventSenderTest, RolloutZeroPercentGoesOverHttpWithTheEventHeaders) {
  settings_.redis_percentage = 0;
  send("e1", false);
  EXPECT_TRUE(links_.xadds.empty());
  ASSERT_EQ(links_.forwards.size(), 1u);
  EXPECT_EQ(links_.forwards[0].headers, "X-Event-Transport: http\r\nX-Event-Id: e1\r\n");
  EXPECT_EQ(links_.forwards[0].event_id, "e1");
  EXPECT_EQ(links_.forwards[0].tally.type, counts().accounting.type("chat_message"));
  EXPECT_FALSE(links_.forwards[0].tally.dual_write);
  EXPECT_EQ(counts().get(Outcome::kHttpRouted), 1u);
}

TEST_F(EventSenderTest, RolloutByRoomSendsEachRoomTheSameWay) {
  settings_.redis_percentage = 50;
  std::string low, high;  // a room in the Redis half, one in the HTTP half
  for (int i = 0; low.empty() || high.empty(); ++i) {
    std::string room = "room-" + std::to_string(i);
    (room_bucket(room) < 50 ? low : high) = room;
  }
  for (int n = 0; n < 3; ++n) {
    send("l" + std::to_string(n), false, low);
    send("h" + std::to_string(n), false, high);
  }
  ASSERT_EQ(links_.xadds.size(), 3u);
  for (const auto& x : links_.xadds) EXPECT_EQ(x.room_id, low);
  EXPECT_EQ(links_.forwards.size(), 3u);
}

TEST_F(EventSenderTest, NoRedisClientMeansHttp) {
  links_.redis = false;
  send("e1", false);
  EXPECT_TRUE(links_.xadds.empty());
  EXPECT_EQ(links_.forwards.size(), 1u);
}

TEST_F(EventSenderTest, WithTheFallbackOffAFreshEventIsRefused503) {
  settings_.fallback_to_http = false;
  send("e1", false);
  links_.complete(0, {RedisStatus::kErrorReply, nullptr, "OOM command not allowed"});
  expect_reply(503,
               "{\"error\":\"redis_unavailable\",\"reason\":\"redis_error\",\"detail\":"
               "\"error_reply: OOM command not allowed\",\"event_id\":\"e1\"}",
               "X-Event-Transport: redis_streams\r\nX-Event-Id: e1\r\n");
  EXPECT_EQ(counts().get(Outcome::kRefused), 1u);
  EXPECT_EQ(counts().sample("streamshift_events_refused_total"), 1.0);
  EXPECT_EQ(typed(Outcome::kXaddFailed), 1u);
  EXPECT_TRUE(links_.forwards.empty());
}

TEST_F(EventSenderTest, TooFewReplicasIsAFailureWithItsOwnReason) {
  settings_.min_replicas = 1;
  settings_.dual_write = true;
  send("shadow", false);
  settings_.dual_write = false;
  send("e1", false);
  ASSERT_EQ(links_.xadds.size(), 2u);
  EXPECT_EQ(links_.xadds[0].replicas, 0) << "a shadow copy is not waited for";
  EXPECT_EQ(links_.xadds[1].replicas, 1);
  redisReply id{};
  id.type = REDIS_REPLY_STRING;
  id.str = const_cast<char*>("1-0");
  id.len = 3;
  links_.complete(1, {RedisStatus::kNotReplicated, &id, "0 of 1 replicas acknowledged in time"});
  ASSERT_EQ(links_.forwards.size(), 2u);
  EXPECT_EQ(links_.forwards[1].event_id, "e1");
  EXPECT_EQ(counts().get(Outcome::kFallbackReplicationTimeout), 1u);
  EXPECT_EQ(counts().sample("event_transport_fallback_total{reason=\"replication_timeout\"}"), 1.0);
  EXPECT_EQ(typed(Outcome::kXaddFailed), 1u);
  EXPECT_EQ(typed(Outcome::kStored), 0u);

  settings_.fallback_to_http = false;
  send("e2", false);
  links_.complete(2, {RedisStatus::kNotReplicated, &id, "0 of 1 replicas acknowledged in time"});
  expect_reply(503,
               "{\"error\":\"redis_unavailable\",\"reason\":\"replication_timeout\",\"detail\":"
               "\"not_replicated: 0 of 1 replicas acknowledged in time\",\"event_id\":\"e2\"}",
               "X-Event-Transport: redis_streams\r\nX-Event-Id: e2\r\n");
  links_.fail_the_rest();
}

TEST_F(EventSenderTest, WithTheFallbackOffAHeldEventIsCountedLost) {
  settings_.fallback_to_http = false;
  send("e1", true);
  links_.fail(0, RedisStatus::kTimeout);
  EXPECT_TRUE(links_.replies.empty());
  EXPECT_EQ(counts().get(Outcome::kLostRedisFailed), 1u);
  EXPECT_EQ(counts().sample("streamshift_events_lost_total{reason=\"redis_failed\"}"), 1.0);
  EXPECT_EQ(counts().get(Outcome::kRefused), 0u);
}

TEST_F(EventSenderTest, DualWriteSendsAShadowCopyAndAnswersOverHttp) {
  settings_.dual_write = true;
  send("e1", false);
  ASSERT_EQ(links_.xadds.size(), 1u);
  ASSERT_EQ(links_.forwards.size(), 1u);
  EXPECT_TRUE(links_.forwards[0].tally.dual_write);
  links_.forwards[0].tally.answered(true, 0.001);
  links_.store(0, "1-0");
  EXPECT_TRUE(links_.replies.empty());  // the client has the upstream's answer
  EXPECT_EQ(counts().get(Outcome::kShadowStored), 1u);
  EXPECT_EQ(counts().get(Outcome::kDualWriteHttpDelivered), 1u);
  EXPECT_EQ(typed(Outcome::kHttpDelivered), 1u);
  EXPECT_EQ(counts().sample("dual_write_success_total{transport=\"http\"}"), 1.0);
  EXPECT_EQ(counts().sample("dual_write_success_total{transport=\"redis_streams\"}"), 1.0);
}

TEST_F(EventSenderTest, AShadowCopyWithoutAnEntryIdIsAFailure) {
  settings_.dual_write = true;
  send("e1", false);
  links_.complete(0, {RedisStatus::kOk, nullptr, {}});
  EXPECT_EQ(counts().get(Outcome::kShadowFailed), 1u);
  EXPECT_EQ(counts().get(Outcome::kShadowStored), 0u);
}

TEST_F(EventSenderTest, TheCircuitOpensAfterTheFailuresAndLetsOneProbeThrough) {
  send("e1", false);
  send("e2", false);
  links_.fail(0, RedisStatus::kConnectionLost);
  links_.fail(1, RedisStatus::kConnectionLost);
  EXPECT_EQ(sender().circuit(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(counts().sample("streamshift_redis_circuit_open{worker=\"0\"}"), 1.0);
  send("e3", false);  // refused at once: no XADD, straight to HTTP
  EXPECT_EQ(links_.xadds.size(), 2u);
  EXPECT_EQ(links_.forwards.size(), 3u);
  EXPECT_EQ(counts().get(Outcome::kFallbackCircuitOpen), 1u);
  EXPECT_EQ(counts().get(Outcome::kFallbackConnectionLost), 2u);
  EXPECT_EQ(typed(Outcome::kCircuitRejected), 1u);
  EXPECT_EQ(counts().sample("events_published_total{event_type=\"chat_message\",status=\"failure\","
                            "transport=\"redis_streams\"}"),
            3.0);
  clock_.advance_to(clock_.now + 5000);
  send("e4", false);  // the probe
  ASSERT_EQ(links_.xadds.size(), 3u);
  links_.store(2, "4-0");
  EXPECT_EQ(sender().circuit(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(counts().sample("streamshift_redis_circuit_open{worker=\"0\"}"), 0.0);
}

// Fresh and held events take the same road: each case runs both ways and must count the
// same; only the end differs (a fresh event's client is answered).
class SameRoad : public EventSenderTest {};

TEST_P(SameRoad, AnOkReplyWithoutTheEntryIdIsNotStored) {
  bool held = GetParam();
  send("e1", held);
  redisReply nil{};
  nil.type = REDIS_REPLY_NIL;
  links_.complete(0, {RedisStatus::kOk, &nil, {}});
  EXPECT_EQ(typed(Outcome::kStored), 0u);
  EXPECT_EQ(typed(Outcome::kXaddFailed), 1u);
  EXPECT_EQ(counts().get(Outcome::kFallbackRedisError), 1u);
  EXPECT_EQ(links_.forwards.size() + links_.held_sends.size(), 1u);  // fell back to HTTP
  EXPECT_TRUE(links_.replies.empty());
}

TEST_P(SameRoad, AFallbackKeepsThePerTypeSeries) {
  bool held = GetParam();
  send("e1", held);
  links_.fail(0, RedisStatus::kTimeout);
  EXPECT_EQ(counts().get(Outcome::kFallbackTimeout), 1u);
  EXPECT_EQ(counts().sample("event_transport_fallback_total{reason=\"timeout\"}"), 1.0);
  HttpTally tally;
  if (held) {
    ASSERT_EQ(links_.held_sends.size(), 1u);
    EXPECT_EQ(links_.held_sends[0].event_id, "e1");
    EXPECT_EQ(links_.held_sends[0].body, "{\"n\":\"e1\"}");
    tally = links_.held_sends[0].tally;
  } else {
    ASSERT_EQ(links_.forwards.size(), 1u);
    EXPECT_EQ(links_.forwards[0].headers, "X-Event-Transport: http\r\nX-Event-Id: e1\r\n");
    tally = links_.forwards[0].tally;
  }
  EXPECT_EQ(tally.type, counts().accounting.type("chat_message"));
  tally.answered(true, 0.002);
  EXPECT_EQ(typed(Outcome::kHttpDelivered), 1u);
  EXPECT_EQ(typed(Outcome::kXaddFailed), 1u);
  EXPECT_EQ(counts().sample("events_published_total{event_type=\"chat_message\",status=\"success\","
                            "transport=\"http\"}"),
            1.0);
}

TEST_P(SameRoad, DualWriteCountsTheHttpHalf) {
  settings_.dual_write = true;
  send("e1", GetParam());
  HttpTally tally = GetParam() ? links_.held_sends.at(0).tally : links_.forwards.at(0).tally;
  EXPECT_TRUE(tally.dual_write);
  tally.answered(false, 0.002);
  EXPECT_EQ(counts().get(Outcome::kDualWriteHttpFailed), 1u);
}

TEST_P(SameRoad, StoredCountsTheSameAndOnlyAFreshClientIsAnswered) {
  bool held = GetParam();
  send("e1", held);
  links_.store(0, "9-0");
  EXPECT_EQ(typed(Outcome::kStored), 1u);
  EXPECT_EQ(counts().get(Outcome::kStored), 1u);
  EXPECT_EQ(links_.replies.size(), held ? 0u : 1u);
  EXPECT_EQ(counts().accounting.stats().to_json(),
            "{\"redis_published\":1,\"redis_failed\":0,\"http_routed\":0,\"fallback\":{"
            "\"redis_error\":0,\"timeout\":0,\"connection_lost\":0,\"circuit_open\":0,"
            "\"replication_timeout\":0},"
            "\"refused_503\":0,\"dual_write_success\":0,\"dual_write_failure\":0,\"bad_events\":0,"
            "\"passthrough\":0}");
}

INSTANTIATE_TEST_SUITE_P(FreshAndHeld, SameRoad, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Held" : "Fresh"; });

TEST_F(EventSenderTest, AHeldEventTheUpstreamRefusesIsLost) {
  settings_.redis_percentage = 0;
  send("e1", true);
  ASSERT_EQ(links_.held_sends.size(), 1u);
  links_.held_sends[0].done(false);
  EXPECT_EQ(counts().get(Outcome::kLostHttpFailed), 1u);
}

TEST_F(EventSenderTest, IdleOnlyOnceEveryHeldEventHasEnded) {
  send("fresh", false);  // a fresh event is its client's business, not the drain's
  send("e1", true);
  bool idle = false;
  sender().when_idle([&] { idle = true; });
  EXPECT_FALSE(idle);
  links_.fail(1, RedisStatus::kTimeout);  // falls back to HTTP: still in flight
  EXPECT_FALSE(idle);
  links_.held_sends.at(0).done(true);
  EXPECT_TRUE(idle);
  bool again = false;
  sender().when_idle([&] { again = true; });
  EXPECT_TRUE(again);
}

TEST_F(EventSenderTest, NothingMayBeHeldWhileRedisFailsWithTheFallbackOff) {
  settings_.fallback_to_http = false;
  EXPECT_TRUE(sender().may_hold());
  links_.ready = 0;
  EXPECT_FALSE(sender().may_hold());
  settings_.fallback_to_http = true;
  EXPECT_TRUE(sender().may_hold());
}

}  // namespace
}  // namespace streamshift::testing
