// Untrusted bytes (stream fields, Redis errors) made safe to print: one value
// stays on one line of a terminal and cannot move its cursor.
#pragma once

#include <string>
#include <string_view>

namespace streamshift {

/// `s` with every byte outside 0x20-0x7E (control characters, tab and line
/// breaks included, and 0x80-0xFF) written as \xNN in lower-case hex, and
/// each backslash doubled, so the output is unambiguous; printable ASCII is
/// kept as is.
std::string printable(std::string_view s);

}  // namespace streamshift
