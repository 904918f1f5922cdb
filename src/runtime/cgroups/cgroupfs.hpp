#pragma once
// Blocking reads and writes of cgroupfs pseudo-files and directories. They are quick kernel calls;
// every failure is a corral::Error naming the path and errno.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/spec/error.hpp"

namespace corral::cgroups::fs {

std::string join(std::string_view dir, std::string_view name);
std::string parent_dir(std::string_view path);  // "/a/b" -> "/a"; "/a" -> "/"

Expected<std::string> read_file(const std::string& path);
// nullopt when the file does not exist (ENOENT), e.g. a controller file this kernel lacks.
Expected<std::optional<std::string>> read_file_if_exists(const std::string& path);
// Opens without O_CREAT (a cgroup file is made by the kernel, never by us), truncates, writes.
Expected<void> write_file(const std::string& path, std::string_view value);
bool exists(const std::string& path);

// The text without surrounding whitespace.
std::string_view trim(std::string_view text);
// A decimal unsigned value (surrounding whitespace allowed); `path` names it in the error.
Expected<std::uint64_t> parse_u64(std::string_view text, const std::string& path);
// The value of `key` in "key value" lines (memory.stat, memory.events, cpu.stat, cgroup.events).
std::optional<std::string_view> keyed_value(std::string_view text, std::string_view key);
// read_file + parse_u64; nullopt when the file does not exist.
Expected<std::optional<std::uint64_t>> read_u64_if_exists(const std::string& path);
// A keyed value of a file as a number; nullopt when the file or the key is absent.
Expected<std::optional<std::uint64_t>> read_keyed_u64_if_exists(const std::string& path,
                                                                std::string_view key);

// One pid per line (cgroup.procs).
Expected<std::vector<pid_t>> read_pids(const std::string& path);

// mkdir -p with mode 0755; existing directories are fine.
Expected<void> make_dirs(const std::string& path);

// rmdir of `dir` and every directory below it, deepest first (only directories: cgroupfs files go
// with their directory). A directory already gone counts as removed. No retry here: the caller
// decides, from the error's errno (EBUSY), whether to try again.
Expected<void> remove_dir_tree(const std::string& dir);

}  // namespace corral::cgroups::fs
