#include "init/exec_process.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "init/proc_files.hpp"
#include "init/setup_error.hpp"
#include "runtime/spec/protocol.hpp"

namespace corral::init {

namespace {

std::string quoted(const std::string& name) {
  return "exec: \"" + name + "\": ";
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<std::string, ExecFailure> find_executable(const std::string& args0,
                                                 const std::vector<std::string>& env) {
  if (args0.find('/') != std::string::npos) return args0;
  std::string path_var;
  for (const auto& entry : env)
    if (entry.rfind("PATH=", 0) == 0) path_var = entry.substr(5);  // the last one wins
  if (!path_var.empty() && !args0.empty()) {
    for (auto dir : split(path_var, ':')) {
      if (dir.empty()) dir = ".";
      std::string candidate = dir + "/" + args0;
      if (is_executable_file(candidate)) return candidate;
    }
  }
  return fail(ExecFailure{ENOENT, 127, quoted(args0) + "executable file not found in $PATH"});
}

ExecFailure describe_exec_failure(const std::string& args0, const std::string& path,
                                  int errno_value) {
  if (errno_value == ENOENT) {
    // The file is there but execve says ENOENT: its interpreter (#! or ELF loader) is missing.
    if (::access(path.c_str(), F_OK) == 0)
      return {errno_value, 126, quoted(args0) + "bad interpreter: no such file or directory"};
    return {errno_value, 127, quoted(args0) + "file does not exist"};
  }
  return {errno_value, 126, quoted(args0) + errno_text(errno_value)};
}

void exit_with_exec_failure(int pipe_fd, const std::string& args0, const ExecFailure& failure) {
  // The parent may be gone; a write to a closed pipe must not kill us before we report.
  ::signal(SIGPIPE, SIG_IGN);
  protocol::SyncMessage message{protocol::SyncType::ProcExecFailed, failure.errno_value, args0};
  (void)protocol::write_all(pipe_fd, protocol::encode(message));
  std::string line = failure.message + "\n";
  (void)protocol::write_all(STDERR_FILENO, line);
  ::_exit(failure.exit_code);
}

void exec_program(int pipe_fd, const std::string& path, const std::vector<std::string>& args,
                  const std::vector<std::string>& env) {
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  ::execve(path.c_str(), argv.data(), envp.data());
  int e = errno;
  exit_with_exec_failure(pipe_fd, args.empty() ? path : args[0],
                         describe_exec_failure(args.empty() ? path : args[0], path, e));
}

}  // namespace corral::init
