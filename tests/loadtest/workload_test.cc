// The event mix: request shape, body sizes, typing bursts, and what a sink
// reads back.
#include "loadtest/workload.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace streamshift {
namespace {

std::string body_of(const std::string& request) {
  return request.substr(request.find("\r\n\r\n") + 4);
}

TEST(Workload, EventsArePostsWithBodiesOf200To1000BytesAndAReadableId) {
  Workload w({.kind = WorkloadKind::kMixed});
  std::map<std::string, int> paths;
  for (uint64_t seq = 0; seq < 2000; ++seq) {
    std::string request;
    w.append_request(seq, 123456789 + seq, request);
    ASSERT_EQ(request.rfind("POST /internal/broadcast/", 0), 0u) << request;
    std::string body = body_of(request);
    EXPECT_GE(body.size(), 200u);
    EXPECT_LE(body.size(), 1000u);
    EXPECT_NE(request.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    DeliveredEvent e;
    ASSERT_TRUE(parse_delivered("", body, &e)) << body;
    EXPECT_EQ(e.seq, seq);
    EXPECT_EQ(e.intended_ns, 123456789 + seq);
    paths[request.substr(5, request.find(' ', 5) - 5)]++;
  }
  // The mix: about half typing, 40% chat, 10% tickets.
  EXPECT_NEAR(paths["/internal/broadcast/typing"], 1000, 150);
  EXPECT_NEAR(paths["/internal/broadcast/chat"], 800, 150);
  EXPECT_NEAR(paths["/internal/broadcast/ticket"], 200, 80);
}

TEST(Workload, TypingBurstsEndWithAStopAndTheLastStateIsTracked) {
  Workload w({.kind = WorkloadKind::kTyping, .users = 3, .typing_burst = 2});
  std::map<uint32_t, TypingState> last;
  int stops = 0;
  for (uint64_t seq = 0; seq < 300; ++seq) {
    std::string request;
    w.append_request(seq, seq, request);
    DeliveredEvent e;
    ASSERT_TRUE(parse_delivered("", body_of(request), &e));
    ASSERT_TRUE(e.typing);
    last[e.user] = e.state;
    stops += e.state == TypingState::kStop;
  }
  EXPECT_GT(stops, 20);
  EXPECT_EQ(w.typing_sent(), 300u);
  for (const auto& [user, state] : last) EXPECT_EQ(w.last_typing_state()[user], state);
}

TEST(Workload, WebdisRequestsCarryTheSameEntryFieldsAndTheBodyAsThePutBody) {
  Workload w({.kind = WorkloadKind::kChat, .format = RequestFormat::kWebdis});
  std::string request;
  w.append_request(5, 7000000, request);
  EXPECT_EQ(request.rfind("PUT /XADD/events:chat/MAXLEN/~/10000/*/v/1/event_id/lg-5-7000000/"
                          "event_type/chat_message/room_id/room-",
                          0),
            0u)
      << request;
  EXPECT_NE(request.find("/ts_ms/7/method/POST/path/%2Finternal%2Fbroadcast%2Fchat/"
                         "content_type/application%2Fjson/body HTTP/1.1\r\n"),
            std::string::npos)
      << request;
  DeliveredEvent e;
  EXPECT_TRUE(parse_delivered("", body_of(request), &e));
}

TEST(Workload, TheHeaderIdWinsAndForeignRequestsAreRecognised) {
  DeliveredEvent e;
  EXPECT_TRUE(parse_delivered("lg-9-10", "{}", &e));
  EXPECT_EQ(e.seq, 9u);
  EXPECT_FALSE(parse_delivered("", "{\"event_id\":\"someone-else\"}", &e));
  EXPECT_FALSE(parse_delivered("lg-x-1", "", &e));
  uint64_t seq, ns;
  EXPECT_FALSE(parse_event_id("lg-1", &seq, &ns));
}

}  // namespace
}  // namespace streamshift
