// Test certificates; see tls_certs.h.
#include "tests/support/tls_certs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tests/support/command.h"

namespace streamshift::testing {
namespace {

constexpr const char* kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

}  // namespace

TestCertificates::TestCertificates() {
  if (!have_command("openssl")) {
    ADD_FAILURE() << "the openssl command is not installed: install Debian's openssl "
                     "(scripts/setup-deps.sh)";
    return;
  }
  char tmpl[] = "/tmp/streamshift-tls-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    ADD_FAILURE() << "cannot make a temporary directory for the test certificates";
    return;
  }
  dir_ = tmpl;
  ok_ = make_ca("ca", "/CN=streamshift test CA") &&
        make_ca("other-ca", "/CN=streamshift unrelated CA") &&
        make_signed("server", "/CN=localhost",
                    {"subjectAltName=DNS:localhost,IP:127.0.0.1", "extendedKeyUsage=serverAuth"}) &&
        make_signed("localhost-only", "/CN=localhost",
                    {"subjectAltName=DNS:localhost", "extendedKeyUsage=serverAuth"}) &&
        make_signed("client", "/CN=streamshift-client", {"extendedKeyUsage=clientAuth"}) &&
        make_signed("wrong-name", "/CN=wrong.example",
                    {"subjectAltName=DNS:wrong.example", "extendedKeyUsage=serverAuth"});
}

TestCertificates::~TestCertificates() {
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

bool TestCertificates::openssl(const std::string& args) const {
  CommandOutput out = run_command("cd " + dir_ + " && openssl " + args + " 2>&1");
  if (out.status == 0) return true;
  ADD_FAILURE() << "openssl " << args << " failed (" << out.status << "):\n" << out.text;
  return false;
}

bool TestCertificates::make_ca(const std::string& name, const std::string& subject) const {
  return openssl("req -x509 " + std::string(kNewKey) + " -keyout " + name + ".key -out " + name +
                 ".crt -days 2 -subj '" + subject +
                 "' -addext basicConstraints=critical,CA:TRUE"
                 " -addext keyUsage=critical,keyCertSign,cRLSign");
}

bool TestCertificates::make_signed(const std::string& name, const std::string& subject,
                                   const std::vector<std::string>& extensions) const {
  std::ofstream ext(file(name + ".ext"));
  ext << "basicConstraints=CA:FALSE\n";
  for (const std::string& e : extensions) ext << e << "\n";
  ext.close();
  return openssl("req -new " + std::string(kNewKey) + " -keyout " + name + ".key -out " + name +
                 ".csr -subj '" + subject + "'") &&
         openssl("x509 -req -in " + name +
                 ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
                 "-out " +
                 name + ".crt -extfile " + name + ".ext");
}

}  // namespace streamshift::testing
