// Structured JSON-lines logger; see log.h.
#include "core/log.h"

#include <sys/time.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include "core/json.h"

namespace streamshift {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_to_stderr{false};
}  // namespace

bool parse_log_level(std::string_view text, LogLevel* out) {
  std::string lower;
  for (char c : text) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  if (lower == "debug")
    *out = LogLevel::kDebug;
  else if (lower == "info")
    *out = LogLevel::kInfo;
  else if (lower == "warn" || lower == "warning")
    *out = LogLevel::kWarn;
  else if (lower == "error")
    *out = LogLevel::kError;
  else
    return false;
  return true;
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

void set_log_output(LogOutput output) {
  g_to_stderr.store(output == LogOutput::kStderr);
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void log_line(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!log_enabled(level)) return;
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm utc;
  gmtime_r(&tv.tv_sec, &utc);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long>(tv.tv_usec / 1000));
  std::string line;
  line.reserve(128 + message.size());
  line += "{\"ts\":\"";
  line += ts;
  line += "\",\"level\":\"";
  line += log_level_name(level);
  line += "\",\"msg\":";
  append_json_string(line, message);
  for (const LogField& f : fields) {
    line += ',';
    append_json_string(line, f.key);
    line += ':';
    if (f.raw)
      line += f.value;
    else
      append_json_string(line, f.value);
  }
  line += "}\n";
  FILE* out = g_to_stderr.load(std::memory_order_relaxed) ? stderr : stdout;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace streamshift
