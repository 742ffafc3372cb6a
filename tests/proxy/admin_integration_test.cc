// The admin listener through the real binary: the Prometheus exposition
// (checked by promtool after traffic through both transports), the events
// API against a real redis-server with real consumer groups and known lag,
// bearer auth, the cache, and the probes.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kToken = "t0ken-for-tests";

std::optional<ParsedResponse> admin_get(uint16_t port, const std::string& path,
                                        const std::string& token = kToken) {
  TestClient client(port);
  std::string auth = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
  return client.request(make_request("GET", path, "", auth));
}

// A stream with a consumer group created at 0, `entries` unread entries and
// one consumer that has read nothing: its lag is exactly `entries`.
void make_stream(const RedisServer& redis, const std::string& stream, int entries) {
  ASSERT_EQ(redis.command({"XGROUP", "CREATE", stream, "signalr-consumers", "0", "MKSTREAM"}).str,
            "OK");
  redis.command({"XGROUP", "CREATECONSUMER", stream, "signalr-consumers", "instance-1"});
  for (int i = 0; i < entries; ++i) redis.command({"XADD", stream, "*", "n", std::to_string(i)});
}

class Admin : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env) {
    env.emplace("REDIS_URL", redis_.url());
    env.emplace("STREAMSHIFT_ADMIN_TOKEN", kToken);
    sidecar_ = std::make_unique<Sidecar>(upstream_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
    ASSERT_TRUE(wait_port_open(sidecar_->admin_port(), seconds(5)));
  }
  TestUpstream upstream_;
  RedisServer redis_;
  std::unique_ptr<Sidecar> sidecar_;
};

TEST_F(Admin, MetricsPassPromtoolAfterTrafficThroughBothTransports) {
  ASSERT_TRUE(redis_.ready());
  start({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
         {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000"},
         {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "50"},
         {"EVENT_TRANSPORT_ROLLOUT_KEY", "random"},
         {"STREAMSHIFT_WORKERS", "2"}});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  // Both workers' connections up before traffic, so no event falls back
  // (a loaded machine under the sanitizers can take seconds).
  ASSERT_TRUE(eventually(
      [&] {
        auto m = admin_get(sidecar_->admin_port(), "/metrics", "");
        return m && m->body.find("streamshift_redis_connections_ready 8\n") != std::string::npos;
      },
      seconds(30)));
  TestClient client(sidecar_->port());
  int redis_count = 0, http_count = 0;
  for (int i = 0; i < 60; ++i) {
    auto r = client.request(make_request("POST", "/internal/broadcast/chat",
                                         "{\"event_type\":\"chat_message\",\"room_id\":\"r\"}",
                                         "Content-Type: application/json\r\n"));
    ASSERT_TRUE(r);
    (r->header("X-Event-Transport") == "redis_streams" ? redis_count : http_count)++;
  }
  client.request(make_request("POST", "/internal/broadcast/chat", "not json"));
  ASSERT_GT(redis_count, 0);
  ASSERT_GT(http_count, 0);
  auto metrics = admin_get(sidecar_->admin_port(), "/metrics", "");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = metrics->body;
  auto has = [&](const std::string& line) { return text.find(line) != std::string::npos; };
  EXPECT_TRUE(
      has("events_published_total{event_type=\"chat_message\",status=\"success\",transport=\"redis_"
          "streams\"} " +
          std::to_string(redis_count) + "\n"))
      << text;
  EXPECT_TRUE(has(
      "events_published_total{event_type=\"chat_message\",status=\"success\",transport=\"http\"} " +
      std::to_string(http_count) + "\n"))
      << text;
  for (const char* name : {"event_publish_duration_seconds_bucket{event_type=\"chat_message\","
                           "transport=\"redis_streams\",le=\"1e-05\"}",
                           "# TYPE event_delivery_duration_seconds histogram",
                           "# TYPE events_coalesced_total counter",
                           "streamshift_build_info{",
                           "streamshift_events_lost_total{reason=\"redis_failed\"} 0",
                           "event_transport_fallback_total{reason=\"redis_error\"} 0",
                           "event_transport_fallback_total{reason=\"timeout\"} 0",
                           "event_transport_fallback_total{reason=\"connection_lost\"} 0",
                           "event_dual_write_status 0",
                           "dual_write_success_total{transport=\"redis_streams\"} 0",
                           "dual_write_failure_total{transport=\"http\"} 0",
                           "process_resident_memory_bytes ",
                           "process_cpu_seconds_total ",
                           "process_open_fds ",
                           "process_start_time_seconds ",
                           "streamshift_http_requests_total{code=\"2xx\"} 60",
                           "streamshift_http_requests_total{code=\"4xx\"} 1",
                           "streamshift_http_request_duration_seconds_count{code=\"2xx\"} 60",
                           "streamshift_upstream_requests_total{code=\"2xx\"} ",
                           "streamshift_redis_connections_ready 8",
                           "streamshift_redis_circuit_open{worker=\"1\"} 0",
                           "streamshift_rollout_redis_percentage 50",
                           "streamshift_rollout_info{dual_write=\"false\",fallback_to_http="
                           "\"true\",rollout_key=\"random\",use_redis_streams=\"true\"} 1",
                           "streamshift_events_invalid_total 1"}) {
    EXPECT_TRUE(has(name)) << name;
  }
  if (access("/usr/bin/promtool", X_OK) != 0) {
    FAIL()
        << "promtool is not installed: install Debian's prometheus package (scripts/setup-deps.sh)";
  }
  char path[] = "/tmp/streamshift-metrics-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  ChildProcess promtool({"/bin/sh", "-c", std::string("/usr/bin/promtool check metrics < ") + path},
                        {});
  EXPECT_EQ(promtool.wait(seconds(30)), 0) << promtool.output();
  unlink(path);
}

