// Outcome of a delivery, and the replayed request head.
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

TEST(DeliveryPolicy, TheReplayedHeadIsTheOriginalCallWithEventHeaders) {
  RelayEntry e;
  e.event.method = "POST";
  e.event.path = "/internal/broadcast/chat?x=1";
  e.event.content_type = "application/json";
  e.event.event_id = "ev-1";
  e.event.body = "{}";
  HttpUrl target{
      .host = "signalr", .port = 8080, .path_prefix = "/base", .authority = "signalr:8080"};
  EXPECT_EQ(replay_request_head(e, target),
            "POST /base/internal/broadcast/chat?x=1 HTTP/1.1\r\n"
            "Host: signalr:8080\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 2\r\n"
            "X-Event-Id: ev-1\r\n"
            "X-Event-Transport: redis_streams\r\n\r\n");
  e.event.content_type = "";
  e.event.body = "";
  std::string head = replay_request_head(e, target);
  EXPECT_EQ(head.find("Content-Type"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 0\r\n"), std::string::npos);
}

}  // namespace
}  // namespace streamshift
