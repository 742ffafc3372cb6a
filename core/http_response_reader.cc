// Upstream response framing; see http_response_reader.h.
#include "core/http_response_reader.h"

namespace streamshift {
namespace {

HttpResponseReader* self(llhttp_t* p) {
  return static_cast<HttpResponseReader*>(p->data);
}

}  // namespace

HttpResponseReader::HttpResponseReader(Limits limits)
    : limits_(limits),
      head_(HeadScanner::Kind::kHead, limits.max_head_bytes),
      chunked_(limits.max_body_bytes, limits.max_head_bytes) {
  llhttp_settings_init(&settings_);
  settings_.on_status = &HttpResponseReader::on_status;
  settings_.on_header_field = &HttpResponseReader::on_header_field;
  settings_.on_header_value = &HttpResponseReader::on_header_value;
  settings_.on_header_value_complete = &HttpResponseReader::on_header_value_complete;
  settings_.on_headers_complete = &HttpResponseReader::on_headers_complete;
  settings_.on_body = &HttpResponseReader::on_body;
  settings_.on_message_complete = &HttpResponseReader::on_message_complete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

void HttpResponseReader::reset(bool answers_head) {
  response_.clear();
  error_ = ResponseFramingError{};
  head_.reset();
  chunked_.reset();
  head_bytes_.clear();
  reason_.clear();
  answers_head_ = answers_head;
  started_ = chunked_body_ = message_done_ = keep_alive_ = trailing_ = false;
  in_head_ = true;
  // A fresh parser state per response: nothing of the previous one leaks.
  llhttp_reset(&parser_);
}

HttpResponseReader::Progress HttpResponseReader::feed(const char* data, size_t len) {
  if (error_.error != UpstreamError::kNone) return Progress::kError;
  if (message_done_) {
    trailing_ = trailing_ || len > 0;
    return Progress::kComplete;
  }
  started_ = started_ || len > 0;
  while (len > 0) {
    if (chunked_body_) return decode_chunked(data, len);
    size_t n = len;
    Progress p;
    if (in_head_) {
      // llhttp sees a head only once the scanner has passed all of it; an
      // interim (1xx) answer's end restarts the scan.
      HeadScanner::Result scanned = head_.scan(data, len, &n);
      if (scanned == HeadScanner::Result::kError) return fail_head_scan();
      if (scanned == HeadScanner::Result::kNeedMore) {
        head_bytes_.append(data, len);  // at most max_head_bytes: the scanner bounds it
        return Progress::kNeedMore;
      }
      if (head_bytes_.empty()) {
        p = execute_head(data, n);
      } else {
        head_bytes_.append(data, n);
        p = execute_head(head_bytes_.data(), head_bytes_.size());
        head_bytes_.clear();
      }
    } else {
      p = execute(data, n);
    }
    data += n;
    len -= n;
    if (p == Progress::kComplete) {
      trailing_ = trailing_ || len > 0;
      return p;
    }
    if (p == Progress::kError) return p;
  }
  return Progress::kNeedMore;
}

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "HTTP/d.d SP 3DIGIT" then SP or the line's end (RFC 9112 4), after the
// empty lines a head may start with. llhttp 8.1.0 takes any number of status
// digits ("0100" is 100, an interim answer), where a strict reader sees a
// final answer: the two would frame the rest of the stream differently.
bool status_line_ok(std::string_view head) {
  while (!head.empty() && (head.front() == '\r' || head.front() == '\n')) head.remove_prefix(1);
  if (head.size() < 13 || head.substr(0, 5) != "HTTP/" || !is_digit(head[5]) || head[6] != '.' ||
      !is_digit(head[7]) || head[8] != ' ') {
    return true;  // llhttp refuses what is not a status line at all
  }
  return is_digit(head[9]) && is_digit(head[10]) && is_digit(head[11]) &&
         (head[12] == ' ' || head[12] == '\r' || head[12] == '\n');
}

}  // namespace

HttpResponseReader::Progress HttpResponseReader::execute_head(const char* data, size_t len) {
  if (!status_line_ok({data, len})) {
    return fail(UpstreamError::kBadResponse, "invalid_status",
                "status code not exactly three digits");
  }
  return execute(data, len);
}

HttpResponseReader::Progress HttpResponseReader::execute(const char* data, size_t len) {
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_PAUSED && message_done_) {
    trailing_ = llhttp_get_error_pos(&parser_) != data + len;
    keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
    return Progress::kComplete;
  }
  if (err != HPE_OK) return fail_from_parser(err);
  return Progress::kNeedMore;
}

