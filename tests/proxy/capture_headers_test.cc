// STREAMSHIFT_CAPTURE_HEADERS: the list read at start (refusals), and the
// headers an event's entry then views.
#include "proxy/capture_headers.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/event.h"

namespace streamshift {
namespace {

EnvReader env_of(std::map<std::string, std::string> values) {
  return EnvReader([values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  });
}

TEST(CaptureHeaders, TheDefaultIsTraceContextAndTheRequestId) {
  EnvReader env = env_of({});
  CaptureHeaders c = load_capture_headers(env);
  EXPECT_TRUE(env.ok());
  EXPECT_EQ(c.names, (std::vector<std::string>{"traceparent", "tracestate", "x-request-id"}));
  EXPECT_EQ(c.fields,
            (std::vector<std::string>{"h:traceparent", "h:tracestate", "h:x-request-id"}));
}

TEST(CaptureHeaders, NamesAreLowerCasedAndAnEmptyListCapturesNothing) {
  CaptureHeaders c;
  EXPECT_EQ(parse_capture_headers({"TraceParent", "X-B3-TraceId"}, &c), "");
  EXPECT_EQ(c.fields, (std::vector<std::string>{"h:traceparent", "h:x-b3-traceid"}));
  EnvReader env = env_of({{"STREAMSHIFT_CAPTURE_HEADERS", ""}});
  EXPECT_TRUE(load_capture_headers(env).names.empty());
  EXPECT_TRUE(env.ok());
}

TEST(CaptureHeaders, CredentialsAndHeadersTheRelayOrTheHopOwnAreRefused) {
  for (std::string bad : {"authorization", "Authorization", "cookie", "COOKIE",
                          "proxy-authorization", "set-cookie"}) {
    CaptureHeaders c;
    std::string error = parse_capture_headers({"traceparent", bad}, &c);
    EXPECT_EQ(error, bad + " carries credentials: it is never stored in a stream");
  }
  for (std::string bad :
       {"host", "Content-Length", "content-type", "x-event-id", "x-event-transport",
        "transfer-encoding", "connection", "te", "upgrade", "keep-alive", "bad name", "x:y"}) {
    CaptureHeaders c;
    std::string error = parse_capture_headers({bad}, &c);
    EXPECT_EQ(error.rfind(bad + " cannot be captured", 0), 0u) << bad << " -> " << error;
  }
  CaptureHeaders c;
  EXPECT_EQ(parse_capture_headers({"x-a", "X-A"}, &c), "X-A is listed twice");
  std::vector<std::string> nine;
  for (int i = 0; i < 9; ++i) nine.push_back("x-h" + std::to_string(i));
  EXPECT_EQ(parse_capture_headers(nine, &c), "at most 8 headers");
}

TEST(CaptureHeaders, ARefusedListIsAConfigurationError) {
  EnvReader env = env_of({{"STREAMSHIFT_CAPTURE_HEADERS", "traceparent, Authorization"}});
  CaptureHeaders c = load_capture_headers(env);
  EXPECT_TRUE(c.names.empty());
  ASSERT_EQ(env.errors().size(), 1u);
  EXPECT_EQ(env.errors()[0].name, "STREAMSHIFT_CAPTURE_HEADERS");
  EXPECT_NE(env.errors()[0].allowed.find("Authorization carries credentials"), std::string::npos);
}

TEST(CaptureHeaders, TheEntryViewsTheHeadersTheRequestHasAnyCase) {
  CaptureHeaders c;
  ASSERT_EQ(parse_capture_headers({"traceparent", "tracestate", "x-request-id"}, &c), "");
  HeaderBlock request;
  request.add("Content-Type", "application/json");
  request.add("X-Request-Id", "req-42");
  request.add("TraceParent", "00-abc-def-01");
  request.add("tracestate", "");  // present but empty: nothing to carry
  EventEntry e;
  capture_request_headers(c, request, &e);
  ASSERT_EQ(e.header_count, 2u);
  EXPECT_EQ(e.headers[0].field, "h:traceparent");
  EXPECT_EQ(e.headers[0].value, "00-abc-def-01");
  EXPECT_EQ(e.headers[1].field, "h:x-request-id");
  EXPECT_EQ(e.headers[1].value, "req-42");
  EventEntry none;
  capture_request_headers(kNoCapture, request, &none);
  EXPECT_EQ(none.header_count, 0u);
}

// A coalesced event is held long after its request is gone: its entry views
// the held copy's headers.
TEST(CaptureHeaders, AHeldEventsEntryCarriesTheHeadersOfItsOwnCopy) {
  CaptureHeaders c;
  ASSERT_EQ(parse_capture_headers({"traceparent"}, &c), "");
  auto request = std::make_unique<HttpRequest>();
  request->method = "POST";
  request->headers.stash("/internal/broadcast/typing", &request->target_off);
  request->target_len = 26;
  request->headers.add("Traceparent", "00-abc-def-01");
  Event fresh(nullptr, *request, "127.0.0.1");
  fresh.capture = &c;
  StreamEntry first = fresh.entry();
  ASSERT_EQ(first.contract.header_count, 1u);
  EXPECT_EQ(first.contract.headers[0].value, "00-abc-def-01");
  Event held = fresh.hold();
  request->clear();
  request->headers.add("Traceparent", "overwritten-xx");
  request.reset();
  StreamEntry later = held.entry();
  ASSERT_EQ(later.contract.header_count, 1u);
  EXPECT_EQ(later.contract.headers[0].field, "h:traceparent");
  EXPECT_EQ(later.contract.headers[0].value, "00-abc-def-01");
}

}  // namespace
}  // namespace streamshift
