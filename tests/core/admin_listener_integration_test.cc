// Both programs' admin listeners through the real binary: one router
// (core/admin_router.h), so the same method rules on /metrics, /healthz and
// /readyz: GET and HEAD answered, any other method 405 with Allow.
#include <gtest/gtest.h>

#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

std::optional<ParsedResponse> ask(uint16_t port, std::string_view method, std::string_view path) {
  TestClient client(port);
  if (!client.send(make_request(method, path))) return std::nullopt;
  return client.read_response(seconds(5), method == "HEAD");
}

void expect_the_shared_method_rules(uint16_t admin_port, const std::string& program) {
  for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
    auto get = ask(admin_port, "GET", path);
    auto head = ask(admin_port, "HEAD", path);
    ASSERT_TRUE(get && head) << program << " " << path;
    EXPECT_EQ(get->status, 200) << program << " " << path << ": " << get->body;
    EXPECT_EQ(head->status, 200) << program << " HEAD " << path;
    EXPECT_TRUE(head->body.empty()) << program << " HEAD " << path;
    for (const char* method : {"POST", "DELETE"}) {
      auto refused = ask(admin_port, method, path);
      ASSERT_TRUE(refused) << program << " " << method << " " << path;
      EXPECT_EQ(refused->status, 405) << program << " " << method << " " << path;
      EXPECT_EQ(refused->header("Allow"), "GET, HEAD") << program << " " << method << " " << path;
      EXPECT_EQ(refused->body.rfind("{\"error\":\"method_not_allowed\",", 0), 0u) << refused->body;
    }
  }
  auto missing = ask(admin_port, "GET", "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << program;
}

TEST(AdminListeners, SidecarAndRelayAnswerGetAndHeadAndRefuseOtherMethodsAlike) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"REDIS_URL", redis.url()}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  ASSERT_TRUE(wait_port_open(sidecar.admin_port(), seconds(5)));
  expect_the_shared_method_rules(sidecar.admin_port(), "proxy");

  RelayProcess relay(redis.url(), upstream.port());
  ASSERT_TRUE(relay.ready()) << relay.process().output();
  expect_the_shared_method_rules(relay.admin_port(), "relay");
}

}  // namespace
}  // namespace streamshift::testing
