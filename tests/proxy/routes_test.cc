#include "proxy/routes.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(Routes, DefaultsCoverTheBroadcastEndpoints) {
  RouteTable t = RouteTable::defaults();
  auto chat = t.match("POST", "/internal/broadcast/chat?x=1");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->route->stream, "events:chat");
  EXPECT_EQ(t.match("POST", "/internal/broadcast/typing")->route->stream, "events:chat");
  EXPECT_EQ(t.match("POST", "/internal/broadcast/ticket")->route->stream, "events:ticket");
  EXPECT_EQ(t.match("POST", "/internal/broadcast/notification")->route->stream,
            "events:notification");
  EXPECT_EQ(t.match("POST", "/internal/broadcast/remote")->route->stream, "events:remote");
  EXPECT_FALSE(t.match("GET", "/internal/broadcast/chat"));
  EXPECT_FALSE(t.match("POST", "/internal/broadcast/chat/extra"));
  EXPECT_FALSE(t.match("POST", "/internal/broadcast"));
  EXPECT_FALSE(t.match("POST", "/health"));
}

TEST(Routes, YamlWithRoomCaptureAndFixedEventType) {
  std::string why;
  auto t = RouteTable::parse(R"(
routes:
  - path: /internal/rooms/{room_id}/typing
    stream: events:chat
    event_type: typing_start
  - method: put
    path: /internal/tickets/{ticket}/status
    stream: events:ticket
)",
                             &why);
  ASSERT_TRUE(t) << why;
  auto typing = t->match("POST", "/internal/rooms/r-42/typing");
  ASSERT_TRUE(typing);
  EXPECT_EQ(typing->room_id, "r-42");
  EXPECT_EQ(typing->route->event_type, "typing_start");
  auto ticket = t->match("PUT", "/internal/tickets/9/status");
  ASSERT_TRUE(ticket);
  EXPECT_TRUE(ticket->room_id.empty());
  EXPECT_FALSE(t->match("POST", "/internal/rooms//typing"));
}

TEST(Routes, JsonDocumentsParseToo) {
  std::string why;
  auto t =
      RouteTable::parse(R"([{"method":"POST","path":"/e/{room_id}","stream":"events:x"}])", &why);
  ASSERT_TRUE(t) << why;
  EXPECT_EQ(t->match("POST", "/e/7")->room_id, "7");
}

TEST(Routes, RejectsBrokenTables) {
  std::string why;
  EXPECT_FALSE(RouteTable::parse("routes: [", &why));
  EXPECT_FALSE(RouteTable::parse("routes:\n  - path: /x\n", &why));
  EXPECT_NE(why.find("stream"), std::string::npos);
  EXPECT_FALSE(RouteTable::parse("routes:\n  - path: x\n    stream: s\n", &why));
  EXPECT_FALSE(RouteTable::parse("routes: []", &why));
  EXPECT_FALSE(RouteTable::load_file("/nonexistent/routes.yaml", &why));
}

TEST(Routes, ARoomsEventsGoToItsShardNamedOnceAtStart) {
  RouteTable t = RouteTable::defaults();
  const Route* chat = t.match("POST", "/internal/broadcast/chat")->route;
  EXPECT_EQ(chat->stream_for("room-1"), "events:chat");  // unsharded: the name unchanged
  t.split_streams(4);
  EXPECT_EQ(chat->shards.size(), 4u);
  EXPECT_EQ(chat->stream_for("room-1"), "events:chat:{s2}");  // docs/event-entry.md's example
  // The view points into the route: no name is built per event.
  EXPECT_EQ(chat->stream_for("room-1").data(), chat->shards[2].data());
  EXPECT_EQ(chat->stream, "events:chat");
}

}  // namespace
}  // namespace streamshift
