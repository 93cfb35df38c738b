#include "cli/media_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "cli/media_archive.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/contract/validate.h"

namespace mw::cli {

namespace fs = std::filesystem;

absl::Status MediaFiles::Add(const std::string& folder, const std::string& shown,
                             const std::string& name, const std::string& input) {
  const bool url = contract::IsMediaUrl(name);
  const std::string path = url ? "" : (fs::path(folder) / name).string();
  if (auto it = index_.find(name); it != index_.end()) {
    if (url || list_[it->second].path == path) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", input, " names media file \"", name, "\" in ", folder, ", and input ",
        input_of_[name], " names one by that name in another folder: give them different names"));
  }
  index_[name] = list_.size();
  input_of_[name] = input;
  LocalMedia m;
  m.file.set_name(name);
  if (url) {
    m.source = MediaSource::kUrl;
    m.shown = name;
  } else {
    auto archive = is_archive_.find(folder);
    if (archive == is_archive_.end())
      archive = is_archive_.emplace(folder, IsArchive(folder)).first;
    if (archive->second) shown_[folder] = shown;
    m.source = archive->second ? MediaSource::kArchive : MediaSource::kFolder;
    m.path = path;
    m.folder = folder;
    m.shown = archive->second ? absl::StrCat(name, " in ", shown)
                              : (fs::path(shown) / name).lexically_normal().string();
  }
  if (std::string why = contract::MediaValueProblem(name); !why.empty()) {
    m.file.set_unreadable(absl::StrCat("the name ", why));
    m.bad_name = true;
  }
  list_.push_back(std::move(m));
  return absl::OkStatus();
}

absl::Status MediaFiles::Hash() {
  FetchUrls();
  std::string buf(1 << 20, '\0');
  std::map<std::string, std::map<std::string, size_t>> archives;  // archive -> name -> position
  for (size_t i = 0; i < list_.size(); ++i) {
    LocalMedia& m = list_[i];
    if (!m.file.unreadable().empty()) continue;
    if (m.source == MediaSource::kArchive) {
      archives[m.folder][m.file.name()] = i;
    } else {
      HashOnDisk(m, buf);
    }
  }
  for (const auto& [archive, names] : archives) HashInArchive(archive, names);
  return absl::OkStatus();
}

void MediaFiles::FetchUrls() {
  std::vector<std::string> urls;
  std::vector<size_t> at;
  for (size_t i = 0; i < list_.size(); ++i) {
    if (list_[i].source != MediaSource::kUrl || list_[i].bad_name) continue;
    urls.push_back(list_[i].file.name());
    at.push_back(i);
  }
  if (urls.empty()) return;
  std::vector<Downloaded> got = Download(urls, download_);
  for (size_t k = 0; k < at.size(); ++k) {
    LocalMedia& m = list_[at[k]];
    m.path = got[k].path;
    if (!got[k].problem.empty()) m.file.set_unreadable(got[k].problem);
  }
}

void MediaFiles::HashOnDisk(LocalMedia& m, std::string& buf) {
  std::error_code ec;
  const fs::file_status status = fs::status(m.path, ec);
  if (ec || !fs::is_regular_file(status)) {
    m.file.set_unreadable(
        absl::StrCat(ec || !fs::exists(status) ? "no such file" : "not a regular file",
                     " (looked for ", m.shown, ")"));
    return;
  }
  if (m.source == MediaSource::kFolder) {
    // A link may not lead out of the media folder (to the operator's own files).
    std::error_code real_ec, inside_ec;
    const fs::path real = fs::canonical(m.path, real_ec);
    const fs::path inside = fs::canonical(m.folder, inside_ec);
    const std::string real_s = real.string(), inside_s = inside.string() + "/";
    if (real_ec || inside_ec || real_s.compare(0, inside_s.size(), inside_s) != 0) {
      m.file.set_unreadable(
          absl::StrCat("leads out of the media folder through a link (", m.shown, ")"));
      return;
    }
    m.path = real_s;  // read and sent from where it was checked to be
  }
  std::ifstream in(m.path, std::ios::binary);
  if (!in) {
    m.file.set_unreadable(absl::StrCat("cannot be read (", m.shown, ")"));
    return;
  }
  Sha256Hasher h;
  uint64_t bytes = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const size_t n = static_cast<size_t>(in.gcount());
    h.Update(absl::string_view(buf.data(), n));
    bytes += n;
  }
  if (in.bad()) {
    m.file.set_unreadable(absl::StrCat("cannot be read (", m.shown, ")"));
    return;
  }
  m.file.set_sha256(ToHex(h.Finish()));
  m.file.set_bytes(bytes);
}

