// RESP replies for unit tests; see resp.h.
#include "tests/core/resp.h"

#include <stdexcept>

namespace streamshift::resp {

Reply parse(const std::string& bytes) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, bytes.data(), bytes.size());
  void* reply = nullptr;
  int rc = redisReaderGetReply(reader, &reply);
  redisReaderFree(reader);
  if (rc != REDIS_OK || reply == nullptr)
    throw std::invalid_argument("not one complete RESP reply: " + bytes);
  return Reply(static_cast<redisReply*>(reply));
}

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

std::string integer(int64_t n) {
  return ":" + std::to_string(n) + "\r\n";
}

std::string status(std::string_view s) {
  return "+" + std::string(s) + "\r\n";
}

std::string error(std::string_view s) {
  return "-" + std::string(s) + "\r\n";
}

std::string nil() {
  return "$-1\r\n";
}

std::string nil_array() {
  return "*-1\r\n";
}

std::string array(const std::vector<std::string>& elements) {
  std::string out = "*" + std::to_string(elements.size()) + "\r\n";
  for (const std::string& e : elements) out += e;
  return out;
}

std::string bulks(const std::vector<std::string>& strings) {
  std::vector<std::string> elements;
  elements.reserve(strings.size());
  for (const std::string& s : strings) elements.push_back(bulk(s));
  return array(elements);
}

}  // namespace streamshift::resp
