// The relay's admin listener; see relay_admin.h.
#include "relay/relay_admin.h"

#include "core/json.h"

namespace streamshift {
namespace {

ServerOptions admin_options(const RelaySettings& settings) {
  ServerOptions options;
  options.listen = settings.admin_listen;
  options.reuse_port = false;
  options.limits.max_body_bytes = 0;
  return options;
}

}  // namespace

RelayAdmin::RelayAdmin(uv_loop_t* loop, const RelaySettings& settings, Registry& registry,
                       const Relay& relay)
    : registry_(registry), relay_(relay), server_(loop, admin_options(settings), *this) {}

int RelayAdmin::start() {
  return server_.start();
}

void RelayAdmin::close(std::function<void()> on_closed) {
  server_.drain(std::move(on_closed));
  server_.close_all("relay stopping");
}

void RelayAdmin::on_request(Exchange& exchange) {
  HttpRequest& request = exchange.request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (request.method != "GET" && request.method != "HEAD") {
    exchange.respond_json(
        405, json_error_body("method_not_allowed", "the admin listener answers GET only"));
    return;
  }
  if (path == "/metrics") {
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = registry_.Serialize();
    exchange.respond(std::move(r));
  } else if (path == "/healthz") {
    exchange.respond_json(200, "{\"status\":\"ok\"}");
  } else if (path == "/readyz") {
    std::string why = relay_.not_ready_reason();
    std::string body = "{\"status\":";
    append_json_string(body, why.empty() ? "ready" : why);
    body += '}';
    exchange.respond_json(why.empty() ? 200 : 503, std::move(body));
  } else {
    exchange.respond_json(404, json_error_body("not_found", "no such admin endpoint"));
  }
}

}  // namespace streamshift
