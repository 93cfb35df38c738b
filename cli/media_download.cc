#include "cli/media_download.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"

namespace mw::cli {

namespace fs = std::filesystem;

namespace {

// One transfer in flight: the file it writes and how much it has written.
struct Transfer {
  size_t index = 0;
  std::string part;
  std::FILE* out = nullptr;
  uint64_t written = 0;
  uint64_t max_bytes = 0;
  bool too_large = false;
  bool write_failed = false;
  char error[CURL_ERROR_SIZE] = {0};
};

size_t Write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (bytes > t->max_bytes - t->written) {
    t->too_large = true;
    return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
  }
  if (std::fwrite(data, 1, bytes, t->out) != bytes) {
    t->write_failed = true;
    return 0;
  }
  t->written += bytes;
  return bytes;
}

void InitCurlOnce() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

}  // namespace

std::string DefaultMediaCache() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return (fs::path(xdg) / "microwork" / "media").string();
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return (fs::path(home) / ".cache" / "microwork" / "media").string();
  }
  std::error_code ec;
  return (fs::temp_directory_path(ec) / "microwork-media").string();
}

std::vector<Downloaded> Download(const std::vector<std::string>& urls,
                                 const DownloadOptions& options) {
  std::vector<Downloaded> result(urls.size());
  std::deque<size_t> queue;
  std::error_code ec;
  fs::create_directories(options.cache_dir, ec);
  for (size_t i = 0; i < urls.size(); ++i) {
    result[i].path = (fs::path(options.cache_dir) / ToHex(Sha256(urls[i]))).string();
    if (fs::is_regular_file(result[i].path, ec)) continue;  // fetched by an earlier run
    queue.push_back(i);
  }
  if (queue.empty()) return result;
  InitCurlOnce();
  CURLM* multi = curl_multi_init();
  std::map<CURL*, std::unique_ptr<Transfer>> running;

  auto start = [&](size_t i) {
    auto t = std::make_unique<Transfer>();
    t->index = i;
    t->part = result[i].path + ".part";
    t->max_bytes = options.max_bytes;
    t->out = std::fopen(t->part.c_str(), "wb");
    if (t->out == nullptr) {
      result[i].problem =
          absl::StrCat("cannot be kept in ", options.cache_dir, " (", std::strerror(errno), ")");
      return;
    }
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, urls[i].c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, options.stall_seconds);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "mw (microwork)");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, Write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
    curl_multi_add_handle(multi, easy);
    running[easy] = std::move(t);
  };
  auto finish = [&](CURL* easy, CURLcode code) {
    std::unique_ptr<Transfer> t = std::move(running[easy]);
    running.erase(easy);
    curl_multi_remove_handle(multi, easy);
    const bool closed = std::fclose(t->out) == 0;
    std::string& problem = result[t->index].problem;
    if (t->too_large || code == CURLE_FILESIZE_EXCEEDED) {
      problem = absl::StrCat("is larger than ", options.max_bytes, " bytes");
    } else if (code == CURLE_HTTP_RETURNED_ERROR) {
      long status = 0;  // NOLINT(runtime/int): libcurl's type
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      problem = absl::StrCat("the server answered HTTP ", status);
    } else if (code != CURLE_OK) {
      problem = absl::StrCat("could not be fetched (",
                             t->error[0] != '\0' ? t->error : curl_easy_strerror(code), ")");
    } else if (t->write_failed || !closed) {
      problem = absl::StrCat("cannot be kept in ", options.cache_dir);
    }
    std::error_code rename_ec;
    if (problem.empty()) fs::rename(t->part, result[t->index].path, rename_ec);
    if (!problem.empty() || rename_ec) {
      if (problem.empty()) problem = absl::StrCat("cannot be kept in ", options.cache_dir);
      fs::remove(t->part, rename_ec);
    }
    curl_easy_cleanup(easy);
  };

  const size_t parallel = static_cast<size_t>(std::max(1, options.parallel));
  while (!queue.empty() || !running.empty()) {
    while (!queue.empty() && running.size() < parallel) {
      start(queue.front());
      queue.pop_front();
    }
    int still = 0;
    curl_multi_perform(multi, &still);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE) finish(msg->easy_handle, msg->data.result);
    }
    if (!running.empty()) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  curl_multi_cleanup(multi);
  return result;
}

}  // namespace mw::cli
