#include "reactor/file_table.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reactor/reactor.hpp"

namespace corral::reactor {
namespace detail {

// One held descriptor: a taken slot, or a held ordinary fd.
struct FileEntry {
  std::uint64_t ticket = 0;   // 0: a free slot
  bool releasing = false;     // release() was called; the last operation in flight finishes it
  HeldOpLink* ops = nullptr;  // operations in flight on it
};

class FileTableState {
 public:
  Reactor* reactor = nullptr;
  unsigned capacity = 0;
  unsigned requested = 0;
  std::string description;
  std::vector<FileEntry> slots;                 // by slot index
  std::vector<unsigned> free_slots;             // a stack; the lowest slot on top
  std::unordered_map<int, FileEntry> ordinary;  // by fd
  std::size_t direct_taken = 0;

  ~FileTableState();

  // The entry `file` names if it is still held and not being released, else nullptr.
  FileEntry* find_live(const HeldFile& file) {
    FileEntry* entry = find_any(file);
    return entry != nullptr && !entry->releasing ? entry : nullptr;
  }

  FileEntry* find_any(const HeldFile& file) {
    if (file.ticket_ == 0) return nullptr;
    FileEntry* entry = nullptr;
    if (file.direct_) {
      if (file.descriptor_ < 0 || static_cast<std::size_t>(file.descriptor_) >= slots.size())
        return nullptr;
      entry = &slots[static_cast<std::size_t>(file.descriptor_)];
    } else {
      auto it = ordinary.find(file.descriptor_);
      if (it == ordinary.end()) return nullptr;
      entry = &it->second;
    }
    return entry->ticket == file.ticket_ ? entry : nullptr;
  }

  void link(HeldOpLink& link, Operation& op, FileEntry& entry) {
    link.op = &op;
    link.table = this;
    link.prev = nullptr;
    link.next = entry.ops;
    if (entry.ops != nullptr) entry.ops->prev = &link;
    entry.ops = &link;
  }

  // The operation has completed: unlink it, and finish a release that was waiting for it.
  void unlink(HeldOpLink& link) {
    FileEntry* entry = find_any(link.file);
    if (entry == nullptr) {
      std::fprintf(stderr, "corral reactor: FileTable lost the entry of an operation in flight\n");
      std::abort();
    }
    if (link.prev != nullptr) {
      link.prev->next = link.next;
    } else {
      entry->ops = link.next;
    }
    if (link.next != nullptr) link.next->prev = link.prev;
    link.prev = link.next = nullptr;
    link.table = nullptr;
    link.op = nullptr;
    if (entry->releasing && entry->ops == nullptr) give_back(link.file);
  }

  void release(const HeldFile& file) {
    FileEntry* entry = find_live(file);
    if (entry == nullptr) return;
    if (entry->ops == nullptr) return give_back(file);
    entry->releasing = true;
    // Cancels complete later (never inside cancel()), so the list is stable while we walk it.
    for (HeldOpLink* link = entry->ops; link != nullptr; link = link->next) {
      reactor->cancel(*link->op);
    }
  }

  // Empties the slot or closes the fd; nothing reads from it any more.
  void give_back(const HeldFile& file) {
    if (file.direct_) {
      const auto slot = static_cast<unsigned>(file.descriptor_);
      slots[slot] = FileEntry{};
      --direct_taken;
      int rc = reactor->set_direct_slot(slot, -1);
      if (rc < 0) {
        // The file is still in the slot: never hand the slot out again rather than let a new
        // hold() fail on it. Not expected (the slot exists and is ours).
        std::fprintf(stderr, "corral reactor: FileTable: emptying direct slot %u failed: %s\n",
                     slot, std::strerror(-rc));
        return;
      }
      free_slots.push_back(slot);
    } else {
      ordinary.erase(file.descriptor_);
      ::close(file.descriptor_);
    }
  }
};

}  // namespace detail

namespace {

// The table of the reactor owned by this thread (a reactor and its table share one thread).
thread_local detail::FileTableState* current_table = nullptr;

// IORING_MAX_FIXED_FILES: no ring takes a larger table, whatever RLIMIT_NOFILE says.
constexpr unsigned kKernelMaxSlots = 1u << 20;

// Tickets are unique across tables, so a HeldFile of another table never matches an entry.
std::atomic<std::uint64_t> next_ticket{1};

detail::FileTableState* table_of_current_reactor() {
  if (current_table == nullptr || current_table->reactor != Reactor::current()) return nullptr;
  return current_table;
}

// The soft RLIMIT_NOFILE, raised to the hard limit first when lower.
rlim_t raise_nofile_soft_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  }
  return limit.rlim_cur;
}

}  // namespace

detail::FileTableState::~FileTableState() {
  reactor->assert_owner("FileTable destruction");
  for (FileEntry& entry : slots) {
    if (entry.ops != nullptr) {
      std::fprintf(stderr, "corral reactor: FileTable destroyed with an operation in flight\n");
      std::abort();
    }
  }
  for (auto& [fd, entry] : ordinary) {
    if (entry.ops != nullptr) {
      std::fprintf(
          stderr, "corral reactor: FileTable destroyed with an operation in flight on fd %d\n", fd);
      std::abort();
    }
    ::close(fd);
  }
  if (capacity > 0 && reactor->unregister_direct_table() < 0) {
    // Unregistering drops every slot's file at once; failing that, empty them one by one.
    for (std::size_t slot = 0; slot < slots.size(); ++slot) {
      if (slots[slot].ticket != 0) reactor->set_direct_slot(static_cast<unsigned>(slot), -1);
    }
  }
  if (current_table == this) current_table = nullptr;
}

