// The ingress HTTP/1.1 server: a listener and its connections on one loop.
//
//   HttpListener (http_listener.h): accepts, within the connection budget;
//      | refuses over it, sheds the backlog when out of fds
//      v
//   ServerConnection (http_server_connection.h): frames requests one at a
//      | time, hands each to the RequestHandler as an Exchange
//      |                                          (http_exchange.h)
//      v
//   ResponseWriter (http_response_writer.h): the answers, in order
//
// The server owns the listener and the list of its connections; draining
// closes the listener, closes idle connections at once and lets the others
// finish their request (answered with Connection: close).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "core/http_exchange.h"
#include "core/http_listener.h"
#include "core/http_server_connection.h"
#include "core/http_server_options.h"
#include "core/intrusive_list.h"

namespace streamshift {

class HttpServer : private HttpListener::Owner {
 public:
  HttpServer(uv_loop_t* loop, ServerOptions options, RequestHandler& handler);
  ~HttpServer() override;
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and listens; 0 or a libuv error code.
  int start() { return listener_.start(); }
  uint16_t port() const { return listener_.port(); }

  /// Stops accepting and closes idle connections; connections with a
  /// request in progress finish it (answered with Connection: close).
  /// `on_drained` runs once no connection is left.
  void drain(std::function<void()> on_drained);
  /// Closes every connection now (answers in flight are dropped).
  void close_all(std::string_view reason);

  size_t connection_count() const { return connections_.size(); }

 private:
  friend class ServerConnection;
  void on_acceptable(uv_stream_t* listener) override;
  void on_listener_closed() override { check_drained(); }
  void connection_closed(ServerConnection* c);
  void check_drained();

  uv_loop_t* loop_;
  ServerOptions options_;
  RequestHandler& handler_;
  HttpListener listener_;
  IntrusiveList<ServerConnection, &ServerConnection::hook> connections_;
  bool draining_ = false;
  std::function<void()> on_drained_;
};

}  // namespace streamshift