HttpResponseReader::Progress HttpResponseReader::decode_chunked(const char* data, size_t len) {
  size_t used = 0;
  ChunkedDecoder::Result r = chunked_.decode(data, len, &response_.body, &used);
  if (r == ChunkedDecoder::Result::kNeedMore) return Progress::kNeedMore;
  if (r == ChunkedDecoder::Result::kDone) {
    message_done_ = true;
    trailing_ = used != len;
    return Progress::kComplete;
  }
  std::string detail = "chunked response body: " + chunked_.detail();
  switch (chunked_.error()) {
    case ChunkedDecoder::Error::kBodyTooLarge:
      return fail(UpstreamError::kResponseTooLarge, "body_too_large", std::move(detail));
    case ChunkedDecoder::Error::kTrailersTooLarge:
      return fail(UpstreamError::kResponseTooLarge, "header_too_large", std::move(detail));
    default:
      return fail(UpstreamError::kBadResponse, "invalid_chunk", std::move(detail));
  }
}

HttpResponseReader::Progress HttpResponseReader::eof() {
  if (error_.error != UpstreamError::kNone) return Progress::kError;
  // A body delimited by EOF ends here; a chunked one never does (llhttp may
  // think otherwise: see check_head).
  if (!message_done_ && started_ && !chunked_body_) {
    llhttp_finish(&parser_);
    keep_alive_ = false;
  }
  if (message_done_) return Progress::kComplete;
  if (!started_) {
    return fail(UpstreamError::kClosed, "no_response",
                "upstream closed the connection before responding");
  }
  return fail(UpstreamError::kClosed, "incomplete_response",
              "upstream closed the connection mid-response");
}

HttpResponseReader::Progress HttpResponseReader::fail(UpstreamError error, std::string_view code,
                                                      std::string detail) {
  error_.error = error;
  error_.code = code;
  error_.detail = std::move(detail);
  return Progress::kError;
}

