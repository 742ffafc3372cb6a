// Strict chunked decoding; see chunked_decoder.h.
#include "core/chunked_decoder.h"

#include <algorithm>

namespace streamshift {
namespace {

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// HTAB, SP, VCHAR and obs-text: what a chunk extension may contain.
bool is_ext_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

}  // namespace

void ChunkedDecoder::reset() {
  trailers_.reset();
  state_ = State::kSizeStart;
  chunk_left_ = 0;
  size_digits_ = ext_bytes_ = body_bytes_ = 0;
  error_ = Error::kNone;
  detail_.clear();
}

ChunkedDecoder::Result ChunkedDecoder::decode(const char* data, size_t len, std::string* body,
                                              size_t* used) {
  *used = 0;
  if (error_ != Error::kNone) return Result::kError;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = p[i];
    switch (state_) {
      case State::kSizeStart:
      case State::kSize: {
        int digit = hex_value(c);
        if (digit >= 0) {
          if (++size_digits_ > kMaxChunkSizeDigits) {
            return fail(Error::kInvalid, "chunk size longer than " +
                                             std::to_string(kMaxChunkSizeDigits) + " digits");
          }
          chunk_left_ = chunk_left_ * 16 + static_cast<unsigned>(digit);
          if (chunk_left_ > max_body_bytes_ - body_bytes_) {
            return fail(Error::kBodyTooLarge,
                        "body exceeds " + std::to_string(max_body_bytes_) + " bytes");
          }
          state_ = State::kSize;
          break;
        }
        if (state_ == State::kSizeStart) return fail(Error::kInvalid, "chunk size expected");
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';') {
          state_ = State::kExt;
        } else if (c == ' ' || c == '\t') {
          state_ = State::kSizeWs;
          ++ext_bytes_;
        } else {
          return fail(Error::kInvalid, "invalid character after a chunk size");
        }
        break;
      }
      case State::kSizeWs:
        if (c == ';') {
          state_ = State::kExt;
        } else if (c != ' ' && c != '\t') {
          return fail(Error::kInvalid, "whitespace after a chunk size not followed by ';'");
        }
        ++ext_bytes_;
        break;
      case State::kExt:
        if (c == '\r') {
          state_ = State::kSizeLf;
          break;
        }
        if (!is_ext_byte(c)) {
          return fail(Error::kInvalid, c == '\n' ? "LF without CR in a chunk size line"
                                                 : "control character in a chunk extension");
        }
        if (++ext_bytes_ > kMaxChunkExtensionBytes) {
          return fail(Error::kInvalid, "chunk extensions exceed " +
                                           std::to_string(kMaxChunkExtensionBytes) + " bytes");
        }
        break;
      case State::kSizeLf:
        if (c != '\n') return fail(Error::kInvalid, "CR not followed by LF in a chunk size line");
        size_digits_ = 0;
        if (chunk_left_ == 0) {
          state_ = State::kTrailers;
          trailers_.reset();
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_left_, len - i));
        body->append(data + i, n);
        body_bytes_ += n;
        chunk_left_ -= n;
        i += n - 1;
        if (chunk_left_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return fail(Error::kInvalid, "chunk data not followed by CRLF");
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return fail(Error::kInvalid, "chunk data not followed by CRLF");
        state_ = State::kSizeStart;
        break;
      case State::kTrailers: {
        size_t taken = 0;
        HeadScanner::Result r = trailers_.scan(data + i, len - i, &taken);
        if (r == HeadScanner::Result::kEnd) {
          *used = i + taken;
          return Result::kDone;
        }
        if (r == HeadScanner::Result::kError) {
          HeadScanner::Error e = trailers_.error();
          if (e == HeadScanner::Error::kTooLarge || e == HeadScanner::Error::kTooManyFields) {
            return fail(Error::kTrailersTooLarge,
                        "trailer section over " + std::to_string(trailers_.max_bytes()) +
                            " bytes or " + std::to_string(trailers_.max_fields()) + " fields");
          }
          return fail(Error::kInvalid, "trailer section: " + std::string(head_scan_error_text(e)));
        }
        *used = len;
        return Result::kNeedMore;
      }
    }
  }
  *used = len;
  return Result::kNeedMore;
}

}  // namespace streamshift
