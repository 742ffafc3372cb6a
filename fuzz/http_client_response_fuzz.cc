// Fuzz target: the upstream response reader of the HTTP client (core/http_client).
//
// The response parser lives inside UpstreamConnection (private to
// http_client.cc), so the smallest public seam is UpstreamPool itself: the
// target sends one request through a pool to a "server" on the same loop,
// on 127.0.0.1, which reads the request and answers with the input's bytes,
// one piece per loop turn, then closes. (A reader with a feed(bytes)/eof()
// API, like HttpRequestReader, would make this target 10-100x faster.)
//
// Input: [flags byte][split byte][the bytes the upstream sends].
// flags bit 0: the request is HEAD; bits 1-2: max_response_bytes
// {64 MiB, 0, 100, 1000}. Each input runs in one piece and cut where the
// split byte says. Checked:
//  - on_done runs exactly once, and the pool ends with no connection;
//  - an accepted response is consistent: final status, no CR/LF/NUL in the
//    reason or any header (the bridge forwards them to our clients), body
//    within the limit, empty when bodiless, as long as Content-Length says;
//  - its body is where a strict reading of RFC 9112 puts it
//    (fuzz/http_reference.h): per Content-Length, strict chunked decoding,
//    or up to EOF;
//  - the outcome does not depend on where the stream was cut.
#include <uv.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_client.h"
#include "core/loop.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/http_reference.h"
#include "fuzz/splits.h"

namespace streamshift::fuzz {
namespace {

constexpr size_t kLimits[] = {64 * 1024 * 1024, 0, 100, 1000};

struct Outcome {
  int calls = 0;
  UpstreamError error = UpstreamError::kNone;
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool bodiless = false;

  bool operator==(const Outcome& o) const {
    return calls == o.calls && error == o.error && status == o.status && reason == o.reason &&
           headers == o.headers && body == o.body && bodiless == o.bodiless;
  }
};

std::string describe(const Outcome& o) {
  std::string s = std::string(upstream_error_name(o.error)) + " " + std::to_string(o.status) + " " +
                  printable(o.reason) + (o.bodiless ? " (bodiless)" : "");
  for (const auto& [n, v] : o.headers) s += " | " + printable(n) + ": " + printable(v);
  return s + " | body " + printable(o.body, 60);
}

// The upstream's side of one connection.
struct Peer {
  uv_tcp_t tcp;
  std::string received;
  bool answering = false;
};

struct Harness {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_idle_t writer;
  uint16_t port = 0;
  std::unique_ptr<UpstreamPool> pools[4];

  // The exchange in progress.
  std::string_view response;
  std::optional<Splitter> split;
  size_t written = 0;
  Peer* peer = nullptr;
  int peers_open = 0;
};

Harness* h = nullptr;

void close_peer() {
  if (h->peer == nullptr) return;
  uv_idle_stop(&h->writer);
  uv_close(reinterpret_cast<uv_handle_t*>(&h->peer->tcp), [](uv_handle_t* handle) {
    delete static_cast<Peer*>(handle->data);
    --h->peers_open;
  });
  h->peer = nullptr;
}

// One piece per loop turn: the client's poll sees each piece on its own.
void write_piece(uv_idle_t*) {
  if (h->peer == nullptr) return;
  if (h->written == h->response.size()) {
    close_peer();
    return;
  }
  size_t n = h->split->next(h->response.size() - h->written);
  uv_buf_t buf =
      uv_buf_init(const_cast<char*>(h->response.data() + h->written), static_cast<unsigned>(n));
  int rc = uv_try_write(reinterpret_cast<uv_stream_t*>(&h->peer->tcp), &buf, 1);
  if (rc == UV_EAGAIN) return;  // the client is slow: try again next turn
  if (rc < 0) {
    close_peer();  // the client gave up on the response and closed
    return;
  }
  h->written += static_cast<size_t>(rc);
}

void on_peer_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* p = static_cast<Peer*>(s->data);
  if (nread > 0) p->received.append(buf->base, static_cast<size_t>(nread));
  delete[] buf->base;
  if (nread < 0) {
    if (p == h->peer) close_peer();
    return;
  }
  if (!p->answering && p->received.find("\r\n\r\n") != std::string::npos) {
    p->answering = true;  // the whole request is in: nothing unread at close (no RST)
    uv_idle_start(&h->writer, write_piece);
  }
}

void on_connection(uv_stream_t* server, int status) {
  FUZZ_CHECK(status == 0, uv_error_text(status));
  auto* p = new Peer;
  uv_tcp_init(&h->loop, &p->tcp);
  p->tcp.data = p;
  ++h->peers_open;
  FUZZ_CHECK(uv_accept(server, reinterpret_cast<uv_stream_t*>(&p->tcp)) == 0, "accept");
  uv_tcp_nodelay(&p->tcp, 1);  // each piece leaves at once (no Nagle wait for an ACK)
  FUZZ_CHECK(h->peer == nullptr, "one connection per exchange");
  h->peer = p;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&p->tcp),
      [](uv_handle_t*, size_t, uv_buf_t* b) { *b = uv_buf_init(new char[4096], 4096); },
      on_peer_read);
}

