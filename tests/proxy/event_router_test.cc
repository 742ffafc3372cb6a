// The router with a fake sender, fake links and a hand-moved clock: what it answers
// itself, what it bridges, what it holds and what it hands to the sender.
#include "proxy/event_router.h"

#include <gtest/gtest.h>

#include "tests/proxy/event_fakes.h"

namespace streamshift::testing {
namespace {

std::string chat(const std::string& extra = "") {
  return "{\"event_type\":\"chat_message\",\"room_id\":\"r1\"" + extra + ",\"text\":\"hi\"}";
}

std::string typing(const std::string& type, const std::string& id) {
  return "{\"event_type\":\"" + type + "\",\"room_id\":\"r\",\"user_id\":\"u\",\"event_id\":\"" +
         id + "\"}";
}

class EventRouterTest : public EventPathTest<> {
 protected:
  EventRouterTest() {
    settings_.coalescing.window_ms = 100;
    settings_.coalescing.refresh_ms = 1000;
  }

  EventRouter& router() {
    if (!router_) {
      router_ = std::make_unique<EventRouter>(routes_, settings_, fake_, links_,
                                              counts().accounting, clock_);
    }
    return *router_;
  }
  void handle(std::unique_ptr<HttpRequest> request) {
    router().handle(client_, keep(std::move(request)), "10.0.0.7");
  }
  std::string last_body() const { return links_.replies.back().answer.body; }

