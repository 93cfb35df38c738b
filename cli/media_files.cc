#include "cli/media_files.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"
#include "engine/contract/validate.h"

namespace mw::cli {

namespace fs = std::filesystem;

absl::Status MediaFiles::Add(const std::string& folder, const std::string& shown,
                             const std::string& name, const std::string& input) {
  const std::string path = (fs::path(folder) / name).string();
  if (auto it = index_.find(name); it != index_.end()) {
    if (list_[it->second].path == path) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", input, " names media file \"", name, "\" in ", folder, ", and input ",
        input_of_[name], " names one by that name in another folder: give them different names"));
  }
  index_[name] = list_.size();
  input_of_[name] = input;
  LocalMedia m;
  m.file.set_name(name);
  m.path = path;
  m.folder = folder;
  m.shown = (fs::path(shown) / name).lexically_normal().string();
  if (std::string why = contract::MediaNameProblem(name); !why.empty()) {
    m.file.set_unreadable(absl::StrCat("the name ", why));
    m.bad_name = true;
  }
  list_.push_back(std::move(m));
  return absl::OkStatus();
}

absl::Status MediaFiles::Hash() {
  std::string buf(1 << 20, '\0');
  for (LocalMedia& m : list_) {
    if (!m.file.unreadable().empty()) continue;
    std::error_code ec;
    const fs::file_status status = fs::status(m.path, ec);
    if (ec || !fs::is_regular_file(status)) {
      m.file.set_unreadable(
          absl::StrCat(ec || !fs::exists(status) ? "no such file" : "not a regular file",
                       " (looked for ", m.shown, ")"));
      continue;
    }
    // A link may not lead out of the media folder (to the operator's own files).
    std::error_code real_ec, inside_ec;
    const fs::path real = fs::canonical(m.path, real_ec);
    const fs::path inside = fs::canonical(m.folder, inside_ec);
    const std::string real_s = real.string(), inside_s = inside.string() + "/";
    if (real_ec || inside_ec || real_s.compare(0, inside_s.size(), inside_s) != 0) {
      m.file.set_unreadable(
          absl::StrCat("leads out of the media folder through a link (", m.shown, ")"));
      continue;
    }
    m.path = real_s;  // read and sent from where it was checked to be
    std::ifstream in(m.path, std::ios::binary);
    if (!in) {
      m.file.set_unreadable(absl::StrCat("cannot be read (", m.shown, ")"));
      continue;
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
      continue;
    }
    m.file.set_sha256(ToHex(h.Finish()));
    m.file.set_bytes(bytes);
  }
  return absl::OkStatus();
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

absl::Status MediaFiles::ForEachChunk(const LocalMedia& m, size_t size,
                                      const std::function<absl::Status(std::string, bool)>& chunk) {
  std::ifstream in(m.path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat(m.path, ": cannot be read now"));
  std::string buf(size, '\0');
  uint64_t sent = 0;
  for (;;) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const size_t n = static_cast<size_t>(in.gcount());
    sent += n;
    if (sent > m.file.bytes()) break;
    const bool last = sent == m.file.bytes();
    if (absl::Status s = chunk(buf.substr(0, n), last); !s.ok()) return s;
    if (last) return absl::OkStatus();
    if (n == 0) break;
  }
  return absl::FailedPreconditionError(
      absl::StrCat(m.path, ": the file changed while it was being sent; submit again"));
}

}  // namespace mw::cli
