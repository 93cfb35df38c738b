// The media files a contract's rows name, found on the operator's disk: each named once, hashed
// (SHA-256) and sized, or marked unreadable with the reason, so the dispatcher quarantines the
// rows that name it instead of the whole contract failing.
//
//   MediaFiles files;
//   MW_RETURN_IF_ERROR(files.Add("scans", "r12.jpg", "receipts"));  // for each row's value
//   MW_RETURN_IF_ERROR(files.Hash());
//   for (const LocalMedia& m : files.list()) ...
#ifndef MW_CLI_MEDIA_FILES_H_
#define MW_CLI_MEDIA_FILES_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "microwork/v1/services.pb.h"

namespace mw::cli {

struct LocalMedia {
  microwork::v1::MediaFile file;  // as sent to the dispatcher
  std::string path;               // where it is on this machine
  std::string folder;             // the media folder it must stay inside
  std::string shown;              // its path relative to the contract, for reasons
  // The name cannot be a file's (contract::MediaNameProblem): not sent; the dispatcher refuses
  // the rows naming it, with the same reason.
  bool bad_name = false;
};

class MediaFiles {
 public:
  // Notes that a row names `name` in `folder` (a path on this machine; `shown` is how reasons
  // name it: relative to the contract). A name that cannot be a relative path inside its folder
  // is marked unreadable with the reason; the same name in two folders is INVALID_ARGUMENT
  // naming `input`, as the dispatcher knows files by name.
  [[nodiscard]] absl::Status Add(const std::string& folder, const std::string& shown,
                                 const std::string& name, const std::string& input);
  // Sizes and hashes every file named. A file that is missing, not a regular file, not
  // readable, or (through a link) outside its folder is marked unreadable, with where it was
  // looked for.
  [[nodiscard]] absl::Status Hash();

  const std::vector<LocalMedia>& list() const { return list_; }
  uint64_t total_bytes() const;
  uint64_t unreadable() const;

  // Calls `chunk` with every piece of `m`'s file, of at most `size` bytes, the last flagged.
  // FAILED_PRECONDITION when the file changed since it was hashed (size).
  [[nodiscard]] static absl::Status ForEachChunk(
      const LocalMedia& m, size_t size,
      const std::function<absl::Status(std::string, bool)>& chunk);

 private:
  std::map<std::string, size_t> index_;  // name -> list_ position
  std::map<std::string, std::string> input_of_;
  std::vector<LocalMedia> list_;
};

}  // namespace mw::cli

#endif  // MW_CLI_MEDIA_FILES_H_
