// Request framing for the ingress: pre-scan, llhttp, limits.
//
// Bytes arrive in the connection's buffer; consume() takes what it can:
//
//   head phase:  up to 8 empty lines skipped; HeadScanner finds the end of the
//                head, rejecting bare CR, bare LF, obs-fold and NUL as it goes
//                (llhttp 8.1.0 accepts some of these: see NOTES-deps.md),
//                bounded by max_header_bytes and kMaxHeaderFields; then the
//                whole head goes through llhttp at once, and the request line
//                and framing headers are checked.
//   body phase:  a Content-Length body is copied, a chunked one decoded by
//                ChunkedDecoder (not llhttp: it does not check chunk framing),
//                into request().body, bounded by max_body_bytes; trailers dropped.
//
// on_message_complete pauses the parser, so exactly one request is framed per
// kComplete and the bytes after it stay in the caller's buffer (pipelining).
// Any error is final for the connection: framing can no longer be trusted.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/chunked_decoder.h"
#include "core/http_head_scanner.h"
#include "core/http_message.h"

namespace streamshift {

/// Why a request was refused; status is the HTTP status to answer with.
struct FramingError {
  int status = 0;
  std::string_view code;  // machine-readable, e.g. "header_too_large"
  std::string detail;
};

class HttpRequestReader {
 public:
  struct Limits {
    size_t max_header_bytes = 16 * 1024;
    size_t max_body_bytes = 1024 * 1024;
  };
  enum class Progress { kNeedMore, kComplete, kError };

  explicit HttpRequestReader(Limits limits);
  HttpRequestReader(const HttpRequestReader&) = delete;
  HttpRequestReader& operator=(const HttpRequestReader&) = delete;

  /// Frames from `data`; `*consumed` is how many leading bytes were used and
  /// may be dropped by the caller (in the head phase nothing is consumed
  /// until the whole head is there: pass the same bytes again with more).
  Progress consume(const char* data, size_t len, size_t* consumed);

  HttpRequest& request() { return request_; }
  const FramingError& error() const { return error_; }

  /// True once any byte of the current request has been seen.
  bool started() const { return started_; }
  /// True after the head of a request that asked for 100-continue; cleared by take_continue().
  bool take_continue();

  /// After kComplete, once the request has been handled: frame the next one.
  void next();

 private:
  Progress consume_head(const char* data, size_t len, size_t* consumed);
  Progress consume_body(const char* data, size_t len, size_t* consumed);
  Progress fail(int status, std::string_view code, std::string detail);
  Progress fail_from_parser(llhttp_errno_t err);
  Progress fail_head_scan();
  int check_headers();

  static int on_url(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_message_complete(llhttp_t* p);

  Limits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  HttpRequest request_;
  FramingError error_;
  std::string url_;
  HeadScanner head_;
  ChunkedDecoder chunked_;
  size_t empty_lines_ = 0;  // skipped before the request line
  size_t scanned_ = 0;      // head bytes already pre-scanned
  uint64_t body_expected_ = 0;
  bool in_body_ = false;
  bool started_ = false;
  bool headers_done_ = false;
  bool message_done_ = false;
  bool wants_continue_ = false;
};

}  // namespace streamshift
