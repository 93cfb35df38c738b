#include "worker-agent/media/media_cache.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"

namespace mw::agent {

namespace fs = std::filesystem;

namespace {

constexpr absl::string_view kPart = ".part";

// The SHA-256 of the file at `path`, hex; "" when it cannot be read.
std::string HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  Sha256Hasher h;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.Update(absl::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  return in.bad() ? "" : ToHex(h.Finish());
}

}  // namespace

MediaCache::MediaCache(Options options) : options_(std::move(options)) {}

std::string MediaCache::PathOf(const std::string& sha256) const {
  return absl::StrCat(options_.dir, "/", sha256);
}

std::string MediaCache::PartOf(const std::string& sha256) const {
  return absl::StrCat(PathOf(sha256), kPart);
}

absl::Status MediaCache::Open() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("media cache ", options_.dir, ": ", ec.message()));
  }
  absl::MutexLock l(&mu_);
  complete_.clear();
  sizes_.clear();
  bytes_ = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(options_.dir, ec)) {
    std::string name = e.path().filename().string();
    const bool part = absl::EndsWith(name, kPart);
    const std::string sha = part ? name.substr(0, name.size() - kPart.size()) : name;
    if (!e.is_regular_file() || !IsSha256Hex(sha)) {
      fs::remove_all(e.path(), ec);
      continue;
    }
    const uint64_t size = e.file_size(ec);
    if (ec) {
      fs::remove(e.path(), ec);
      continue;
    }
    if (!part) complete_.insert(sha);
    sizes_[name] = size;
    bytes_ += size;
  }
  return absl::OkStatus();
}

absl::Status MediaCache::Fetch(const microwork::v1::Media& media, const Fetcher& fetch) {
  const std::string& sha = media.sha256();
  if (!IsSha256Hex(sha)) {
    return absl::InvalidArgumentError(
        absl::StrCat("media \"", sha.substr(0, 64), "\": not a hash"));
  }
  const std::string part_name = absl::StrCat(sha, kPart);
  uint64_t have = 0;
  std::error_code ec;
  {
    absl::MutexLock l(&mu_);
    if (complete_.contains(sha)) return absl::OkStatus();
    // One fetch of a file at a time (the prefetch loop and a manager's page may both ask): a
    // second would append to the same partial file.
    if (in_flight_.contains(sha)) {
      return absl::UnavailableError(absl::StrCat("media ", sha, ": being fetched; try again"));
    }
    if (auto it = sizes_.find(part_name); it != sizes_.end()) {
      have = it->second;
      if (have > media.bytes()) {  // not a start of this file: start over
        fs::remove(PartOf(sha), ec);
        bytes_ -= have;
        sizes_.erase(it);
        have = 0;
      }
    }
    if (bytes_ - have + media.bytes() > options_.budget_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("media ", sha, ": ", media.bytes() - have, " more bytes would pass the ",
                       options_.budget_bytes, "-byte budget (", bytes_, " held)"));
    }
    in_flight_.insert(sha);
  }
  // Retain leaves the file alone until this returns.
  struct Landed {
    MediaCache* cache;
    const std::string& sha;
    ~Landed() {
      absl::MutexLock l(&cache->mu_);
      cache->in_flight_.erase(sha);
    }
  } landed{this, sha};
  std::ofstream out(PartOf(sha), std::ios::binary | std::ios::app);
  if (!out) return absl::FailedPreconditionError(absl::StrCat("cannot write ", PartOf(sha)));
  bool done = false;
  absl::Status failed;
  absl::Status s = fetch(media, have, [&](absl::string_view data, bool last) {
    if (have + data.size() > media.bytes()) {
      failed =
          absl::DataLossError(absl::StrCat("media ", sha, ": more bytes than its ", media.bytes()));
      return false;
    }
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      failed = absl::FailedPreconditionError(absl::StrCat("cannot write ", PartOf(sha)));
      return false;
    }
    have += data.size();
    {
      absl::MutexLock l(&mu_);
      sizes_[part_name] = have;
      bytes_ += data.size();
      fetched_ += data.size();
    }
    done = last;
    return !last;
  });
  out.close();
  if (!failed.ok()) s = failed;
  if (!s.ok() && !absl::IsDataLoss(s)) return s;  // what arrived stays, for the next try
  if (s.ok() && !done) {
    return absl::UnavailableError(absl::StrCat("media ", sha, ": the stream ended early"));
  }
  if (s.ok() && have == media.bytes() && HashFile(PartOf(sha)) == sha) {
    fs::rename(PartOf(sha), PathOf(sha), ec);
    if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot keep ", PathOf(sha)));
    absl::MutexLock l(&mu_);
    sizes_.erase(part_name);
    sizes_[sha] = have;
    complete_.insert(sha);
    return absl::OkStatus();
  }
  fs::remove(PartOf(sha), ec);
  {
    absl::MutexLock l(&mu_);
    bytes_ -= have;
    sizes_.erase(part_name);
  }
  return s.ok() ? absl::DataLossError(
                      absl::StrCat("media ", sha, ": the bytes fetched are not the file named"))
                : s;
}

bool MediaCache::Has(const std::string& sha256) const {
  absl::MutexLock l(&mu_);
  return complete_.contains(sha256);
}

uint64_t MediaCache::bytes() const {
  absl::MutexLock l(&mu_);
  return bytes_;
}

uint64_t MediaCache::fetched_bytes() const {
  absl::MutexLock l(&mu_);
  return fetched_;
}

void MediaCache::Retain(const absl::flat_hash_set<std::string>& keep) {
  absl::MutexLock l(&mu_);
  std::error_code ec;
  for (auto it = sizes_.begin(); it != sizes_.end();) {
    const std::string& name = it->first;
    const std::string sha =
        absl::EndsWith(name, kPart) ? name.substr(0, name.size() - kPart.size()) : name;
    if (keep.contains(sha) || in_flight_.contains(sha)) {
      ++it;
      continue;
    }
    fs::remove(absl::StrCat(options_.dir, "/", name), ec);
    bytes_ -= it->second;
    complete_.erase(sha);
    sizes_.erase(it++);
  }
}

}  // namespace mw::agent
