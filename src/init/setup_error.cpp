#include "init/setup_error.hpp"

#include <cctype>
#include <cstring>

namespace corral::init {

std::string errno_text(int errno_value) {
  std::string text = std::strerror(errno_value);
  // Only lower the first letter of a word: "Permission denied", not "ENOENT"-like acronyms.
  if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) &&
      std::islower(static_cast<unsigned char>(text[1])))
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Error setup_error(int errno_value, const std::string& step, std::string operation,
                  std::string path) {
  return Error(ErrorCode::SystemError, step + ": " + errno_text(errno_value),
               ErrorCause{errno_value, std::move(operation), std::move(path)});
}

Error setup_failure(std::string message, std::string path) {
  return Error(ErrorCode::SystemError, std::move(message), ErrorCause{0, {}, std::move(path)});
}

}  // namespace corral::init
