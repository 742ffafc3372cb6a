// hiredis <-> libuv glue; see redis_uv_adapter.h.
#include "core/redis_uv_adapter.h"

namespace streamshift {
namespace {

struct Adapter {
  uv_poll_t poll;
  redisAsyncContext* ac;
  int events = 0;
};

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* a = static_cast<Adapter*>(handle->data);
  if (a->ac == nullptr) return;
  // On an error status let hiredis read and write: it then finds the
  // socket error itself, reports it and frees the context.
  if (status < 0) events = UV_READABLE | UV_WRITABLE;
  if ((events & UV_READABLE) && (a->events & UV_READABLE || status < 0))
    redisAsyncHandleRead(a->ac);
  if (a->ac != nullptr && (events & UV_WRITABLE) && (a->events & UV_WRITABLE || status < 0)) {
    redisAsyncHandleWrite(a->ac);
  }
  // libuv stops a poll handle that reported an error: restart it if the
  // context survived.
  if (status < 0 && a->ac != nullptr && a->events != 0) uv_poll_start(&a->poll, a->events, on_poll);
}

void update(Adapter* a) {
  if (a->events == 0)
    uv_poll_stop(&a->poll);
  else
    uv_poll_start(&a->poll, a->events, on_poll);
}

// hiredis asks for read or write interest to start or stop.
void set_interest(void* p, int flag, bool on) {
  auto* a = static_cast<Adapter*>(p);
  a->events = on ? (a->events | flag) : (a->events & ~flag);
  update(a);
}

void add_read(void* p) {
  set_interest(p, UV_READABLE, true);
}
void del_read(void* p) {
  set_interest(p, UV_READABLE, false);
}
void add_write(void* p) {
  set_interest(p, UV_WRITABLE, true);
}
void del_write(void* p) {
  set_interest(p, UV_WRITABLE, false);
}

void cleanup(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->ac = nullptr;
  a->events = 0;
  uv_poll_stop(&a->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&a->poll),
           [](uv_handle_t* h) { delete static_cast<Adapter*>(h->data); });
}

}  // namespace

int redis_uv_attach(uv_loop_t* loop, redisAsyncContext* ac) {
  if (ac->ev.data != nullptr) return UV_EBUSY;
  auto* a = new Adapter;
  a->ac = ac;
  int rc = uv_poll_init_socket(loop, &a->poll, ac->c.fd);
  if (rc != 0) {
    delete a;
    return rc;
  }
  a->poll.data = a;
  ac->ev.data = a;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return 0;
}

}  // namespace streamshift
