// The head pre-scan; see http_head_scanner.h.
#include "core/http_head_scanner.h"

#include "core/http_message.h"

namespace streamshift {
namespace {

// CR, LF and NUL end the fast path through a line.
inline bool is_special(unsigned char c) {
  return c <= '\r' && (c == '\r' || c == '\n' || c == '\0');
}

// Field-value bytes: visible characters, SP, HTAB and obs-text.
inline bool is_value_byte(unsigned char c) {
  return (c >= 0x20 && c != 0x7f) || c == '\t';
}

}  // namespace

void HeadScanner::reset() {
  state_ = State::kLineStart;
  line_empty_ = true;
  lines_ = 0;
  bytes_ = 0;
  error_ = Error::kNone;
}

HeadScanner::Result HeadScanner::scan(const char* data, size_t len, size_t* used) {
  *used = 0;
  if (error_ != Error::kNone) return Result::kError;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = p[i];
    switch (state_) {
      case State::kLineStart:
        if (c == '\r') {
          line_empty_ = true;
          state_ = State::kCr;
          break;
        }
        if (c == ' ' || c == '\t') {
          return fail(kind_ == Kind::kHead && lines_ == 0 ? Error::kLeadingWhitespace
                                                          : Error::kObsFold);
        }
        line_empty_ = false;
        if (!(kind_ == Kind::kHead && lines_ == 0)) {
          if (c == ':') return fail(Error::kEmptyName);
          if (!is_tchar(c)) return fail(Error::kBadName);
          state_ = State::kName;
          break;
        }
        state_ = State::kInLine;
        [[fallthrough]];
      case State::kInLine:
        while (!is_special(c)) {
          if (++i == len) goto out;
          c = p[i];
        }
        if (c == '\n') return fail(Error::kBareLf);
        if (c == '\0') return fail(Error::kNul);
        state_ = State::kCr;
        break;
      case State::kName:
        while (is_tchar(c)) {
          if (++i == len) goto out;
          c = p[i];
        }
        if (c != ':') return fail(Error::kBadName);
        state_ = State::kValue;
        break;
      case State::kValue:
        while (is_value_byte(c)) {
          if (++i == len) goto out;
          c = p[i];
        }
        if (c == '\r') {
          state_ = State::kCr;
          break;
        }
        if (c == '\n') return fail(Error::kBareLf);
        if (c == '\0') return fail(Error::kNul);
        return fail(Error::kControlInValue);
      case State::kCr:
        if (c != '\n') return fail(Error::kBareCr);
        if (line_empty_) {
          if (kind_ == Kind::kHead && lines_ == 0) return fail(Error::kEmptyStartLine);
          bytes_ += i + 1;
          if (bytes_ > max_bytes_) return fail(Error::kTooLarge);
          *used = i + 1;
          return Result::kEnd;
        }
        ++lines_;
        if (lines_ - (kind_ == Kind::kHead ? 1 : 0) > max_fields_) {
          return fail(Error::kTooManyFields);
        }
        line_empty_ = true;
        state_ = State::kLineStart;
        break;
    }
  }
out:
  bytes_ += len;
  *used = len;
  if (bytes_ > max_bytes_) return fail(Error::kTooLarge);
  return Result::kNeedMore;
}

std::string_view head_scan_error_text(HeadScanner::Error error) {
  switch (error) {
    case HeadScanner::Error::kNone:
      return "none";
    case HeadScanner::Error::kBareCr:
      return "CR not followed by LF";
    case HeadScanner::Error::kBareLf:
      return "LF without CR";
    case HeadScanner::Error::kObsFold:
      return "folded header line (obs-fold)";
    case HeadScanner::Error::kNul:
      return "NUL byte";
    case HeadScanner::Error::kLeadingWhitespace:
      return "start line begins with whitespace";
    case HeadScanner::Error::kEmptyStartLine:
      return "empty start line";
    case HeadScanner::Error::kTooLarge:
      return "head too large";
    case HeadScanner::Error::kTooManyFields:
      return "too many header fields";
    case HeadScanner::Error::kEmptyName:
      return "header field with an empty name";
    case HeadScanner::Error::kBadName:
      return "header field name that is not a token";
    case HeadScanner::Error::kControlInValue:
      return "control character in a header field value";
  }
  return "unknown";
}

}  // namespace streamshift
