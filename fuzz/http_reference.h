// A deliberately simple, strict reading of HTTP/1.1 framing (RFC 9112), used
// only to cross-check what the real readers accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamshift::fuzz {

inline bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

/// True when `s` holds no CR, LF or NUL (what a header line may never carry).
inline bool line_safe(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

inline bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

/// Strict chunked decoding of `in` from its start: chunk-size [chunk-ext]
/// CRLF data CRLF ..., last-chunk, trailer field lines, CRLF. Returns the
/// decoded body and sets `*used` to the bytes up to the final CRLF, or
/// nullopt if `in` does not begin with one complete, well-formed chunked body.
inline std::optional<std::string> dechunk(std::string_view in, size_t* used) {
  std::string body;
  size_t p = 0;
  auto at = [&](size_t i) { return i < in.size() ? in[i] : '\0'; };
  auto crlf = [&]() {
    if (p + 1 < in.size() && in[p] == '\r' && in[p + 1] == '\n') {
      p += 2;
      return true;
    }
    return false;
  };
  auto token = [&]() {
    size_t start = p;
    while (p < in.size() && is_tchar(in[p])) ++p;
    return p > start;
  };
  for (;;) {
    uint64_t size = 0;
    size_t digits = 0;
    for (; p < in.size(); ++p, ++digits) {
      char c = in[p];
      int v = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (v < 0) break;
      if (size > (UINT64_MAX >> 4)) return std::nullopt;
      size = size * 16 + static_cast<uint64_t>(v);
    }
    if (digits == 0) return std::nullopt;
    // Chunk extensions: like core/chunked_decoder, which ignores them, any
    // bytes but controls (HTAB allowed) up to the line's CRLF. The grammar
    // inside them does not frame anything, so it is not held against us.
    if (at(p) == ';' || at(p) == ' ' || at(p) == '\t') {
      for (; p < in.size() && in[p] != '\r'; ++p) {
        auto u = static_cast<unsigned char>(in[p]);
        if ((u < 0x20 && u != '\t') || u == 0x7f) return std::nullopt;
      }
    }
    if (!crlf()) return std::nullopt;
    if (size == 0) break;
    if (size > in.size() - p) return std::nullopt;
    body.append(in.substr(p, size));
    p += size;
    if (!crlf()) return std::nullopt;
  }
  // Trailer section: field lines, then an empty line.
  for (;;) {
    if (crlf()) break;
    if (!token()) return std::nullopt;
    if (at(p) != ':') return std::nullopt;
    ++p;
    for (; p < in.size(); ++p) {
      auto c = static_cast<unsigned char>(in[p]);
      if (c == '\r') break;
      if (c != '\t' && (c < 0x20 || c == 0x7f)) return std::nullopt;
    }
    if (!crlf()) return std::nullopt;
  }
  *used = p;
  return body;
}

}  // namespace streamshift::fuzz
