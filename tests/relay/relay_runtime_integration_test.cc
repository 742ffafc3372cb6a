// The relay's runtime values (issue 19) through the real binary: its
// concurrency read from STREAMSHIFT_RUNTIME_DIR at start, then changed in
// the directory while it delivers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tests/support/delivery_target.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"

namespace streamshift::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RelayRuntime, TheConcurrencyChangesWhileDelivering) {
  char tmpl[] = "/tmp/streamshift-relay-runtime-XXXXXX";
  fs::path dir = mkdtemp(tmpl);
  auto write = [&](const std::string& name, const std::string& value) {
    fs::path tmp = dir / ("." + name + ".tmp");
    std::ofstream(tmp) << value << "\n";
    fs::rename(tmp, dir / name);
  };
  write("STREAMSHIFT_RELAY_CONCURRENCY", "1");
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  DeliveryTarget target;
  target.set_policy([](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.delay = milliseconds(40);
    return reply;
  });
  RelayProcess relay(redis.url(), target.port(),
                     {{"STREAMSHIFT_STREAMS", "events:chat"},
                      {"STREAMSHIFT_RUNTIME_DIR", dir.string()},
                      {"STREAMSHIFT_RELAY_CONCURRENCY", "32"}});
  ASSERT_TRUE(relay.ready()) << relay.process().output();
  constexpr int kRooms = 60;
  for (int i = 0; i < kRooms; ++i)
    xadd(redis, "ev-" + std::to_string(i), "room-" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return target.delivered_count() >= 8; }, seconds(10)));
  EXPECT_EQ(target.max_concurrent(), 1) << "the directory's 1 was in force from the start";

  write("STREAMSHIFT_RELAY_CONCURRENCY", "8");
  EXPECT_TRUE(eventually([&] { return target.max_concurrent() > 1; }, seconds(2),
                         "deliveries in parallel after the change"));
  ASSERT_TRUE(eventually([&] { return target.delivered_count() == size_t{kRooms}; }, seconds(20)))
      << relay.process().output();
  EXPECT_LE(target.max_concurrent(), 8);
  auto doc = http_get(relay.admin_port(), "/runtime");
  ASSERT_TRUE(doc);
  EXPECT_NE(
      doc->body.find("\"STREAMSHIFT_RELAY_CONCURRENCY\":{\"value\":\"8\",\"layer\":\"file\"}"),
      std::string::npos)
      << doc->body;
  EXPECT_TRUE(relay.process().wait_output(
      "runtime: STREAMSHIFT_RELAY_CONCURRENCY \\\"1\\\" (file) -> \\\"8\\\" (file)", seconds(2)))
      << relay.process().output();
  fs::remove_all(dir);
}

// The relay's admin overrides take the same bearer token as the sidecar's.
TEST(RelayRuntime, RuntimeModifyNeedsTheTokenAndTakesEffect) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  DeliveryTarget target;
  RelayProcess relay(
      redis.url(), target.port(),
      {{"STREAMSHIFT_STREAMS", "events:chat"}, {"STREAMSHIFT_ADMIN_TOKEN", "relay-test-token"}});
  ASSERT_TRUE(relay.ready()) << relay.process().output();
  auto modify = [&](const char* auth) {
    TestClient client(relay.admin_port());
    return client.request(
        make_request("POST", "/runtime_modify?STREAMSHIFT_DEDUP_TTL_S=42", {}, auth));
  };
  auto refused = modify("");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << refused->body;
  auto accepted = modify("Authorization: Bearer relay-test-token\r\n");
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 200) << accepted->body;
  auto doc = http_get(relay.admin_port(), "/runtime");
  ASSERT_TRUE(doc);
  EXPECT_NE(doc->body.find("\"STREAMSHIFT_DEDUP_TTL_S\":{\"value\":\"42\",\"layer\":\"admin\"}"),
            std::string::npos)
      << doc->body;
}

}  // namespace
}  // namespace streamshift::testing
