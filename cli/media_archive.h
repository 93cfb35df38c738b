// Reading media files out of an archive the operator was given (libarchive): tar (plain, gzip,
// bzip2 or xz) and zip. Nothing is extracted to disk; entries are read in the archive's order,
// so a caller that wants several files reads the archive once for all of them.
//
//   MW_RETURN_IF_ERROR(ReadArchive("scans.tar.gz",
//       [&](const ArchiveEntry& e) { return e.regular && wanted.contains(e.name); },
//       [&](const ArchiveEntry& e, absl::string_view bytes) { ...; return absl::OkStatus(); }));
#ifndef MW_CLI_MEDIA_ARCHIVE_H_
#define MW_CLI_MEDIA_ARCHIVE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mw::cli {

struct ArchiveEntry {
  std::string name;      // as stored, without a leading "./"
  bool regular = false;  // a file, not a folder, link or device
  int64_t size = -1;     // from the entry's header; -1 when it gives none
};

// Calls `want` with every entry of the archive at `path` and, when it returns true, `data` with
// the entry's bytes in pieces (none for an empty file) before the next entry. INVALID_ARGUMENT
// naming `shown` and the entry reached when the file is not an archive of those kinds or is
// damaged; the first error `data` returns, as it is.
[[nodiscard]] absl::Status ReadArchive(
    const std::string& path, const std::string& shown,
    const std::function<bool(const ArchiveEntry&)>& want,
    const std::function<absl::Status(const ArchiveEntry&, absl::string_view)>& data);

// Whether `path` names an archive ReadArchive reads: a regular file (a folder is not).
bool IsArchive(const std::string& path);

}  // namespace mw::cli

#endif  // MW_CLI_MEDIA_ARCHIVE_H_
