#include "core/metrics.h"

#include <gtest/gtest.h>
#include <time.h>

#include <thread>
#include <vector>

#include "core/process_metrics.h"
#include "core/redis_tls.h"

namespace streamshift {
namespace {

TEST(Metrics, CountersSumTheShardsOfEveryThread) {
  Registry r;
  Counter& c = r.AddCounter("things_total", "Things").Add({{"kind", "a"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      set_metrics_shard(t + 1);
      for (int i = 0; i < 100000; ++i) c.Increment();
    });
  }
  for (auto& th : threads) th.join();
  c.Increment(0.5);
  EXPECT_DOUBLE_EQ(c.Value(), 400000.5);
  EXPECT_NE(r.Serialize().find("things_total{kind=\"a\"} 400000.5\n"), std::string::npos)
      << r.Serialize();
}

TEST(Metrics, FamilyReturnsOneMetricPerLabelSet) {
  Registry r;
  auto& f = r.AddCounter("x_total", "X");
  Counter& a = f.Add({{"l", "1"}});
  Counter& b = f.Add({{"l", "2"}});
  EXPECT_EQ(&a, &f.Add({{"l", "1"}}));
  EXPECT_NE(&a, &b);
}

TEST(Metrics, GaugesSetAndMove) {
  Registry r;
  Gauge& g = r.AddGauge("level", "Level").Add({});
  g.Set(5);
  g.Increment(2);
  g.Decrement(0.5);
  EXPECT_DOUBLE_EQ(g.Value(), 6.5);
  EXPECT_NE(r.Serialize().find("# TYPE level gauge\nlevel 6.5\n"), std::string::npos)
      << r.Serialize();
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram& h = r.AddHistogram("lat_seconds", "Latency", {0.001, 0.01, 0.1}).Add({{"t", "x"}});
  for (double v : {0.0005, 0.001, 0.005, 0.05, 5.0}) h.Observe(v);
  std::string text = r.Serialize();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{t=\"x\",le=\"0.001\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{t=\"x\",le=\"0.01\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{t=\"x\",le=\"0.1\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{t=\"x\",le=\"+Inf\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_sum{t=\"x\"} 5.0565\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{t=\"x\"} 5\n"), std::string::npos) << text;
}

TEST(Metrics, LatencyBucketsResolveMicrosecondsAndSeconds) {
  const auto& b = latency_buckets();
  EXPECT_LE(b.front(), 0.00001);
  EXPECT_GE(b.back(), 10.0);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

// Help texts are ours (constants, no backslash or newline); label values
// may come from clients and are escaped by prometheus-cpp's serializer.
TEST(Metrics, LabelValuesAreEscaped) {
  Registry r;
  r.AddCounter("esc_total", "Help").Add({{"v", "a\"b\\c\nd"}}).Increment();
  std::string text = r.Serialize();
  EXPECT_NE(text.find("esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

// A hostile event_type must not break a scrape: every label value is valid
// UTF-8 on the way out.
TEST(Metrics, InvalidUtf8LabelValuesAreReplaced) {
  EXPECT_EQ(sanitize_label_value("typing_start"), "typing_start");
  EXPECT_EQ(sanitize_label_value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(sanitize_label_value("\xff\xfe"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_label_value("a\xC3"), "a\xEF\xBF\xBD");                // truncated
  EXPECT_EQ(sanitize_label_value("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(sanitize_label_value("\xED\xA0\x80"),                           // a surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  Registry r;
  auto& f = r.AddCounter("typed_total", "T");
  f.Add({{"event_type", "\xff\xfe"}}).Increment();
  EXPECT_EQ(&f.Add({{"event_type", "\xff\xfe"}}), &f.Add({{"event_type", "\xfe\xff"}}));
  std::string text = r.Serialize();
  EXPECT_NE(text.find("typed_total{event_type=\"\xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, AGaugeWhoseValueIsUnknownIsRemovedNotFrozen) {
  Registry r;
  auto& lag = r.AddGauge("lag", "Lag");
  set_gauge_or_remove(lag, {{"stream", "s"}}, 42);
  EXPECT_NE(r.Serialize().find("lag{stream=\"s\"} 42\n"), std::string::npos) << r.Serialize();
  set_gauge_or_remove(lag, {{"stream", "s"}}, std::nullopt);
  EXPECT_EQ(r.Serialize().find("lag{"), std::string::npos) << r.Serialize();
  set_gauge_or_remove(lag, {{"stream", "s"}}, std::nullopt);  // absent: nothing to do
  set_gauge_or_remove(lag, {{"stream", "s"}}, 0);
  EXPECT_NE(r.Serialize().find("lag{stream=\"s\"} 0\n"), std::string::npos) << r.Serialize();
}

TEST(Metrics, BuildInfoAndProcessMetricsAreExposed) {
  Registry r;
  add_build_info(r, "proxy");
  r.Attach(std::make_shared<ProcessMetrics>());
  std::string text = r.Serialize();
  EXPECT_NE(text.find("streamshift_build_info{"), std::string::npos) << text;
  EXPECT_NE(text.find("program=\"proxy\""), std::string::npos) << text;
  EXPECT_NE(text.find(std::string("version=\"") + STREAMSHIFT_VERSION + "\""), std::string::npos)
      << text;
  for (const char* name : {"process_resident_memory_bytes ", "process_cpu_seconds_total ",
                           "process_open_fds ", "process_start_time_seconds "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name << "\n" << text;
  }
  EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos);
}

TEST(Metrics, TheTlsVerifyGaugeSaysWhetherTheRedisServerIsChecked) {
  Registry plain;
  add_redis_tls_verify(plain, nullptr);
  EXPECT_EQ(plain.Serialize().find("streamshift_redis_tls_verify"), std::string::npos);

  RedisTlsSettings settings;
  settings.enabled = true;
  std::string error;
  auto verified = RedisTlsContext::create(settings, &error);
  ASSERT_NE(verified, nullptr) << error;
  Registry on;
  add_redis_tls_verify(on, verified.get());
  EXPECT_NE(on.Serialize().find("\nstreamshift_redis_tls_verify 1\n"), std::string::npos)
      << on.Serialize();

  settings.insecure_skip_verify = true;
  auto unverified = RedisTlsContext::create(settings, &error);
  ASSERT_NE(unverified, nullptr) << error;
  Registry off;
  add_redis_tls_verify(off, unverified.get());
  EXPECT_NE(off.Serialize().find("\nstreamshift_redis_tls_verify 0\n"), std::string::npos)
      << off.Serialize();
}

// The hand-written serializer printed 9 significant digits: a start time of
// 1.7e9 s came out up to 10 s off.
TEST(Metrics, StartTimeIsExactToTheTick) {
  Registry r;
  r.Attach(std::make_shared<ProcessMetrics>());
  std::string text = r.Serialize();
  size_t at = text.find("\nprocess_start_time_seconds ");
  ASSERT_NE(at, std::string::npos) << text;
  double start = std::stod(text.substr(at + 28));
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  // The test process started within the last few minutes, not 10 s off.
  EXPECT_LT(start, static_cast<double>(now.tv_sec) + 1.0);
  EXPECT_GT(start, static_cast<double>(now.tv_sec) - 600.0);
  std::string printed = text.substr(at + 28, text.find('\n', at + 28) - at - 28);
  // Not "1.76443746e+09": every digit down to the clock tick is printed.
  EXPECT_EQ(printed.find_first_of("eE"), std::string::npos) << printed;
}

}  // namespace
}  // namespace streamshift
