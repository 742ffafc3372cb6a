// The admin listener both programs use, on a loop of its own in this
// process, asked over loopback: the method rules, the probes, /metrics and
// the program routes.
#include "core/admin_router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/loop.h"
#include "tests/support/net.h"

namespace streamshift {
namespace {

using testing::make_request;
using testing::ParsedResponse;
using testing::TestClient;

class AdminRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &stop_, on_stop);
    stop_.data = this;
    registry_.AddGauge("test_gauge", "a gauge the scrape must show").Add({}).Set(7);
    listener_ =
        std::make_unique<AdminListener>(&loop_, HostPort{"127.0.0.1", 0}, registry_, [this] {
          return ProbeAnswer{ready_ ? 200 : 503, ready_ ? "{\"r\":1}" : "{\"r\":0}"};
        });
    listener_->router().add_prefix("/api/", [](Exchange& exchange, std::string_view rest) {
      exchange.respond_json(200, "{\"rest\":\"" + std::string(rest) + "\"}");
    });
    listener_->router().add_post("/act", [](Exchange& exchange, std::string_view) {
      exchange.respond_json(200,
                            "{\"acted\":\"" + std::string(exchange.request().target()) + "\"}");
    });
    ASSERT_EQ(listener_->start(), 0);
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }

  void TearDown() override {
    uv_async_send(&stop_);
    thread_.join();
    listener_.reset();
    close_loop(&loop_);
  }

  static void on_stop(uv_async_t* handle) {
    auto* self = static_cast<AdminRouterTest*>(handle->data);
    self->listener_->close("test over", [] {});
    uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
  }

  std::optional<ParsedResponse> ask(std::string_view method, std::string_view path) {
    TestClient client(listener_->port());
    if (method == "HEAD") {
      if (!client.send(make_request(method, path))) return std::nullopt;
      return client.read_response(std::chrono::seconds(5), true);
    }
    return client.request(make_request(method, path));
  }

  uv_loop_t loop_;
  uv_async_t stop_;
  Registry registry_;
  std::unique_ptr<AdminListener> listener_;
  std::atomic<bool> ready_{true};
  std::thread thread_;
};

TEST_F(AdminRouterTest, MetricsAreTheRegistryInTextFormat) {
  auto r = ask("GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("test_gauge 7"), std::string::npos) << r->body;
}

TEST_F(AdminRouterTest, ProbesAnswerWithTheProgramsProbeOrOk) {
  auto live = ask("GET", "/healthz");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(live->body, "{\"status\":\"ok\"}");
  auto ready = ask("GET", "/readyz?verbose=1");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "{\"r\":1}");
  ready_ = false;
  auto not_ready = ask("GET", "/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "{\"r\":0}");
}

TEST_F(AdminRouterTest, HeadIsAnsweredLikeGetWithoutABody) {
  for (const char* path : {"/metrics", "/healthz", "/readyz", "/api/x"}) {
    auto get = ask("GET", path);
    auto head = ask("HEAD", path);
    ASSERT_TRUE(get && head) << path;
    EXPECT_EQ(head->status, get->status) << path;
    EXPECT_TRUE(head->body.empty()) << path;
    EXPECT_EQ(head->header("Content-Length"), std::to_string(get->body.size())) << path;
  }
}

TEST_F(AdminRouterTest, OtherMethodsAre405WithAllowOnEveryPath) {
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    for (const char* path : {"/metrics", "/healthz", "/readyz", "/api/x", "/nope"}) {
      auto r = ask(method, path);
      ASSERT_TRUE(r) << method << " " << path;
      EXPECT_EQ(r->status, 405) << method << " " << path;
      EXPECT_EQ(r->header("Allow"), "GET, HEAD");
      EXPECT_EQ(r->header("Content-Type"), "application/json");
      EXPECT_EQ(r->body.rfind("{\"error\":\"method_not_allowed\",\"detail\":", 0), 0u) << r->body;
    }
  }
}

TEST_F(AdminRouterTest, PrefixRoutesGetTheRestOfThePathAndOthersAre404) {
  auto routed = ask("GET", "/api/v1/thing?q=1");
  ASSERT_TRUE(routed);
  EXPECT_EQ(routed->status, 200);
  EXPECT_EQ(routed->body, "{\"rest\":\"v1/thing\"}");
  for (const char* path : {"/nope", "/api", "/metricsx", "/"}) {
    auto r = ask("GET", path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body, "{\"error\":\"not_found\",\"detail\":\"no such admin endpoint\"}");
  }
}

}  // namespace
}  // namespace streamshift

namespace streamshift {
namespace {

TEST_F(AdminRouterTest, AnActionAnswersPostOnlyAndOtherPathsStillRefusePost) {
  auto acted = ask("POST", "/act?X=1");
  ASSERT_TRUE(acted);
  EXPECT_EQ(acted->status, 200);
  EXPECT_EQ(acted->body, "{\"acted\":\"/act?X=1\"}");
  auto get = ask("GET", "/act");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->header("Allow"), "POST");
  auto elsewhere = ask("POST", "/metrics");
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->status, 405);
  EXPECT_EQ(elsewhere->header("Allow"), "GET, HEAD");
}

}  // namespace
}  // namespace streamshift
