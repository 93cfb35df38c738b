// A fresh directory per test, removed with everything in it when the object goes away.
#ifndef MW_TESTING_TEMP_DIR_H_
#define MW_TESTING_TEMP_DIR_H_

#include <string>

namespace mw::testing {

class TempDir {
 public:
  TempDir();   // under $TMPDIR (or /tmp), unique per call
  ~TempDir();  // removes the tree
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace mw::testing

#endif  // MW_TESTING_TEMP_DIR_H_
