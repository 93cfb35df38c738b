// Fetching the media files a contract names by http(s) URL, on the operator's side (libcurl),
// into a cache folder, so that they are hashed and sent like files on disk and a second run of
// the same command (after a lost reply) sends the same bytes and finds the same job.
//
//   DownloadOptions options{.cache_dir = DefaultMediaCache()};
//   std::vector<Downloaded> got = Download({"https://example.org/r1.jpg"}, options);
//   if (got[0].problem.empty()) ... read got[0].path
#ifndef MW_CLI_MEDIA_DOWNLOAD_H_
#define MW_CLI_MEDIA_DOWNLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mw::cli {

struct DownloadOptions {
  std::string cache_dir;              // created when missing
  uint64_t max_bytes = 32ull << 20;   // a larger body is refused, not kept
  int parallel = 8;                   // transfers at once
  long connect_timeout_seconds = 20;  // NOLINT(runtime/int): libcurl's type
  long stall_seconds = 60;            // NOLINT(runtime/int): abort below 1 KB/s this long
};

// One URL's outcome: the file it is kept in, or why it could not be fetched.
struct Downloaded {
  std::string path;
  std::string problem;  // "" when fetched (or found in the cache)
};

// Fetches every URL not yet in `options.cache_dir` (kept there under the SHA-256 of the URL),
// `options.parallel` at a time, following at most 5 redirects, over http and https only (a
// redirect elsewhere, to file: say, is refused). A body is written to a ".part" file and kept
// only when whole; an HTTP error, a body over `max_bytes`, a stalled or refused connection is
// that URL's problem, named with the status or libcurl's reason. One result per URL, in order.
std::vector<Downloaded> Download(const std::vector<std::string>& urls,
                                 const DownloadOptions& options);

// $XDG_CACHE_HOME/microwork/media, or ~/.cache/microwork/media, or one under the system's
// temporary folder when neither is known.
std::string DefaultMediaCache();

}  // namespace mw::cli

#endif  // MW_CLI_MEDIA_DOWNLOAD_H_
