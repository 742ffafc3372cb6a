// The relay's headers file; see target_headers.h.
#include "relay/target_headers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/event_entry.h"
#include "core/http_message.h"

namespace streamshift {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string line_error(size_t line, std::string_view why) {
  return "line " + std::to_string(line) + ": " + std::string(why);
}

// A line's reason to be refused; empty when it is a header.
std::string check_line(std::string_view name, std::string_view value,
                       const std::vector<std::string>& seen) {
  if (!is_http_token(name)) return "the name is not an HTTP token (A-Z a-z 0-9 !#$%&'*+-.^_`|~)";
  if (is_relay_set_header(name)) return "the relay sets " + std::string(name) + " itself";
  for (const std::string& s : seen) {
    if (iequals(s, name)) return std::string(name) + " is given twice";
  }
  if (!valid_header_value(value)) return "the value holds a control character";
  return {};
}

}  // namespace

TargetHeadersParse parse_target_headers(std::string_view text) {
  TargetHeadersParse out;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view trimmed = trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      out.error = line_error(number, "not a `Name: value` line");
      break;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (std::string why = check_line(name, value, out.headers.names); !why.empty()) {
      out.error = line_error(number, why);
      break;
    }
    out.headers.names.emplace_back(name);
    out.headers.block.append(name);
    out.headers.block += ": ";
    out.headers.block.append(value);
    out.headers.block += "\r\n";
  }
  if (!out.error.empty()) out.headers = {};
  return out;
}

TargetHeadersFile read_target_headers_file(const std::string& path) {
  TargetHeadersFile out;
  // O_NONBLOCK: a FIFO under the name must not hold the thread.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    out.error = "cannot open: " + std::string(std::strerror(errno));
    return out;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    out.error = "not a regular file";
    return out;
  }
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = "cannot read: " + std::string(std::strerror(errno));
      break;
    }
    if (n == 0) break;
    if (out.text.size() + static_cast<size_t>(n) > kTargetHeadersMaxBytes) {
      out.error = "longer than " + std::to_string(kTargetHeadersMaxBytes) + " bytes";
      break;
    }
    out.text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!out.error.empty()) out.text.clear();
  return out;
}

TargetHeadersParse load_target_headers(const std::string& path) {
  TargetHeadersFile file = read_target_headers_file(path);
  if (!file.error.empty()) return {{}, path + ": " + file.error};
  TargetHeadersParse parsed = parse_target_headers(file.text);
  if (!parsed.error.empty()) parsed.error = path + ": " + parsed.error;
  return parsed;
}

std::string header_names_text(const TargetHeaders& headers) {
  std::string out;
  for (const std::string& n : headers.names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace streamshift