  RouteTable routes_ = RouteTable::defaults();
  FakeSender fake_;
  std::unique_ptr<EventRouter> router_;
};

TEST_F(EventRouterTest, AnEventGoesToTheSenderWithItsFields) {
  handle(post("/internal/broadcast/chat", chat(), "X-Event-Id: from-header\r\n"));
  ASSERT_EQ(fake_.sent.size(), 1u);
  const Event& e = fake_.sent[0];
  EXPECT_EQ(e.stream, "events:chat");
  EXPECT_EQ(e.fields.event_type, "chat_message");
  EXPECT_EQ(e.fields.room_id, "r1");
  EXPECT_EQ(e.fields.event_id, "from-header");
  EXPECT_FALSE(e.held());
  EXPECT_EQ(e.client, &client_);
  EXPECT_EQ(e.client_ip(), "10.0.0.7");
  EXPECT_EQ(e.entry().contract.body, chat());
  EXPECT_GT(e.ts_ms, 0);
  ASSERT_NE(e.type, nullptr);
  EXPECT_EQ(e.type, counts().accounting.type("chat_message"));
  EXPECT_TRUE(links_.replies.empty());
  EXPECT_TRUE(links_.forwards.empty());
}

TEST_F(EventRouterTest, TheBodysEventIdWinsElseANewOneIsMade) {
  handle(post("/internal/broadcast/chat", chat(",\"event_id\":\"mine\""), "X-Event-Id: h\r\n"));
  handle(post("/internal/broadcast/chat", chat()));
  ASSERT_EQ(fake_.sent.size(), 2u);
  EXPECT_EQ(fake_.sent[0].fields.event_id, "mine");
  EXPECT_EQ(fake_.sent[1].fields.event_id.size(), 36u);  // a UUIDv4
}

TEST_F(EventRouterTest, RejectsAnEventWithoutRoomWith400AndItsBody) {
  handle(post("/internal/broadcast/chat", "{\"event_type\":\"chat_message\"}"));
  ASSERT_EQ(links_.replies.size(), 1u);
  EXPECT_EQ(links_.replies[0].client, &client_);
  EXPECT_EQ(links_.replies[0].answer.status, 400);
  EXPECT_EQ(last_body(),
            "{\"error\":\"invalid_event\",\"field\":\"room_id\",\"detail\":\"the event has no "
            "room_id\"}");
  EXPECT_TRUE(fake_.sent.empty());
  EXPECT_EQ(counts().get(Outcome::kInvalid), 1u);
  EXPECT_EQ(counts().sample("streamshift_events_invalid_total"), 1.0);
}

TEST_F(EventRouterTest, RejectsNoTypeABadBodyAndWhatTheEntryContractRefuses) {
  handle(post("/internal/broadcast/chat", "{\"room_id\":\"r\"}"));
  EXPECT_EQ(last_body(),
            "{\"error\":\"invalid_event\",\"field\":\"event_type\",\"detail\":\"the event has no "
            "event_type\"}");
  handle(post("/internal/broadcast/chat", "{\"event_type\":tru"));
  EXPECT_EQ(last_body(),
            "{\"error\":\"invalid_event\",\"field\":\"body\",\"detail\":\"the body is not valid "
            "JSON\"}");
  handle(post("/internal/broadcast/chat", chat(",\"event_id\":\" padded\"")));
  EXPECT_EQ(last_body().rfind("{\"error\":\"invalid_event\",\"field\":\"event_id\",\"detail\":", 0),
            0u)
      << last_body();
  for (const auto& r : links_.replies) EXPECT_EQ(r.answer.status, 400);
  EXPECT_TRUE(fake_.sent.empty());
  EXPECT_EQ(counts().get(Outcome::kInvalid), 3u);
}

TEST_F(EventRouterTest, ANonEventIsBridgedUnchangedAndCountedAsPassthrough) {
  handle(parse_request("GET /api/users/1 HTTP/1.1\r\nHost: app\r\n\r\n"));
  ASSERT_EQ(links_.forwards.size(), 1u);
  EXPECT_EQ(links_.forwards[0].headers, "");
  EXPECT_EQ(links_.forwards[0].event_id, "");
  EXPECT_EQ(links_.forwards[0].tally.accounting, nullptr);
  EXPECT_EQ(counts().get(Outcome::kPassthrough), 1u);
  EXPECT_TRUE(fake_.sent.empty());
}

TEST_F(EventRouterTest, SwitchOffBridgesEverythingLenientlyAndCountsItsType) {
  settings_.use_redis_streams = false;
  handle(post("/internal/broadcast/chat", chat()));
  handle(post("/internal/broadcast/chat", "{\"event_type\":tru"));  // never refused
  EXPECT_TRUE(links_.replies.empty());
  EXPECT_TRUE(fake_.sent.empty());
  ASSERT_EQ(links_.forwards.size(), 2u);
  EXPECT_EQ(links_.forwards[0].headers, "");  // the original bridge: no event headers
  EXPECT_EQ(links_.forwards[0].tally.type, counts().accounting.type("chat_message"));
  EXPECT_EQ(links_.forwards[0].tally.accounting, &counts().accounting);
  EXPECT_EQ(counts().get(Outcome::kInvalid), 0u);
  EXPECT_EQ(counts().get(Outcome::kPassthrough), 0u);
}

TEST_F(EventRouterTest, SwitchOffStillCoalescesTypingEvents) {
  settings_.use_redis_streams = false;
  handle(post("/internal/broadcast/typing", typing("typing_start", "a")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "b")));
  ASSERT_EQ(fake_.sent.size(), 1u);
  EXPECT_EQ(fake_.sent[0].fields.event_id, "a");
  ASSERT_EQ(links_.replies.size(), 1u);
  EXPECT_EQ(links_.replies[0].answer.status, 202);
}

TEST_F(EventRouterTest, HoldsWithinTheWindowAndTheLatestSupersedes) {
  handle(post("/internal/broadcast/typing", typing("typing_start", "a")));  // sent now
  clock_.advance_to(1010);
  handle(post("/internal/broadcast/typing", typing("typing_stop", "b")));  // held
  ASSERT_EQ(links_.replies.size(), 1u);
  EXPECT_EQ(links_.replies[0].answer.status, 202);
  EXPECT_EQ(links_.replies[0].answer.body, "{\"status\":\"coalesced\",\"event_id\":\"b\"}");
  EXPECT_EQ(links_.replies[0].answer.headers, "X-Event-Id: b\r\n");
  clock_.advance_to(1020);
  handle(post("/internal/broadcast/typing", typing("typing_start", "c")));  // supersedes b
  EXPECT_EQ(counts().of_type("typing_stop", Outcome::kCoalesced), 1u);
  EXPECT_EQ(counts().sample("events_coalesced_total{event_type=\"typing_stop\"}"), 1.0);
  ASSERT_EQ(fake_.sent.size(), 1u);
  EXPECT_EQ(clock_.due, 1100u);  // the window's end

  // c is the same state as the last sent: dropped when the window closes, never sent.
  clock_.advance_to(1100);
  EXPECT_EQ(fake_.sent.size(), 1u);
  EXPECT_EQ(counts().of_type("typing_start", Outcome::kCoalesced), 1u);
}

TEST_F(EventRouterTest, AHeldEventIsSentWhenItsWindowClosesAndOwnsItsBytes) {
  handle(post("/internal/broadcast/typing", typing("typing_start", "a")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "b")));
  requests_.back()->clear();  // the exchange is gone: the held event kept its own copy
  clock_.advance_to(1100);
  ASSERT_EQ(fake_.sent.size(), 2u);
  Event& held = fake_.sent[1];
  EXPECT_TRUE(held.held());
  EXPECT_EQ(held.client, nullptr);
  EXPECT_EQ(held.fields.event_id, "b");
  EXPECT_EQ(held.entry().contract.body, typing("typing_stop", "b"));
  EXPECT_EQ(held.entry().contract.path, "/internal/broadcast/typing");
  EXPECT_EQ(held.content_type(), "application/json");
  EXPECT_EQ(held.client_ip(), "10.0.0.7");
}

