// Structured logging: one JSON object per line on stdout (stderr for the
// operators' commands, whose stdout is their answer).
//
// The level is set once at start (from LOG_LEVEL) before any worker thread
// runs; each line is built in a local buffer and written with one fwrite, so
// lines from several workers never interleave. Callers must never pass
// secrets: configuration values are logged as EnvReader shows them.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace streamshift {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Parses "debug|info|warn|error" (case-insensitive; "warning" accepted).
bool parse_log_level(std::string_view text, LogLevel* out);
std::string_view log_level_name(LogLevel level);

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

/// Where lines go; set once at start, like the level. The programs log to
/// stdout (the container's log); `streamshift replay` and `dlq` to stderr,
/// so their stdout holds only their answer.
enum class LogOutput { kStdout, kStderr };
void set_log_output(LogOutput output);

/// A log field: a key and its value; numbers and booleans are written bare.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, long long v) : key(k), value(std::to_string(v)), raw(true) {}
  LogField(std::string_view k, int v) : LogField(k, static_cast<long long>(v)) {}
  LogField(std::string_view k, unsigned v) : LogField(k, static_cast<long long>(v)) {}
  LogField(std::string_view k, long v) : LogField(k, static_cast<long long>(v)) {}
  LogField(std::string_view k, unsigned long v) : LogField(k, static_cast<long long>(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), raw(true) {}

  /// A value that is already JSON text (an object, say), written as is.
  static LogField json(std::string_view k, std::string v) {
    LogField f(k, std::move(v));
    f.raw = true;
    return f;
  }

  std::string_view key;
  std::string value;
  bool raw = false;
};

/// Writes {"ts":"...","level":"...","msg":"...",fields...} if the level is enabled.
void log_line(LogLevel level, std::string_view message,
              std::initializer_list<LogField> fields = {});

}  // namespace streamshift
