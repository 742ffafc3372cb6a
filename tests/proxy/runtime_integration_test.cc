// Runtime control (issue 19) through the real binary, a real redis-server and
// a real upstream: STREAMSHIFT_RUNTIME_DIR (plain files and a Kubernetes-style
// ..data swap), POST /runtime_modify and GET /runtime.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kToken = "runtime-test-token";

std::string chat(int n, const std::string& room = "room-7") {
  return make_request("POST", "/internal/broadcast/chat",
                      "{\"event_type\":\"chat_message\",\"room_id\":\"" + room +
                          "\",\"event_id\":\"e-" + std::to_string(n) + "\",\"text\":\"hi\"}",
                      "Content-Type: application/json\r\n");
}

std::string typing(const std::string& type, int n) {
  return make_request("POST", "/internal/broadcast/typing",
                      "{\"event_type\":\"" + type +
                          "\",\"room_id\":\"r\",\"user_id\":\"u\",\"event_id\":\"t-" +
                          std::to_string(n) + "\"}",
                      "Content-Type: application/json\r\n");
}

bool over_redis(const ParsedResponse& r) {
  return r.status == 202 && r.body.find("\"status\":\"accepted\"") != std::string::npos;
}
// The upstream's answer: X-Event-Transport: http once decided, or no header at all
// with the master switch off (the original bridge, untouched).
bool over_http(const ParsedResponse& r) {
  return r.status == 200 && r.header("X-Event-Transport").value_or("http") == "http";
}

// Chat events sent one after another until one is answered over Redis (or HTTP).
::testing::AssertionResult answered_over(bool redis, TestClient& client, int& n,
                                         std::chrono::milliseconds timeout, std::string_view what) {
  return eventually(
      [&] {
        auto r = client.request(chat(n++));
        return r && (redis ? over_redis(*r) : over_http(*r));
      },
      timeout, what);
}
void write_file(const fs::path& path, const std::string& text) {
  write_file_atomically(path, text + "\n");  // one change, as a ConfigMap update is
}

std::optional<ParsedResponse> admin(uint16_t port, const std::string& method,
                                    const std::string& target, bool with_token) {
  TestClient client(port);
  std::string auth =
      with_token ? std::string("Authorization: Bearer ") + kToken + "\r\n" : std::string();
  return client.request(make_request(method, target, {}, auth));
}

// Requests sent one after another on each of a few connections at once, each
// remembered with the time it was sent and how it was answered.
class Traffic {
 public:
  struct Answer {
    Clock::time_point sent;
    bool redis = false;
    bool http = false;
  };

  Traffic(uint16_t port, int connections) : port_(port) {
    for (int c = 0; c < connections; ++c) threads_.emplace_back([this, c] { run(c); });
  }
  ~Traffic() { stop(); }
  void stop() {
    stop_ = true;
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }
  /// The first request sent at or after `since` answered over Redis (or HTTP).
  std::optional<Clock::time_point> first_after(Clock::time_point since, bool redis) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<Clock::time_point> first;
    for (const Answer& a : answers_) {
      if (a.sent >= since && (redis ? a.redis : a.http) && (!first || a.sent < *first))
        first = a.sent;
    }
    return first;
  }
  int errors() const { return errors_.load(); }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_.size();
  }
  std::string first_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

 private:
  void run(int connection) {
    TestClient client(port_);
    for (int n = 0; !stop_; ++n) {
      Answer a{Clock::now()};
      auto r = client.request(chat(n, "room-" + std::to_string(connection * 50 + n % 50)));
      if (!r) {
        ++errors_;
        std::lock_guard<std::mutex> lock(mu_);
        if (first_error_.empty()) first_error_ = "no answer";
        return;
      }
      a.redis = over_redis(*r);
      a.http = over_http(*r);
      std::lock_guard<std::mutex> lock(mu_);
      if (!a.redis && !a.http) {
        ++errors_;
        if (first_error_.empty()) first_error_ = std::to_string(r->status) + " " + r->body;
      }
      answers_.push_back(a);
    }
  }

  uint16_t port_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> errors_{0};
  mutable std::mutex mu_;
  std::vector<Answer> answers_;
  std::string first_error_;
};

