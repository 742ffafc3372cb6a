// Every event the sidecar carries is counted in
// events_published_total{transport,event_type,status}, on every path and in
// every mode (the guide's rollback check greps for it), through the real
// binary, a real redis-server and a real upstream.
#include <gtest/gtest.h>

#include <map>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

std::string event_request(const std::string& path, const std::string& body) {
  return make_request("POST", path, body, "Content-Type: application/json\r\n");
}

std::string chat(const std::string& room) {
  return "{\"event_type\":\"chat_message\",\"room_id\":\"" + room + "\",\"text\":\"hi\"}";
}

std::string published(const std::string& type, const std::string& status,
                      const std::string& transport) {
  return "events_published_total{event_type=\"" + type + "\",status=\"" + status +
         "\",transport=\"" + transport + "\"}";
}

// Every event to Redis (on a port where nothing listens), plus `env`.
Sidecar without_redis(const TestUpstream& upstream, std::map<std::string, std::string> env) {
  env.emplace("REDIS_URL", "redis://127.0.0.1:" + std::to_string(free_port()) + "/0");
  env.emplace("EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
  env.emplace("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
  return Sidecar(upstream.port(), std::move(env));
}

// The master switch off (the default, and the rollback state): the plain
// bridge, and still every event counted by type, read leniently.
TEST(EventAccounting, SwitchOffCountsEveryEventItBridges) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  TestClient client(sidecar.port());
  for (int i = 0; i < 5; ++i) {
    auto r =
        client.request(event_request("/internal/broadcast/chat", chat("r" + std::to_string(i))));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  // A body it cannot read is still forwarded as it always was, and counted.
  auto odd = client.request(event_request("/internal/broadcast/chat", "{\"event_type\":tru"));
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 200);
  // A route that fixes the event type needs no body at all.
  auto other = client.request(make_request("GET", "/api/users/1"));
  ASSERT_TRUE(other);
  ASSERT_TRUE(eventually(
      [&] {
        return metric_sample(sidecar.admin_port(), published("chat_message", "success", "http")) ==
               5.0;
      },
      seconds(5)));
  EXPECT_EQ(metric_sample(sidecar.admin_port(), published("unknown", "success", "http")), 1.0);
  EXPECT_EQ(
      metric_sample(sidecar.admin_port(), published("chat_message", "success", "redis_streams")),
      0.0);
  // GET /api/users/1 is not an event: 6 events counted in all.
  EXPECT_EQ(metric_sample(sidecar.admin_port(), "streamshift_http_requests_total{code=\"2xx\"}"),
            7.0);
}

// A fallback is an HTTP publish: the failed Redis attempt and the HTTP
// delivery are both counted, with their statuses; a circuit-open fallback
// too, so fallbacks never outnumber the Redis attempts.
TEST(EventAccounting, FallbacksCountTheFailedXaddAndTheHttpPublish) {
  TestUpstream upstream;
  Sidecar sidecar = without_redis(
      upstream, {{"STREAMSHIFT_CIRCUIT_FAILURES", "3"}, {"STREAMSHIFT_CIRCUIT_OPEN_MS", "60000"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  TestClient client(sidecar.port());
  for (int i = 0; i < 10; ++i) {
    auto r = client.request(event_request("/internal/broadcast/chat", chat("room")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Event-Transport"), "http");
  }
  uint16_t admin = sidecar.admin_port();
  ASSERT_TRUE(eventually(
      [&] { return metric_sample(admin, published("chat_message", "success", "http")) == 10.0; },
      seconds(5)))
      << http_get(admin, "/metrics").value_or(ParsedResponse{}).body << sidecar.process().output();
  EXPECT_EQ(metric_sample(admin, published("chat_message", "failure", "redis_streams")), 10.0);
  double fallbacks = 0;
  for (const char* reason : {"redis_error", "timeout", "connection_lost", "circuit_open"}) {
    fallbacks += metric_sample(admin, std::string("event_transport_fallback_total{reason=\"") +
                                          reason + "\"}")
                     .value_or(0);
  }
  EXPECT_EQ(fallbacks, 10.0);
  EXPECT_GE(metric_sample(admin, "event_transport_fallback_total{reason=\"circuit_open\"}"), 7.0);
}

// With the fallback off a 503 is a failed Redis publish, nothing else.
TEST(EventAccounting, RefusedEventsCountAsFailedRedisPublishes) {
  TestUpstream upstream;
  Sidecar sidecar = without_redis(upstream, {{"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  TestClient client(sidecar.port());
  for (int i = 0; i < 4; ++i) {
    auto r = client.request(event_request("/internal/broadcast/chat", chat("room")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
  }
  uint16_t admin = sidecar.admin_port();
  ASSERT_TRUE(eventually(
      [&] {
        return metric_sample(admin, published("chat_message", "failure", "redis_streams")) == 4.0;
      },
      seconds(5)));
  EXPECT_EQ(metric_sample(admin, "streamshift_events_refused_total"), 4.0);
  EXPECT_EQ(metric_sample(admin, published("chat_message", "success", "http")), 0.0);
  EXPECT_EQ(upstream.requests().size(), 0u);
}

// Coalesced events sent later (the trailing edge) are counted when they go.
TEST(EventAccounting, HeldEventsAreCountedWhenTheyAreSent) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"EVENT_COALESCING_WINDOW_MS", "50"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  TestClient client(sidecar.port());
  auto typing = [](const std::string& type) {
    return event_request("/internal/broadcast/typing",
                         "{\"event_type\":\"" + type + "\",\"room_id\":\"r\",\"user_id\":\"u\"}");
  };
  auto first = client.request(typing("typing_start"));  // sent now
  ASSERT_TRUE(first);
  auto held = client.request(typing("typing_stop"));  // held: 202 coalesced
  ASSERT_TRUE(held);
  EXPECT_EQ(held->status, 202);
  ASSERT_TRUE(upstream.wait_for_requests(2, seconds(5)));
  uint16_t admin = sidecar.admin_port();
  ASSERT_TRUE(eventually(
      [&] {
        return metric_sample(admin, published("typing_stop", "success", "http")) == 1.0 &&
               metric_sample(admin, published("typing_start", "success", "http")) == 1.0;
      },
      seconds(5)))
      << http_get(admin, "/metrics").value_or(ParsedResponse{}).body << sidecar.process().output();
}

}  // namespace
}  // namespace streamshift::testing
