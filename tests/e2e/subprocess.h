// subprocess: runs a program with arguments and captures its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace kiln::e2e {

struct ProcessResult {
  int exit_code = -1;  // -1 when it did not exit normally
  int signal = 0;      // the signal that ended it, if any
  bool timed_out = false;
  std::string out;
  std::string err;
};

// argv[0] is the program path. Kills the process after `timeout_seconds`.
ProcessResult run_process(const std::vector<std::string>& argv, int timeout_seconds = 120);

}  // namespace kiln::e2e
