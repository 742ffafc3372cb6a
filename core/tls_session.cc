// One TLS client session on memory buffers; see tls_session.h.
#include "core/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace streamshift {
namespace {

// The write side: a BIO that appends to the session's std::string, so the
// ciphertext can be handed to the socket without another copy (a memory
// BIO would have to be read out, and clears its whole buffer on reset).
int out_write(BIO* bio, const char* data, int len) {
  static_cast<std::string*>(BIO_get_data(bio))->append(data, static_cast<size_t>(len));
  return len;
}
long out_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}
int out_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* out_method() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "streamshift tls out");
    BIO_meth_set_write(m, out_write);
    BIO_meth_set_ctrl(m, out_ctrl);
    BIO_meth_set_create(m, out_create);
    return m;
  }();
  return method;
}

bool is_ip_address(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

bool is_missing_client_certificate(int reason) {
  return reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
         reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE ||
         reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
}

}  // namespace

TlsSession::TlsSession(const RedisTlsContext& context, std::string_view name)
    : ssl_(SSL_new(context.ctx())),
      rbio_(BIO_new(BIO_s_mem())),
      name_(name),
      verify_(context.verify()) {
  BIO* wbio = BIO_new(out_method());
  BIO_set_data(wbio, &out_);
  BIO_set_mem_eof_return(rbio_, -1);  // no bytes yet: "retry", not end of stream
  SSL_set_bio(ssl_, rbio_, wbio);
  SSL_set_connect_state(ssl_);
  bool ip = is_ip_address(name_);
  if (!ip) SSL_set_tlsext_host_name(ssl_, name_.c_str());
  if (verify_) {
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name_.c_str());
    } else {
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl_, name_.c_str());
    }
  }
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}

bool TlsSession::start() {
  return drive_handshake();
}

bool TlsSession::drive_handshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    return true;
  }
  return SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ || fail(r);
}

bool TlsSession::feed(const char* bytes, size_t len, Sink sink, void* data) {
  if (!error_.empty()) return false;
  if (BIO_write(rbio_, bytes, static_cast<int>(len)) != static_cast<int>(len)) {
    error_ = "tls: out of memory";
    return false;
  }
  if (!handshake_done_ && (!drive_handshake() || !handshake_done_)) return error_.empty();
  char plain[16 * 1024];
  while (true) {
    ERR_clear_error();
    size_t got = 0;
    int r = SSL_read_ex(ssl_, plain, sizeof plain, &got);
    if (r != 1) return SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ || fail(r);
    if (!sink(data, plain, got)) return true;
  }
}

bool TlsSession::write(const char* bytes, size_t len) {
  if (!error_.empty()) return false;
  // With SSL_MODE_ENABLE_PARTIAL_WRITE a call may stop after one record.
  while (len > 0) {
    ERR_clear_error();
    size_t written = 0;
    if (SSL_write_ex(ssl_, bytes, len, &written) != 1) return fail(0);
    bytes += written;
    len -= written;
  }
  return true;
}

// The one place an OpenSSL failure becomes words.
bool TlsSession::fail(int ssl_result) {
  int kind = SSL_get_error(ssl_, ssl_result);
  unsigned long e = ERR_peek_error();
  long verified = SSL_get_verify_result(ssl_);
  if (kind == SSL_ERROR_ZERO_RETURN) {
    error_ = "tls: the server closed the session";
  } else if (verify_ && !handshake_done_ && verified != X509_V_OK) {
    if (verified == X509_V_ERR_HOSTNAME_MISMATCH || verified == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      error_ = "host name mismatch: the server's certificate is not for " + name_;
    } else {
      error_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified);
    }
  } else if (ERR_GET_LIB(e) == ERR_LIB_SSL && is_missing_client_certificate(ERR_GET_REASON(e)) &&
             SSL_get_certificate(ssl_) == nullptr) {
    error_ = "server requires a client certificate";
  } else if (e != 0) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    error_ = std::string("tls: ") + text;
  } else {
    error_ = "tls: failed (" + std::to_string(kind) + ")";
  }
  ERR_clear_error();
  return false;
}

}  // namespace streamshift
