// Invariant checks for the fuzz targets: a broken invariant prints what broke
// and aborts, so libFuzzer saves the input as a crash reproducer.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what,
                              std::string_view detail) {
  std::fprintf(stderr, "\n==fuzz invariant broken== %s:%d: %s\n", file, line, what);
  if (!detail.empty())
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/// Printable form of arbitrary bytes for failure messages (C escapes, capped).
inline std::string printable(std::string_view s, size_t cap = 200) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < cap; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > cap) out += "...";
  return out;
}

/// The pieces of `s` between `separator`s (n separators: n + 1 pieces).
inline std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    size_t sep = s.find(separator, start);
    out.push_back(s.substr(start, sep == std::string_view::npos ? sep : sep - start));
    if (sep == std::string_view::npos) return out;
    start = sep + 1;
  }
}

}  // namespace streamshift::fuzz

#define FUZZ_CHECK(cond, detail)                                                 \
  do {                                                                           \
    if (!(cond)) ::streamshift::fuzz::fail(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)
