// The process_* metrics every Prometheus client library exports, read from
// /proc at scrape time: resident memory, CPU seconds, open fds, start time.
#pragma once

#include <string>

namespace streamshift {

/// Appends the process_* metrics in the text format 0.0.4.
void append_process_metrics(std::string& out);

}  // namespace streamshift
