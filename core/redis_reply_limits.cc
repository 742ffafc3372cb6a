// Bounds on Redis replies; see redis_reply_limits.h.
#include "core/redis_reply_limits.h"

#include <hiredis/hiredis.h>

#include "core/log.h"

namespace streamshift {
namespace {

ReplyGuard* guard_of(const redisReadTask* task) {
  return static_cast<ReplyGuard*>(task->privdata);
}

// What an object costs in memory, roughly: its redisReply and payload.
constexpr size_t kObjectBytes = sizeof(redisReply);

void log_refusal(const std::string& why) {
  log_line(LogLevel::kWarn, "redis reply refused: dropping the connection", {{"reason", why}});
}

}  // namespace

void ReplyGuard::attach(redisReader* reader) {
  reader_ = reader;
  inner_ = *reader->fn;
  checked_ = inner_;
  checked_.createString = create_string;
  checked_.createArray = create_array;
  checked_.createInteger = create_integer;
  checked_.createNil = create_nil;
  reader->fn = &checked_;
  reader->privdata = this;
}

bool ReplyGuard::refuse(const std::string& why) {
  log_refusal(why);
  if (refusal_.empty()) refusal_ = why;
  return false;
}

bool ReplyGuard::charge(const redisReadTask* task, size_t bytes) {
  if (task->parent == nullptr) reply_bytes_ = 0;  // a new reply begins
  reply_bytes_ += bytes;
  if (reply_bytes_ <= limits_.max_reply_bytes) return true;
  return refuse("reply over " + std::to_string(limits_.max_reply_bytes) + " bytes");
}

void* ReplyGuard::create_string(const redisReadTask* task, char* str, size_t len) {
  ReplyGuard* g = guard_of(task);
  if (len > g->limits_.max_bulk_bytes) {
    g->refuse("string of " + std::to_string(len) + " bytes, over " +
              std::to_string(g->limits_.max_bulk_bytes));
    return nullptr;
  }
  if (!g->charge(task, kObjectBytes + len + 1)) return nullptr;
  return g->inner_.createString(task, str, len);
}

void* ReplyGuard::create_array(const redisReadTask* task, int elements) {
  ReplyGuard* g = guard_of(task);
  auto n = static_cast<size_t>(elements < 0 ? 0 : elements);
  if (n > g->limits_.max_array_elements) {
    g->refuse("array of " + std::to_string(n) + " elements, over " +
              std::to_string(g->limits_.max_array_elements));
    return nullptr;
  }
  if (!g->charge(task, kObjectBytes + n * sizeof(redisReply*))) return nullptr;
  return g->inner_.createArray(task, elements);
}

void* ReplyGuard::create_integer(const redisReadTask* task, long long value) {
  ReplyGuard* g = guard_of(task);
  if (!g->charge(task, kObjectBytes)) return nullptr;
  return g->inner_.createInteger(task, value);
}

void* ReplyGuard::create_nil(const redisReadTask* task) {
  ReplyGuard* g = guard_of(task);
  if (!g->charge(task, kObjectBytes)) return nullptr;
  return g->inner_.createNil(task);
}

std::string ReplyGuard::check_buffered() const {
  const redisReader* r = reader_;
  if (r == nullptr || r->err != 0 || r->buf == nullptr || r->pos > r->len) return {};
  size_t buffered = r->len - r->pos;
  // A bulk string whose type byte was read: its length comes next.
  if (r->ridx >= 0 && r->rstack[r->ridx].type == REDIS_REPLY_STRING) {
    unsigned long long declared = 0;
    for (size_t i = r->pos; i < r->len && r->buf[i] >= '0' && r->buf[i] <= '9'; ++i) {
      if (i - r->pos == 18) {  // 19 digits and more: over any bound
        declared = ~0ULL;
        break;
      }
      declared = declared * 10 + static_cast<unsigned long long>(r->buf[i] - '0');
    }
    if (declared > limits_.max_bulk_bytes) {
      std::string why = "bulk string of " + std::to_string(declared) + " bytes, over " +
                        std::to_string(limits_.max_bulk_bytes);
      log_refusal(why);
      return why;
    }
  }
  if (buffered > limits_.max_buffered_bytes()) {
    std::string why = std::to_string(buffered) + " bytes buffered for one reply element, over " +
                      std::to_string(limits_.max_buffered_bytes());
    log_refusal(why);
    return why;
  }
  return {};
}

}  // namespace streamshift
