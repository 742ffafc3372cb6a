// The sidecar against a hostile Redis (FakeRedis: a TCP peer that answers
// the handshake, then sends what no Redis would): an array announced with
// two billion elements followed by endless elements, a bulk string of a
// gigabyte. The connection fails and the events fall back to HTTP; the
// process stays up and small. The normal Redis path runs against the real
// redis-server in redis_transport_integration_test.cc.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/eventually.h"
#include "tests/support/fake_redis.h"
#include "tests/support/net.h"
#include "tests/support/proc_stats.h"
#include "tests/support/process.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Hostile {
  const char* name;
  std::string head, repeat;
  friend void PrintTo(const Hostile& h, std::ostream* os) { *os << h.name; }
};

class HostileRedis : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileRedis, TheConnectionFailsNeverTheProcess) {
  const Hostile& h = GetParam();
  FakeRedis fake([&](const std::vector<std::string>&) {
    return FakeRedis::Reply{h.head, h.repeat};
  });
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"REDIS_URL", fake.url()},
                                    {"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                                    {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
                                    {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "1000"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  ASSERT_TRUE(sidecar.wait_redis_connected());
  long baseline = peak_rss_mib(sidecar.process().pid());
  TestClient client(sidecar.port());
  // Each event goes out on the next ready connection of the worker (up to
  // four), and each hostile reply costs that connection. Events are sent
  // until three connections have failed: on a loaded machine some of the
  // worker's connections are still connecting when the first events come,
  // and those events fall back without touching Redis.
  size_t sent = 0;
  EXPECT_TRUE(eventually(
      [&] {
        auto r = client.request(make_request("POST", "/internal/broadcast/chat",
                                             "{\"event_type\":\"chat_message\",\"room_id\":\"r\"}",
                                             "Content-Type: application/json\r\n"),
                                seconds(10));
        EXPECT_TRUE(r) << "request " << sent;
        if (!r) return true;
        ++sent;
        EXPECT_EQ(r->header("X-Event-Transport").value_or(""), "http");  // the fallback
        return fake.wait_closed_by_client(3, milliseconds(200));
      },
      seconds(90)))
      << fake.closed_by_client() << " connections closed after " << sent << " events";
  EXPECT_LT(fake.most_sent_before_close(), size_t{64} << 20);
  EXPECT_TRUE(sidecar.process().running());
  long peak = peak_rss_mib(sidecar.process().pid());
  RecordProperty("peak_rss_mib", static_cast<int>(peak));
  EXPECT_LT(peak - baseline, 128) << "baseline " << baseline << " MiB, peak " << peak << " MiB";
  EXPECT_NE(sidecar.process().output().find("redis reply refused"), std::string::npos);
  EXPECT_EQ(upstream.request_count(), sent);
}

INSTANTIATE_TEST_SUITE_P(
    Sidecar, HostileRedis,
    ::testing::Values(Hostile{"EndlessArray", "*2000000000\r\n", "$1\r\na\r\n"},
                      Hostile{"GigabyteBulk", "$1073741824\r\n", std::string(4096, 'x')}),
    [](const ::testing::TestParamInfo<Hostile>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace streamshift::testing