Outcome exchange(std::string_view response, bool is_head, size_t limit_index, uint8_t split_seed) {
  h->response = response;
  h->split.emplace(split_seed);
  h->written = 0;
  Outcome out;
  auto request = std::make_unique<UpstreamRequest>();
  request->head = std::string(is_head ? "HEAD" : "GET") + " / HTTP/1.1\r\nHost: upstream\r\n\r\n";
  request->is_head = is_head;
  request->on_done = [&out](UpstreamResponse& r) {
    ++out.calls;
    out.error = r.error;
    out.status = r.status;
    out.reason = std::string(r.reason());
    for (size_t i = 0; i < r.headers.size(); ++i) {
      out.headers.emplace_back(r.headers.name(i), r.headers.value(i));
    }
    out.body = r.body;
    out.bodiless = r.bodiless;
  };
  UpstreamPool& pool = *h->pools[limit_index];
  pool.send(std::move(request));
  uint64_t started = uv_hrtime();
  while (out.calls == 0 || pool.connection_count() > 0 || h->peers_open > 0) {
    uv_run(&h->loop, UV_RUN_ONCE);
    FUZZ_CHECK(uv_hrtime() - started < 20'000'000'000ull, "no outcome within 20 s");
  }
  FUZZ_CHECK(out.calls == 1, "on_done ran " + std::to_string(out.calls) + " times");
  return out;
}

void check_outcome(const Outcome& o, std::string_view raw, bool is_head, size_t limit) {
  if (o.error != UpstreamError::kNone) return;
  std::string what = describe(o) + "\n  raw: " + printable(raw);
  FUZZ_CHECK(!(o.status >= 100 && o.status < 200) && o.status <= 999, what);
  FUZZ_CHECK(line_safe(o.reason), what);
  for (const auto& [name, value] : o.headers) {
    FUZZ_CHECK(!name.empty() && line_safe(name) && line_safe(value), what);
  }
  FUZZ_CHECK(o.body.size() <= limit, what);
  FUZZ_CHECK(o.bodiless == (is_head || o.status == 204 || o.status == 304), what);
  if (o.bodiless) FUZZ_CHECK(o.body.empty(), what);

  // Where a strict reader puts the body: after the empty line that ends the
  // final (non-1xx) head. As RFC 9112 2.2 lets a recipient, a line ends at
  // LF (a CR just before it dropped); a CR anywhere else ends nothing; empty
  // lines before a status line are skipped.
  // (Head syntax llhttp 8.1.0 tolerates beyond that, such as obs-fold or
  // two-digit status codes, is listed in fuzz/findings/README.md.)
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
    if (!(code.size() == 3 && code[0] == '1')) break;  // an interim response: read on
  }
  if (o.bodiless) return;
  const std::string* content_length = nullptr;
  bool chunked = false;
  for (const auto& [name, value] : o.headers) {
    if (ascii_iequals(name, "content-length") && content_length == nullptr) content_length = &value;
    if (ascii_iequals(name, "transfer-encoding")) {
      size_t comma = value.rfind(',');
      std::string_view last =
          std::string_view(value).substr(comma == std::string::npos ? 0 : comma + 1);
      while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
      chunked = ascii_iequals(last, "chunked");
    }
  }
  std::string_view body = raw.substr(body_start);
  if (chunked) {
    size_t used = 0;
    auto decoded = dechunk(body, &used);
    FUZZ_CHECK(decoded.has_value() && *decoded == o.body, what);
  } else if (content_length != nullptr) {
    FUZZ_CHECK(!content_length->empty() && content_length->size() <= 19 &&
                   content_length->find_first_not_of("0123456789") == std::string::npos,
               what);
    FUZZ_CHECK(std::stoull(*content_length) == o.body.size(), what);
    FUZZ_CHECK(body.substr(0, o.body.size()) == o.body, what);
  } else {
    FUZZ_CHECK(body == o.body, what);  // delimited by the upstream closing
  }
}

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace streamshift;
  using namespace streamshift::fuzz;
  ignore_sigpipe();
  h = new Harness;
  uv_loop_init(&h->loop);
  uv_idle_init(&h->loop, &h->writer);
  FUZZ_CHECK(
      listen_tcp(&h->loop, &h->listener, HostPort{"127.0.0.1", 0}, false, 64, on_connection) == 0,
      "listen on 127.0.0.1");
  h->port = bound_port(&h->listener);
  for (size_t i = 0; i < 4; ++i) {
    UpstreamOptions o;
    o.host = "127.0.0.1";
    o.port = h->port;
    o.max_connections = 1;
    o.request_timeout_ms = 15000;
    o.max_response_bytes = kLimits[i];
    h->pools[i] = std::make_unique<UpstreamPool>(&h->loop, o);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift::fuzz;
  if (size < 2) return 0;
  bool is_head = (data[0] & 1) != 0;
  size_t limit_index = (data[0] >> 1) & 3;
  std::string_view raw(reinterpret_cast<const char*>(data + 2), size - 2);

  Outcome whole = exchange(raw, is_head, limit_index, 0);
  check_outcome(whole, raw, is_head, kLimits[limit_index]);
  if (data[1] != 0) {
    Outcome cut = exchange(raw, is_head, limit_index, data[1]);
    FUZZ_CHECK(cut == whole, "whole: " + describe(whole) + "\n  cut:   " + describe(cut) +
                                 "\n  raw: " + printable(raw));
  }
  return 0;
}
