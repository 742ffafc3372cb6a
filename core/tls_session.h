// The client side of one TLS connection, on memory BIOs: ciphertext in from
// the socket, plaintext out to the reader; plaintext in from the writer,
// ciphertext out to the socket. No socket and no loop here, so nothing can
// block, and tests drive it against an in-memory server.
//
//   socket bytes --feed()--> rbio --SSL--> plaintext (to the sink)
//                                  |
//   plaintext --write()--> SSL --> wbio --output()/consumed()--> socket
//
// The handshake runs inside feed() (start() sends the ClientHello) until
// handshake_done(). Errors say what went wrong in the words operators need
// (see TlsError): a certificate that does not verify (and why), a host name
// mismatch, a server that requires a client certificate.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "core/redis_tls.h"

namespace streamshift {

class TlsSession {
 public:
  /// Plaintext decrypted by feed(); false: stop (the connection went).
  using Sink = bool (*)(void* data, const char* bytes, size_t len);

  /// `name`: checked against the certificate (unless the context does not
  /// verify) and sent as SNI (unless it is an IP address).
  TlsSession(const RedisTlsContext& context, std::string_view name);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// Begins the handshake (output() then holds the ClientHello); false
  /// with error() set if it failed at once.
  bool start();
  /// Ciphertext from the socket: continues the handshake, then decrypts
  /// into `sink`. False once the session failed or the server closed it
  /// (error() says which).
  bool feed(const char* bytes, size_t len, Sink sink, void* data);
  /// Encrypts plaintext (after the handshake); false with error() set.
  bool write(const char* bytes, size_t len);

  /// Ciphertext waiting for the socket.
  const std::string& output() const { return out_; }
  /// Hands the waiting ciphertext over (the socket keeps what it could
  /// not send at once); output() is then empty.
  std::string take_output() { return std::move(out_); }
  /// The socket took all of output().
  void output_sent() { out_.clear(); }

  bool handshake_done() const { return handshake_done_; }
  const std::string& error() const { return error_; }

 private:
  bool fail(int ssl_result);
  bool drive_handshake();

  SSL* ssl_;
  BIO* rbio_;        // a memory BIO, owned by ssl_
  std::string out_;  // what ssl_'s write BIO gathered
  std::string name_;
  bool verify_;
  bool handshake_done_ = false;
  std::string error_;
};

}  // namespace streamshift
