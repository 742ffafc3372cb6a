// Request framing; see http_request_reader.h.
#include "core/http_request_reader.h"

#include <algorithm>

namespace streamshift {
namespace {

HttpRequestReader* self(llhttp_t* p) {
  return static_cast<HttpRequestReader*>(p->data);
}

// RFC 9110 5.6.2 token characters; llhttp 8.1.0 lets spaces inside a field
// name and an empty name through.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

constexpr size_t kBodyPadding = 64;

// Up to this many empty lines before a request line are ignored (RFC 9112 2.2).
constexpr size_t kMaxLeadingEmptyLines = 8;

// Checks an origin-form target: no control characters, no fragment, no
// dot-segment in the path; bytes >= 0x80 are percent-encoded in place so the
// upstream gets a plain ASCII request line. Returns why it is refused, or "".
std::string_view check_origin_target(std::string& target) {
  bool high = false;
  for (char ch : target) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return "control character in the request target";
    if (c == '#') return "fragment (#) in the request target";
    high = high || c >= 0x80;
  }
  if (has_dot_segment(target)) return "dot-segment (. or ..) in the request path";
  if (high) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string encoded;
    encoded.reserve(target.size() * 3);
    for (char ch : target) {
      auto c = static_cast<unsigned char>(ch);
      if (c < 0x80) {
        encoded += ch;
      } else {
        encoded += '%';
        encoded += kHex[c >> 4];
        encoded += kHex[c & 15];
      }
    }
    target = std::move(encoded);
  }
  return {};
}

}  // namespace

