#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

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

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.AddCounter("esc_total", "Help with \\ and\nnewline").Add({{"v", "a\"b\\c\nd"}}).Increment();
  std::string text = r.Serialize();
  EXPECT_NE(text.find("# HELP esc_total Help with \\\\ and\\nnewline\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

TEST(Metrics, SampleValuesFormat) {
  std::string s;
  append_sample_value(s, 3);
  s += ' ';
  append_sample_value(s, 0.25);
  s += ' ';
  append_sample_value(s, 1.0 / 0.0);
  EXPECT_EQ(s, "3 0.25 +Inf");
}

}  // namespace
}  // namespace streamshift
