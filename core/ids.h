// Request and event identifiers: random UUIDv4 text from a per-loop
// generator (no system call and no lock per id).
#pragma once

#include <cstdint>
#include <string>

namespace streamshift {

class IdGenerator {
 public:
  /// Seeded from the system's random source.
  IdGenerator();
  explicit IdGenerator(uint64_t seed) : state_(seed) {}

  /// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  std::string uuid4();
  uint64_t next();

 private:
  uint64_t state_;
};

}  // namespace streamshift