HttpRequestReader::HttpRequestReader(Limits limits)
    : limits_(limits),
      head_(HeadScanner::Kind::kHead, limits.max_header_bytes),
      chunked_(limits.max_body_bytes, limits.max_header_bytes) {
  llhttp_settings_init(&settings_);
  settings_.on_url = &HttpRequestReader::on_url;
  settings_.on_header_field = &HttpRequestReader::on_header_field;
  settings_.on_header_value = &HttpRequestReader::on_header_value;
  settings_.on_header_value_complete = &HttpRequestReader::on_header_value_complete;
  settings_.on_headers_complete = &HttpRequestReader::on_headers_complete;
  settings_.on_message_complete = &HttpRequestReader::on_message_complete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

bool HttpRequestReader::take_continue() {
  bool w = wants_continue_ && !message_done_;
  wants_continue_ = false;
  return w;
}

void HttpRequestReader::next() {
  request_.clear();
  url_.clear();
  head_.reset();
  chunked_.reset();
  empty_lines_ = scanned_ = 0;
  body_expected_ = 0;
  in_body_ = started_ = headers_done_ = message_done_ = wants_continue_ = false;
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
  // A fresh parser state per request: nothing of the previous message leaks.
  llhttp_reset(&parser_);
}

HttpRequestReader::Progress HttpRequestReader::fail(int status, std::string_view code,
                                                    std::string detail) {
  error_.status = status;
  error_.code = code;
  error_.detail = std::move(detail);
  return Progress::kError;
}

HttpRequestReader::Progress HttpRequestReader::fail_from_parser(llhttp_errno_t err) {
  if (error_.status != 0) return Progress::kError;  // a callback already said why
  const char* reason = llhttp_get_error_reason(&parser_);
  std::string detail = llhttp_errno_name(err);
  if (reason != nullptr && *reason != '\0') (detail += ": ") += reason;
  if (err == HPE_INVALID_TRANSFER_ENCODING || err == HPE_UNEXPECTED_CONTENT_LENGTH ||
      err == HPE_INVALID_CONTENT_LENGTH) {
    return fail(400, "invalid_framing", std::move(detail));
  }
  return fail(400, "malformed_request", std::move(detail));
}

HttpRequestReader::Progress HttpRequestReader::consume(const char* data, size_t len,
                                                       size_t* consumed) {
  *consumed = 0;
  if (error_.status != 0) return Progress::kError;
  if (message_done_) return Progress::kComplete;  // until next()
  if (!in_body_) {
    Progress p = consume_head(data, len, consumed);
    if (p != Progress::kNeedMore || !in_body_) return p;
    if (message_done_) return Progress::kComplete;
  }
  size_t body_used = 0;
  Progress p = consume_body(data + *consumed, len - *consumed, &body_used);
  *consumed += body_used;
  return p;
}

HttpRequestReader::Progress HttpRequestReader::consume_head(const char* data, size_t len,
                                                            size_t* consumed) {
  // Empty lines before the request line, counted across calls so the limit
  // does not depend on how the bytes were split.
  if (!started_) {
    size_t skip = 0;
    while (skip < len && data[skip] == '\r') {
      if (skip + 1 == len) break;         // wait for the LF
      if (data[skip + 1] != '\n') break;  // the scanner reports the bare CR
      if (++empty_lines_ > kMaxLeadingEmptyLines) {
        return fail(400, "malformed_request",
                    "more than " + std::to_string(kMaxLeadingEmptyLines) +
                        " empty lines before the request line");
      }
      skip += 2;
    }
    *consumed = skip;
    data += skip;
    len -= skip;
    if (len == 0 || (len == 1 && data[0] == '\r')) return Progress::kNeedMore;
    started_ = true;
  }

  // Pre-scan up to the end of the head; each byte is scanned once across calls.
  size_t used = 0;
  HeadScanner::Result scanned = head_.scan(data + scanned_, len - scanned_, &used);
  if (scanned == HeadScanner::Result::kError) return fail_head_scan();
  scanned_ += used;
  if (scanned == HeadScanner::Result::kNeedMore) return Progress::kNeedMore;
  size_t end = scanned_;

  llhttp_errno_t err = llhttp_execute(&parser_, data, end);
  if (err != HPE_OK && err != HPE_PAUSED) return fail_from_parser(err);
  if (!headers_done_) return fail(400, "malformed_request", "incomplete request head");
  if (err == HPE_PAUSED && static_cast<size_t>(llhttp_get_error_pos(&parser_) - data) != end) {
    return fail(400, "malformed_request", "request head framing mismatch");
  }
  *consumed += end;
  in_body_ = true;
  return Progress::kNeedMore;
}

HttpRequestReader::Progress HttpRequestReader::fail_head_scan() {
  HeadScanner::Error e = head_.error();
  if (e == HeadScanner::Error::kTooLarge) {
    return fail(
        431, "header_too_large",
        "request line and headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
  }
  if (e == HeadScanner::Error::kTooManyFields) {
    return fail(431, "header_too_large",
                "more than " + std::to_string(kMaxHeaderFields) + " header fields");
  }
  std::string detail = std::string(head_scan_error_text(e)) + " in the request head";
  if (e == HeadScanner::Error::kBareCr) return fail(400, "bare_cr", std::move(detail));
  if (e == HeadScanner::Error::kBareLf) return fail(400, "bare_lf", std::move(detail));
  if (e == HeadScanner::Error::kObsFold) return fail(400, "obs_fold", std::move(detail));
  return fail(400, "malformed_request", std::move(detail));
}

HttpRequestReader::Progress HttpRequestReader::consume_body(const char* data, size_t len,
                                                            size_t* consumed) {
  if (!request_.chunked) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, body_expected_ - request_.body.size()));
    request_.body.append(data, n);
    *consumed = n;
    if (request_.body.size() < body_expected_) return Progress::kNeedMore;
    message_done_ = true;
    return Progress::kComplete;
  }
  if (len == 0) return Progress::kNeedMore;
  ChunkedDecoder::Result r = chunked_.decode(data, len, &request_.body, consumed);
  if (r == ChunkedDecoder::Result::kDone) {
    message_done_ = true;
    return Progress::kComplete;
  }
  if (r == ChunkedDecoder::Result::kNeedMore) return Progress::kNeedMore;
  switch (chunked_.error()) {
    case ChunkedDecoder::Error::kBodyTooLarge:
      return fail(413, "body_too_large", chunked_.detail());
    case ChunkedDecoder::Error::kTrailersTooLarge:
      return fail(431, "header_too_large", chunked_.detail());
    default:
      return fail(400, "invalid_chunk", chunked_.detail());
  }
}

