#include "cli/media_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mw::cli {

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string Why(archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown error";
}

}  // namespace

bool IsArchive(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

absl::Status ReadArchive(
    const std::string& path, const std::string& shown,
    const std::function<bool(const ArchiveEntry&)>& want,
    const std::function<absl::Status(const ArchiveEntry&, absl::string_view)>& data) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  // Only the formats and filters named in the contract's documentation: no raw or ISO reader
  // that would take any file for an archive.
  archive_read_support_format_tar(a.get());
  archive_read_support_format_zip(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, ": cannot be read as a tar or zip archive (", Why(a.get()), ")"));
  }
  std::string buf(1 << 18, '\0');
  std::string last_name;
  for (;;) {
    archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) return absl::OkStatus();
    if (r < ARCHIVE_WARN) {
      return absl::InvalidArgumentError(absl::StrCat(
          shown, ": damaged", last_name.empty() ? "" : absl::StrCat(" after ", last_name), " (",
          Why(a.get()), ")"));
    }
    ArchiveEntry entry;
    const char* name = archive_entry_pathname_utf8(e);
    if (name == nullptr) name = archive_entry_pathname(e);
    entry.name = name != nullptr ? name : "";
    while (absl::StartsWith(entry.name, "./")) entry.name.erase(0, 2);
    entry.regular = archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == nullptr;
    entry.size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    last_name = entry.name;
    if (!want(entry)) continue;  // the next header skips its data
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(shown, ": damaged in ", entry.name, " (", Why(a.get()), ")"));
      }
      if (n == 0) break;
      if (absl::Status s = data(entry, absl::string_view(buf.data(), static_cast<size_t>(n)));
          !s.ok()) {
        return s;
      }
    }
  }
}

}  // namespace mw::cli
