#pragma once
// Reading the small JSON files the CLI is handed (exec --process, update -r) with a size cap, so
// that a wrong path (a device, a huge file) fails with a message instead of eating memory.
#include <istream>
#include <string>

#include "runtime/spec/error.hpp"

namespace corral::cli {

inline constexpr std::size_t kMaxInputFileSize = 4 * 1024 * 1024;

// Errors are SystemError naming the path and the cause.
Expected<std::string> read_text_file(const std::string& path);
Expected<std::string> read_stream(std::istream& in, const std::string& name);

}  // namespace corral::cli
