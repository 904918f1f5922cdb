#pragma once
// HeldFile: the name of a descriptor held by a FileTable (see file_table.hpp): a direct slot of
// the ring's registered-file table, or an ordinary fd, plus the ticket of the hold it came from.
#include <cstdint>

namespace corral::reactor {

namespace detail {
class FileTableState;
}

class HeldFile {
 public:
  HeldFile() = default;  // names nothing; reads fail with EBADF, release ignores it

  bool valid() const { return ticket_ != 0; }
  // A slot of the ring's registered-file table, or else an ordinary fd.
  bool is_direct() const { return direct_; }
  // The slot index (direct) or the fd (ordinary).
  int descriptor() const { return descriptor_; }

  friend bool operator==(const HeldFile&, const HeldFile&) = default;

 private:
  friend class FileTable;
  friend class detail::FileTableState;
  HeldFile(int descriptor, bool direct, std::uint64_t ticket)
      : descriptor_(descriptor), direct_(direct), ticket_(ticket) {}

  int descriptor_ = -1;
  bool direct_ = false;
  std::uint64_t ticket_ = 0;
};

}  // namespace corral::reactor