TEST_F(Admin, EventsApiNeedsTheBearerToken) {
  ASSERT_TRUE(redis_.ready());
  start({});
  auto missing = admin_get(sidecar_->admin_port(), "/api/v1/events/health", "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(missing->header("WWW-Authenticate").value_or("").rfind("Bearer", 0), 0u);
  auto wrong = admin_get(sidecar_->admin_port(), "/api/v1/events/health", "t0ken-for-testz");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto right = admin_get(sidecar_->admin_port(), "/api/v1/events/health");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200) << right->body;
  // Metrics and probes stay open for Prometheus and the kubelet.
  EXPECT_EQ(admin_get(sidecar_->admin_port(), "/metrics", "")->status, 200);
  EXPECT_EQ(admin_get(sidecar_->admin_port(), "/nope")->status, 404);
}

TEST_F(Admin, WithoutAConfiguredTokenTheEventsApiIsForbidden) {
  ASSERT_TRUE(redis_.ready());
  sidecar_ = std::make_unique<Sidecar>(
      upstream_.port(), std::map<std::string, std::string>{{"REDIS_URL", redis_.url()}});
  ASSERT_TRUE(sidecar_->ready());
  auto r = admin_get(sidecar_->admin_port(), "/api/v1/events/consumer-lag", "anything");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
}

TEST_F(Admin, ConsumerLagStreamsAndHealthReportKnownLag) {
  ASSERT_TRUE(redis_.ready());
  make_stream(redis_, "s:low", 50);
  make_stream(redis_, "s:mid", 500);
  make_stream(redis_, "s:high", 1500);
  start({{"STREAMSHIFT_STREAMS", "s:low,s:mid,s:high,s:missing"},
         {"STREAMSHIFT_ADMIN_CACHE_MS", "0"}});
  auto lag = admin_get(sidecar_->admin_port(), "/api/v1/events/consumer-lag");
  ASSERT_TRUE(lag);
  ASSERT_EQ(lag->status, 200);
  EXPECT_EQ(lag->body,
            "{\"streams\":{\"s:low\":{\"lag\":50,\"consumers\":[\"instance-1\"],\"trimmed_unread\":"
            "false},"
            "\"s:mid\":{\"lag\":500,\"consumers\":[\"instance-1\"],\"trimmed_unread\":false},"
            "\"s:high\":{\"lag\":1500,\"consumers\":[\"instance-1\"],\"trimmed_unread\":false},"
            "\"s:missing\":{\"lag\":0,\"consumers\":[],\"trimmed_unread\":false}},"
            "\"total_lag\":2050,\"stream_count\":4}");
  auto streams = admin_get(sidecar_->admin_port(), "/api/v1/events/streams");
  ASSERT_TRUE(streams);
  EXPECT_EQ(
      streams->body,
      "{\"streams\":[{\"name\":\"s:low\",\"length\":50,\"groups\":1,\"consumer_group\":\"signalr-"
      "consumers\"},"
      "{\"name\":\"s:mid\",\"length\":500,\"groups\":1,\"consumer_group\":\"signalr-consumers\"},"
      "{\"name\":\"s:high\",\"length\":1500,\"groups\":1,\"consumer_group\":\"signalr-consumers\"},"
      "{\"name\":\"s:missing\",\"length\":0,\"groups\":0,\"consumer_group\":\"signalr-consumers\"}]"
      "}");
  auto health = admin_get(sidecar_->admin_port(), "/api/v1/events/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body,
            "{\"status\":\"unhealthy\",\"redis_connected\":true,\"transport_mode\":\"http\","
            "\"streams\":{\"healthy\":2,\"degraded\":1,\"unhealthy\":1},\"max_lag\":1500,\"total_"
            "lag\":2050,"
            "\"consumer_group\":\"signalr-consumers\",\"redis\":{\"primary\":\"127.0.0.1:" +
                std::to_string(redis_.port()) +
                "\",\"failovers\":0,\"seconds_without_primary\":0}}");
  // The lag API answers from Redis on demand; it sets no gauge, because a
  // gauge set only when someone asks keeps its old value after the backlog
  // drains. The relay exports lag and depth on a schedule.
  auto metrics = admin_get(sidecar_->admin_port(), "/metrics", "");
  EXPECT_EQ(metrics->body.find("event_consumer_lag{"), std::string::npos) << metrics->body;
  EXPECT_EQ(metrics->body.find("event_queue_depth{"), std::string::npos) << metrics->body;
}

