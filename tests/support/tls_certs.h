// Certificates for the TLS tests, made by the `openssl` command line tool
// in a temporary directory when constructed, removed when destroyed: a CA,
// a server certificate it signs for localhost and 127.0.0.1, one for
// localhost only (connecting by address then needs REDIS_TLS_SERVER_NAME),
// a client certificate it signs, a server certificate it signs for another
// name, and an unrelated second CA. EC P-256 keys (quick to make), unencrypted, valid
// for two days. A missing openssl fails the test with the package to
// install.
#pragma once

#include <string>
#include <vector>

namespace streamshift::testing {

class TestCertificates {
 public:
  TestCertificates();
  ~TestCertificates();
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  /// Every file was made.
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }
  /// A path in dir().
  std::string file(const std::string& name) const { return dir_ + "/" + name; }

  std::string ca() const { return file("ca.crt"); }
  std::string server_cert() const { return file("server.crt"); }  // localhost, 127.0.0.1
  std::string server_key() const { return file("server.key"); }
  std::string client_cert() const { return file("client.crt"); }
  std::string client_key() const { return file("client.key"); }
  std::string localhost_only_cert() const { return file("localhost-only.crt"); }
  std::string localhost_only_key() const { return file("localhost-only.key"); }
  std::string wrong_name_cert() const { return file("wrong-name.crt"); }  // wrong.example
  std::string wrong_name_key() const { return file("wrong-name.key"); }
  std::string other_ca() const { return file("other-ca.crt"); }

  /// Runs `openssl <args>` in dir(); false (with a test failure showing
  /// its output) when it fails. For tests that need one more file.
  bool openssl(const std::string& args) const;

 private:
  bool make_ca(const std::string& name, const std::string& subject) const;
  bool make_signed(const std::string& name, const std::string& subject,
                   const std::vector<std::string>& extensions) const;

  std::string dir_;
  bool ok_ = false;
};

}  // namespace streamshift::testing