Result<FileTable> FileTable::open(unsigned capacity) {
  Reactor& reactor = Reactor::require_current();
  reactor.assert_owner("FileTable::open");
  if (table_of_current_reactor() != nullptr) return fail(errno_code(EBUSY));

  auto state = std::make_unique<detail::FileTableState>();
  state->reactor = &reactor;
  state->requested = capacity;
  const rlim_t soft_limit = raise_nofile_soft_limit();
  unsigned slots = capacity;
  std::string clamp;
  if (slots > kKernelMaxSlots) {
    slots = kKernelMaxSlots;
    clamp = ", clamped from " + std::to_string(capacity) + " to io_uring's maximum " +
            std::to_string(kKernelMaxSlots);
  }
  if (soft_limit < slots) {
    slots = static_cast<unsigned>(soft_limit);
    clamp = ", clamped from " + std::to_string(capacity) + " to the soft RLIMIT_NOFILE " +
            std::to_string(soft_limit) + " (io_uring refuses a larger table)";
  }

  if (slots > 0) {
    int rc = reactor.register_direct_table(slots);
    if (rc == -EBUSY) {
      // The ring already has a registered-file table that is not ours: sharing it would hand
      // out slots someone else uses.
      return fail(errno_code(EBUSY));
    }
    if (rc == -EOPNOTSUPP) {
      state->description = "no direct descriptors: the epoll backend has no registered-file " +
                           std::string("table; every held file is an ordinary fd");
      slots = 0;
    } else if (rc < 0) {
      state->description = "no direct descriptors: io_uring refused a registered-file table of " +
                           std::to_string(slots) + " slots: " + std::strerror(-rc) +
                           "; every held file is an ordinary fd";
      slots = 0;
    } else {
      state->description = "direct descriptors: " + std::to_string(slots) + " slots" + clamp;
    }
  } else {
    state->description = "no direct descriptors: a table of 0 slots" + clamp;
  }

  state->capacity = slots;
  state->slots.resize(slots);
  state->free_slots.reserve(slots);
  for (unsigned slot = slots; slot > 0; --slot) state->free_slots.push_back(slot - 1);
  current_table = state.get();
  return FileTable(std::move(state));
}

FileTable::FileTable(std::unique_ptr<detail::FileTableState> state) : state_(std::move(state)) {}
FileTable::FileTable(FileTable&&) noexcept = default;
FileTable& FileTable::operator=(FileTable&&) noexcept = default;
FileTable::~FileTable() = default;

Result<HeldFile> FileTable::hold(int fd) {
  detail::FileTableState& table = *state_;
  table.reactor->assert_owner("FileTable::hold");
  if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) return fail(errno_code(EBADF));
  // An fd this table already holds is still open; holding it twice would close it twice.
  if (table.ordinary.count(fd) != 0) return fail(errno_code(EEXIST));
  const std::uint64_t ticket = next_ticket.fetch_add(1, std::memory_order_relaxed);

  if (!table.free_slots.empty()) {
    const unsigned slot = table.free_slots.back();
    // The table takes its own reference to the file; a refusal (say, a file type io_uring
    // cannot register) leaves the fd with us, kept as an ordinary one below.
    if (table.reactor->set_direct_slot(slot, fd) == 0) {
      table.free_slots.pop_back();
      table.slots[slot].ticket = ticket;
      ++table.direct_taken;
      ::close(fd);
      return HeldFile(static_cast<int>(slot), true, ticket);
    }
  }

  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return fail(errno_code(errno));
  table.ordinary[fd].ticket = ticket;
  return HeldFile(fd, false, ticket);
}

void FileTable::release(const HeldFile& file) {
  state_->reactor->assert_owner("FileTable::release");
  state_->release(file);
}

unsigned FileTable::capacity() const {
  return state_->capacity;
}

unsigned FileTable::requested_capacity() const {
  return state_->requested;
}

std::size_t FileTable::direct_count() const {
  return state_->direct_taken;
}

std::size_t FileTable::ordinary_count() const {
  return state_->ordinary.size();
}

const std::string& FileTable::describe() const {
  return state_->description;
}

namespace detail {

bool held_file_is_live(const HeldFile& file) {
  FileTableState* table = table_of_current_reactor();
  return table != nullptr && table->find_live(file) != nullptr;
}

void link_held_op(HeldOpLink& link, Operation& op) {
  // await_ready found the entry just now, on this thread; nothing ran in between.
  FileTableState* table = table_of_current_reactor();
  table->link(link, op, *table->find_live(link.file));
}

void unlink_held_op(HeldOpLink& link) {
  link.table->unlink(link);
}

}  // namespace detail

namespace {

int duplicate_cloexec(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return copy >= 0 ? copy : -errno;
}

Result<int> to_installed_fd(const Operation& op, NoPayload&) {
  if (op.result < 0) return fail(errno_code(-op.result));
  return op.result;
}

}  // namespace

HeldOpAwaitable<Result<std::size_t>> read(const HeldFile& file, void* buffer, std::size_t length) {
  return {reactor::read(file.descriptor(), buffer, length), file};
}

HeldOpAwaitable<Result<unsigned>> poll(const HeldFile& file, unsigned events) {
  return {reactor::poll(file.descriptor(), events), file};
}

HeldOpAwaitable<Result<int>> install(const HeldFile& file) {
  Operation op;
  op.kind = OpKind::FixedFdInstall;
  op.fd = file.descriptor();
  return {OpAwaitable<Result<int>>(op, &to_installed_fd), file, &duplicate_cloexec};
}

}  // namespace corral::reactor
