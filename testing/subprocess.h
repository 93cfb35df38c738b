// Subprocess: runs a real binary for end-to-end tests. Its stdout comes back through a pipe
// (read line by line, blocking: no sleeping on the wall clock); stderr goes to a file.
//
//   Subprocess d({bin, "--listen", "127.0.0.1:0"}, dir.Sub("d.log"));
//   std::string ready = d.ReadLineContaining("ready");   // blocks until the server says so
//   d.Signal(SIGTERM);
//   int code = d.Wait();
#ifndef MW_TESTING_SUBPROCESS_H_
#define MW_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace mw::testing {

class Subprocess {
 public:
  // Starts argv[0] with the arguments; its stderr is appended to `stderr_path`.
  Subprocess(const std::vector<std::string>& argv, const std::string& stderr_path);
  // Kills the process (SIGKILL) if it still runs.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // The next stdout line containing `needle` (earlier lines are dropped); "" at end of output.
  std::string ReadLineContaining(const std::string& needle);
  void Signal(int sig);
  // Waits for exit: the exit code, or 128 + signal number.
  int Wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool exited_ = false;
  int code_ = 0;
};

struct CommandResult {
  int exit_code = 0;
  std::string out;  // stdout
  std::string err;  // stderr
};

// The value of "name=VALUE" among the space-separated words of a ready line
// ("mw-dispatcher ready grpc=127.0.0.1:4242 metrics=..."), or "" when absent.
std::string ReadyField(const std::string& ready_line, const std::string& name);

// Runs a command to completion and captures its output.
CommandResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

}  // namespace mw::testing

#endif  // MW_TESTING_SUBPROCESS_H_
