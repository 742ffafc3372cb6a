// Bounds on what one Redis connection can make this process hold, whatever
// the peer sends (a broken server, a hostile one, a proxy gone wrong): past
// a bound the connection fails and reconnects, never the process.
//
// hiredis 0.14's reader has no bounds of its own: told "*2000000000" it
// callocs the element array and fills it for as long as elements come, and
// a bulk string is buffered whole, whatever its declared length, before it
// is handed over. The checks here sit where hiredis lets us in:
//
//   bytes read --> reader buffer --> object hooks (createArray/String/...) --> reply
//                        |                 |
//    after each read: check_buffered()     a root reply's cost, an array's length:
//    - a bulk string's declared length     refused (NULL: hiredis fails the
//    - bytes of one element buffered        reader, the connection drops)
//
// and, in RedisConnection, replies to timed-out commands still owed (a peer
// that stopped answering keeps the connection "up" forever otherwise).
// Every bound is a field here, with its default, so that the transport that
// replaces hiredis can carry them over as they are.
#pragma once

#include <hiredis/read.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace streamshift {

struct RedisReplyLimits {
  /// Elements of one array (XREADGROUP COUNT entries of a stream, an
  /// entry's fields and values, MGET keys): far above any real reply.
  size_t max_array_elements = size_t{1} << 20;
  /// One bulk string: the largest event body (64 MiB, the highest
  /// STREAMSHIFT_MAX_BODY_BYTES) with room to spare.
  size_t max_bulk_bytes = size_t{65} << 20;
  /// One whole reply, every string and array in it (a relay read of COUNT
  /// entries must fit: 100 entries of 1 MiB bodies take about 100 MiB).
  size_t max_reply_bytes = size_t{256} << 20;
  /// Replies still owed to commands that timed out; past this the
  /// connection is dropped (and the commands left on it fail).
  size_t max_late_replies = 256;
  /// How long past its deadline a reply may still be owed.
  uint64_t late_reply_grace_ms = 10000;
  /// Bytes of commands the kernel has not taken yet (a server that stopped
  /// reading): past this, new commands are refused kOverloaded.
  size_t max_queued_write_bytes = size_t{128} << 20;

  /// Bytes of one unfinished element the reader may buffer.
  size_t max_buffered_bytes() const { return max_bulk_bytes + (size_t{64} << 10); }
};

/// The bounds applied to one hiredis reader: its object functions wrapped
/// with the element and reply-size checks. One per connection; it must
/// outlive the reader.
class ReplyGuard {
 public:
  explicit ReplyGuard(const RedisReplyLimits& limits) : limits_(limits) {}
  ReplyGuard(const ReplyGuard&) = delete;
  ReplyGuard& operator=(const ReplyGuard&) = delete;

  /// Installs the checks on `reader` (uses its privdata).
  void attach(redisReader* reader);
  /// After bytes were fed: why the reply being read must be refused (its
  /// bulk string's declared length, or bytes buffered for one element, over
  /// the bounds; logged), or empty.
  std::string check_buffered() const;
  /// Why the object hooks refused a reply (hiredis then fails the reader
  /// with its "out of memory"), or "".
  const std::string& refusal() const { return refusal_; }

 private:
  static void* create_string(const redisReadTask* task, char* str, size_t len);
  static void* create_array(const redisReadTask* task, int elements);
  static void* create_integer(const redisReadTask* task, long long value);
  static void* create_nil(const redisReadTask* task);
  // Adds one object's cost to its root reply's; false (logged) past the bound.
  bool charge(const redisReadTask* task, size_t bytes);
  bool refuse(const std::string& why);

  RedisReplyLimits limits_;
  redisReader* reader_ = nullptr;
  redisReplyObjectFunctions inner_{};  // hiredis' own, which build the reply
  redisReplyObjectFunctions checked_{};
  size_t reply_bytes_ = 0;  // of the root reply being built
  std::string refusal_;
};

}  // namespace streamshift
