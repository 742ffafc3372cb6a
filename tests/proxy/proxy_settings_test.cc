#include "proxy/proxy_settings.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/env_map.h"

namespace streamshift {
namespace {

using testing::env_from;

TEST(ProxySettings, DefaultsMatchTheDocumentation) {
  auto env = env_from({});
  ProxySettings s = load_proxy_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.listen.host, "127.0.0.1");
  EXPECT_EQ(s.listen.port, 15001);
  EXPECT_EQ(s.workers, 1);
  EXPECT_EQ(s.max_header_bytes, 16384u);
  EXPECT_EQ(s.max_body_bytes, 1048576u);
  EXPECT_EQ(s.max_response_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(s.log_level, LogLevel::kInfo);
}

TEST(ProxySettings, EveryInvalidVariableIsReported) {
  auto env = env_from({{"STREAMSHIFT_WORKERS", "0"},
                       {"STREAMSHIFT_LISTEN", "nowhere"},
                       {"STREAMSHIFT_UPSTREAM_URL", "https://signalr"},
                       {"STREAMSHIFT_MAX_BODY_BYTES", "-1"},
                       {"STREAMSHIFT_MAX_RESPONSE_BYTES", "1023"},
                       {"LOG_LEVEL", "loud"}});
  load_proxy_settings(env);
  ASSERT_EQ(env.errors().size(), 6u) << env.error_report();
  std::string report = env.error_report();
  for (const char* name :
       {"STREAMSHIFT_WORKERS=\"0\"", "STREAMSHIFT_LISTEN=\"nowhere\"",
        "STREAMSHIFT_UPSTREAM_URL=\"https://<invalid, 15 bytes>\"", "STREAMSHIFT_MAX_BODY_BYTES=\"-1\"",
        "STREAMSHIFT_MAX_RESPONSE_BYTES=\"1023\"", "LOG_LEVEL=\"loud\""}) {
    EXPECT_NE(report.find(name), std::string::npos) << name;
  }
}

TEST(ProxySettings, ReadsOverrides) {
  auto env = env_from({{"STREAMSHIFT_WORKERS", "4"},
                       {"STREAMSHIFT_UPSTREAM_URL", "http://signalr:5000"},
                       {"STREAMSHIFT_MAX_RESPONSE_BYTES", "1048576"},
                       {"LOG_LEVEL", "DEBUG"}});
  ProxySettings s = load_proxy_settings(env);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(s.workers, 4);
  EXPECT_EQ(s.max_response_bytes, 1048576u);
  EXPECT_EQ(s.upstream.host, "signalr");
  EXPECT_EQ(s.log_level, LogLevel::kDebug);
}

}  // namespace
}  // namespace streamshift
