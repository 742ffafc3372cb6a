// hiredis <-> libuv glue; see redis_uv_adapter.h.
#include "core/redis_uv_adapter.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace streamshift {
namespace {

struct Adapter {
  explicit Adapter(const RedisReplyLimits& limits) : guard(limits) {}
  uv_poll_t poll;
  uv_prepare_t flush;
  redisAsyncContext* ac = nullptr;
  ReplyGuard guard;            // outlives the context's reader
  int events = 0;              // what the poll handle watches
  bool reading = false;        // hiredis wants read events
  bool write_pending = false;  // hiredis has output (or a connect) waiting
  int open_handles = 2;
};

void on_poll(uv_poll_t* handle, int status, int events);

void watch(Adapter* a, int events) {
  if (events == a->events) return;
  a->events = events;
  if (events == 0)
    uv_poll_stop(&a->poll);
  else
    uv_poll_start(&a->poll, events, on_poll);
}

int wanted_poll_events(const Adapter* a, bool writable) {
  return (a->reading ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
}

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* a = static_cast<Adapter*>(handle->data);
  if (a->ac == nullptr) return;
  // On an error status let hiredis read and write: it then finds the
  // socket error itself, reports it and frees the context.
  if (status < 0) events = UV_READABLE | UV_WRITABLE;
  if ((events & UV_READABLE) && (a->reading || status < 0)) {
    redisAsyncHandleRead(a->ac);
    if (a->ac != nullptr) {
      std::string why = a->guard.check_buffered();
      if (!why.empty()) redis_uv_fail(a->ac, why);
    }
  }
  if (a->ac != nullptr && (events & UV_WRITABLE) && (a->write_pending || status < 0)) {
    redisAsyncHandleWrite(a->ac);
  }
  if (a->ac == nullptr) return;
  if (status < 0) {
    // libuv stops a poll handle that reported an error: restart it if the
    // context survived.
    a->events = 0;
    watch(a, wanted_poll_events(a, a->write_pending));
  } else if (!a->write_pending && (a->events & UV_WRITABLE)) {
    watch(a, wanted_poll_events(a, false));
  }
}

// Once per loop turn, before the loop blocks: write what was queued.
void on_flush(uv_prepare_t* handle) {
  auto* a = static_cast<Adapter*>(handle->data);
  uv_prepare_stop(&a->flush);
  if (a->ac == nullptr || !a->write_pending) return;
  redisAsyncHandleWrite(a->ac);
  // Still pending: the socket buffer is full or the connect has not
  // completed. Wait for POLLOUT.
  if (a->ac != nullptr && a->write_pending) watch(a, wanted_poll_events(a, true));
}

void add_read(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->reading = true;
  watch(a, wanted_poll_events(a, a->events & UV_WRITABLE));
}
void del_read(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->reading = false;
  watch(a, wanted_poll_events(a, a->events & UV_WRITABLE));
}
void add_write(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->write_pending = true;
  if (!(a->events & UV_WRITABLE)) uv_prepare_start(&a->flush, on_flush);
}
void del_write(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->write_pending = false;
  uv_prepare_stop(&a->flush);
  // Leaving POLLOUT on costs one spurious wake-up at most; on_poll drops it.
}

void on_handle_closed(uv_handle_t* h) {
  auto* a = static_cast<Adapter*>(h->data);
  if (--a->open_handles == 0) delete a;
}

void cleanup(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->ac = nullptr;
  a->events = 0;
  a->write_pending = false;
  uv_poll_stop(&a->poll);
  uv_prepare_stop(&a->flush);
  uv_close(reinterpret_cast<uv_handle_t*>(&a->poll), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&a->flush), on_handle_closed);
}

}  // namespace

int redis_uv_attach(uv_loop_t* loop, redisAsyncContext* ac, const RedisReplyLimits& limits) {
  if (ac->ev.data != nullptr) return UV_EBUSY;
  auto* a = new Adapter(limits);
  a->ac = ac;
  int rc = uv_poll_init_socket(loop, &a->poll, ac->c.fd);
  if (rc != 0) {
    delete a;
    return rc;
  }
  uv_prepare_init(loop, &a->flush);
  a->poll.data = a;
  a->flush.data = a;
  ac->ev.data = a;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  a->guard.attach(ac->c.reader);
  return 0;
}

void redis_uv_fail(redisAsyncContext* ac, std::string_view why) {
  // hiredis drops a context whose redisContext carries an error at its
  // next read, through its own error path.
  redisContext* c = &ac->c;
  c->err = REDIS_ERR_PROTOCOL;
  size_t n = std::min(why.size(), sizeof c->errstr - 1);
  std::memcpy(c->errstr, why.data(), n);
  c->errstr[n] = '\0';
  redisAsyncHandleRead(ac);
}

}  // namespace streamshift
