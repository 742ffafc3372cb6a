// RESP encoding into buffers; see resp_writer.h.
#include "core/resp_writer.h"

#include <charconv>

namespace streamshift {
namespace {

// "*<n>\r\n" or "$<n>\r\n".
size_t frame(char kind, size_t n, char* out) {
  out[0] = kind;
  char* end = std::to_chars(out + 1, out + 24, n).ptr;
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<size_t>(end + 2 - out);
}

}  // namespace

void RespWriter::copy(const char* data, size_t len) {
  if (len == 0) return;
  size_t offset = arena_.size();
  arena_.append(data, len);
  bytes_ += len;
  if (!segments_.empty() && segments_.back().borrowed == nullptr &&
      segments_.back().offset + segments_.back().len == offset) {
    segments_.back().len += len;
  } else {
    segments_.push_back(Segment{nullptr, offset, len});
  }
}

void RespWriter::reference(const char* data, size_t len) {
  if (len == 0) return;
  segments_.push_back(Segment{data, 0, len});
  bytes_ += len;
  borrowed_bytes_ += len;
}

void RespWriter::append(int argc, const char* const* argv, const size_t* lens, uint64_t borrowed) {
  char head[32];
  copy(head, frame('*', static_cast<size_t>(argc), head));
  for (int i = 0; i < argc; ++i) {
    copy(head, frame('$', lens[i], head));
    if (i < 64 && (borrowed >> i & 1) != 0) {
      reference(argv[i], lens[i]);
    } else {
      copy(argv[i], lens[i]);
    }
    copy("\r\n", 2);
  }
}

const std::vector<uv_buf_t>& RespWriter::buffers() {
  buffers_.clear();
  for (const Segment& s : segments_) {
    char* base = const_cast<char*>(s.borrowed != nullptr ? s.borrowed : arena_.data() + s.offset);
    buffers_.push_back(uv_buf_init(base, static_cast<unsigned>(s.len)));
  }
  return buffers_;
}

void RespWriter::clear() {
  arena_.clear();
  segments_.clear();
  buffers_.clear();
  bytes_ = 0;
  borrowed_bytes_ = 0;
}

}  // namespace streamshift
