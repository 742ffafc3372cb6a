// Request framing: pipelining, partial input, limits, and every
// request-smuggling shape that llhttp 8.1.0 would let through.
#include "core/http_request_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/chunked_decoder.h"
#include "tests/support/net.h"

namespace streamshift {
namespace {

using Progress = HttpRequestReader::Progress;
using namespace std::string_literals;

const std::string kChunked = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

using testing::repeat;

struct Framed {
  Progress progress;
  size_t consumed;
};

// Feeds `input` as a connection would: unconsumed bytes are passed again.
class Feeder {
 public:
  explicit Feeder(HttpRequestReader::Limits limits = {}) : reader(limits) {}
  Framed feed(std::string_view more) {
    pending_ += more;
    size_t used = 0;
    Progress p = reader.consume(pending_.data(), pending_.size(), &used);
    pending_.erase(0, used);
    return {p, used};
  }
  const std::string& pending() const { return pending_; }
  HttpRequestReader reader;

 private:
  std::string pending_;
};

TEST(HttpRequestReader, FramesASimpleGet) {
  Feeder f;
  auto r = f.feed("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Test:  value  \r\n\r\n");
  ASSERT_EQ(r.progress, Progress::kComplete);
  HttpRequest& req = f.reader.request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target(), "/a?b=1");
  EXPECT_EQ(req.headers.find("x-test").value(), "value");
  EXPECT_TRUE(req.keep_alive);
  EXPECT_TRUE(f.pending().empty());
}

TEST(HttpRequestReader, FramesPipelinedRequestsOneAtATime) {
  Feeder f;
  std::string two =
      "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n";
  auto r = f.feed(two);
  ASSERT_EQ(r.progress, Progress::kComplete);
  EXPECT_EQ(f.reader.request().target(), "/1");
  EXPECT_EQ(f.reader.request().body, "abc");
  EXPECT_EQ(f.pending(), "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  f.reader.next();
  r = f.feed("");
  ASSERT_EQ(r.progress, Progress::kComplete);
  EXPECT_EQ(f.reader.request().target(), "/2");
  EXPECT_TRUE(f.reader.request().body.empty());
}

TEST(HttpRequestReader, AcceptsInputOneByteAtATime) {
  Feeder f;
  std::string req =
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: dropped\r\n\r\n";
  Progress last = Progress::kNeedMore;
  for (size_t i = 0; i < req.size(); ++i) {
    last = f.feed(req.substr(i, 1)).progress;
    if (i + 1 < req.size()) {
      ASSERT_EQ(last, Progress::kNeedMore) << "at byte " << i;
    }
  }
  ASSERT_EQ(last, Progress::kComplete);
  EXPECT_EQ(f.reader.request().body, "hello world");
  EXPECT_TRUE(f.reader.request().chunked);
  EXPECT_FALSE(f.reader.request().headers.find("x-trailer").has_value());
}

TEST(HttpRequestReader, SkipsEmptyLinesBeforeARequest) {
  Feeder f;
  EXPECT_EQ(f.feed("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").progress, Progress::kComplete);
}

struct Rejection {
  const char* name;
  std::string input;
  int status;
  const char* code;
};

void PrintTo(const Rejection& r, std::ostream* os) {
  *os << r.name;
}

class Rejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(Rejects, WithStatusAndCode) {
  const Rejection& c = GetParam();
  HttpRequestReader::Limits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 100;
  Feeder f(limits);
  auto r = f.feed(c.input);
  ASSERT_EQ(r.progress, Progress::kError) << c.name;
  EXPECT_EQ(f.reader.error().status, c.status) << c.name << ": " << f.reader.error().detail;
  EXPECT_EQ(f.reader.error().code, c.code) << c.name << ": " << f.reader.error().detail;
}

// Every split point of short inputs; of long ones, those near either end and
// a spread in between.
size_t next_cut(size_t cut, size_t size) {
  if (size <= 4096 || cut < 300 || cut + 300 >= size) return cut + 1;
  return std::min(cut + 97, size - 300);
}

// Requests arrive in pieces: the outcome must not depend on where they split.
TEST_P(Rejects, WhereverTheBytesSplit) {
  const Rejection& c = GetParam();
  HttpRequestReader::Limits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 100;
  for (size_t cut = 1; cut < c.input.size(); cut = next_cut(cut, c.input.size())) {
    Feeder f(limits);
    Progress first = f.feed(c.input.substr(0, cut)).progress;
    Progress last = first == Progress::kError ? first : f.feed(c.input.substr(cut)).progress;
    ASSERT_EQ(last, Progress::kError) << c.name << " split at " << cut;
    ASSERT_EQ(f.reader.error().code, c.code) << c.name << " split at " << cut;
    ASSERT_EQ(f.reader.error().status, c.status) << c.name << " split at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Framing, Rejects,
    ::testing::Values(
        Rejection{"smuggling_crlf_cr",
                  "GET /x HTTP/1.1\r\nHost: a\r\n\rXGET /smuggled HTTP/1.1\r\n\r\n", 400,
                  "bare_cr"},
        Rejection{"bare_cr_in_value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "bare_cr"},
        Rejection{"bare_cr_request_line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare_cr"},
        Rejection{"bare_lf_line_end", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare_lf"},
        Rejection{"bare_lf_only", "GET / HTTP/1.1\nHost: a\n\n", 400, "bare_lf"},
        Rejection{"obs_fold_space",
                  "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n Content-Length: 5\r\n\r\nhello", 400,
                  "obs_fold"},
        Rejection{"obs_fold_tab", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tmore\r\n\r\n", 400,
                  "obs_fold"},
        Rejection{"nul_byte", std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29), 400,
                  "malformed_request"},
        Rejection{"cl_and_te",
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: "
                  "chunked\r\n\r\n0\r\n\r\n",
                  400, "invalid_framing"},
        Rejection{"te_gzip_chunked",
                  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                  400, "invalid_framing"},
        Rejection{"te_twice",
                  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                  "chunked\r\n\r\n0\r\n\r\n",
                  400, "invalid_framing"},
        Rejection{"te_identity",
                  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400,
                  "invalid_framing"},
        Rejection{"duplicate_cl",
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
                  400, "invalid_framing"},
        Rejection{"bad_cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\na", 400,
                  "invalid_framing"},
        Rejection{"invalid_chunk_size",
                  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                  "chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                  400, "invalid_chunk"},
        Rejection{"garbage", "HELLO\r\n\r\n", 400, "malformed_request"},
        Rejection{"bad_method", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed_request"},
        Rejection{"bad_version", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 400, "malformed_request"},
        Rejection{"space_in_header_name", "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400,
                  "malformed_request"},
        Rejection{"empty_header_name", "GET / HTTP/1.1\r\nHost: a\r\n: y\r\n\r\n", 400,
                  "malformed_request"},
        Rejection{"space_before_colon",
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", 400,
                  "malformed_request"},
        Rejection{"missing_host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, "malformed_request"},
        Rejection{"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
                  "malformed_request"},
        Rejection{"absolute_form", "GET http://evil/ HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "malformed_request"},
        Rejection{"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  400, "invalid_framing"},
        Rejection{"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 405,
                  "method_not_allowed"},
        Rejection{"header_too_large",
                  "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431,
                  "header_too_large"},
        Rejection{"header_too_large_unterminated", "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a'),
                  431, "header_too_large"},
        Rejection{"body_too_large_cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n",
                  413, "body_too_large"},
        Rejection{"body_too_large_chunked",
                  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" +
                      std::string(101, 'a') + "\r\n0\r\n\r\n",
                  413, "body_too_large"},
        Rejection{"expect_other",
                  "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\na", 417,
                  "expectation_failed"},
        // Chunk framing: llhttp 8.1.0 skips the two bytes after chunk data unchecked.
        Rejection{"chunk_data_not_crlf", kChunked + "5\r\nhelloXX0\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"chunk_data_bare_lf_smuggles",
                  kChunked + "5\r\nhello\nc0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "invalid_chunk"},
        Rejection{"chunk_data_cr_only", kChunked + "5\r\nhello\r0\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"chunk_size_bare_lf", kChunked + "5\nhello\r\n0\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"chunk_size_bare_cr", kChunked + "5\rhello\r\n0\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"chunk_size_empty", kChunked + "\r\nhello\r\n0\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"chunk_size_sign", kChunked + "+5\r\nhello\r\n0\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"chunk_size_trailing_space", kChunked + "5 \r\nhello\r\n0\r\n\r\n", 400,
                  "invalid_chunk"},
        Rejection{"chunk_size_17_digits",
                  kChunked + std::string(16, '0') + "5\r\nhello\r\n0\r\n\r\n", 400,
                  "invalid_chunk"},
        Rejection{"chunk_ext_bare_lf", kChunked + "5;a=b\nhello\r\n0\r\n\r\n", 400,
                  "invalid_chunk"},
        Rejection{"chunk_ext_bare_cr", kChunked + "5;a\rb\r\nhello\r\n0\r\n\r\n", 400,
                  "invalid_chunk"},
        Rejection{"chunk_ext_nul", kChunked + "5;a\0b\r\nhello\r\n0\r\n\r\n"s, 400,
                  "invalid_chunk"},
        Rejection{
            "chunk_ext_too_long",
            kChunked + "5;a" + std::string(kMaxChunkExtensionBytes, 'x') + "\r\nhello\r\n0\r\n\r\n",
            400, "invalid_chunk"},
        Rejection{"chunk_exts_too_long_together",
                  kChunked + "1;" + std::string(kMaxChunkExtensionBytes / 2, 'x') + "\r\na\r\n1;" +
                      std::string(kMaxChunkExtensionBytes / 2 + 1, 'x') + "\r\nb\r\n0\r\n\r\n",
                  400, "invalid_chunk"},
        Rejection{"last_chunk_ext_bare_lf", kChunked + "0;x\n\r\n", 400, "invalid_chunk"},
        Rejection{"trailer_bare_lf", kChunked + "0\r\nX: y\n\r\n", 400, "invalid_chunk"},
        Rejection{"trailer_bare_cr", kChunked + "0\r\nX: y\rZ: w\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"trailer_end_bare_lf", kChunked + "0\r\n\n", 400, "invalid_chunk"},
        Rejection{"trailer_obs_fold", kChunked + "0\r\nX: y\r\n z\r\n\r\n", 400, "invalid_chunk"},
        Rejection{"trailers_too_large", kChunked + "0\r\nX: " + std::string(1100, 't') + "\r\n\r\n",
                  431, "header_too_large"},
        // Head limits and the request line.
        Rejection{"too_many_header_fields",
                  "GET / HTTP/1.1\r\nHost: a\r\n" + repeat("a:\r\n", 100) + "\r\n", 431,
                  "header_too_large"},
        Rejection{"nine_empty_lines", repeat("\r\n", 9) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "malformed_request"},
        Rejection{"http_2_0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505,
                  "http_version_not_supported"},
        Rejection{"http_0_9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505,
                  "http_version_not_supported"},
        Rejection{"tab_in_target", "GET /a\tHTTP/1.0 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "invalid_target"},
        Rejection{"form_feed_in_target",
                  "GET /a\x0c"
                  "b HTTP/1.1\r\nHost: a\r\n\r\n",
                  400, "invalid_target"},
        Rejection{"fragment_in_target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "invalid_target"},
        Rejection{"dot_dot_segments", "GET /../../etc HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "invalid_target"},
        Rejection{"dot_dot_at_end", "GET /a/.. HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid_target"},
        Rejection{"dot_segment", "GET /a/./b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid_target"},
        Rejection{"encoded_dot_dot", "GET /%2e%2E/etc HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "invalid_target"},
        Rejection{"dot_dot_encoded_slash", "GET /a/..%2fetc HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "invalid_target"},
        Rejection{"dot_dot_backslash", "GET /a\\..\\etc HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "invalid_target"},
        Rejection{"asterisk_for_get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                  "malformed_request"}),
    [](const ::testing::TestParamInfo<Rejection>& p) { return std::string(p.param.name); });

struct Accepted {
  const char* name;
  std::string input;
  std::string target;
  std::string body;
};

void PrintTo(const Accepted& a, std::ostream* os) {
  *os << a.name;
}

class Accepts : public ::testing::TestWithParam<Accepted> {};

// Whole, split at every byte, and one byte at a time: the same request.
TEST_P(Accepts, WhereverTheBytesSplit) {
  const Accepted& c = GetParam();
  const std::string next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  auto check = [&](Feeder& f, Progress p, const std::string& where) {
    ASSERT_EQ(p, Progress::kComplete) << c.name << " " << where << ": " << f.reader.error().detail;
    EXPECT_EQ(f.reader.request().target(), c.target) << where;
    EXPECT_EQ(f.reader.request().body, c.body) << where;
    EXPECT_EQ(f.pending(), next) << where << ": the next request's bytes are left alone";
  };
  std::string all = c.input + next;
  for (size_t cut = 1; cut < c.input.size(); ++cut) {
    Feeder f;
    Progress p = f.feed(c.input.substr(0, cut)).progress;
    ASSERT_EQ(p, Progress::kNeedMore) << c.name << " split at " << cut;
    check(f, f.feed(all.substr(cut)).progress, "split at " + std::to_string(cut));
  }
  Feeder bytewise;
  Progress p = Progress::kNeedMore;
  size_t fed = 0;
  while (p == Progress::kNeedMore && fed < c.input.size()) {
    p = bytewise.feed(c.input.substr(fed++, 1)).progress;
  }
  EXPECT_EQ(fed, c.input.size()) << "complete before its last byte";
  bytewise.feed(next);  // a complete request takes nothing more until next()
  check(bytewise, p, "byte by byte");
}

INSTANTIATE_TEST_SUITE_P(
    Framing, Accepts,
    ::testing::Values(
        Accepted{"chunked_with_extensions_and_trailers",
                 kChunked + "4;name=value;q=\"a b\"\r\nWiki\r\n5 ;ext\r\npedia\r\n0;last\r\n"
                            "X-Trailer: t\r\nY: u\r\n\r\n",
                 "/x", "Wikipedia"},
        Accepted{"chunked_upper_hex_and_leading_zeros",
                 kChunked + "000A\r\n0123456789\r\n00\r\n\r\n", "/x", "0123456789"},
        Accepted{"chunked_sixteen_digit_size",
                 kChunked + std::string(15, '0') + "3\r\nabc\r\n0\r\n\r\n", "/x", "abc"},
        Accepted{"content_length", "PUT /c HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
                 "/c", "hello"},
        Accepted{"eight_empty_lines", repeat("\r\n", 8) + "GET /e HTTP/1.1\r\nHost: a\r\n\r\n",
                 "/e", ""},
        Accepted{"hundred_header_fields",
                 "GET /h HTTP/1.1\r\nHost: a\r\n" + repeat("a:\r\n", 99) + "\r\n", "/h", ""},
        Accepted{"high_bytes_percent_encoded",
                 "GET /caf\xc3\xa9?q=\xff HTTP/1.1\r\nHost: a\r\n\r\n", "/caf%C3%A9?q=%FF", ""},
        Accepted{"dots_inside_segments", "GET /a/..b/.c/...?x=/../ HTTP/1.1\r\nHost: a\r\n\r\n",
                 "/a/..b/.c/...?x=/../", ""},
        Accepted{"asterisk_form_options", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "*", ""},
        Accepted{"http_1_0", "GET /old HTTP/1.0\r\n\r\n", "/old", ""}),
    [](const ::testing::TestParamInfo<Accepted>& p) { return std::string(p.param.name); });

TEST(HttpRequestReader, TrailersAreDroppedNotForwarded) {
  Feeder f;
  ASSERT_EQ(f.feed(kChunked + "1\r\na\r\n0\r\nHost: evil\r\nContent-Length: 9\r\n\r\n").progress,
            Progress::kComplete);
  EXPECT_EQ(f.reader.request().headers.count("host"), 1u);
  EXPECT_EQ(f.reader.request().headers.count("content-length"), 0u);
  EXPECT_EQ(f.reader.request().body, "a");
}

TEST(HttpRequestReader, ObsFoldSplitAcrossReadsIsStillRejected) {
  Feeder f;
  EXPECT_EQ(f.feed("GET / HTTP/1.1\r\nHost: a\r\n").progress, Progress::kNeedMore);
  EXPECT_EQ(f.feed(" Content-Length: 5\r\n\r\n").progress, Progress::kError);
  EXPECT_EQ(f.reader.error().code, "obs_fold");
}

TEST(HttpRequestReader, SmugglingSplitAfterCrLfCrIsStillRejected) {
  Feeder f;
  EXPECT_EQ(f.feed("GET / HTTP/1.1\r\nHost: a\r\n\r").progress, Progress::kNeedMore);
  EXPECT_EQ(f.feed("XGET /smuggled HTTP/1.1\r\n\r\n").progress, Progress::kError);
  EXPECT_EQ(f.reader.error().code, "bare_cr");
}

TEST(HttpRequestReader, HeaderLimitCountsRequestLineAndHeaders) {
  HttpRequestReader::Limits limits;
  limits.max_header_bytes = 64;
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  head += "X: " + std::string(64 - head.size() - 5 - 2, 'a') + "\r\n\r\n";  // exactly 64 bytes
  ASSERT_EQ(head.size(), 64u);
  Feeder ok(limits);
  EXPECT_EQ(ok.feed(head).progress, Progress::kComplete);
  Feeder over(limits);
  head.insert(head.size() - 4, "b");
  EXPECT_EQ(over.feed(head).progress, Progress::kError);
  EXPECT_EQ(over.reader.error().status, 431);
}

TEST(HttpRequestReader, BodyAtTheLimitIsAccepted) {
  HttpRequestReader::Limits limits;
  limits.max_body_bytes = 5;
  Feeder f(limits);
  EXPECT_EQ(f.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").progress,
            Progress::kComplete);
}

TEST(HttpRequestReader, ReportsExpectContinueOnlyWhileTheBodyIsMissing) {
  Feeder waiting;
  EXPECT_EQ(
      waiting
          .feed("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
          .progress,
      Progress::kNeedMore);
  EXPECT_TRUE(waiting.reader.take_continue());
  EXPECT_FALSE(waiting.reader.take_continue());
  EXPECT_EQ(waiting.feed("hi").progress, Progress::kComplete);
  EXPECT_FALSE(waiting.reader.request().headers.find("expect").value().empty());

  Feeder eager;
  EXPECT_EQ(
      eager
          .feed("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
          .progress,
      Progress::kComplete);
  EXPECT_FALSE(eager.reader.take_continue());
}

TEST(HttpRequestReader, KeepAliveFollowsVersionAndConnectionHeader) {
  Feeder http10;
  ASSERT_EQ(http10.feed("GET / HTTP/1.0\r\n\r\n").progress, Progress::kComplete);
  EXPECT_FALSE(http10.reader.request().keep_alive);
  Feeder http10_ka;
  ASSERT_EQ(http10_ka.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").progress,
            Progress::kComplete);
  EXPECT_TRUE(http10_ka.reader.request().keep_alive);
  Feeder close;
  ASSERT_EQ(close.feed("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").progress,
            Progress::kComplete);
  EXPECT_FALSE(close.reader.request().keep_alive);
}

TEST(HttpRequestReader, StartedTracksPartialRequests) {
  Feeder f;
  EXPECT_FALSE(f.reader.started());
  f.feed("GE");
  EXPECT_TRUE(f.reader.started());
}

TEST(HttpRequestReader, HeaderFieldsSplitAcrossReadsAreJoined) {
  Feeder f;
  f.feed("GET / HTTP/1.1\r\nHo");
  f.feed("st: a\r\nX-Lo");
  auto r = f.feed("ng: abc\r\n\r\n");
  ASSERT_EQ(r.progress, Progress::kComplete);
  EXPECT_EQ(f.reader.request().headers.find("X-Long").value(), "abc");
}

}  // namespace
}  // namespace streamshift
