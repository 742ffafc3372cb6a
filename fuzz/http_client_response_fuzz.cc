// Fuzz target: upstream response framing (core/http_response_reader), the
// reader every connection of the HTTP client (core/http_client) feeds.
//
// Input: [flags byte][split byte][the bytes the upstream sends].
// flags bit 0: the request is HEAD; bits 1-2: max_response_bytes
// {64 MiB, 0, 100, 1000}. The bytes are fed once in one piece and once cut
// where the split byte says, every piece on a heap buffer of exactly its
// size (ASan catches a read past what the reader was given), then eof().
// Checked:
//  - eof() settles every response: complete or refused, never "need more";
//    a refusal names an error (bad response or too large; closed only from
//    eof()) and a code, and is final;
//  - an accepted response is consistent: final status (200-599), no
//    CR/LF/NUL in the reason or any header (the bridge forwards them to our
//    clients), body within the limit, empty when bodiless;
//  - its body is where a strict reading of RFC 9112 puts it
//    (fuzz/http_reference.h): per Content-Length, strict chunked decoding,
//    or up to EOF; a connection left reusable holds no byte after it;
//  - the outcome does not depend on where the stream was cut.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_response_reader.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/http_reference.h"
#include "fuzz/splits.h"

namespace streamshift::fuzz {
namespace {

using Progress = HttpResponseReader::Progress;

constexpr size_t kLimits[] = {64 * 1024 * 1024, 0, 100, 1000};

struct Outcome {
  UpstreamError error = UpstreamError::kNone;
  std::string code;
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool bodiless = false;
  bool complete_before_eof = false;
  bool reusable = false;

