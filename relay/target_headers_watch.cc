// Re-reading the headers file; see target_headers_watch.h.
#include "relay/target_headers_watch.h"

#include <utility>

#include "core/log.h"

namespace streamshift {
namespace {

std::string directory_of(const std::string& file) {
  size_t slash = file.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : file.substr(0, slash);
}

DirWatch::Options watching(DirWatch::Options options, const std::string& file) {
  options.path = directory_of(file);
  return options;
}

}  // namespace

TargetHeadersWatch::TargetHeadersWatch(uv_loop_t* loop, Registry& registry, std::string file,
                                       std::string in_force, OnChange on_change,
                                       DirWatch::Options options)
    : file_(std::move(file)),
      in_force_(std::move(in_force)),
      on_change_(std::move(on_change)),
      reloads_(registry.AddCounter(
          "streamshift_relay_headers_reloads_total",
          "Re-reads of STREAMSHIFT_RELAY_HEADERS_FILE that changed the headers (ok) or were "
          "refused, keeping the previous ones (rejected)")),
      ok_(reloads_.Add({{"result", "ok"}})),
      rejected_(reloads_.Add({{"result", "rejected"}})),
      watch_(
          loop, watching(std::move(options), file_),
          [this] { read_ = read_target_headers_file(file_); }, [this] { read_done(); },
          [](const std::string& error) {
            log_line(LogLevel::kWarn, "relay headers file watch", {{"error", error}});
          }) {}

void TargetHeadersWatch::read_done() {
  TargetHeadersFile read = std::move(read_);
  read_ = {};
  if (!read.error.empty()) {
    reject(file_ + ": " + read.error, {});
    return;
  }
  TargetHeadersParse parsed = parse_target_headers(read.text);
  if (!parsed.error.empty()) {
    reject(file_ + ": " + parsed.error, std::move(read.text));
    return;
  }
  rejected_key_.clear();
  if (parsed.headers.block == in_force_) return;
  in_force_ = parsed.headers.block;
  ok_.Increment();
  log_line(LogLevel::kInfo, "relay headers reloaded",
           {{"file", file_}, {"names", header_names_text(parsed.headers)}});
  on_change_(parsed.headers);
}

void TargetHeadersWatch::reject(std::string error, std::string text) {
  std::string key = error + '\n' + text;
  if (key == rejected_key_) return;
  rejected_key_ = std::move(key);
  rejected_.Increment();
  log_line(LogLevel::kError, "relay headers file refused: the previous headers stay",
           {{"error", error}});
}

}  // namespace streamshift
