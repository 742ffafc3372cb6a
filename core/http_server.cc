// The ingress HTTP/1.1 server; see http_server.h.
#include "core/http_server.h"

#include <utility>

#include "core/completion.h"
#include "core/loop.h"

namespace streamshift {

// ---- Exchange: the handler's view of its connection ----

HttpRequest& Exchange::request() {
  return connection_->request();
}
const std::string& Exchange::client_ip() const {
  return connection_->client_ip();
}
bool Exchange::client_gone() const {
  return connection_->closing();
}
void Exchange::respond(Response response) {
  connection_->respond(std::move(response));
}

void Exchange::respond_json(int status, std::string body, std::string_view extra_headers) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.extra_headers = extra_headers;
  r.body = std::move(body);
  respond(std::move(r));
}

// ---- HttpServer ----

HttpServer::HttpServer(uv_loop_t* loop, ServerOptions options, RequestHandler& handler)
    : loop_(loop),
      options_(std::move(options)),
      handler_(handler),
      listener_(loop, options_, *this) {}

HttpServer::~HttpServer() = default;

void HttpServer::on_acceptable(uv_stream_t* listener) {
  auto* c = new ServerConnection(this);
  connections_.push_front(c);
  int rc = c->accept(listener);
  if (rc != 0) c->close("accept failed: " + uv_error_text(rc));
}

void HttpServer::connection_closed(ServerConnection* c) {
  if (options_.connections != nullptr) options_.connections->give_back(1);
  connections_.remove(c);
  check_drained();
}

void HttpServer::drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  listener_.close();
  connections_.for_each([](ServerConnection* c) { c->drain(); });
  check_drained();
}

void HttpServer::close_all(std::string_view reason) {
  connections_.for_each([reason](ServerConnection* c) { c->close(reason); });
}

void HttpServer::check_drained() {
  if (draining_ && listener_.closed() && connections_.empty()) complete_once(on_drained_);
}

}  // namespace streamshift