int HttpRequestReader::check_headers() {
  HeaderBlock& h = request_.headers;
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  request_.version_major = parser_.http_major;
  request_.version_minor = parser_.http_minor;
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    // llhttp 8.1.0 parses "HTTP/0.9" and "HTTP/2.0" request lines.
    fail(505, "http_version_not_supported",
         "HTTP/" + std::to_string(parser_.http_major) + "." + std::to_string(parser_.http_minor) +
             " is not supported: HTTP/1.1 and HTTP/1.0 only");
    return HPE_USER;
  }
  if (parser_.method == HTTP_CONNECT) {
    fail(405, "method_not_allowed", "CONNECT is not supported");
    return HPE_USER;
  }
  bool asterisk = url_ == "*" && parser_.method == HTTP_OPTIONS;
  if (!asterisk) {
    if (url_.empty() || url_[0] != '/') {
      fail(400, "malformed_request", "request target must be in origin form (start with /)");
      return HPE_USER;
    }
    std::string_view why = check_origin_target(url_);
    if (!why.empty()) {
      fail(400, "invalid_target", std::string(why));
      return HPE_USER;
    }
  }
  request_.target_len = static_cast<uint32_t>(url_.size());
  h.stash(url_, &request_.target_off);
  for (size_t i = 0; i < h.size(); ++i) {
    if (!is_token(h.name(i))) {
      fail(400, "malformed_request", "invalid header field name");
      return HPE_USER;
    }
  }
  size_t te_count = h.count("transfer-encoding");
  size_t cl_count = h.count("content-length");
  if (te_count > 0) {
    if (cl_count > 0) {
      fail(400, "invalid_framing", "both Content-Length and Transfer-Encoding");
      return HPE_USER;
    }
    if (te_count > 1 || !iequals(*h.find("transfer-encoding"), "chunked")) {
      fail(400, "invalid_framing", "Transfer-Encoding other than exactly \"chunked\"");
      return HPE_USER;
    }
    if (request_.version_major == 1 && request_.version_minor == 0) {
      fail(400, "invalid_framing", "Transfer-Encoding in an HTTP/1.0 request");
      return HPE_USER;
    }
    request_.chunked = true;
  }
  if (cl_count > 1) {
    fail(400, "invalid_framing", "more than one Content-Length");
    return HPE_USER;
  }
  if (request_.version_major == 1 && request_.version_minor == 1 && h.count("host") != 1) {
    fail(400, "malformed_request", "HTTP/1.1 requests need exactly one Host header");
    return HPE_USER;
  }
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > limits_.max_body_bytes) {
    fail(413, "body_too_large",
         "Content-Length " + std::to_string(parser_.content_length) + " exceeds " +
             std::to_string(limits_.max_body_bytes) + " bytes");
    return HPE_USER;
  }
  if (auto expect = h.find("expect")) {
    if (!iequals(*expect, "100-continue")) {
      fail(417, "expectation_failed", "only Expect: 100-continue is supported");
      return HPE_USER;
    }
    wants_continue_ = request_.version_minor >= 1;
  }
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > 0) {
    body_expected_ = parser_.content_length;
    // Spare room past the end lets SIMD parsers read the body in place.
    request_.body.reserve(parser_.content_length + kBodyPadding);
  }
  request_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  headers_done_ = true;
  return HPE_OK;
}

int HttpRequestReader::on_url(llhttp_t* p, const char* at, size_t len) {
  self(p)->url_.append(at, len);
  return HPE_OK;
}

// llhttp sees the head only (bodies and trailers go through ChunkedDecoder).
int HttpRequestReader::on_header_field(llhttp_t* p, const char* at, size_t len) {
  self(p)->request_.headers.append_name_fragment({at, len});
  return HPE_OK;
}

int HttpRequestReader::on_header_value(llhttp_t* p, const char* at, size_t len) {
  self(p)->request_.headers.append_value_fragment({at, len});
  return HPE_OK;
}

int HttpRequestReader::on_header_value_complete(llhttp_t* p) {
  self(p)->request_.headers.finish_value();
  return HPE_OK;
}

int HttpRequestReader::on_headers_complete(llhttp_t* p) {
  return self(p)->check_headers();
}

int HttpRequestReader::on_message_complete(llhttp_t* p) {
  self(p)->message_done_ = true;
  return HPE_PAUSED;
}

}  // namespace streamshift
