// What a request handler of the ingress server sees: the request being
// answered (Exchange) and the answer it gives (Response).
#pragma once

#include <string>
#include <string_view>

#include "core/http_message.h"

namespace streamshift {

class ServerConnection;

/// A response to send. Headers from `headers` are copied minus hop-by-hop
/// ones; `extra_headers` is pre-serialized "Name: value\r\n" text.
struct Response {
  int status = 200;
  std::string_view reason;  // "" means the canonical phrase
  const HeaderBlock* headers = nullptr;
  std::string_view extra_headers;
  std::string_view content_type;
  /// Pass the Content-Length of `headers` through and send no body
  /// (answers to HEAD, 204, 304).
  bool bodiless = false;
  std::string body;
  std::string extra_headers_owned;  // storage when the server adds headers itself
};

/// One request being answered; owned by its connection, which stays alive
/// until respond() has been called, even if the client has gone.
class Exchange {
 public:
  explicit Exchange(ServerConnection* connection) : connection_(connection) {}
  HttpRequest& request();
  const std::string& client_ip() const;
  /// True when the client connection has closed: the response will be dropped.
  bool client_gone() const;
  /// Sends the response; exactly once per request, from the loop's thread.
  void respond(Response response);
  /// Convenience: a JSON body with Content-Type application/json.
  void respond_json(int status, std::string body, std::string_view extra_headers = {});

 private:
  ServerConnection* connection_;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void on_request(Exchange& exchange) = 0;
};

}  // namespace streamshift