  bool operator==(const Outcome& o) const {
    return error == o.error && code == o.code && status == o.status && reason == o.reason &&
           headers == o.headers && body == o.body && bodiless == o.bodiless &&
           complete_before_eof == o.complete_before_eof && reusable == o.reusable;
  }
};

std::string describe(const Outcome& o) {
  std::string s =
      std::string(upstream_error_name(o.error)) + " " + o.code + " " + std::to_string(o.status) +
      " " + printable(o.reason) + (o.bodiless ? " (bodiless)" : "") +
      (o.complete_before_eof ? " (complete before EOF)" : "") + (o.reusable ? " (reusable)" : "");
  for (const auto& [n, v] : o.headers) s += " | " + printable(n) + ": " + printable(v);
  return s + " | body " + printable(o.body, 60);
}

// What a connection does: feed each piece as it is read, then EOF.
Outcome run(HttpResponseReader& reader, std::string_view raw, bool is_head, uint8_t split_seed) {
  reader.reset(is_head);
  Outcome out;
  Splitter split(split_seed);
  Progress p = Progress::kNeedMore;
  for (size_t fed = 0; fed < raw.size() && p != Progress::kError;) {
    size_t n = split.next(raw.size() - fed);
    // Exactly the piece: any read beyond it is a heap overflow.
    std::unique_ptr<char[]> exact(new char[n]);
    std::memcpy(exact.get(), raw.data() + fed, n);
    p = reader.feed(exact.get(), n);
    fed += n;
  }
  out.complete_before_eof = p == Progress::kComplete;
  out.reusable = reader.reusable();
  if (p != Progress::kError) {
    p = reader.eof();
    FUZZ_CHECK(p != Progress::kNeedMore, "eof() left the response unsettled");
  } else {
    FUZZ_CHECK(reader.error().error != UpstreamError::kClosed, "kClosed before EOF");
    char more = 'x';
    FUZZ_CHECK(reader.feed(&more, 1) == Progress::kError, "an error must be final");
  }
  if (p == Progress::kError) {
    const ResponseFramingError& e = reader.error();
    FUZZ_CHECK(reader.eof() == Progress::kError, "an error must be final");
    FUZZ_CHECK((e.error == UpstreamError::kBadResponse ||
                e.error == UpstreamError::kResponseTooLarge || e.error == UpstreamError::kClosed) &&
                   !e.code.empty() && !e.detail.empty(),
               std::string(upstream_error_name(e.error)) + " " + std::string(e.code));
    out.error = e.error;
    out.code = std::string(e.code);
    out.reusable = false;
    return out;
  }
  FUZZ_CHECK(!reader.reusable() || out.reusable, "eof() made the connection reusable");
  UpstreamResponse& r = reader.response();
  FUZZ_CHECK(r.error == UpstreamError::kNone, "a complete response carries no error");
  out.status = r.status;
  out.reason = std::string(r.reason());
  for (size_t i = 0; i < r.headers.size(); ++i) {
    out.headers.emplace_back(r.headers.name(i), r.headers.value(i));
  }
  out.body = r.body;
  out.bodiless = r.bodiless;
  return out;
}

// Where a strict reader puts the body: after the empty line that ends the
// final (non-1xx) head, a 1xx ending at its own empty line. As RFC 9112 2.2
// lets a recipient, a line ends at LF (a CR just before it dropped); a CR
// anywhere else ends nothing; empty lines before a status line are skipped.
// (Head syntax llhttp 8.1.0 tolerates beyond that, such as two-digit status
// codes, is listed in fuzz/findings/README.md.)
size_t final_body_start(std::string_view raw, const std::string& what) {
  size_t body_start = 0;
  for (;;) {
    std::string_view status_line;
    size_t p = body_start;
    while (raw.substr(p, 1) == "\n" || raw.substr(p, 2) == "\r\n") p += raw[p] == '\n' ? 1 : 2;
    for (bool first = true;; first = false) {
      size_t lf = raw.find('\n', p);
      FUZZ_CHECK(lf != std::string_view::npos, what);  // the head never ended
      std::string_view line = raw.substr(p, lf - p);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      p = lf + 1;
      if (first) status_line = line;
      if (line.empty()) break;
    }
    body_start = p;
    FUZZ_CHECK(status_line.substr(0, 5) == "HTTP/" && status_line.size() >= 10, what);
    std::string_view code = status_line.substr(9, status_line.find(' ', 9) - 9);
    if (!(code.size() == 3 && code[0] == '1')) return body_start;  // 1xx: read on
  }
}

void check_outcome(const Outcome& o, std::string_view raw, bool is_head, size_t limit) {
  if (o.error != UpstreamError::kNone) return;
  std::string what = describe(o) + "\n  raw: " + printable(raw);
  FUZZ_CHECK(o.status >= 200 && o.status <= 599, what);
  FUZZ_CHECK(line_safe(o.reason), what);
  for (const auto& [name, value] : o.headers) {
    FUZZ_CHECK(!name.empty() && line_safe(name) && line_safe(value), what);
  }
  FUZZ_CHECK(o.body.size() <= limit, what);
  FUZZ_CHECK(o.bodiless == (is_head || o.status == 204 || o.status == 304), what);

  size_t body_start = final_body_start(raw, what);
  size_t end = raw.size();  // where the response ends
  if (o.bodiless) {
    FUZZ_CHECK(o.body.empty(), what);
    end = body_start;
  } else {
    const std::string* content_length = nullptr;
    bool chunked = false;
    for (const auto& [name, value] : o.headers) {
      if (ascii_iequals(name, "content-length") && content_length == nullptr) {
        content_length = &value;
      }
      if (ascii_iequals(name, "transfer-encoding")) {
        size_t comma = value.rfind(',');
        std::string_view last =
            std::string_view(value).substr(comma == std::string::npos ? 0 : comma + 1);
        while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) {
          last.remove_prefix(1);
        }
        chunked = ascii_iequals(last, "chunked");
      }
    }
    std::string_view body = raw.substr(body_start);
    if (chunked) {
      size_t used = 0;
      auto decoded = dechunk(body, &used);
      FUZZ_CHECK(decoded.has_value() && *decoded == o.body, what);
      end = body_start + used;
    } else if (content_length != nullptr) {
      FUZZ_CHECK(!content_length->empty() && content_length->size() <= 19 &&
                     content_length->find_first_not_of("0123456789") == std::string::npos,
                 what);
      FUZZ_CHECK(std::stoull(*content_length) == o.body.size(), what);
      FUZZ_CHECK(body.substr(0, o.body.size()) == o.body, what);
      end = body_start + o.body.size();
    } else {
      FUZZ_CHECK(body == o.body, what);  // delimited by the upstream closing
      FUZZ_CHECK(!o.complete_before_eof, what);
    }
  }
  // A connection handed back to the pool must not hold the start of a
  // "next response" the upstream slipped in after this one.
  if (o.reusable) FUZZ_CHECK(o.complete_before_eof && end == raw.size(), what);
}

HttpResponseReader* readers[4];

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace streamshift;
  using namespace streamshift::fuzz;
  for (size_t i = 0; i < 4; ++i) {
    HttpResponseReader::Limits limits;
    limits.max_head_bytes = 64 * 1024;  // UpstreamOptions' default
    limits.max_body_bytes = kLimits[i];
    readers[i] = new HttpResponseReader(limits);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift::fuzz;
  if (size < 2) return 0;
  bool is_head = (data[0] & 1) != 0;
  size_t limit_index = (data[0] >> 1) & 3;
  std::string_view raw(reinterpret_cast<const char*>(data + 2), size - 2);

  // One reader per limit, reused as a connection reuses its own: reset()
  // must leave nothing of the previous response behind.
  streamshift::HttpResponseReader& reader = *readers[limit_index];
  Outcome whole = run(reader, raw, is_head, 0);
  check_outcome(whole, raw, is_head, kLimits[limit_index]);
  if (data[1] != 0) {
    Outcome cut = run(reader, raw, is_head, data[1]);
    FUZZ_CHECK(cut == whole, "whole: " + describe(whole) + "\n  cut:   " + describe(cut) +
                                 "\n  raw: " + printable(raw));
  }
  return 0;
}
