// The admin router and listener; see admin_router.h.
#include "core/admin_router.h"

#include <utility>

#include "core/json.h"

namespace streamshift {
namespace {

ServerOptions admin_options(const HostPort& listen) {
  ServerOptions options;
  options.listen = listen;
  options.reuse_port = false;
  options.limits.max_body_bytes = 0;
  return options;
}

}  // namespace

ProbeAnswer probe_ok() {
  return {200, "{\"status\":\"ok\"}"};
}

AdminRouter::AdminRouter(Registry& registry, Probe readiness, Probe liveness)
    : registry_(registry),
      readiness_(std::move(readiness)),
      liveness_(liveness ? std::move(liveness) : Probe(probe_ok)) {}

void AdminRouter::add_prefix(std::string prefix, Route route) {
  routes_.push_back({std::move(prefix), std::move(route)});
}

void AdminRouter::add_post(std::string path, Route route) {
  posts_.push_back({std::move(path), std::move(route)});
}

void AdminRouter::answer(Exchange& exchange, const Probe& probe) {
  ProbeAnswer a = probe();
  exchange.respond_json(a.status, std::move(a.body));
}

void AdminRouter::on_request(Exchange& exchange) {
  const HttpRequest& request = exchange.request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  for (const PrefixRoute& r : posts_) {
    if (path != r.prefix) continue;
    if (request.method == "POST") return r.route(exchange, {});
    exchange.respond_json(
        405, json_error_body("method_not_allowed", "this admin endpoint answers POST only"),
        "Allow: POST\r\n");
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    exchange.respond_json(
        405, json_error_body("method_not_allowed", "the admin listener answers GET and HEAD only"),
        "Allow: GET, HEAD\r\n");
    return;
  }
  if (path == "/metrics") {
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = registry_.Serialize();
    exchange.respond(std::move(r));
    return;
  }
  if (path == "/healthz") return answer(exchange, liveness_);
  if (path == "/readyz") return answer(exchange, readiness_);
  for (const PrefixRoute& r : routes_) {
    if (path.starts_with(r.prefix)) return r.route(exchange, path.substr(r.prefix.size()));
  }
  exchange.respond_json(404, json_error_body("not_found", "no such admin endpoint"));
}

AdminListener::AdminListener(uv_loop_t* loop, const HostPort& listen, Registry& registry,
                             AdminRouter::Probe readiness, AdminRouter::Probe liveness)
    : router_(registry, std::move(readiness), std::move(liveness)),
      server_(loop, admin_options(listen), router_) {}

int AdminListener::start() {
  return server_.start();
}

void AdminListener::close(std::string_view reason, std::function<void()> on_closed) {
  server_.drain(std::move(on_closed));
  server_.close_all(reason);
}

}  // namespace streamshift
