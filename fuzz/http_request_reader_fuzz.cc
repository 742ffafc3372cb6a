// Fuzz target: ingress request framing (core/http_request_reader).
//
// Input: [limits byte][split byte][the bytes a client sends on one connection].
// The stream is fed the way the server feeds it (unconsumed bytes are passed
// again with the next read), every call on a heap buffer of exactly the
// pending size so that ASan catches a read past what the reader was given;
// once in one piece and once cut where the split byte says. Checked:
//  - every framed request is consistent: method, origin-form target, Host
//    rule, one framing (Content-Length or exactly "chunked", never both),
//    body size, limits, token header names, no CR/LF/NUL in any value;
//  - its bytes agree with a strict reading of RFC 9112 (http_reference.h):
//    the head ends at the first CRLF CRLF, every header line is what the
//    reader reported, the body ends where Content-Length or strict chunked
//    decoding says it does;
//  - a rejection carries a 4xx status and a code, and is final;
//  - the outcome does not depend on where the stream was cut.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_request_reader.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/http_reference.h"
#include "fuzz/splits.h"

namespace streamshift::fuzz {
namespace {

using Progress = HttpRequestReader::Progress;

struct Framed {
  std::string method, target;
  int major = 0, minor = 0;
  bool keep_alive = false, chunked = false;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  size_t begin = 0, end = 0;  // offsets in the stream
};

struct Outcome {
  std::vector<Framed> requests;
  int error_status = 0;
  std::string error_code;
  size_t consumed = 0;
};

HttpRequestReader::Limits limits_from(uint8_t b) {
  static constexpr size_t kHeader[] = {16 * 1024, 64, 200, 1024};
  static constexpr size_t kBody[] = {1024 * 1024, 0, 100, 1000};
  HttpRequestReader::Limits l;
  l.max_header_bytes = kHeader[b & 3];
  l.max_body_bytes = kBody[(b >> 2) & 3];
  return l;
}

std::string describe(const Framed& r) {
  std::string s = r.method + " " + printable(r.target) + " HTTP/" + std::to_string(r.major) + "." +
                  std::to_string(r.minor) + " [" + std::to_string(r.begin) + "," +
                  std::to_string(r.end) + ")";
  for (const auto& [n, v] : r.headers) s += " | " + printable(n) + ": " + printable(v);
  s += " | body " + printable(r.body, 60);
  return s;
}

size_t count_header(const Framed& r, std::string_view name) {
  size_t n = 0;
  for (const auto& h : r.headers) n += ascii_iequals(h.first, name) ? 1 : 0;
  return n;
}

const std::string* find_header(const Framed& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (ascii_iequals(h.first, name)) return &h.second;
  }
  return nullptr;
}

// What the reader reported, against its own rules.
void check_request(const Framed& r, const HttpRequestReader::Limits& limits) {
  std::string what = describe(r);
  FUZZ_CHECK(!r.method.empty() && r.method != "CONNECT", what);
  FUZZ_CHECK(!r.target.empty(), what);
  FUZZ_CHECK(r.target[0] == '/' || (r.target == "*" && r.method == "OPTIONS"), what);
  for (char c : r.target) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, what);
  // Conformance, not framing: llhttp 8.1.0 also takes HTTP/0.9 and HTTP/2.0
  // request lines (fuzz/findings/README.md); each is framed as HTTP/1.x.
  for (const auto& [name, value] : r.headers) {
    FUZZ_CHECK(is_token(name), what);
    FUZZ_CHECK(line_safe(value), what);
    FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.front() != '\t' &&
                                 value.back() != ' ' && value.back() != '\t'),
               what);
  }
  size_t te = count_header(r, "transfer-encoding");
  size_t cl = count_header(r, "content-length");
  FUZZ_CHECK(te <= 1 && cl <= 1 && !(te == 1 && cl == 1), what);
  FUZZ_CHECK(r.chunked == (te == 1), what);
  if (r.chunked) {
    FUZZ_CHECK(ascii_iequals(*find_header(r, "transfer-encoding"), "chunked"), what);
    FUZZ_CHECK(!(r.major == 1 && r.minor == 0), what);
  }
  if (cl == 1) {
    const std::string& raw_cl = *find_header(r, "content-length");
    // Digits only; leading zeros are allowed (1*DIGIT) and change nothing.
    FUZZ_CHECK(!raw_cl.empty() && raw_cl.find_first_not_of("0123456789") == std::string::npos,
               what);
    std::string v = raw_cl.substr(std::min(raw_cl.find_first_not_of('0'), raw_cl.size() - 1));
    FUZZ_CHECK(v.size() <= 19, what);
    FUZZ_CHECK(std::stoull(v) == r.body.size(), what);
  }
  if (te == 0 && cl == 0) FUZZ_CHECK(r.body.empty(), what);
  FUZZ_CHECK(r.body.size() <= limits.max_body_bytes, what);
  if (r.major == 1 && r.minor == 1) FUZZ_CHECK(count_header(r, "host") == 1, what);
  if (const std::string* expect = find_header(r, "expect")) {
    FUZZ_CHECK(ascii_iequals(*expect, "100-continue"), what);
  }
}

