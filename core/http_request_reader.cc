// Request framing; see http_request_reader.h.
#include "core/http_request_reader.h"

#include <cstring>

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

}  // namespace

HttpRequestReader::HttpRequestReader(Limits limits) : limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_url = &HttpRequestReader::on_url;
  settings_.on_header_field = &HttpRequestReader::on_header_field;
  settings_.on_header_value = &HttpRequestReader::on_header_value;
  settings_.on_header_value_complete = &HttpRequestReader::on_header_value_complete;
  settings_.on_headers_complete = &HttpRequestReader::on_headers_complete;
  settings_.on_body = &HttpRequestReader::on_body;
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
  scanned_ = 0;
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
  if (err == HPE_INVALID_CHUNK_SIZE) return fail(400, "invalid_chunk", std::move(detail));
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
  // Empty lines before the request line.
  size_t skip = 0;
  if (scanned_ == 0) {
    size_t lines = 0;
    while (skip + 1 < len && data[skip] == '\r' && data[skip + 1] == '\n') {
      skip += 2;
      if (++lines > kMaxLeadingEmptyLines)
        return fail(400, "malformed_request", "too many empty lines");
    }
    if (skip > 0) {
      *consumed = skip;
      data += skip;
      len -= skip;
    }
  }
  if (len > 0) started_ = true;

  // Pre-scan up to the end of the head: reject every line-ending trick that
  // llhttp 8.1.0 would tolerate. Each byte is scanned once across calls.
  size_t end = 0;
  size_t i = scanned_;
  for (; i < len; ++i) {
    char c = data[i];
    if (c == '\r') {
      if (i + 1 >= len) break;  // wait for the next byte
      if (data[i + 1] != '\n')
        return fail(400, "bare_cr", "CR not followed by LF in the request head");
      continue;
    }
    if (c == '\n') {
      if (i == 0 || data[i - 1] != '\r')
        return fail(400, "bare_lf", "LF without CR in the request head");
      if (i + 1 >= len) break;  // rescan this LF when the next byte is here
      char next = data[i + 1];
      if (next == ' ' || next == '\t')
        return fail(400, "obs_fold", "folded header line (obs-fold)");
      if (next == '\r') {
        if (i + 2 >= len) break;
        if (data[i + 2] != '\n') return fail(400, "bare_cr", "CR LF CR not followed by LF");
        end = i + 3;
        break;
      }
      continue;
    }
    if (c == '\0') return fail(400, "malformed_request", "NUL byte in the request head");
    if (i == 0 && (c == ' ' || c == '\t'))
      return fail(400, "malformed_request", "request line starts with whitespace");
  }
  if (end == 0) {
    scanned_ = i;
    if (len > limits_.max_header_bytes) {
      return fail(
          431, "header_too_large",
          "request line and headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
    }
    return Progress::kNeedMore;
  }
  if (end > limits_.max_header_bytes) {
    return fail(
        431, "header_too_large",
        "request line and headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
  }

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

HttpRequestReader::Progress HttpRequestReader::consume_body(const char* data, size_t len,
                                                            size_t* consumed) {
  if (len == 0) return Progress::kNeedMore;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    *consumed = len;
    return Progress::kNeedMore;
  }
  if (err == HPE_PAUSED && message_done_) {
    *consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    return Progress::kComplete;
  }
  return fail_from_parser(err);
}

int HttpRequestReader::check_headers() {
  HeaderBlock& h = request_.headers;
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  request_.version_major = parser_.http_major;
  request_.version_minor = parser_.http_minor;
  request_.target_len = static_cast<uint32_t>(url_.size());
  h.stash(url_, &request_.target_off);

  if (parser_.method == HTTP_CONNECT) {
    fail(405, "method_not_allowed", "CONNECT is not supported");
    return HPE_USER;
  }
  std::string_view target = request_.target();
  if (target.empty() || (target[0] != '/' && !(target == "*" && parser_.method == HTTP_OPTIONS))) {
    fail(400, "malformed_request", "request target must be in origin form (start with /)");
    return HPE_USER;
  }
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

int HttpRequestReader::on_header_field(llhttp_t* p, const char* at, size_t len) {
  HttpRequestReader* r = self(p);
  if (!r->headers_done_) r->request_.headers.append_name_fragment({at, len});
  return HPE_OK;  // trailers (after the body) are dropped
}

int HttpRequestReader::on_header_value(llhttp_t* p, const char* at, size_t len) {
  HttpRequestReader* r = self(p);
  if (!r->headers_done_) r->request_.headers.append_value_fragment({at, len});
  return HPE_OK;
}

int HttpRequestReader::on_header_value_complete(llhttp_t* p) {
  HttpRequestReader* r = self(p);
  if (!r->headers_done_) r->request_.headers.finish_value();
  return HPE_OK;
}

int HttpRequestReader::on_headers_complete(llhttp_t* p) {
  return self(p)->check_headers();
}

int HttpRequestReader::on_body(llhttp_t* p, const char* at, size_t len) {
  HttpRequestReader* r = self(p);
  if (r->request_.body.size() + len > r->limits_.max_body_bytes) {
    r->fail(413, "body_too_large",
            "body exceeds " + std::to_string(r->limits_.max_body_bytes) + " bytes");
    return HPE_USER;
  }
  r->request_.body.append(at, len);
  return HPE_OK;
}

int HttpRequestReader::on_message_complete(llhttp_t* p) {
  self(p)->message_done_ = true;
  return HPE_PAUSED;
}

}  // namespace streamshift