void MediaFiles::HashInArchive(const std::string& archive,
                               const std::map<std::string, size_t>& names) {
  std::set<std::string> seen;
  LocalMedia* current = nullptr;
  std::unique_ptr<Sha256Hasher> hasher;
  uint64_t bytes = 0;
  auto done = [&] {
    if (current == nullptr) return;
    current->file.set_sha256(ToHex(hasher->Finish()));
    current->file.set_bytes(bytes);
    current = nullptr;
  };
  auto want = [&](const ArchiveEntry& e) {
    done();
    auto it = names.find(e.name);
    if (it == names.end()) return false;
    LocalMedia& m = list_[it->second];
    if (!seen.insert(e.name).second) {  // tar keeps the last, zip the first: neither is sent
      m.file.clear_sha256();
      m.file.clear_bytes();
      m.file.set_unreadable(absl::StrCat("is in the archive twice (", m.shown, ")"));
      return false;
    }
    if (!e.regular) {
      m.file.set_unreadable(absl::StrCat("not a regular file (", m.shown, ")"));
      return false;
    }
    current = &m;
    hasher = std::make_unique<Sha256Hasher>();
    bytes = 0;
    return true;
  };
  auto data = [&](const ArchiveEntry&, absl::string_view piece) {
    hasher->Update(piece);
    bytes += piece.size();
    return absl::OkStatus();
  };
  absl::Status read = ReadArchive(archive, shown_.at(archive), want, data);
  if (read.ok()) done();
  // A file the reading stopped in, or never reached, is unreadable with the reason.
  if (current != nullptr) seen.erase(current->file.name());
  for (const auto& [name, i] : names) {
    LocalMedia& m = list_[i];
    if (seen.count(name) > 0 || !m.file.unreadable().empty()) continue;
    m.file.set_unreadable(read.ok() ? absl::StrCat("no such file (looked for ", m.shown, ")")
                                    : std::string(read.message()));
  }
}

uint64_t MediaFiles::total_bytes() const {
  uint64_t total = 0;
  for (const LocalMedia& m : list_) total += m.file.bytes();
  return total;
}

uint64_t MediaFiles::unreadable() const {
  uint64_t n = 0;
  for (const LocalMedia& m : list_) n += !m.file.unreadable().empty();
  return n;
}

absl::Status MediaFiles::Send(
    size_t size, const std::function<bool(const LocalMedia&)>& header,
    const std::function<absl::Status(const LocalMedia&, std::string, bool)>& chunk) const {
  std::map<std::string, std::map<std::string, const LocalMedia*>> archives;
  std::string buf(size, '\0');
  for (const LocalMedia& m : list_) {
    if (m.bad_name) continue;
    if (m.source == MediaSource::kArchive && m.file.unreadable().empty()) {
      archives[m.folder][m.file.name()] = &m;
      continue;
    }
    if (!header(m) || !m.file.unreadable().empty()) continue;
    std::ifstream in(m.path, std::ios::binary);
    if (!in) return absl::FailedPreconditionError(absl::StrCat(m.shown, ": cannot be read now"));
    uint64_t sent = 0;
    for (;;) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const size_t n = static_cast<size_t>(in.gcount());
      sent += n;
      if (sent > m.file.bytes() || (n == 0 && sent < m.file.bytes())) {
        return absl::FailedPreconditionError(
            absl::StrCat(m.shown, ": the file changed while it was being sent; submit again"));
      }
      const bool last = sent == m.file.bytes();
      MW_RETURN_IF_ERROR(chunk(m, buf.substr(0, n), last));
      if (last) break;
    }
  }
  for (const auto& [archive, names] : archives) {
    std::set<std::string> met;
    const LocalMedia* m = nullptr;  // the file whose bytes are being sent
    std::string pending;
    uint64_t sent = 0;
    absl::Status failed;
    auto changed = [](const LocalMedia& f) {
      return absl::FailedPreconditionError(
          absl::StrCat(f.shown, ": the file changed while it was being sent; submit again"));
    };
    auto want = [&](const ArchiveEntry& e) {
      if (m != nullptr && sent < m->file.bytes() && failed.ok()) failed = changed(*m);
      m = nullptr;
      auto it = names.find(e.name);
      if (!failed.ok() || it == names.end() || !met.insert(e.name).second) return false;
      if (!header(*it->second)) return false;
      if (it->second->file.bytes() == 0) {  // nothing to read: the one, empty, last piece
        failed = chunk(*it->second, "", true);
        return false;
      }
      m = it->second;
      sent = 0;
      pending.clear();
      return true;
    };
    auto data = [&](const ArchiveEntry&, absl::string_view piece) -> absl::Status {
      if (m == nullptr) return absl::OkStatus();
      if (piece.size() > m->file.bytes() - sent) return changed(*m);
      while (!piece.empty()) {
        const size_t take = std::min(piece.size(), size - pending.size());
        pending.append(piece.data(), take);
        piece.remove_prefix(take);
        sent += take;
        const bool last = sent == m->file.bytes();
        if (pending.size() == size || last) {
          MW_RETURN_IF_ERROR(chunk(*m, std::move(pending), last));
          pending.clear();
        }
      }
      return absl::OkStatus();
    };
    MW_RETURN_IF_ERROR(ReadArchive(archive, shown_.at(archive), want, data));
    if (m != nullptr && sent < m->file.bytes() && failed.ok()) failed = changed(*m);
    MW_RETURN_IF_ERROR(failed);
    for (const auto& [name, file] : names) {
      if (met.count(name) == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            file->shown, ": the archive changed while it was being sent; submit again"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace mw::cli
