// A one-shot Redis session on its own loop; see dlq_session.h.
#include "relay/dlq_session.h"

#include <utility>

#include "core/redis_client_factory.h"

namespace streamshift {
namespace {

OwnedReply copy_reply(const redisReply* r) {
  OwnedReply v;
  if (r == nullptr) return v;
  v.type = r->type;
  if (r->str != nullptr) v.str.assign(r->str, r->len);
  v.integer = r->integer;
  for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(copy_reply(r->element[i]));
  return v;
}

}  // namespace

DlqSession::DlqSession(const RelaySettings& settings) : settings_(settings) {
  uv_loop_init(&loop_);
  uv_timer_init(&loop_, &deadline_);
  deadline_.data = this;
  redis_ = make_redis_client(&loop_, relay_redis_options(settings, "dlq"));
}

DlqSession::~DlqSession() {
  bool closed = false;
  redis_->shutdown([&closed] { closed = true; });
  redis_->close_now();
  while (!closed) uv_run(&loop_, UV_RUN_ONCE);
  redis_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

bool DlqSession::connect(uint64_t timeout_ms) {
  redis_->start();
  deadline_passed_ = false;
  uv_timer_start(
      &deadline_, [](uv_timer_t* t) { static_cast<DlqSession*>(t->data)->deadline_passed_ = true; },
      timeout_ms, 0);
  while (redis_->ready_connections() == 0 && !deadline_passed_) uv_run(&loop_, UV_RUN_ONCE);
  uv_timer_stop(&deadline_);
  return redis_->ready_connections() > 0;
}

std::string DlqSession::last_error() const {
  return redis_->last_error();
}

RedisAnswer DlqSession::call(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  struct Pending {
    bool done = false;
    RedisAnswer answer;
  } pending;
  redis_->command(
      static_cast<int>(argv.size()), argv.data(), lens.data(), settings_.redis_timeout_ms,
      [](void* data, const RedisResult& r) {
        auto* p = static_cast<Pending*>(data);
        p->done = true;
        p->answer.status = r.status;
        if (r.status == RedisStatus::kErrorReply)
          p->answer.error = std::string(r.error);
        else if (r.status != RedisStatus::kOk)
          p->answer.error = std::string(redis_status_name(r.status));
        if (r.status == RedisStatus::kOk) p->answer.value = copy_reply(r.reply);
      },
      &pending);
  while (!pending.done) uv_run(&loop_, UV_RUN_ONCE);
  return pending.answer;
}

}  // namespace streamshift
