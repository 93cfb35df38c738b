// The media files a contract's rows name, found on the operator's side: in a folder, in an
// archive (cli/media_archive.h) or at an http(s) URL fetched into a cache
// (cli/media_download.h). Each is named once, hashed (SHA-256) and sized, or marked unreadable
// with the reason, so the dispatcher quarantines the rows that name it instead of the whole
// contract failing.
//
//   MediaFiles files(download_options);
//   MW_RETURN_IF_ERROR(files.Add("/c/scans", "scans", "r12.jpg", "receipts"));  // each value
//   MW_RETURN_IF_ERROR(files.Hash());
//   MW_RETURN_IF_ERROR(files.Send(kChunk, header, chunk));
#ifndef MW_CLI_MEDIA_FILES_H_
#define MW_CLI_MEDIA_FILES_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "cli/media_download.h"
#include "microwork/v1/services.pb.h"

namespace mw::cli {

enum class MediaSource { kFolder, kArchive, kUrl };

struct LocalMedia {
  microwork::v1::MediaFile file;  // as sent to the dispatcher
  MediaSource source = MediaSource::kFolder;
  std::string path;    // where it is on this machine: in the folder, or fetched into the cache
  std::string folder;  // the media folder it must stay inside, or the archive it is in
  std::string shown;   // where it is relative to the contract (or its URL), for reasons
  // The name cannot be a file's (contract::MediaNameProblem): not sent; the dispatcher refuses
  // the rows naming it, with the same reason.
  bool bad_name = false;
};

class MediaFiles {
 public:
  explicit MediaFiles(DownloadOptions download = {}) : download_(std::move(download)) {}

  // Notes that a row names `name` in `folder` (a path on this machine: a folder, or an archive
  // when it is a file; `shown` is how reasons name it: relative to the contract). A `name` that
  // is an http(s) URL is fetched instead. A name that cannot be a relative path inside its
  // folder, nor a URL, is marked unreadable with the reason; the same name in two folders is
  // INVALID_ARGUMENT naming `input`, as the dispatcher knows files by name.
  [[nodiscard]] absl::Status Add(const std::string& folder, const std::string& shown,
                                 const std::string& name, const std::string& input);
  // Fetches the URLs not in the cache, then sizes and hashes every file named, reading each
  // archive once. A file that is missing, not a regular file, not readable, (through a link)
  // outside its folder, twice in its archive, or could not be fetched is marked unreadable,
  // with where it was looked for.
  [[nodiscard]] absl::Status Hash();

  // Calls `header` with every file (but those with a bad name) and, when it returns true,
  // `chunk` with the file's bytes at once after it, in pieces of at most `size` bytes, the last
  // flagged: the files on disk in the order they were named, then each archive's in its own
  // order (so an archive is read once). FAILED_PRECONDITION when a file changed since it was
  // hashed (its size; the dispatcher checks the hash).
  [[nodiscard]] absl::Status Send(
      size_t size, const std::function<bool(const LocalMedia&)>& header,
      const std::function<absl::Status(const LocalMedia&, std::string, bool)>& chunk) const;

  const std::vector<LocalMedia>& list() const { return list_; }
  uint64_t total_bytes() const;
  uint64_t unreadable() const;

 private:
  void HashOnDisk(LocalMedia& m, std::string& buf);
  // Hashes the files `names` (name -> list_ position) names in `archive`, read once.
  void HashInArchive(const std::string& archive, const std::map<std::string, size_t>& names);
  // Fetches every URL named, and notes where each was kept.
  void FetchUrls();

  DownloadOptions download_;
  std::map<std::string, size_t> index_;  // name -> list_ position
  std::map<std::string, std::string> input_of_;
  std::map<std::string, bool> is_archive_;    // folder -> whether it is an archive
  std::map<std::string, std::string> shown_;  // archive -> how the contract names it
  std::vector<LocalMedia> list_;
};

}  // namespace mw::cli

#endif  // MW_CLI_MEDIA_FILES_H_
