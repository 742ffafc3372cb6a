// Pre-scan of a message head, byte by byte, before llhttp sees any of it.
//
// llhttp 8.1.0 tolerates line-ending tricks that other parsers read
// differently (NOTES-deps.md); the scanner refuses them and finds where the
// head ends, for request heads, upstream response heads and chunked-body
// trailer sections alike. It keeps its state across calls, so the result
// does not depend on how the bytes were split across reads.
//
//   line start --'\r'--> CR --'\n'--> line was empty? -- yes --> kEnd
//     |   SP/HT: obs-fold (or, first line, leading whitespace)   \-- no --> line start
//     |   ':' on a field line: empty field name
//     |   '\n': bare LF                             other: bare CR
//     v other
//   in line --'\r'--> CR        ('\n': bare LF, NUL: refused)
//
// A field line (not the start line) is checked as it goes: its name a token
// up to ':', its value free of controls but HTAB. Trailers reach no other
// parser, so this is their only check.
//
// Bounded: at most `max_bytes` bytes (counting the final empty line) and
// `max_fields` field lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace streamshift {

/// Most header fields a head may carry (the request line or status line not
/// counted); also bounds trailer fields. As Envoy's and Apache's default.
inline constexpr size_t kMaxHeaderFields = 100;

class HeadScanner {
 public:
  enum class Kind {
    kHead,      // a start line, then field lines, then an empty line
    kTrailers,  // field lines only (the trailer section of a chunked body)
  };
  enum class Result { kNeedMore, kEnd, kError };
  enum class Error {
    kNone,
    kBareCr,
    kBareLf,
    kObsFold,
    kNul,
    kLeadingWhitespace,  // the start line begins with SP or HT
    kEmptyStartLine,
    kTooLarge,
    kTooManyFields,
    kEmptyName,       // a field line that begins with ':'
    kBadName,         // a field name that is not a token (or no ':')
    kControlInValue,  // a control character other than HTAB in a field value
  };

  HeadScanner(Kind kind, size_t max_bytes, size_t max_fields = kMaxHeaderFields)
      : kind_(kind), max_bytes_(max_bytes), max_fields_(max_fields) {}

  /// Scans the next bytes of the head. On kEnd, *used is how many of them
  /// belong to the head (up to and including the final LF); on kNeedMore,
  /// all of them did.
  Result scan(const char* data, size_t len, size_t* used);

  Error error() const { return error_; }
  /// Head bytes scanned so far.
  size_t bytes() const { return bytes_; }
  size_t max_bytes() const { return max_bytes_; }
  size_t max_fields() const { return max_fields_; }
  void reset();

 private:
  enum class State : uint8_t { kLineStart, kInLine, kName, kValue, kCr };
  Result fail(Error e) {
    error_ = e;
    return Result::kError;
  }

  Kind kind_;
  size_t max_bytes_;
  size_t max_fields_;
  State state_ = State::kLineStart;
  bool line_empty_ = true;  // nothing but the CR seen on this line
  size_t lines_ = 0;        // complete lines, the start line included
  size_t bytes_ = 0;
  Error error_ = Error::kNone;
};

/// Short text for an error, e.g. "CR not followed by LF".
std::string_view head_scan_error_text(HeadScanner::Error error);

}  // namespace streamshift
