#include "testing/file_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace mw::testing {

DirectoryWatch::DirectoryWatch(const std::string& dir) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ >= 0) inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MODIFY | IN_MOVED_TO);
}

DirectoryWatch::~DirectoryWatch() {
  if (fd_ >= 0) close(fd_);
}

bool DirectoryWatch::WaitForChange(int timeout_ms) {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[4096];
  while (read(fd_, buf, sizeof buf) > 0) {
  }
  return true;
}

}  // namespace mw::testing
