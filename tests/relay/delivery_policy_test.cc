// Outcome of a delivery, retry backoff, and the replayed request head.
#include "relay/delivery_policy.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

UpstreamResponse answer(int status, UpstreamError error = UpstreamError::kNone) {
  UpstreamResponse r;
  r.status = status;
  r.error = error;
  return r;
}

TEST(DeliveryPolicy, TwoHundredsAckServerErrorsAndThrottlingRetryOtherClientErrorsAreFinal) {
  for (int s : {200, 201, 202, 204, 299})
    EXPECT_EQ(classify_delivery(answer(s)), DeliveryOutcome::kDelivered) << s;
  for (int s : {500, 502, 503, 504, 599, 408, 429})
    EXPECT_EQ(classify_delivery(answer(s)), DeliveryOutcome::kRetryable) << s;
  for (int s : {400, 401, 403, 404, 409, 413, 422, 301, 304})
    EXPECT_EQ(classify_delivery(answer(s)), DeliveryOutcome::kPermanent) << s;
  for (UpstreamError e : {UpstreamError::kTimeout, UpstreamError::kConnectFailed,
                          UpstreamError::kClosed, UpstreamError::kConnectTimeout})
    EXPECT_EQ(classify_delivery(answer(0, e)), DeliveryOutcome::kRetryable);
}

TEST(DeliveryPolicy, BackoffDoublesWithJitterAndIsCapped) {
  for (uint64_t random : {0ull, 1ull, 12345ull, ~0ull}) {
    uint64_t d1 = retry_delay_ms(1, 100, 5000, random);
    EXPECT_GE(d1, 50u);
    EXPECT_LE(d1, 100u);
    uint64_t d3 = retry_delay_ms(3, 100, 5000, random);
    EXPECT_GE(d3, 200u);
    EXPECT_LE(d3, 400u);
    uint64_t d20 = retry_delay_ms(20, 100, 5000, random);
    EXPECT_GE(d20, 2500u);
    EXPECT_LE(d20, 5000u);
  }
  EXPECT_NE(retry_delay_ms(4, 100, 5000, 1), retry_delay_ms(4, 100, 5000, 7));
}

TEST(DeliveryPolicy, TheReplayedHeadIsTheOriginalCallWithEventHeaders) {
  RelayEntry e;
  e.method = "POST";
  e.path = "/internal/broadcast/chat?x=1";
  e.content_type = "application/json";
  e.event_id = "ev-1";
  e.body = "{}";
  HttpUrl target{
      .host = "signalr", .port = 8080, .path_prefix = "/base", .authority = "signalr:8080"};
  EXPECT_EQ(replay_request_head(e, target),
            "POST /base/internal/broadcast/chat?x=1 HTTP/1.1\r\n"
            "Host: signalr:8080\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 2\r\n"
            "X-Event-Id: ev-1\r\n"
            "X-Event-Transport: redis_streams\r\n\r\n");
  e.content_type = "";
  e.body = "";
  std::string head = replay_request_head(e, target);
  EXPECT_EQ(head.find("Content-Type"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 0\r\n"), std::string::npos);
}

}  // namespace
}  // namespace streamshift
