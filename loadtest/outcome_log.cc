// The per-request outcome log; see outcome_log.h.
#include "loadtest/outcome_log.h"

#include "loadtest/workload.h"

namespace streamshift {

OutcomeLog::~OutcomeLog() {
  close();
}

bool OutcomeLog::open(const std::string& path) {
  close();
  file_ = std::fopen(path.c_str(), "w");
  return file_ != nullptr;
}

void OutcomeLog::record(uint64_t seq, uint64_t intended_ns, int status, uint64_t sent_ns,
                        uint64_t done_ns) {
  if (file_ == nullptr) return;
  line_.clear();
  append_event_id(line_, seq, intended_ns);
  line_ += ' ';
  line_ += std::to_string(status);
  line_ += ' ';
  line_ += std::to_string(sent_ns);
  line_ += ' ';
  line_ += std::to_string(done_ns);
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

bool OutcomeLog::close() {
  if (file_ == nullptr) return true;
  bool ok = std::ferror(file_) == 0;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  return ok;
}

}  // namespace streamshift
