// Metrics for both programs, on prometheus-cpp: its Registry and Gauge for
// everything set now and then, its MetricFamily model and TextSerializer for
// the exposition, and, for what the data plane touches per request, counters
// and histograms of our own with one cell per thread, collected through a
// prometheus::Collectable.
//
//   worker threads --Increment/Observe--> their own shard (relaxed load+store)
//                                                    |
//   admin thread: /metrics --> Registry::Collect() --+--> sharded families, summed
//                                                    +--> prometheus::Registry (gauges)
//                                                    +--> attached collectables
//                          --> prometheus::TextSerializer --> text format 0.0.4
//
// Why our own cells on the hot path: prometheus::Histogram::Observe takes a
// mutex per call and prometheus::Counter::Increment is a compare-and-swap
// loop on a cache line every worker shares. loadtest/metrics_bench measures
// both against these (docs/BENCHMARKS.md). Label look-up (Family::Add) takes a
// mutex in both: resolve a child once, keep the reference.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamshift {

class RedisTlsContext;

/// Shards per metric: the admin thread (0) and up to 63 workers.
inline constexpr int kMetricShards = 64;

/// Which shard this thread writes (0 by default).
void set_metrics_shard(int shard);
int metrics_shard();

using Labels = std::map<std::string, std::string>;
using Gauge = prometheus::Gauge;

/// A label value that is valid UTF-8: each byte of an invalid sequence
/// becomes U+FFFD. Client-controlled values (event_type) pass through here,
/// so a hostile byte sequence cannot break a scrape.
std::string sanitize_label_value(std::string_view value);

namespace metrics_detail {
struct alignas(64) Cell {
  std::atomic<double> value{0};
};
void add(Cell& cell, double v);  // single writer per shard: load + store
}  // namespace metrics_detail

class Counter {
 public:
  void Increment(double v = 1.0) { metrics_detail::add(cells_[metrics_shard()], v); }
  double Value() const;

 private:
  metrics_detail::Cell cells_[kMetricShards];
};

class Histogram {
 public:
  using BucketBoundaries = std::vector<double>;
  explicit Histogram(const BucketBoundaries& buckets);
  void Observe(double v);
  prometheus::ClientMetric::Histogram Collect() const;

 private:
  struct alignas(64) Shard {
    std::unique_ptr<std::atomic<uint64_t>[]> counts;
    std::atomic<double> sum{0};
  };
  BucketBoundaries bounds_;
  std::unique_ptr<Shard[]> shards_;
};

/// Buckets from 10 microseconds to 10 seconds (1-2.5-5 steps): the sidecar's
/// own latencies and a slow upstream both resolve.
const Histogram::BucketBoundaries& latency_buckets();

/// A family of sharded metrics: one child per label set.
template <typename T>
class ShardedFamily {
 public:
  ShardedFamily(std::string name, std::string help, Histogram::BucketBoundaries buckets = {})
      : name_(std::move(name)), help_(std::move(help)), buckets_(std::move(buckets)) {}
  /// The child for `labels` (values sanitized), created on first use; the
  /// reference stays valid for the family's life.
  T& Add(const Labels& labels);
  prometheus::MetricFamily Collect() const;

 private:
  std::string name_, help_;
  Histogram::BucketBoundaries buckets_;
  mutable std::mutex mu_;
  std::vector<std::pair<Labels, std::unique_ptr<T>>> children_;
};

namespace metrics_detail {
template <typename T>
struct FamilyOf {
  using type = ShardedFamily<T>;
};
template <>
struct FamilyOf<Gauge> {
  using type = prometheus::Family<Gauge>;
};
}  // namespace metrics_detail

/// Family<Counter> and Family<Histogram> are sharded; Family<Gauge> is
/// prometheus-cpp's own.
template <typename T>
using Family = typename metrics_detail::FamilyOf<T>::type;

class Registry : public prometheus::Collectable {
 public:
  Registry();

  Family<Counter>& AddCounter(const std::string& name, const std::string& help);
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  Histogram::BucketBoundaries buckets = latency_buckets());
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help);

  /// Another source of families (process metrics), collected at each scrape.
  void Attach(std::shared_ptr<const prometheus::Collectable> source);

  std::vector<prometheus::MetricFamily> Collect() const override;
  /// Everything, in the text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> gauges_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<ShardedFamily<Counter>>> counters_;
  std::vector<std::unique_ptr<ShardedFamily<Histogram>>> histograms_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> attached_;
};

/// Sets the series of `labels` (values sanitized), or removes it when the
/// value is unknown: a series nobody can refresh is dropped, never frozen.
void set_gauge_or_remove(Family<Gauge>& family, const Labels& labels, std::optional<double> value);

/// streamshift_build_info{version,program,libuv,hiredis} 1.
void add_build_info(Registry& registry, std::string_view program);

/// streamshift_redis_tls_verify: 1 when the Redis server's certificate and
/// name are verified (rediss://), 0 with REDIS_TLS_INSECURE_SKIP_VERIFY;
/// no series without TLS (`tls` null: redis://, nothing to verify).
void add_redis_tls_verify(Registry& registry, const RedisTlsContext* tls);

}  // namespace streamshift
