// Reading /proc for the process_* metrics; see process_metrics.h.
#include "core/process_metrics.h"

#include <dirent.h>
#include <prometheus/metric_family.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace streamshift {

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  long page = sysconf(_SC_PAGESIZE);
  long ticks = sysconf(_SC_CLK_TCK);
  double rss = 0;
  if (std::ifstream statm("/proc/self/statm"); statm) {
    long size = 0, resident = 0;
    statm >> size >> resident;
    rss = static_cast<double>(resident) * static_cast<double>(page);
  }
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
               static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  double fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) fds += e->d_name[0] != '.' ? 1 : 0;
    closedir(d);
    fds -= 1;  // the directory handle itself
  }
  double start = 0;
  std::ifstream stat("/proc/self/stat");
  std::string stat_line;
  std::getline(stat, stat_line);
  size_t close_paren = stat_line.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields(stat_line.substr(close_paren + 2));
    std::string f;
    for (int i = 3; i <= 22 && (fields >> f); ++i) {
      if (i == 22) {
        std::ifstream proc_stat("/proc/stat");
        std::string key;
        long long btime = 0;
        while (proc_stat >> key) {
          if (key == "btime") {
            proc_stat >> btime;
            break;
          }
        }
        start = static_cast<double>(btime) + std::stod(f) / static_cast<double>(ticks);
      }
    }
  }
  std::vector<prometheus::MetricFamily> out;
  auto metric = [&](const char* name, prometheus::MetricType type, const char* help, double v) {
    prometheus::MetricFamily f{name, help, type, {prometheus::ClientMetric{}}};
    (type == prometheus::MetricType::Counter ? f.metric[0].counter.value
                                             : f.metric[0].gauge.value) = v;
    out.push_back(std::move(f));
  };
  using prometheus::MetricType;
  metric("process_resident_memory_bytes", MetricType::Gauge, "Resident memory size in bytes.", rss);
  metric("process_cpu_seconds_total", MetricType::Counter,
         "Total user and system CPU time spent in seconds.", cpu);
  metric("process_open_fds", MetricType::Gauge, "Number of open file descriptors.", fds);
  metric("process_start_time_seconds", MetricType::Gauge,
         "Start time of the process since unix epoch in seconds.", start);
  return out;
}

}  // namespace streamshift
