// Bearer-token checks of the admin listener; see admin_auth.h.
#include "core/admin_auth.h"

#include <algorithm>

#include "core/http_message.h"
#include "core/json.h"

namespace streamshift {

bool constant_time_equals(std::string_view a, std::string_view b) {
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool admin_authorized(Exchange& exchange, std::string_view token, std::string_view off_because) {
  if (token.empty()) {
    exchange.respond_json(403, json_error_body("forbidden", off_because));
    return false;
  }
  std::string_view given = exchange.request().headers.find("authorization").value_or("");
  bool bearer = given.size() > 7 && iequals(given.substr(0, 7), "bearer ");
  if (!bearer || !constant_time_equals(given.substr(7), token)) {
    exchange.respond_json(401, json_error_body("unauthorized", "a valid bearer token is required"),
                          "WWW-Authenticate: Bearer realm=\"streamshift\"\r\n");
    return false;
  }
  return true;
}

}  // namespace streamshift
