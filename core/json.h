// Minimal JSON output helpers for error bodies, logs and admin responses.
#pragma once

#include <string>
#include <string_view>

namespace streamshift {

/// Appends `text` as a quoted JSON string, escaping control characters and
/// replacing invalid UTF-8 bytes with U+FFFD.
void append_json_string(std::string& out, std::string_view text);

/// {"error":"<code>","detail":"<detail>"}
std::string json_error_body(std::string_view code, std::string_view detail);

}  // namespace streamshift
