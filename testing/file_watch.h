// Waiting for a directory to change, with inotify: tests wait on events, not the wall clock.
#ifndef MW_TESTING_FILE_WATCH_H_
#define MW_TESTING_FILE_WATCH_H_

#include <string>

namespace mw::testing {

class DirectoryWatch {
 public:
  // Watches `dir` (which must exist) for files created, written or moved in.
  explicit DirectoryWatch(const std::string& dir);
  ~DirectoryWatch();
  DirectoryWatch(const DirectoryWatch&) = delete;
  DirectoryWatch& operator=(const DirectoryWatch&) = delete;
  // Blocks until something changes (true) or `timeout_ms` passes with no change (false).
  bool WaitForChange(int timeout_ms);

 private:
  int fd_ = -1;
};

}  // namespace mw::testing

#endif  // MW_TESTING_FILE_WATCH_H_
