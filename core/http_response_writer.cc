// A server connection's answers on their way out; see http_response_writer.h.
#include "core/http_response_writer.h"

#include "core/http_message.h"
#include "core/loop.h"

namespace streamshift {

ResponseWriter::~ResponseWriter() {
  for (WriteReq* w : spare_) delete w;
}

ResponseWriter::WriteReq* ResponseWriter::take_request() {
  if (spare_.empty()) return new WriteReq{{}, this, {}, {}};
  WriteReq* w = spare_.back();
  spare_.pop_back();
  return w;
}

void ResponseWriter::recycle(WriteReq* w) {
  w->body.clear();
  spare_.push_back(w);
}

int ResponseWriter::write_constant(std::string_view bytes) {
  uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), bytes.size());
  return send(take_request(), &buf, 1);
}

int ResponseWriter::write(Response& response, bool close_after) {
  WriteReq* w = take_request();
  w->head.clear();
  std::string_view reason =
      response.reason.empty() ? status_reason(response.status) : response.reason;
  serialize_response_head(w->head, response.status, reason, response.headers, response.content_type,
                          response.body.size(), response.bodiless, close_after,
                          response.extra_headers);
  w->body = std::move(response.body);
  uv_buf_t bufs[2];
  unsigned nbufs = 1;
  bufs[0] = uv_buf_init(w->head.data(), w->head.size());
  if (!response.bodiless && !w->body.empty()) {
    bufs[1] = uv_buf_init(w->body.data(), w->body.size());
    nbufs = 2;
  }
  return send(w, bufs, nbufs);
}

// Written now if nothing is queued before it and the socket takes it all;
// the rest is queued.
int ResponseWriter::send(WriteReq* w, uv_buf_t* bufs, unsigned nbufs) {
  int error = 0;
  if (queued_bytes() == 0 && try_write_all(stream_, bufs, nbufs, &error)) {
    recycle(w);
    return 0;
  }
  int rc = error != 0 ? error : uv_write(&w->req, stream_, bufs, nbufs, on_write);
  if (rc != 0) {
    recycle(w);
    return rc;
  }
  ++in_flight_;
  return 0;
}

void ResponseWriter::on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  ResponseWriter* self = w->writer;
  --self->in_flight_;
  self->recycle(w);
  self->on_written_(self->owner_, status);
}

}  // namespace streamshift