class RuntimeControlTest : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env) {
    ASSERT_TRUE(redis_.ready());
    env.emplace("REDIS_URL", redis_.url());
    env.emplace("STREAMSHIFT_RUNTIME_DIR", dir_.path().string());
    env.emplace("STREAMSHIFT_ADMIN_TOKEN", kToken);
    env.emplace("EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000");
    sidecar_ = std::make_unique<Sidecar>(upstream_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
  }
  std::string runtime_document() {
    auto r = http_get(sidecar_->admin_port(), "/runtime");
    return r ? r->body : std::string("(no answer)");
  }
  // Everything over Redis, typing_start t-0 sent and typing_stop t-1 held for
  // a coalescing window of `window_ms`; the client that sent them.
  void start_with_an_event_held(const std::string& window_ms) {
    start({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
           {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
           {"EVENT_COALESCING_WINDOW_MS", window_ms},
           {"EVENT_COALESCING_REFRESH_MS", "20000"}});
    if (HasFatalFailure()) return;
    client_ = std::make_unique<TestClient>(sidecar_->port());
    ASSERT_TRUE(sidecar_->wait_redis_connected());
    ASSERT_TRUE(client_->request(typing("typing_start", 0)));
    auto held = client_->request(typing("typing_stop", 1));
    ASSERT_TRUE(held && held->body.find("coalesced") != std::string::npos)
        << "typing_stop not held: " << (held ? held->body : "no answer");
  }
  double metric(std::string_view series) {
    return metric_sample(sidecar_->admin_port(), series).value_or(-1);
  }

  TempDir dir_{"streamshift-runtime"};
  TestUpstream upstream_;
  RedisServer redis_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<TestClient> client_;
};

// The core of issue 19: a rollout moved forward and rolled back by a file,
// with requests flowing, none answered with an error, each move in under 2 s.
TEST_F(RuntimeControlTest, AFileChangeMovesEventsToRedisAndBackWithinTwoSeconds) {
  start({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
         {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "0"},
         {"STREAMSHIFT_WORKERS", "2"}});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  Traffic traffic(sidecar_->port(), 4);
  ASSERT_TRUE(eventually([&] { return traffic.count() > 20; }, seconds(5)));

  Clock::time_point forward = Clock::now();
  write_file(dir_.path() / "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
  ASSERT_TRUE(eventually([&] { return traffic.first_after(forward, true).has_value(); },
                         seconds(10), "an event over Redis after the file said 100"));
  auto to_redis = *traffic.first_after(forward, true) - forward;

  Clock::time_point back = Clock::now();
  write_file(dir_.path() / "EVENT_TRANSPORT_USE_REDIS_STREAMS", "false");
  ASSERT_TRUE(eventually([&] { return traffic.first_after(back, false).has_value(); }, seconds(10),
                         "an event over HTTP after the file said false"));
  auto to_http = *traffic.first_after(back, false) - back;
  // Once rolled back, nothing more goes to Redis.
  Clock::time_point settled = Clock::now() + milliseconds(300);
  ASSERT_TRUE(
      eventually([&] { return traffic.first_after(settled, false).has_value(); }, seconds(5)));
  traffic.stop();
  EXPECT_FALSE(traffic.first_after(settled, true).has_value());

  auto ms = [](Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); };
  std::printf(
      "runtime effect time: file written -> first request over Redis %lld ms, "
      "file written -> first request back over HTTP %lld ms (%zu requests)\n",
      static_cast<long long>(ms(to_redis)), static_cast<long long>(ms(to_http)), traffic.count());
  EXPECT_LT(ms(to_redis), 2000);
  EXPECT_LT(ms(to_http), 2000);
  EXPECT_EQ(traffic.errors(), 0) << traffic.first_error();
  EXPECT_GT(redis_.command({"XLEN", "events:chat"}).integer, 0);
  const std::string& log = sidecar_->process().output();
  EXPECT_NE(log.find("runtime: EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE \\\"0\\\" (env) -> "
                     "\\\"100\\\" (file)"),
            std::string::npos)
      << log;
  EXPECT_EQ(metric("streamshift_rollout_redis_percentage"), 0);
  EXPECT_EQ(metric("streamshift_rollout_info{dual_write=\"false\",fallback_to_http=\"true\","
                   "rollout_key=\"room\",use_redis_streams=\"false\"}"),
            1);
  EXPECT_GE(metric("streamshift_runtime_reloads_total{result=\"accepted\"}"), 2);
}

// A Kubernetes ConfigMap volume: files are symlinks through ..data, and an
// update swaps ..data to a new timestamped directory in one rename.
TEST_F(RuntimeControlTest, AKubernetesDataSwapIsSeen) {
  const fs::path& d = dir_.path();
  auto version = [&](const std::string& stamp, const std::string& percentage) {
    fs::create_directory(d / stamp);
    std::ofstream(d / stamp / "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE") << percentage;
    std::ofstream(d / stamp / "EVENT_TRANSPORT_USE_REDIS_STREAMS") << "true";
  };
  version("..2026_11_30_10_00_00.1", "0");
  fs::create_directory_symlink("..2026_11_30_10_00_00.1", d / "..data");
  fs::create_symlink("..data/EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE",
                     d / "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE");
  fs::create_symlink("..data/EVENT_TRANSPORT_USE_REDIS_STREAMS",
                     d / "EVENT_TRANSPORT_USE_REDIS_STREAMS");
  start({});
  ASSERT_TRUE(sidecar_->wait_redis_connected()) << "the directory's switch was read at start";
  TestClient client(sidecar_->port());
  auto first = client.request(chat(0));
  ASSERT_TRUE(first);
  EXPECT_TRUE(over_http(*first)) << first->status << " " << first->body;

  version("..2026_11_30_10_01_00.2", "100");
  fs::create_directory_symlink("..2026_11_30_10_01_00.2", d / "..data_tmp");
  fs::rename(d / "..data_tmp", d / "..data");
  fs::remove_all(d / "..2026_11_30_10_00_00.1");
  int n = 1;
  EXPECT_TRUE(answered_over(true, client, n, seconds(5), "an event over Redis after the swap"));
  std::string doc = runtime_document();
  EXPECT_NE(doc.find("\"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE\":{\"value\":\"100\","
                     "\"layer\":\"file\"}"),
            std::string::npos)
      << doc;
}

TEST_F(RuntimeControlTest, AnInvalidValueKeepsTheOldSetAndSaysWhy) {
  write_file(dir_.path() / "EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
  write_file(dir_.path() / "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
  start({});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  write_file(dir_.path() / "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "150");
  write_file(dir_.path() / "NOT_A_RUNTIME_VARIABLE", "x");
  ASSERT_TRUE(eventually(
      [&] { return metric("streamshift_runtime_reloads_total{result=\"rejected\"}") >= 1; },
      seconds(10), "the rejected counter moved"))
      << sidecar_->process().output();
  std::string doc = runtime_document();
  EXPECT_NE(doc.find("\"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE\":{\"value\":\"100\","
                     "\"layer\":\"file\"}"),
            std::string::npos)
      << doc;
  EXPECT_NE(doc.find("\"result\":\"rejected\""), std::string::npos) << doc;
  EXPECT_NE(doc.find("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE=\\\"150\\\": invalid, allowed: an "
                     "integer from 0 to 100"),
            std::string::npos)
      << doc;
  TestClient client(sidecar_->port());
  auto r = client.request(chat(1));
  ASSERT_TRUE(r);
  EXPECT_TRUE(over_redis(*r)) << r->status << " " << r->body;
  EXPECT_TRUE(sidecar_->process().wait_output("values refused", seconds(5)));
  EXPECT_TRUE(sidecar_->process().wait_output("NOT_A_RUNTIME_VARIABLE", seconds(5)));
}

TEST_F(RuntimeControlTest, RuntimeModifyNeedsTheTokenAndTakesEffect) {
  start({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"}});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  const std::string target = "/runtime_modify?EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE=100";
  auto refused = admin(sidecar_->admin_port(), "POST", target, false);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << refused->body;
  auto wrong_method = admin(sidecar_->admin_port(), "GET", target, true);
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  auto invalid = admin(sidecar_->admin_port(), "POST",
                       "/runtime_modify?EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE=abc", true);
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_NE(invalid->body.find("\"error\":\"invalid_runtime_value\""), std::string::npos)
      << invalid->body;
  auto not_capable = admin(sidecar_->admin_port(), "POST", "/runtime_modify?REDIS_URL=x", true);
  ASSERT_TRUE(not_capable);
  EXPECT_EQ(not_capable->status, 400) << not_capable->body;

  auto accepted = admin(sidecar_->admin_port(), "POST", target, true);
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 200) << accepted->body;
  EXPECT_NE(accepted->body.find("\"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE\":{\"value\":\"100\","
                                "\"layer\":\"admin\"}"),
            std::string::npos)
      << accepted->body;
  TestClient client(sidecar_->port());
  int n = 0;
  EXPECT_TRUE(
      answered_over(true, client, n, seconds(2), "an event over Redis after /runtime_modify"));
  EXPECT_EQ(metric("streamshift_rollout_redis_percentage"), 100);
  EXPECT_EQ(metric("streamshift_runtime_reloads_total{result=\"rejected\"}"), 2);
  auto health = admin(sidecar_->admin_port(), "GET", "/api/v1/events/health", true);
  ASSERT_TRUE(health);
  EXPECT_NE(health->body.find("\"transport_mode\":\"redis_streams\""), std::string::npos)
      << health->body;
}

TEST_F(RuntimeControlTest, TheMasterSwitchTurnedOnConnectsRedisAndRemovingTheOverrideGoesBack) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  TestClient client(sidecar_->port());
  auto before = client.request(chat(0));
  ASSERT_TRUE(before);
  EXPECT_TRUE(over_http(*before));
  auto on = admin(sidecar_->admin_port(), "POST",
                  "/runtime_modify?EVENT_TRANSPORT_USE_REDIS_STREAMS=true", true);
  ASSERT_TRUE(on);
  ASSERT_EQ(on->status, 200) << on->body;
  int n = 1;
  EXPECT_TRUE(answered_over(true, client, n, seconds(10),
                            "Redis connected and used after the switch went on"));
  auto off = admin(sidecar_->admin_port(), "POST",
                   "/runtime_modify?EVENT_TRANSPORT_USE_REDIS_STREAMS=", true);
  ASSERT_TRUE(off);
  ASSERT_EQ(off->status, 200) << off->body;
  EXPECT_TRUE(
      answered_over(false, client, n, seconds(2), "HTTP again once the override is removed"));
}

// Coalescing switched off while a typing event is held: it is sent at once.
TEST_F(RuntimeControlTest, CoalescingTurnedOffSendsWhatIsHeld) {
  start_with_an_event_held("10000");
  ASSERT_FALSE(HasFatalFailure());
  TestClient& client = *client_;
  ASSERT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 1);

  // Well before the 10 s window would send it anyway, and past the watch's
  // 3 s re-read, which catches a change whose file event came late (a
  // loaded machine: ThreadSanitizer, four workers, in parallel with others).
  write_file(dir_.path() / "EVENT_COALESCING_ENABLED", "false");
  ASSERT_TRUE(eventually(
      [&] {
        return redis_.command({"XLEN", "events:chat"}).integer == 2;
      },
      seconds(6), "the held typing_stop sent"))
      << sidecar_->process().output();
  auto entries = read_stream(redis_, "events:chat");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].field("event_id"), "t-1");
  // And from now on nothing is held.
  auto next = client.request(typing("typing_start", 2));
  ASSERT_TRUE(next);
  EXPECT_NE(next->body.find("\"status\":\"accepted\""), std::string::npos) << next->body;
}

// The master switch turned off while a typing event is held: the held event
// still reaches SignalR (over HTTP, when its window closes), nothing is lost.
TEST_F(RuntimeControlTest, TheSwitchTurnedOffWithAnEventHeldLosesNothing) {
  start_with_an_event_held("500");
  ASSERT_FALSE(HasFatalFailure());
  auto off = admin(sidecar_->admin_port(), "POST",
                   "/runtime_modify?EVENT_TRANSPORT_USE_REDIS_STREAMS=false", true);
  ASSERT_TRUE(off);
  ASSERT_EQ(off->status, 200) << off->body;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& r : upstream_.requests())
          if (r.header("X-Event-Id") == "t-1") return true;
        return false;
      },
      seconds(5), "the held typing_stop delivered over HTTP"));
  EXPECT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 1);
  EXPECT_EQ(metric("streamshift_events_lost_total{reason=\"http_failed\"}"), 0);
  EXPECT_EQ(metric("streamshift_events_lost_total{reason=\"redis_failed\"}"), 0);
}

}  // namespace
}  // namespace streamshift::testing
