// Outcome of a delivery, and the replayed request head.
#include "relay/delivery_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

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

TEST(DeliveryPolicy, ARetryableFailureIsRetriedUntilMaxDeliveriesAttemptsAreMade) {
  using O = DeliveryOutcome;
  EXPECT_EQ(next_step(O::kDelivered, 5, 5), NextStep::kDone);
  EXPECT_EQ(next_step(O::kPermanent, 1, 5), NextStep::kPermanent);
  EXPECT_EQ(next_step(O::kRetryable, 1, 5), NextStep::kRetry);
  EXPECT_EQ(next_step(O::kRetryable, 4, 5), NextStep::kRetry);
  EXPECT_EQ(next_step(O::kRetryable, 5, 5), NextStep::kOutOfAttempts);
  EXPECT_EQ(next_step(O::kRetryable, 1, 1), NextStep::kOutOfAttempts);
  EXPECT_EQ(failure_text(answer(503)), "HTTP 503");
  UpstreamResponse timeout = answer(0, UpstreamError::kTimeout);
  timeout.detail = "after 5000 ms";
  EXPECT_EQ(failure_text(timeout),
            std::string(upstream_error_name(UpstreamError::kTimeout)) + ": after 5000 ms");
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
  EXPECT_EQ(replay_request_head(e, target, {}),
            "POST /base/internal/broadcast/chat?x=1 HTTP/1.1\r\n"
            "Host: signalr:8080\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 2\r\n"
            "X-Event-Id: ev-1\r\n"
            "X-Event-Transport: redis_streams\r\n\r\n");
  e.event.content_type = "";
  e.event.body = "";
  std::string head = replay_request_head(e, target, {});
  EXPECT_EQ(head.find("Content-Type"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 0\r\n"), std::string::npos);
}

TEST(DeliveryPolicy, TheHeadersFileAndTheCapturedHeadersFollowTheEventHeaders) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"v", "1"},
      {"event_id", "ev-1"},
      {"event_type", "chat_message"},
      {"room_id", "r-1"},
      {"ts_ms", "1700000000000"},
      {"method", "POST"},
      {"path", "/internal/broadcast/chat"},
      {"content_type", "application/json"},
      {"body", "{}"},
      {"h:traceparent", "00-abc-def-01"},
      {"h:x-api-key", "from-the-app"},  // the headers file names it: the file's wins
      {"h:x-event-id", "forged"},       // the relay's own: skipped when decoded
      {"h:x-request-id", "req-42"}};
  RelayEntry e;
  e.fields = fields;
  ASSERT_EQ(decode_entry(e.fields, &e.event), "");
  HttpUrl target{.host = "signalr", .port = 80, .path_prefix = "", .authority = "signalr"};
  EXPECT_EQ(replay_request_head(e, target, "X-Api-Key: k-1\r\nX-Tenant: t\r\n"),
            "POST /internal/broadcast/chat HTTP/1.1\r\n"
            "Host: signalr\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 2\r\n"
            "X-Event-Id: ev-1\r\n"
            "X-Event-Transport: redis_streams\r\n"
            "X-Api-Key: k-1\r\n"
            "X-Tenant: t\r\n"
            "traceparent: 00-abc-def-01\r\n"
            "x-request-id: req-42\r\n\r\n");
  std::string without_file = replay_request_head(e, target, {});
  EXPECT_NE(without_file.find("\r\nx-api-key: from-the-app\r\n"), std::string::npos);
  EXPECT_EQ(without_file.find("forged"), std::string::npos);
}

TEST(DeliveryPolicy, ABlockNamesAHeaderCaseInsensitivelyAndOnlyAsAName) {
  std::string_view block = "X-Api-Key: x-tenant\r\nX-Tenant: t\r\n";
  EXPECT_TRUE(block_names_header(block, "x-api-key"));
  EXPECT_TRUE(block_names_header(block, "X-TENANT"));
  EXPECT_FALSE(block_names_header("X-Api-Key: x-tenant\r\n", "x-tenant"));
  EXPECT_FALSE(block_names_header("", "x-api-key"));
  EXPECT_FALSE(block_names_header(block, "x-api"));
}

}  // namespace
}  // namespace streamshift