// The bytes the request was framed from, read strictly.
void check_against_reference(const Framed& r, std::string_view stream,
                             const HttpRequestReader::Limits& limits) {
  std::string what = describe(r) + "\n  raw: " + printable(stream.substr(r.begin, r.end - r.begin));
  std::string_view raw = stream.substr(r.begin, r.end - r.begin);
  while (raw.substr(0, 2) == "\r\n") raw.remove_prefix(2);
  size_t head_end = raw.find("\r\n\r\n");
  FUZZ_CHECK(head_end != std::string_view::npos, what);
  std::string_view head = raw.substr(0, head_end + 2);  // the lines, each with its CRLF
  FUZZ_CHECK(head_end + 4 <= limits.max_header_bytes, what);
  FUZZ_CHECK(head.find('\0') == std::string_view::npos, what);

  std::vector<std::string_view> lines;
  for (size_t start = 0; start < head.size();) {
    size_t eol = head.find("\r\n", start);
    std::string_view line = head.substr(start, eol - start);
    FUZZ_CHECK(line.find_first_of("\r\n") == std::string_view::npos, what);  // bare CR or LF
    lines.push_back(line);
    start = eol + 2;
  }
  // The request line: llhttp 8.1.0 takes more than one SP between its parts
  // and a line without a version (read as HTTP/0.9, headers and body still
  // parsed); that is conformance (fuzz/findings/README.md), not framing.
  std::string_view rest = lines[0];
  FUZZ_CHECK(rest.substr(0, r.method.size()) == r.method, what);
  rest.remove_prefix(r.method.size());
  FUZZ_CHECK(!rest.empty() && rest[0] == ' ', what);
  while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  // The reader percent-encodes bytes over 0x7E in the target.
  size_t raw_target = 0;
  std::string encoded;
  while (raw_target < rest.size() && rest[raw_target] != ' ' && encoded.size() < r.target.size()) {
    auto u = static_cast<unsigned char>(rest[raw_target++]);
    if (u > 0x7e) {
      static const char kHex[] = "0123456789ABCDEF";
      (encoded += '%') += kHex[u >> 4];
      encoded += kHex[u & 15];
    } else {
      encoded += static_cast<char>(u);
    }
  }
  FUZZ_CHECK(encoded == r.target, what);
  rest.remove_prefix(raw_target);
  if (!(r.major == 0 && r.minor == 9 && rest.empty())) {
    FUZZ_CHECK(!rest.empty() && rest[0] == ' ', what);
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    FUZZ_CHECK(rest == "HTTP/" + std::to_string(r.major) + "." + std::to_string(r.minor), what);
  }
  FUZZ_CHECK(lines.size() - 1 == r.headers.size(), what);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    FUZZ_CHECK(line.front() != ' ' && line.front() != '\t', what);  // obs-fold
    size_t colon = line.find(':');
    FUZZ_CHECK(colon != std::string_view::npos, what);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    FUZZ_CHECK(line.substr(0, colon) == r.headers[i - 1].first, what);
    FUZZ_CHECK(value == r.headers[i - 1].second, what);
  }

  std::string_view body = raw.substr(head_end + 4);
  if (r.chunked) {
    size_t used = 0;
    auto decoded = dechunk(body, &used);
    FUZZ_CHECK(decoded.has_value(), what);
    FUZZ_CHECK(used == body.size(), what);
    FUZZ_CHECK(*decoded == r.body, what);
  } else {
    FUZZ_CHECK(body == r.body, what);
  }
}