HttpResponseReader::Progress HttpResponseReader::fail_body_too_large() {
  return fail(UpstreamError::kResponseTooLarge, "body_too_large",
              "response body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
}

HttpResponseReader::Progress HttpResponseReader::fail_head_scan() {
  HeadScanner::Error e = head_.error();
  if (e == HeadScanner::Error::kTooLarge || e == HeadScanner::Error::kTooManyFields) {
    return fail(UpstreamError::kResponseTooLarge, "header_too_large",
                "response head exceeds " + std::to_string(head_.max_bytes()) + " bytes or " +
                    std::to_string(head_.max_fields()) + " header fields");
  }
  std::string detail =
      "malformed response: " + std::string(head_scan_error_text(e)) + " in the head";
  std::string_view code = e == HeadScanner::Error::kBareCr    ? "bare_cr"
                          : e == HeadScanner::Error::kBareLf  ? "bare_lf"
                          : e == HeadScanner::Error::kObsFold ? "obs_fold"
                                                              : "malformed_response";
  return fail(UpstreamError::kBadResponse, code, std::move(detail));
}

HttpResponseReader::Progress HttpResponseReader::fail_from_parser(llhttp_errno_t err) {
  if (error_.error != UpstreamError::kNone) return Progress::kError;  // a callback said why
  std::string detail = std::string("malformed response: ") + llhttp_errno_name(err) + ": " +
                       llhttp_get_error_reason(&parser_);
  bool framing = err == HPE_INVALID_TRANSFER_ENCODING || err == HPE_UNEXPECTED_CONTENT_LENGTH ||
                 err == HPE_INVALID_CONTENT_LENGTH;
  return fail(UpstreamError::kBadResponse, framing ? "invalid_framing" : "malformed_response",
              std::move(detail));
}

// Returns what on_headers_complete answers llhttp: 1 when no body follows.
int HttpResponseReader::check_head() {
  int status = parser_.status_code;
  if (status < 100 || status > 599) {
    // llhttp 8.1.0 reads "HTTP/1.1 \r\n" as status 0.
    fail(UpstreamError::kBadResponse, "invalid_status", "status code not in 100-599");
    return HPE_USER;
  }
  if (status < 200) {
    if (status == 101) {
      fail(UpstreamError::kBadResponse, "unexpected_upgrade",
           "101 Switching Protocols, but no upgrade was asked for");
      return HPE_USER;
    }
    // 100 Continue and friends end at their empty line (RFC 9112 6.3),
    // whatever they declare: the final answer's head follows.
    return 1;
  }
  in_head_ = false;
  response_.status = status;
  // llhttp 8.1.0 lets control characters (VT, FF...) through in the reason
  // phrase; such a phrase is dropped and the canonical one sent instead.
  if (is_field_text(reason_)) {
    response_.reason_len = static_cast<uint32_t>(reason_.size());
    response_.headers.stash(reason_, &response_.reason_off);
  }
  if (answers_head_) {
    response_.bodiless = true;
    return 1;  // no body follows, whatever Content-Length says
  }
  // Only "chunked" can be decoded: anything else would reach the client as
  // coded bytes it was not told about (the field itself is hop-by-hop).
  const HeaderBlock& h = response_.headers;
  if (size_t te = h.count("transfer-encoding");
      te > 1 || (te == 1 && !iequals(*h.find("transfer-encoding"), "chunked"))) {
    fail(UpstreamError::kBadResponse, "invalid_framing",
         "Transfer-Encoding other than exactly \"chunked\"");
    return HPE_USER;
  }
  // llhttp 8.1.0 takes any number of leading zeros; a strict reader (and
  // ours on the request side) stops at 19 digits, so such a length is
  // refused rather than read two ways.
  if (std::optional<std::string_view> cl = h.find("content-length"); cl && cl->size() > 19) {
    fail(UpstreamError::kBadResponse, "invalid_framing", "Content-Length longer than 19 digits");
    return HPE_USER;
  }
  if (status == 204 || status == 304) {
    // No body, whatever the head declares: bytes after the head are not
    // this answer's, and the connection is not reused (trailing bytes).
    response_.bodiless = true;
    return 1;
  }
  if (h.count("transfer-encoding") == 1) {
    // Exactly "chunked" (checked above), decided here rather than by
    // llhttp's F_CHUNKED: llhttp 8.1.0 does not see "chunked" followed by a
    // TAB (trailing whitespace the field's value excludes) and would read
    // the chunks as a body up to EOF. With Content-Length as well, the two
    // framings disagree: refused, as the ingress refuses it.
    if (parser_.flags & F_CONTENT_LENGTH) {
      fail(UpstreamError::kBadResponse, "invalid_framing",
           "both Transfer-Encoding and Content-Length");
      return HPE_USER;
    }
    // llhttp 8.1.0 does not check the CRLF after chunk data: ChunkedDecoder
    // takes the body (feed gave llhttp the head only).
    chunked_body_ = true;
    keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
    return HPE_OK;
  }
  if (parser_.flags & F_CONTENT_LENGTH) {
    if (parser_.content_length > limits_.max_body_bytes) {
      fail_body_too_large();
      return HPE_USER;
    }
    response_.body.reserve(parser_.content_length);
  }
  return HPE_OK;
}

int HttpResponseReader::on_status(llhttp_t* p, const char* at, size_t len) {
  self(p)->reason_.append(at, len);
  return HPE_OK;
}

// llhttp sees heads and bodies delimited by Content-Length or EOF; chunked
// bodies and their trailers go through ChunkedDecoder.
int HttpResponseReader::on_header_field(llhttp_t* p, const char* at, size_t len) {
  self(p)->response_.headers.append_name_fragment({at, len});
  return HPE_OK;
}

int HttpResponseReader::on_header_value(llhttp_t* p, const char* at, size_t len) {
  self(p)->response_.headers.append_value_fragment({at, len});
  return HPE_OK;
}

int HttpResponseReader::on_header_value_complete(llhttp_t* p) {
  self(p)->response_.headers.finish_value();
  return HPE_OK;
}

int HttpResponseReader::on_headers_complete(llhttp_t* p) {
  return self(p)->check_head();
}

int HttpResponseReader::on_body(llhttp_t* p, const char* at, size_t len) {
  HttpResponseReader* r = self(p);
  if (r->response_.body.size() + len > r->limits_.max_body_bytes) {
    r->fail_body_too_large();
    return HPE_USER;
  }
  r->response_.body.append(at, len);
  return HPE_OK;
}

int HttpResponseReader::on_message_complete(llhttp_t* p) {
  HttpResponseReader* r = self(p);
  if (r->in_head_) {  // an interim answer: forget it, the final one follows
    r->response_.clear();
    r->reason_.clear();
    r->head_.reset();
    return HPE_OK;
  }
  r->message_done_ = true;
  return HPE_PAUSED;
}

}  // namespace streamshift
