// Framing of one upstream response, fed the upstream's bytes as they arrive.
//
//   head:   HeadScanner checks each byte as it comes (bare CR, bare LF,
//           obs-fold, NUL, token field names, no controls in values) and finds
//           the end of the head, bounded by max_head_bytes and
//           kMaxHeaderFields; a head split across reads is kept until it is
//           whole, then llhttp parses all of it at once, so what is refused
//           does not depend on where the reads were cut.
//             status not 100-599 or 101: refused
//             other 1xx (interim): dropped, the next head follows
//   body:   answer to HEAD, 204, 304: none, whatever the head says
//           Transfer-Encoding other than exactly "chunked": refused
//           chunked: ChunkedDecoder (llhttp 8.1.0 does not check chunk
//             framing: NOTES-deps.md), trailers scanned and dropped
//           Content-Length: llhttp, refused up front when over max_body_bytes
//           neither: llhttp until eof()
//
// One response per reset(): an upstream does not pipeline answers, so bytes
// after the response are not read, only noted (the connection is then not
// reused). Any error is final: framing can no longer be trusted.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/chunked_decoder.h"
#include "core/http_head_scanner.h"
#include "core/upstream_response.h"

namespace streamshift {

/// Why a response was refused.
struct ResponseFramingError {
  /// kBadResponse, kResponseTooLarge, or kClosed (from eof()); kNone: no error.
  UpstreamError error = UpstreamError::kNone;
  /// Machine-readable: bare_cr, bare_lf, obs_fold, malformed_response,
  /// header_too_large, invalid_status, unexpected_upgrade, invalid_framing,
  /// invalid_chunk, body_too_large, incomplete_response, no_response.
  std::string_view code;
  std::string detail;
};

class HttpResponseReader {
 public:
  /// As UpstreamOptions' max_response_head_bytes and max_response_bytes.
  struct Limits {
    size_t max_head_bytes = 0;  // each head, and the trailer section
    size_t max_body_bytes = 0;  // the decoded body
  };
  enum class Progress { kNeedMore, kComplete, kError };

  explicit HttpResponseReader(Limits limits);
  HttpResponseReader(const HttpResponseReader&) = delete;
  HttpResponseReader& operator=(const HttpResponseReader&) = delete;

  /// Gets ready for the answer to a new request; `answers_head`: it was a
  /// HEAD request, so no body follows.
  void reset(bool answers_head);

  /// Reads the next bytes from the upstream (the caller may reuse `data`
  /// once this returns). After kComplete, more bytes only make the
  /// connection not reusable.
  Progress feed(const char* data, size_t len);
  /// The upstream closed the connection: ends a body delimited by EOF, else
  /// an unfinished response is an error (kClosed). Never kNeedMore.
  Progress eof();

  /// The response, once kComplete (the caller may move from it).
  UpstreamResponse& response() { return response_; }
  const ResponseFramingError& error() const { return error_; }
  /// True once any byte of this response has been fed.
  bool started() const { return started_; }
  /// After kComplete: the connection may carry another request (keep-alive,
  /// not delimited by EOF, no byte after the response).
  bool reusable() const { return message_done_ && keep_alive_ && !trailing_; }

 private:
  Progress execute(const char* data, size_t len);
  Progress decode_chunked(const char* data, size_t len);
  Progress fail(UpstreamError error, std::string_view code, std::string detail);
  Progress fail_body_too_large();
  Progress fail_head_scan();
  /// Runs llhttp over one whole head, once its status line is well formed.
  Progress execute_head(const char* data, size_t len);
  Progress fail_from_parser(llhttp_errno_t err);
  int check_head();

  static int on_status(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  Limits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  UpstreamResponse response_;
  ResponseFramingError error_;
  HeadScanner head_;
  ChunkedDecoder chunked_;
  std::string head_bytes_;  // a head that arrived in pieces, until its end
  std::string reason_;
  bool answers_head_ = false;
  bool started_ = false;
  bool in_head_ = true;        // the bytes being read belong to a response head
  bool chunked_body_ = false;  // the body is decoded by chunked_, not llhttp
  bool message_done_ = false;
  bool keep_alive_ = false;  // as the final head says
  bool trailing_ = false;    // bytes came after the response
};

}  // namespace streamshift
