// Upstream response framing without sockets: Content-Length, chunked, EOF,
// bodiless answers, limits, every refusal code, the response-side smuggling
// vectors the fuzzer found (fuzz/findings/README.md), each whole and split at
// every byte.
#include "core/http_response_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "tests/support/net.h"

namespace streamshift {
namespace {

using Progress = HttpResponseReader::Progress;
using namespace std::string_literals;
using testing::repeat;

HttpResponseReader::Limits small_limits() {
  HttpResponseReader::Limits l;
  l.max_head_bytes = 1024;
  l.max_body_bytes = 100;
  return l;
}

// Feeds one read on a heap buffer of exactly its size, as a socket read
// would: under ASan a read past it fails the test.
Progress feed(HttpResponseReader& r, std::string_view bytes) {
  std::unique_ptr<char[]> exact(new char[bytes.size() + 1]);
  std::memcpy(exact.get(), bytes.data(), bytes.size());
  return r.feed(exact.get(), bytes.size());
}

// Feeds `input` cut at `cut` (0: in one piece), stops at an error.
Progress feed_cut(HttpResponseReader& r, std::string_view input, size_t cut) {
  Progress p = cut == 0 ? Progress::kNeedMore : feed(r, input.substr(0, cut));
  return p == Progress::kError ? p : feed(r, input.substr(cut));
}

// ---- Accepted responses ------------------------------------------------------

struct Accepted {
  const char* name;
  std::string input;
  bool answers_head;
  bool until_eof;  // the body ends when the upstream closes
  int status;
  std::string reason;
  std::string body;
  bool bodiless;
  bool reusable;
};

void PrintTo(const Accepted& a, std::ostream* os) {
  *os << a.name;
}

class AcceptedResponse : public ::testing::TestWithParam<Accepted> {
 protected:
  void expect_response(HttpResponseReader& r, Progress p, const std::string& where) {
    const Accepted& c = GetParam();
    if (c.until_eof) {
      ASSERT_EQ(p, Progress::kNeedMore) << where;
      p = r.eof();
    }
    ASSERT_EQ(p, Progress::kComplete) << where << ": " << r.error().detail;
    const UpstreamResponse& resp = r.response();
    EXPECT_EQ(resp.error, UpstreamError::kNone) << where;
    EXPECT_EQ(resp.status, c.status) << where;
    EXPECT_EQ(resp.reason(), c.reason) << where;
    EXPECT_EQ(resp.body, c.body) << where;
    EXPECT_EQ(resp.bodiless, c.bodiless) << where;
    EXPECT_EQ(r.reusable(), c.reusable) << where;
  }
};

TEST_P(AcceptedResponse, WholeAndSplitAtEveryByte) {
  const Accepted& c = GetParam();
  HttpResponseReader r(small_limits());
  for (size_t cut = 0; cut < c.input.size(); ++cut) {
    r.reset(c.answers_head);  // one reader for all: reset() leaves nothing behind
    if (cut > 0) {
      ASSERT_EQ(feed(r, c.input.substr(0, cut)), Progress::kNeedMore) << cut;
    }
    expect_response(r, feed(r, c.input.substr(cut)), "split at " + std::to_string(cut));
  }
}

TEST_P(AcceptedResponse, OneByteAtATime) {
  const Accepted& c = GetParam();
  HttpResponseReader r(small_limits());
  r.reset(c.answers_head);
  Progress p = Progress::kNeedMore;
  for (size_t i = 0; i < c.input.size(); ++i) {
    ASSERT_EQ(p, Progress::kNeedMore) << "settled before byte " << i;
    p = feed(r, c.input.substr(i, 1));
  }
  expect_response(r, p, "byte by byte");
}

const std::string kOk = "HTTP/1.1 200 OK\r\n";

INSTANTIATE_TEST_SUITE_P(
    Responses, AcceptedResponse,
    ::testing::Values(
        Accepted{"content_length", kOk + "Content-Length: 5\r\n\r\nhello", false, false, 200, "OK",
                 "hello", false, true},
        Accepted{"content_length_zero", "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", false,
                 false, 202, "Accepted", "", false, true},
        Accepted{"body_at_the_limit", kOk + "Content-Length: 100\r\n\r\n" + std::string(100, 'b'),
                 false, false, 200, "OK", std::string(100, 'b'), false, true},
        Accepted{"chunked_with_extensions_and_trailers",
                 kOk + "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n"
                       "Trailer: dropped\r\n\r\n",
                 false, false, 200, "OK", "abcde", false, true},
        // Found by the fuzzer: llhttp 8.1.0 does not see "chunked" before a TAB
        // and read the chunks as a body up to EOF. Not reused: llhttp still
        // thinks the body ends at EOF.
        Accepted{"chunked_then_tab",
                 kOk + "Transfer-Encoding: chunked\t\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, false,
                 200, "OK", "abc", false, false},
        Accepted{"until_eof", kOk + "Content-Type: text/plain\r\n\r\nuntil the end", false, true,
                 200, "OK", "until the end", false, false},
        Accepted{"until_eof_empty", kOk + "\r\n", false, true, 200, "OK", "", false, false},
        Accepted{"answer_to_head", kOk + "Content-Length: 1000\r\n\r\n", true, false, 200, "OK", "",
                 true, true},
        Accepted{"answer_to_head_chunked", kOk + "Transfer-Encoding: chunked\r\n\r\n", true, false,
                 200, "OK", "", true, true},
        Accepted{"no_content", "HTTP/1.1 204 No Content\r\n\r\n", false, false, 204, "No Content",
                 "", true, true},
        Accepted{"not_modified_with_length",
                 "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, false, 304,
                 "Not Modified", "", true, true},
        Accepted{"interim_answers_then_final",
                 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + kOk +
                     "Content-Length: 2\r\n\r\nok",
                 false, false, 200, "OK", "ok", false, true},
        // RFC 9112 6.3: a 1xx ends at its empty line, whatever it declares.
        Accepted{"interim_declaring_a_body",
                 "HTTP/1.1 103 Early Hints\r\nContent-Length: 2\r\n\r\n" + kOk +
                     "Content-Length: 2\r\n\r\nok",
                 false, false, 200, "OK", "ok", false, true},
        Accepted{"http10", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, 200,
                 "OK", "ok", false, false},
        Accepted{"connection_close",
                 "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n"
                 "Content-Length: 5\r\n\r\noops!",
                 false, false, 500, "Internal Server Error", "oops!", false, false},
        Accepted{"no_reason", "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", false, false, 503, "",
                 "", false, true},
        // llhttp 8.1.0 lets VT through in the reason: dropped, not forwarded.
        Accepted{"reason_with_a_control_character",
                 "HTTP/1.1 201 Made\x0b It\r\nContent-Length: 2\r\n\r\nok", false, false, 201, "",
                 "ok", false, true},
        Accepted{"a_hundred_fields", kOk + repeat("X-Pad:\r\n", 99) + "Content-Length: 2\r\n\r\nok",
                 false, false, 200, "OK", "ok", false, true}),
    [](const ::testing::TestParamInfo<Accepted>& p) { return std::string(p.param.name); });

TEST(HttpResponseReader, HeadersAreThoseOfTheFinalAnswerWithoutTrailers) {
  HttpResponseReader r(small_limits());
  r.reset(false);
  ASSERT_EQ(feed(r, "HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + kOk +
                        "Transfer-Encoding: chunked\r\nX-A:  spaced  \r\n\r\n"
                        "2\r\nok\r\n0\r\nX-Trailer: t\r\n\r\n"),
            Progress::kComplete);
  const HeaderBlock& h = r.response().headers;
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.find("x-a").value_or("missing"), "spaced");
  EXPECT_FALSE(h.find("link").has_value());
  EXPECT_FALSE(h.find("x-trailer").has_value()) << "trailer fields never become headers";
}

TEST(HttpResponseReader, AHeadAnswerKeepsItsContentLengthForTheClient) {
  HttpResponseReader r(small_limits());
  r.reset(true);
  ASSERT_EQ(feed(r, kOk + "Content-Length: 1000\r\n\r\n"), Progress::kComplete);
  EXPECT_EQ(r.response().headers.find("content-length").value_or(""), "1000");
}

// Bytes after a response are not read as a next response on a pooled
// connection: the connection is not reused, and the response is unchanged.
TEST(HttpResponseReader, BytesAfterTheResponseMakeTheConnectionNotReusable) {
  const std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled";
  for (std::string response : {kOk + "Content-Length: 2\r\n\r\nok",
                               kOk + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                               "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n"s}) {
    HttpResponseReader r(small_limits());
    r.reset(false);
    ASSERT_EQ(feed(r, response + next), Progress::kComplete) << response;
    EXPECT_FALSE(r.reusable()) << response;
    std::string body = r.response().body;

    r.reset(false);  // the same bytes in two reads, cut where the response ends
    ASSERT_EQ(feed(r, response), Progress::kComplete) << response;
    EXPECT_TRUE(r.reusable()) << response;
    EXPECT_EQ(feed(r, next), Progress::kComplete) << response;
    EXPECT_FALSE(r.reusable()) << response;
    EXPECT_EQ(r.response().body, body) << response;
    EXPECT_EQ(r.response().headers.find("content-length").value_or(""),
              response.find("Content-Length: 2") != std::string::npos ? "2" : "")
        << response;
  }
}

TEST(HttpResponseReader, EofAfterACompleteResponseChangesNothing) {
  HttpResponseReader r(small_limits());
  r.reset(false);
  ASSERT_EQ(feed(r, kOk + "Content-Length: 2\r\n\r\nok"), Progress::kComplete);
  EXPECT_EQ(r.eof(), Progress::kComplete);
  EXPECT_EQ(r.response().body, "ok");
}

TEST(HttpResponseReader, StartedTracksAnyByte) {
  HttpResponseReader r(small_limits());
  r.reset(false);
  EXPECT_FALSE(r.started());
  EXPECT_EQ(feed(r, ""), Progress::kNeedMore);
  EXPECT_FALSE(r.started());
  EXPECT_EQ(feed(r, "H"), Progress::kNeedMore);
  EXPECT_TRUE(r.started());
  r.reset(false);
  EXPECT_FALSE(r.started());
}

TEST(HttpResponseReader, ResetAfterAnErrorReadsTheNextResponse) {
  HttpResponseReader r(small_limits());
  r.reset(false);
  ASSERT_EQ(feed(r, "HTTP/1.1 200 OK\rX: y\r\n\r\n"), Progress::kError);
  r.reset(false);
  ASSERT_EQ(feed(r, kOk + "Content-Length: 2\r\n\r\nok"), Progress::kComplete);
  EXPECT_EQ(r.error().error, UpstreamError::kNone);
  EXPECT_EQ(r.response().body, "ok");
}

// ---- Refused responses -------------------------------------------------------

struct Refusal {
  const char* name;
  std::string input;
  UpstreamError error;
  const char* code;
  bool answers_head = false;
};

void PrintTo(const Refusal& r, std::ostream* os) {
  *os << r.name;
}

class RefusedResponse : public ::testing::TestWithParam<Refusal> {};

// The refusal comes as soon as the bytes that prove it are in; only an
// unfinished response waits for EOF. Whole and split at every byte alike.
TEST_P(RefusedResponse, WithTheErrorAndCodeWhereverTheBytesSplit) {
  const Refusal& c = GetParam();
  bool at_eof = c.error == UpstreamError::kClosed;
  HttpResponseReader r(small_limits());
  for (size_t cut = 0; cut < std::max<size_t>(c.input.size(), 1); ++cut) {
    std::string where = "split at " + std::to_string(cut);
    r.reset(c.answers_head);
    Progress p = feed_cut(r, c.input, cut);
    ASSERT_EQ(p, at_eof ? Progress::kNeedMore : Progress::kError) << where;
    if (at_eof) p = r.eof();
    ASSERT_EQ(p, Progress::kError) << where;
    ASSERT_EQ(r.error().code, c.code) << where << ": " << r.error().detail;
    ASSERT_EQ(r.error().error, c.error) << where << ": " << r.error().detail;
    ASSERT_FALSE(r.error().detail.empty());
    // Final: nothing more is read.
    ASSERT_EQ(feed(r, kOk + "Content-Length: 0\r\n\r\n"), Progress::kError) << where;
    ASSERT_EQ(r.eof(), Progress::kError) << where;
    ASSERT_FALSE(r.reusable()) << where;
  }
}

const std::string kChunkedHead = kOk + "Transfer-Encoding: chunked\r\n\r\n";

INSTANTIATE_TEST_SUITE_P(
    Responses, RefusedResponse,
    ::testing::Values(
        // Line endings llhttp 8.1.0 would take (NOTES-deps.md).
        Refusal{"bare_cr_after_reason", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "bare_cr"},
        Refusal{"bare_cr_injects_a_header",
                "HTTP/1.1 200 OK\rSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "bare_cr"},
        Refusal{"bare_cr_in_value", kOk + "X: a\rb\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "bare_cr"},
        // CVE-2025-23167: "\r\n\r" and any byte ended the head.
        Refusal{"crlf_cr_then_byte", kOk + "Content-Length: 2\r\n\rXok",
                UpstreamError::kBadResponse, "bare_cr"},
        Refusal{"crlf_cr_end", "HTTP/1.1 503\r\nContent-Length: 0\r\n\rz",
                UpstreamError::kBadResponse, "bare_cr"},
        Refusal{"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", UpstreamError::kBadResponse,
                "bare_lf"},
        // Found by the fuzzer: llhttp 8.1.0 reads "0100" as 100, an interim answer.
        Refusal{"four_digit_interim_status",
                "HTTP/1.1 0100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_status"},
        Refusal{"four_digit_final_status", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_status"},
        // Found by the fuzzer: llhttp 8.1.0 reads 29 zeros as a length of 0.
        Refusal{"content_length_over_19_digits",
                kOk + "Content-Length: " + std::string(29, '0') + "\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_framing"},
        Refusal{"chunked_then_tab_cut_by_eof", kOk + "Transfer-Encoding: chunked\t\r\n\r\n5\r\nab",
                UpstreamError::kClosed, "incomplete_response"},
        Refusal{"chunked_then_tab_and_content_length",
                kOk + "Transfer-Encoding: chunked\t\r\nContent-Length: 3\r\n\r\nabc",
                UpstreamError::kBadResponse, "invalid_framing"},
        Refusal{"bare_lf_in_head", kOk + "X: a\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "bare_lf"},
        Refusal{"obs_fold", kOk + "X: a\r\n Content-Length: 2\r\nContent-Length: 2\r\n\r\nok",
                UpstreamError::kBadResponse, "obs_fold"},
        Refusal{"obs_fold_tab", kOk + "X: a\r\n\tb\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "obs_fold"},
        Refusal{"interim_then_bare_cr",
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "bare_cr"},
        // The bridge copies reason and fields into what it sends its client.
        Refusal{"nul_in_reason", "HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n"s,
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"nul_in_value", kOk + "X: a\0b\r\nContent-Length: 0\r\n\r\n"s,
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"control_in_value",
                kOk + "X: a\x01"
                      "b\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"empty_field_name", kOk + ":x\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"space_in_field_name", kOk + "Bad Name: x\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"space_before_colon", kOk + "Content-Length : 0\r\n\r\n",
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"empty_lines_before_the_status_line", "\r\n" + kOk + "Content-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"leading_whitespace", " " + kOk + "Content-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "malformed_response"},
        Refusal{"not_http", "hello world\r\n\r\n", UpstreamError::kBadResponse,
                "malformed_response"},
        // Statuses.
        Refusal{"no_status_code", "HTTP/1.1 \r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_status"},
        Refusal{"two_digit_status", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_status"},
        Refusal{"status_over_599", "HTTP/1.1 999 X\r\nContent-Length: 0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_status"},
        Refusal{"switching_protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
                UpstreamError::kBadResponse, "unexpected_upgrade"},
        // Framing headers.
        Refusal{"te_and_cl",
                kOk + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_framing"},
        Refusal{"te_gzip_chunked",
                kOk + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_framing"},
        Refusal{"te_gzip_until_eof", kOk + "Transfer-Encoding: gzip\r\n\r\nok",
                UpstreamError::kBadResponse, "invalid_framing"},
        Refusal{"te_twice",
                kOk + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_framing"},
        Refusal{"duplicate_content_length",
                kOk + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                UpstreamError::kBadResponse, "invalid_framing"},
        Refusal{"content_length_not_a_number", kOk + "Content-Length: 1x\r\n\r\nab",
                UpstreamError::kBadResponse, "invalid_framing"},
        // Chunked bodies (llhttp 8.1.0 does not check their framing).
        Refusal{"chunk_data_not_followed_by_crlf", kChunkedHead + "5\r\nhelloXX0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_chunk"},
        Refusal{"chunk_size_bare_lf", kChunkedHead + "5\nhello\r\n0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_chunk"},
        Refusal{"chunk_size_bare_cr", kChunkedHead + "5\rXhello\r\n0\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_chunk"},
        Refusal{"chunk_size_not_hex", kChunkedHead + "zz\r\n", UpstreamError::kBadResponse,
                "invalid_chunk"},
        Refusal{"trailer_crlf_cr", kChunkedHead + "0\r\nX: a\r\n\rX", UpstreamError::kBadResponse,
                "invalid_chunk"},
        Refusal{"trailer_obs_fold", kChunkedHead + "0\r\nX: a\r\n b\r\n\r\n",
                UpstreamError::kBadResponse, "invalid_chunk"},
        // Limits (head 1024 bytes and 100 fields, body 100 bytes).
        Refusal{"head_over_the_limit", kOk + "X-Pad: " + std::string(1100, 'p') + "\r\n\r\n",
                UpstreamError::kResponseTooLarge, "header_too_large"},
        Refusal{"reason_over_the_limit", "HTTP/1.1 200 " + std::string(1100, 'r') + "\r\n\r\n",
                UpstreamError::kResponseTooLarge, "header_too_large"},
        Refusal{"101_header_fields", kOk + repeat("X:\r\n", 101) + "\r\n",
                UpstreamError::kResponseTooLarge, "header_too_large"},
        Refusal{"interim_heads_count_each",
                "HTTP/1.1 100 Continue\r\n" + repeat("X:\r\n", 101) + "\r\n",
                UpstreamError::kResponseTooLarge, "header_too_large"},
        Refusal{"trailers_over_the_limit",
                kChunkedHead + "0\r\nX-Pad: " + std::string(1100, 't') + "\r\n\r\n",
                UpstreamError::kResponseTooLarge, "header_too_large"},
        Refusal{"content_length_over_the_limit", kOk + "Content-Length: 101\r\n\r\n",
                UpstreamError::kResponseTooLarge, "body_too_large"},
        Refusal{"content_length_huge", kOk + "Content-Length: 99999999999999999\r\n\r\n",
                UpstreamError::kResponseTooLarge, "body_too_large"},
        Refusal{"until_eof_over_the_limit", kOk + "\r\n" + std::string(101, 'b'),
                UpstreamError::kResponseTooLarge, "body_too_large"},
        Refusal{"chunked_over_the_limit", kChunkedHead + "65\r\n" + std::string(101, 'b'),
                UpstreamError::kResponseTooLarge, "body_too_large"},
        Refusal{"chunks_over_the_limit",
                kChunkedHead + repeat("a\r\n" + std::string(10, 'b') + "\r\n", 10) + "1\r\nb",
                UpstreamError::kResponseTooLarge, "body_too_large"},
        // The upstream closed early.
        Refusal{"nothing", "", UpstreamError::kClosed, "no_response"},
        Refusal{"eof_in_the_status_line", "HTTP/1.1 20", UpstreamError::kClosed,
                "incomplete_response"},
        Refusal{"eof_in_the_head", kOk + "Content-Length: 2\r\n", UpstreamError::kClosed,
                "incomplete_response"},
        Refusal{"eof_in_a_content_length_body", kOk + "Content-Length: 10\r\n\r\nabc",
                UpstreamError::kClosed, "incomplete_response"},
        Refusal{"eof_in_a_chunked_body", kChunkedHead + "5\r\nhel", UpstreamError::kClosed,
                "incomplete_response"},
        Refusal{"eof_before_the_last_chunk", kChunkedHead + "5\r\nhello\r\n",
                UpstreamError::kClosed, "incomplete_response"},
        Refusal{"eof_after_an_interim_answer", "HTTP/1.1 100 Continue\r\n\r\n",
                UpstreamError::kClosed, "incomplete_response"}),
    [](const ::testing::TestParamInfo<Refusal>& p) { return std::string(p.param.name); });

// A head llhttp would refuse (bad Content-Length) that the pre-scan refuses
// further on (too many fields): llhttp sees a head only once it is whole, so
// the answer does not depend on where the reads were cut.
TEST(HttpResponseReader, TheFirstCheckToFailIsTheSameWhereverTheBytesSplit) {
  std::string input = kOk + "Content-Length: x\r\n" + repeat("X:\r\n", 101) + "\r\n";
  HttpResponseReader r(small_limits());
  for (size_t cut = 0; cut < input.size(); ++cut) {
    r.reset(false);
    ASSERT_EQ(feed_cut(r, input, cut), Progress::kError) << cut;
    ASSERT_EQ(r.error().code, "header_too_large") << cut << ": " << r.error().detail;
  }
}

TEST(HttpResponseReader, TheBodyLimitIsRefusedBeforeTheBodyArrives) {
  HttpResponseReader r(small_limits());
  r.reset(false);
  EXPECT_EQ(feed(r, kOk + "Content-Length: 101\r\n\r\n"), Progress::kError);
  EXPECT_EQ(r.error().detail, "response body exceeds 100 bytes");
}

TEST(HttpResponseReader, AZeroBodyLimitStillTakesBodilessAnswers) {
  HttpResponseReader::Limits limits = small_limits();
  limits.max_body_bytes = 0;
  HttpResponseReader r(limits);
  r.reset(false);
  EXPECT_EQ(feed(r, kOk + "Content-Length: 0\r\n\r\n"), Progress::kComplete);
  r.reset(false);
  EXPECT_EQ(feed(r, kChunkedHead + "0\r\n\r\n"), Progress::kComplete);
  r.reset(false);
  EXPECT_EQ(feed(r, kOk + "Content-Length: 1\r\n\r\n"), Progress::kError);
  EXPECT_EQ(r.error().code, "body_too_large");
}

}  // namespace
}  // namespace streamshift
