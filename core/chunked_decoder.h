// Chunked transfer coding (RFC 9112 7.1), decoded strictly.
//
// llhttp 8.1.0 skips the two bytes after a chunk's data without looking at
// them (`5\r\nhelloXX0\r\n\r\n` is accepted) and lets chunk extensions run
// without bound (CVE-2024-22019), so chunked bodies (requests and upstream
// answers) are decoded here instead: a state machine over the bytes in hand,
// data copied once into the body.
//
//   size --HEXDIG--> size --';'--> ext --'\r'--> size LF --'\n'--> size > 0? data : trailers
//     |               |--SP/HT--> size WS --';'--> ext              |
//     |               '--'\r'--> size LF                            v
//     '-- anything else: error                   data --(size bytes)--> CR --'\r'--> LF --'\n'-->
//     size
//
//   trailers: field lines and an empty line, pre-scanned by HeadScanner, then dropped.
//
// Every line ends with exactly CR LF; anything else is an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_head_scanner.h"

namespace streamshift {

/// Chunk extensions one body may carry, in bytes (as Node.js since CVE-2024-22019).
inline constexpr size_t kMaxChunkExtensionBytes = 16 * 1024;
/// Hex digits of one chunk size, leading zeros included.
inline constexpr size_t kMaxChunkSizeDigits = 16;

class ChunkedDecoder {
 public:
  enum class Result { kNeedMore, kDone, kError };
  enum class Error { kNone, kInvalid, kBodyTooLarge, kTrailersTooLarge };

  /// `max_body_bytes` bounds the decoded body, `max_trailer_bytes` the trailer section.
  ChunkedDecoder(size_t max_body_bytes, size_t max_trailer_bytes)
      : max_body_bytes_(max_body_bytes),
        trailers_(HeadScanner::Kind::kTrailers, max_trailer_bytes) {}

  /// Decodes the next bytes, appending chunk data to *body. On kDone, *used
  /// is how many bytes belonged to the body (the rest is the next request);
  /// otherwise all of them were taken.
  Result decode(const char* data, size_t len, std::string* body, size_t* used);

  Error error() const { return error_; }
  /// Why, for the error body.
  const std::string& detail() const { return detail_; }
  void reset();

 private:
  enum class State : uint8_t {
    kSizeStart,
    kSize,
    kSizeWs,
    kExt,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailers
  };
  Result fail(Error e, std::string detail) {
    error_ = e;
    detail_ = std::move(detail);
    return Result::kError;
  }

  size_t max_body_bytes_;
  HeadScanner trailers_;
  State state_ = State::kSizeStart;
  uint64_t chunk_left_ = 0;  // the size being read, then the data still to come
  size_t size_digits_ = 0;
  size_t ext_bytes_ = 0;
  size_t body_bytes_ = 0;
  Error error_ = Error::kNone;
  std::string detail_;
};

}  // namespace streamshift
