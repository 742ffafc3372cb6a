// The process_* metrics every Prometheus client library exports, read from
// /proc at scrape time: resident memory, CPU seconds, open fds, start time.
#pragma once

#include <prometheus/collectable.h>

#include <vector>

namespace streamshift {

class ProcessMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace streamshift