// Only while Redis is not connected, health says why (the connection
// layer's last error): a refused connection here, a TLS failure in
// tests/proxy/redis_tls_integration_test.cc.
TEST_F(Admin, HealthSaysWhyRedisIsNotConnected) {
  Sidecar sidecar(upstream_.port(),
                  {{"REDIS_URL", "redis://127.0.0.1:" + std::to_string(free_port())},
                   {"STREAMSHIFT_ADMIN_TOKEN", kToken},
                   {"REDIS_CONNECT_TIMEOUT_MS", "200"},
                   {"STREAMSHIFT_ADMIN_CACHE_MS", "0"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  std::string body;
  EXPECT_TRUE(eventually(
      [&] {
        auto h = admin_get(sidecar.admin_port(), "/api/v1/events/health");
        body = h ? h->body : "";
        return body.find("\"redis_connected\":false,\"redis_error\":\"") != std::string::npos &&
               body.find("not connected yet") == std::string::npos;
      },
      seconds(20), "health naming the connection's failure"))
      << body;
  EXPECT_NE(body.find("\"status\":\"unhealthy\""), std::string::npos) << body;
}

TEST_F(Admin, HealthThresholdsAtTheirBoundaries) {
  ASSERT_TRUE(redis_.ready());
  make_stream(redis_, "b:99", 99);
  make_stream(redis_, "b:100", 100);
  make_stream(redis_, "b:1000", 1000);
  make_stream(redis_, "b:1001", 1001);
  struct Case {
    std::string streams, status;
  };
  for (const Case& c : {Case{"b:99", "healthy"}, Case{"b:99,b:100", "degraded"},
                        Case{"b:1000", "degraded"}, Case{"b:99,b:1001", "unhealthy"}}) {
    Sidecar sidecar(upstream_.port(), {{"REDIS_URL", redis_.url()},
                                       {"STREAMSHIFT_ADMIN_TOKEN", kToken},
                                       {"STREAMSHIFT_STREAMS", c.streams}});
    ASSERT_TRUE(sidecar.ready());
    ASSERT_TRUE(wait_port_open(sidecar.admin_port(), seconds(5)));
    auto h = admin_get(sidecar.admin_port(), "/api/v1/events/health");
    ASSERT_TRUE(h);
    EXPECT_NE(h->body.find("\"status\":\"" + c.status + "\""), std::string::npos)
        << c.streams << ": " << h->body;
  }
}

TEST_F(Admin, AFailedLookupIsMinusOneAndTheOthersAreStillReported) {
  ASSERT_TRUE(redis_.ready());
  make_stream(redis_, "ok", 3);
  redis_.command({"SET", "not-a-stream", "x"});
  start({{"STREAMSHIFT_STREAMS", "not-a-stream,ok"}});
  auto lag = admin_get(sidecar_->admin_port(), "/api/v1/events/consumer-lag");
  ASSERT_TRUE(lag);
  EXPECT_NE(lag->body.find("\"not-a-stream\":{\"lag\":-1,\"error\":\"WRONGTYPE"), std::string::npos)
      << lag->body;
  EXPECT_NE(lag->body.find("\"ok\":{\"lag\":3,"), std::string::npos) << lag->body;
  auto health = admin_get(sidecar_->admin_port(), "/api/v1/events/health");
  EXPECT_NE(health->body.find("\"unhealthy\":1"), std::string::npos) << health->body;
}

TEST_F(Admin, NilLagIsNullWithAReasonAndTrimmingIsReportedAsLoss) {
  ASSERT_TRUE(redis_.ready());
  // XDEL inside the unread range: Redis 7.0 reports lag nil.
  make_stream(redis_, "deleted", 10);
  std::string some_id = redis_.command({"XRANGE", "deleted", "-", "+", "COUNT", "3"})
                            .elements.at(2)
                            .elements.at(0)
                            .str;
  redis_.command({"XDEL", "deleted", some_id});
  // Head trimming before the group read anything: lag looks fine, entries are gone.
  make_stream(redis_, "trimmed", 0);
  for (int i = 0; i < 500; ++i)
    redis_.command({"XADD", "trimmed", "MAXLEN", "100", "*", "n", std::to_string(i)});
  start({{"STREAMSHIFT_STREAMS", "deleted,trimmed"}});
  auto lag = admin_get(sidecar_->admin_port(), "/api/v1/events/consumer-lag");
  ASSERT_TRUE(lag);
  EXPECT_NE(lag->body.find("\"deleted\":{\"lag\":null,\"lag_unknown\":\"Redis reports no lag"),
            std::string::npos)
      << lag->body;
  EXPECT_NE(lag->body.find("\"trimmed_unread\":true"), std::string::npos) << lag->body;
  auto health = admin_get(sidecar_->admin_port(), "/api/v1/events/health");
  EXPECT_NE(health->body.find("\"status\":\"degraded\""), std::string::npos) << health->body;
}

TEST_F(Admin, ABurstOfRequestsCostsOneRoundOfRedisCalls) {
  ASSERT_TRUE(redis_.ready());
  make_stream(redis_, "c1", 5);
  make_stream(redis_, "c2", 5);
  start({{"STREAMSHIFT_STREAMS", "c1,c2"}, {"STREAMSHIFT_ADMIN_CACHE_MS", "60000"}});
  redis_.command({"CONFIG", "RESETSTAT"});
  std::vector<std::thread> burst;
  std::atomic<int> ok{0};
  for (int i = 0; i < 10; ++i) {
    burst.emplace_back([&, i] {
      auto r = admin_get(sidecar_->admin_port(),
                         i % 2 ? "/api/v1/events/consumer-lag" : "/api/v1/events/health");
      if (r && r->status == 200) ++ok;
    });
  }
  for (auto& t : burst) t.join();
  EXPECT_EQ(ok.load(), 10);
  std::string stats = redis_.command({"INFO", "commandstats"}).str;
  // 2 streams x (XINFO STREAM, GROUPS, CONSUMERS) = 6 calls, once.
  EXPECT_NE(stats.find("cmdstat_xinfo|stream:calls=2,"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_xinfo|groups:calls=2,"), std::string::npos) << stats;
  // Cached: a change in Redis does not show until the cache expires.
  redis_.command({"XADD", "c1", "*", "n", "new"});
  auto cached = admin_get(sidecar_->admin_port(), "/api/v1/events/consumer-lag");
  EXPECT_NE(cached->body.find("\"c1\":{\"lag\":5,"), std::string::npos) << cached->body;
}

TEST_F(Admin, ProbesReportLivenessReadinessAndDraining) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(800);
    return r;
  });
  start({});
  auto live = admin_get(sidecar_->admin_port(), "/healthz", "");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto ready = admin_get(sidecar_->admin_port(), "/readyz", "");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  TestClient slow(sidecar_->port());
  ASSERT_TRUE(slow.send(make_request("GET", "/slow")));
  ASSERT_TRUE(upstream_.wait_for_requests(1, seconds(5)));
  sidecar_->process().signal(SIGTERM);
  std::optional<ParsedResponse> draining;
  eventually(
      [&] {
        draining = admin_get(sidecar_->admin_port(), "/readyz", "");
        return draining && draining->status == 503;
      },
      seconds(5));
  ASSERT_TRUE(draining);
  EXPECT_EQ(draining->status, 503);
  EXPECT_NE(draining->body.find("\"status\":\"draining\""), std::string::npos);
  auto answer = slow.read_response(seconds(5));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(sidecar_->process().wait(seconds(10)), 0);
}

// A native sidecar's readiness is the app pod's: Redis must never take the
// app out of its Service. Fallback off and no Redis at all: ready, events
// get 503, everything else is bridged.
TEST_F(Admin, ReadyWithoutRedisEvenWithFallbackOff) {
  redis_.kill_hard();
  start({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
         {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
         {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"}});
  auto ready = admin_get(sidecar_->admin_port(), "/readyz", "");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_NE(ready->body.find("\"redis_connected\":false"), std::string::npos) << ready->body;
  TestClient client(sidecar_->port());
  auto event = client.request(make_request("POST", "/internal/broadcast/chat",
                                           "{\"event_type\":\"chat_message\",\"room_id\":\"r\"}",
                                           "Content-Type: application/json\r\n"));
  ASSERT_TRUE(event);
  EXPECT_EQ(event->status, 503) << event->body;
  auto other = client.request(make_request("GET", "/api/users/7"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  ASSERT_TRUE(upstream_.wait_for_requests(1, seconds(5)));
  EXPECT_EQ(upstream_.requests().back().target, "/api/users/7");
  auto still = admin_get(sidecar_->admin_port(), "/readyz", "");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200) << still->body;
}

}  // namespace
}  // namespace streamshift::testing
