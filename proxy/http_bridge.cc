// The HTTP bridge; see http_bridge.h.
#include "proxy/http_bridge.h"

#include <memory>

#include "core/json.h"
#include "core/log.h"

namespace streamshift {
namespace {

bool method_has_body_semantics(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

std::string_view error_code_for(UpstreamError error) {
  switch (error) {
    case UpstreamError::kResolveFailed:
    case UpstreamError::kConnectFailed:
      return "upstream_unreachable";
    case UpstreamError::kConnectTimeout:
      return "upstream_connect_timeout";
    case UpstreamError::kTimeout:
      return "upstream_timeout";
    case UpstreamError::kShutdown:
      return "shutting_down";
    case UpstreamError::kResponseTooLarge:
      return "upstream_response_too_large";
    default:
      return "bad_gateway";
  }
}

}  // namespace

int status_for_upstream_error(UpstreamError error) {
  switch (error) {
    case UpstreamError::kConnectTimeout:
    case UpstreamError::kTimeout:
      return 504;
    case UpstreamError::kShutdown:
      return 503;
    default:
      return 502;
  }
}

std::string HttpBridge::upstream_head(const HttpRequest& request, std::string_view client_ip,
                                      std::string_view event_id) {
  const HeaderBlock& h = request.headers;
  std::string head;
  head.reserve(h.bytes() + 160);
  head += request.method;
  head += ' ';
  // The reader admits "*" for OPTIONS only; it names the server, not a path
  // under the prefix.
  if (request.target() != "*") head += upstream_.path_prefix;
  head += request.target();
  head += " HTTP/1.1\r\n";
  ForwardedFields forwarded(h);
  bool has_host = false, has_request_id = false;
  for (size_t i = 0; i < h.size(); ++i) {
    std::string_view name = h.name(i);
    if (!forwarded.forwarded(i) || iequals(name, "content-length")) continue;
    if (!event_id.empty() && iequals(name, "x-event-id")) continue;
    if (iequals(name, "x-forwarded-for")) continue;  // merged below, after the last hop
    has_host = has_host || iequals(name, "host");
    has_request_id = has_request_id || iequals(name, "x-request-id");
    append_header(head, name, h.value(i));
  }
  if (!has_host) append_header(head, "Host", upstream_.authority);
  if (!has_request_id) append_header(head, "X-Request-Id", ids_.uuid4());
  if (!event_id.empty()) append_header(head, "X-Event-Id", event_id);
  // Every X-Forwarded-For field, in order, then this hop (RFC 9110 5.3).
  head += "X-Forwarded-For: ";
  for (size_t i = 0; i < h.size(); ++i) {
    if (!iequals(h.name(i), "x-forwarded-for") || h.value(i).empty() || !forwarded.forwarded(i)) {
      continue;
    }
    head += h.value(i);
    head += ", ";
  }
  head += client_ip;
  head += "\r\n";
  if (!request.body.empty() || method_has_body_semantics(request.method)) {
    append_header(head, "Content-Length", std::to_string(request.body.size()));
  }
  head += "\r\n";
  return head;
}

bool HttpBridge::answered(const UpstreamResponse& r, uint64_t started_ns, const HttpTally& tally) {
  double seconds = static_cast<double>(uv_hrtime() - started_ns) / 1e9;
  int status = r.error == UpstreamError::kNone ? r.status : 0;
  bool ok = status >= 200 && status < 300;
  if (metrics_ != nullptr) metrics_->observe_upstream(status, seconds);
  tally.answered(ok, seconds);
  return ok;
}

void HttpBridge::send_detached(std::string head, std::string body, HttpTally tally,
                               std::function<void(bool ok)> done) {
  auto upstream_request = std::make_unique<UpstreamRequest>();
  upstream_request->head = std::move(head);
  upstream_request->body = std::move(body);
  uint64_t started = uv_hrtime();
  upstream_request->on_done = [this, started, tally, done = std::move(done)](UpstreamResponse& r) {
    bool ok = answered(r, started, tally);
    if (!ok) {
      log_line(LogLevel::kWarn, "coalesced event not delivered over HTTP",
               {{"status", r.error == UpstreamError::kNone ? r.status : 0},
                {"error", upstream_error_name(r.error)},
                {"detail", r.detail}});
    }
    done(ok);
  };
  pool_.send(std::move(upstream_request));
}

void HttpBridge::forward(Exchange& exchange, std::string extra_response_headers,
                         std::string_view event_id, HttpTally tally) {
  HttpRequest& request = exchange.request();
  auto upstream_request = std::make_unique<UpstreamRequest>();
  upstream_request->head = upstream_head(request, exchange.client_ip(), event_id);
  upstream_request->body = std::move(request.body);
  upstream_request->is_head = request.method == "HEAD";
  Exchange* ex = &exchange;
  uint64_t started = uv_hrtime();
  upstream_request->on_done = [this, ex, extra = std::move(extra_response_headers), started,
                               tally](UpstreamResponse& r) {
    answered(r, started, tally);
    if (r.error != UpstreamError::kNone) {
      int status = status_for_upstream_error(r.error);
      log_line(LogLevel::kWarn, "upstream request failed",
               {{"status", status}, {"error", upstream_error_name(r.error)}, {"detail", r.detail}});
      ex->respond_json(status, json_error_body(error_code_for(r.error), r.detail), extra);
      return;
    }
    Response response;
    response.status = r.status;
    response.reason = r.reason();
    response.headers = &r.headers;
    response.extra_headers = extra;
    response.bodiless = r.bodiless;
    response.body = std::move(r.body);
    ex->respond(std::move(response));
  };
  pool_.send(std::move(upstream_request));
}

}  // namespace streamshift
