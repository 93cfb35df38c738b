// MediaCache: the media files the centre's leases name, on the agent's disk, so work goes on
// through an outage. Files are fetched ahead of the workers in chunks, appended to NAME.part so
// a cut link resumes where it stopped, checked against their SHA-256 (their name) and only then
// renamed into place; the total stays within a disk budget; files no held assignment names are
// removed once every answer is acknowledged (Retain).
//
//   MediaCache cache({.dir = data_dir + "/media", .budget_bytes = 2ull << 30});
//   MW_RETURN_IF_ERROR(cache.Open());
//   MW_RETURN_IF_ERROR(cache.Fetch(media, fetch));  // fetch = the dispatcher's FetchMedia
//   if (cache.Has(sha)) serve(cache.PathOf(sha));
//
// Thread-safe: the prefetch loop fetches while the web pages read.
#ifndef MW_WORKER_AGENT_MEDIA_MEDIA_CACHE_H_
#define MW_WORKER_AGENT_MEDIA_MEDIA_CACHE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "microwork/v1/contract.pb.h"

namespace mw::agent {

class MediaCache {
 public:
  struct Options {
    std::string dir;
    uint64_t budget_bytes = 2ull << 30;  // complete and partial files together
  };
  // Streams the bytes of file `media` (its sha256 and fetch_token) from `offset` into `sink`
  // (which returns false to stop): the dispatcher's FetchMedia.
  using Sink = std::function<bool(absl::string_view data, bool last)>;
  using Fetcher = std::function<absl::Status(const microwork::v1::Media& media, uint64_t offset,
                                             const Sink& sink)>;

  explicit MediaCache(Options options);

  // Creates the folder and counts what is in it: complete files, and partial ones to resume.
  // Anything else there is removed.
  [[nodiscard]] absl::Status Open();

  // Fetches `media` (what a lease named) unless it is here: from the end of its partial file if
  // there is one. RESOURCE_EXHAUSTED (nothing fetched) when the rest would pass the budget;
  // DATA_LOSS when the bytes are not the ones named (the partial file is removed, so the next
  // try starts over); the fetcher's error otherwise, with what arrived kept for the next try;
  // UNAVAILABLE, fetching nothing, while another call fetches the same file.
  [[nodiscard]] absl::Status Fetch(const microwork::v1::Media& media, const Fetcher& fetch);

  bool Has(const std::string& sha256) const;
  // Where file `sha256` is (complete or not).
  std::string PathOf(const std::string& sha256) const;
  uint64_t bytes() const;  // on disk, complete and partial
  uint64_t budget() const { return options_.budget_bytes; }
  uint64_t fetched_bytes() const;  // fetched since Open

  // Removes every file, complete or partial, whose hash is not in `keep`, except the one being
  // fetched.
  void Retain(const absl::flat_hash_set<std::string>& keep);

 private:
  std::string PartOf(const std::string& sha256) const;

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> complete_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint64_t> sizes_ ABSL_GUARDED_BY(mu_);  // every file's size
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t fetched_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);  // hashes being fetched
};

}  // namespace mw::agent

#endif  // MW_WORKER_AGENT_MEDIA_MEDIA_CACHE_H_