Outcome run(std::string_view stream, const HttpRequestReader::Limits& limits, uint8_t split_seed) {
  HttpRequestReader reader(limits);
  Outcome out;
  std::string pending;
  size_t offset = 0;  // stream offset of pending[0]
  size_t fed = 0;
  size_t request_begin = 0;
  Splitter split(split_seed);
  while (fed < stream.size()) {
    size_t n = split.next(stream.size() - fed);
    pending.append(stream.substr(fed, n));
    fed += n;
    for (;;) {
      // Exactly the pending bytes: any read beyond them is a heap overflow.
      std::unique_ptr<char[]> exact(new char[pending.size()]);
      std::memcpy(exact.get(), pending.data(), pending.size());
      size_t used = SIZE_MAX;
      Progress p = reader.consume(exact.get(), pending.size(), &used);
      FUZZ_CHECK(used <= pending.size(), "consumed more than it was given");
      pending.erase(0, used);
      offset += used;
      if (p == Progress::kNeedMore) {
        (void)reader.take_continue();
        break;
      }
      if (p == Progress::kError) {
        const FramingError& e = reader.error();
        // 4xx, or 505 for a version other than HTTP/1.0 and 1.1.
        FUZZ_CHECK(((e.status >= 400 && e.status < 500) ||
                    (e.status == 505 && e.code == "http_version_not_supported")) &&
                       !e.code.empty(),
                   std::to_string(e.status) + " " + std::string(e.code));
        out.error_status = e.status;
        out.error_code = std::string(e.code);
        size_t again = SIZE_MAX;
        FUZZ_CHECK(reader.consume(exact.get(), pending.size() + used, &again) == Progress::kError &&
                       again == 0,
                   "an error must be final");
        out.consumed = offset;
        return out;
      }
      HttpRequest& req = reader.request();
      Framed f;
      f.method = std::string(req.method);
      f.target = std::string(req.target());
      f.major = req.version_major;
      f.minor = req.version_minor;
      f.keep_alive = req.keep_alive;
      f.chunked = req.chunked;
      for (size_t i = 0; i < req.headers.size(); ++i) {
        f.headers.emplace_back(req.headers.name(i), req.headers.value(i));
      }
      f.body = req.body;
      f.begin = request_begin;
      f.end = offset;
      check_request(f, limits);
      out.requests.push_back(std::move(f));
      reader.next();
      request_begin = offset;
    }
  }
  out.consumed = offset;
  return out;
}

bool same_request(const Framed& a, const Framed& b) {
  return a.method == b.method && a.target == b.target && a.major == b.major && a.minor == b.minor &&
         a.keep_alive == b.keep_alive && a.chunked == b.chunked && a.headers == b.headers &&
         a.body == b.body && a.begin == b.begin && a.end == b.end;
}

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift::fuzz;
  if (size < 2) return 0;
  auto limits = limits_from(data[0]);
  uint8_t split_seed = data[1];
  std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  Outcome whole = run(stream, limits, 0);
  for (const Framed& r : whole.requests) check_against_reference(r, stream, limits);
  if (split_seed != 0) {
    Outcome cut = run(stream, limits, split_seed);
    std::string what = "whole: " + std::to_string(whole.requests.size()) + " requests, error " +
                       std::to_string(whole.error_status) + " " + whole.error_code +
                       "; cut: " + std::to_string(cut.requests.size()) + " requests, error " +
                       std::to_string(cut.error_status) + " " + cut.error_code;
    FUZZ_CHECK(whole.requests.size() == cut.requests.size(), what);
    FUZZ_CHECK((whole.error_status == 0) == (cut.error_status == 0), what);
    for (size_t i = 0; i < whole.requests.size(); ++i) {
      FUZZ_CHECK(same_request(whole.requests[i], cut.requests[i]),
                 what + "\n  whole: " + describe(whole.requests[i]) +
                     "\n  cut:   " + describe(cut.requests[i]));
    }
  }
  return 0;
}
