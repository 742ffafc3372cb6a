// The relay's headers file (STREAMSHIFT_RELAY_HEADERS_FILE): headers added to
// every delivery, e.g. the SignalR internal API's key, mounted from a Secret.
//
//   # a comment
//   X-Api-Key: s3cret
//
// One `Name: value` per line; blank lines and lines starting with `#` are
// skipped; the value is trimmed of spaces and tabs. Refused, naming the line
// number and never the value: a name that is not an HTTP token, a value with a
// control character (CR, LF, NUL, ... tab allowed), a name the relay sets
// itself (core/event_entry.h is_relay_set_header), a name given twice.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

/// The file is refused beyond this size (never read into memory unbounded).
inline constexpr size_t kTargetHeadersMaxBytes = 64 * 1024;

struct TargetHeaders {
  /// "Name: value\r\n" per header, in file order: what every delivery carries.
  std::string block;
  /// The names (for logs and check-config: never the values).
  std::vector<std::string> names;
};

struct TargetHeadersParse {
  TargetHeaders headers;
  std::string error;  // empty: `headers` is the file's whole set
};

/// Parses the file's text; pure.
TargetHeadersParse parse_target_headers(std::string_view text);

struct TargetHeadersFile {
  std::string text;
  std::string error;  // empty: `text` is the whole file
};

/// Reads the file, blocking (off the loop, or before it starts); follows
/// symlinks (a Secret volume's `name -> ..data/name`).
TargetHeadersFile read_target_headers_file(const std::string& path);

/// Reads and parses: the error names the path, and the line at fault.
TargetHeadersParse load_target_headers(const std::string& path);

/// "X-Api-Key, X-Tenant" (the names only).
std::string header_names_text(const TargetHeaders& headers);

}  // namespace streamshift