TEST_F(EventRouterTest, NothingIsHeldWhenTheSenderSaysItCouldOnlyBeLost) {
  fake_.holding_allowed = false;
  handle(post("/internal/broadcast/typing", typing("typing_start", "a")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "b")));
  EXPECT_EQ(fake_.sent.size(), 2u);
  EXPECT_TRUE(links_.replies.empty());
}

TEST_F(EventRouterTest, FlushSendsWhatIsHeldStopsTheClockAndWaitsForTheSender) {
  handle(post("/internal/broadcast/typing", typing("typing_start", "a")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "b")));
  bool idle = false;
  router().flush([&] { idle = true; });
  ASSERT_EQ(fake_.sent.size(), 2u);
  EXPECT_TRUE(fake_.sent[1].held());
  EXPECT_TRUE(clock_.stopped);
  ASSERT_TRUE(fake_.idle);
  EXPECT_FALSE(idle);
  fake_.idle();
  EXPECT_TRUE(idle);
  // After the flush nothing is held: no wake-up would ever send it.
  handle(post("/internal/broadcast/typing", typing("typing_start", "c")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "d")));
  EXPECT_EQ(fake_.sent.size(), 4u);
}

// Runtime changes (issue 19): coalescing switched off sends what is held at once and
// holds nothing more; switched on again, it holds again.
TEST_F(EventRouterTest, CoalescingSwitchedOffAtRuntimeSendsWhatIsHeld) {
  handle(post("/internal/broadcast/typing", typing("typing_start", "a")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "b")));  // held
  ASSERT_EQ(fake_.sent.size(), 1u);
  TransportSettings off = settings_;
  off.coalescing.enabled = false;
  router().use(off);
  ASSERT_EQ(fake_.sent.size(), 2u);
  EXPECT_TRUE(fake_.sent[1].held());
  EXPECT_EQ(fake_.sent[1].fields.event_id, "b");
  EXPECT_EQ(clock_.due, 0u);  // no wake-up left
  handle(post("/internal/broadcast/typing", typing("typing_start", "c")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "d")));
  EXPECT_EQ(fake_.sent.size(), 4u);
  router().use(settings_);
  handle(post("/internal/broadcast/typing", typing("typing_start", "e")));
  handle(post("/internal/broadcast/typing", typing("typing_stop", "f")));  // held again
  EXPECT_EQ(fake_.sent.size(), 5u);
}

// The router with the real sender: an event held then sent ends like a fresh one, through
// the same XADD completion, only without a client to answer.
TEST_F(EventRouterTest, HeldAndFreshEventsEndThroughTheSameCompletion) {
  EventRouter real(routes_, settings_, sender(), links_, counts().accounting, clock_);
  real.handle(client_, keep(post("/internal/broadcast/typing", typing("typing_start", "a"))),
              "10.0.0.7");
  real.handle(client_, keep(post("/internal/broadcast/typing", typing("typing_stop", "b"))),
              "10.0.0.7");
  clock_.advance_to(1100);
  ASSERT_EQ(links_.xadds.size(), 2u);
  EXPECT_EQ(links_.xadds[1].event_id, "b");
  links_.store(0, "1-0");
  links_.store(1, "2-0");
  // a: accepted; b: answered 202 coalesced before, nothing more.
  ASSERT_EQ(links_.replies.size(), 2u);
  EXPECT_EQ(links_.replies[0].answer.body, "{\"status\":\"coalesced\",\"event_id\":\"b\"}");
  EXPECT_EQ(links_.replies[1].answer.body,
            "{\"status\":\"accepted\",\"transport\":\"redis_streams\",\"stream\":\"events:chat\","
            "\"id\":\"1-0\",\"event_id\":\"a\"}");
  EXPECT_EQ(counts().of_type("typing_start", Outcome::kStored), 1u);
  EXPECT_EQ(counts().of_type("typing_stop", Outcome::kStored), 1u);
}

}  // namespace
}  // namespace streamshift::testing
