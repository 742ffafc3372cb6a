// hiredis replies for unit tests, built from RESP text by hiredis's own
// reader, so a test's reply is exactly what the client would hand over.
//
//   resp::Reply r = resp::parse(resp::array({resp::bulk("name"), resp::integer(3)}));
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift::resp {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// One reply from `bytes` (which must hold exactly one).
Reply parse(const std::string& bytes);

std::string bulk(std::string_view s);
std::string integer(int64_t n);
std::string status(std::string_view s);
std::string error(std::string_view s);
std::string nil();        // $-1
std::string nil_array();  // *-1
/// An array of already encoded elements.
std::string array(const std::vector<std::string>& elements);
/// An array of bulk strings.
std::string bulks(const std::vector<std::string>& strings);

}  // namespace streamshift::resp
