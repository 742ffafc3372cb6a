// The hot-path cost of a metric update: prometheus-cpp's own Counter and
// Histogram against our per-thread cells (core/metrics.h), with 1 and 4
// threads updating the same child, as the sidecar's workers do. Decides
// whether the data plane can use prometheus-cpp's types directly.
//
//   build/bin/streamshift-metrics-bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/metrics.h"

namespace {

const prometheus::Histogram::BucketBoundaries& buckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = streamshift::latency_buckets();
  return kBuckets;
}

prometheus::Registry& prom_registry() {
  static prometheus::Registry r;
  return r;
}

prometheus::Counter& prom_counter() {
  static prometheus::Counter& c =
      prometheus::BuildCounter().Name("bench_total").Help("b").Register(prom_registry()).Add({});
  return c;
}

prometheus::Histogram& prom_histogram() {
  static prometheus::Histogram& h = prometheus::BuildHistogram()
                                        .Name("bench_seconds")
                                        .Help("b")
                                        .Register(prom_registry())
                                        .Add({}, buckets());
  return h;
}

streamshift::Registry& our_registry() {
  static streamshift::Registry r;
  return r;
}

streamshift::Counter& our_counter() {
  static streamshift::Counter& c = our_registry().AddCounter("bench_total", "b").Add({});
  return c;
}

streamshift::Histogram& our_histogram() {
  static streamshift::Histogram& h = our_registry().AddHistogram("bench_seconds", "b").Add({});
  return h;
}

void PrometheusCppCounter(benchmark::State& state) {
  prometheus::Counter& c = prom_counter();
  for (auto _ : state) c.Increment();
}

void ShardedCounter(benchmark::State& state) {
  streamshift::set_metrics_shard(state.thread_index() + 1);
  streamshift::Counter& c = our_counter();
  for (auto _ : state) c.Increment();
}

// A typical sidecar latency (250 µs): the bucket search is the same in both.
void PrometheusCppHistogram(benchmark::State& state) {
  prometheus::Histogram& h = prom_histogram();
  for (auto _ : state) h.Observe(0.00025);
}

void ShardedHistogram(benchmark::State& state) {
  streamshift::set_metrics_shard(state.thread_index() + 1);
  streamshift::Histogram& h = our_histogram();
  for (auto _ : state) h.Observe(0.00025);
}

BENCHMARK(PrometheusCppCounter)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(ShardedCounter)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(PrometheusCppHistogram)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(ShardedHistogram)->Threads(1)->Threads(4)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
