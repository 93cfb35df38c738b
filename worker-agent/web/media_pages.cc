// WebServer: the media of a worker's tasks, from the agent's disk. Images go out re-encoded for
// a phone (engine/media/phone_image.h); audio goes out as it is, and the browser asks for the
// ranges it needs. Only a file one of the worker's held tasks names is served, or to a manager
// one a review open for the centre names: a hash alone opens nothing.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "worker-agent/web/page_parts.h"
#include "worker-agent/web/web_server.h"

namespace mw::agent::web {

namespace {

constexpr size_t kPhoneImagesKept = 32;

const char* AudioType(const std::string& format) {
  if (format == "wav") return "audio/wav";
  if (format == "flac") return "audio/flac";
  if (format == "ogg") return "audio/ogg";
  if (format == "mp3") return "audio/mpeg";
  return "application/octet-stream";
}

// The file at `path`, at most `max` bytes; nullopt when it cannot be read or is larger.
std::optional<std::string> ReadFile(const std::string& path, uint64_t max) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<uint64_t>(size) > max) return std::nullopt;
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  if (!in) return std::nullopt;
  return bytes;
}

}  // namespace

void WebServer::MediaFile(Call& c) {
  const std::string sha = c.req.matches.size() > 1 ? c.req.matches[1].str() : "";
  std::optional<v1::Media> media;
  for (const v1::CachedAssignment& a : state_->HeldBy(c.session.worker)) {
    for (const v1::Field& f : a.assignment().item().fields()) {
      if (f.has_media() && f.media().sha256() == sha) media = f.media();
    }
  }
  if (!media.has_value() || options_.media == nullptr || !options_.media->Has(sha)) {
    c.res.status = 404;
    c.res.set_content("Not one of your tasks' files.", "text/plain; charset=utf-8");
    return;
  }
  ServeMedia(c, *media);
}

void WebServer::ReviewMediaFile(Call& c) {
  const std::string sha = c.req.matches.size() > 1 ? c.req.matches[1].str() : "";
  std::optional<v1::Media> media;
  absl::StatusOr<v1::ListReviewsReply> list =
      hooks_.reviews ? hooks_.reviews() : absl::UnavailableError("no dispatcher");
  if (!list.ok()) {
    c.res.status = 503;
    c.res.set_content("The centre is offline: the reviews cannot be listed.",
                      "text/plain; charset=utf-8");
    return;
  }
  for (const v1::Review& r : list->reviews()) {
    for (const v1::Field& f : r.item().fields()) {
      if (f.has_media() && f.media().sha256() == sha) media = f.media();
    }
  }
  if (!media.has_value() || options_.media == nullptr) {
    c.res.status = 404;
    c.res.set_content("Not a file of a review open here.", "text/plain; charset=utf-8");
    return;
  }
  if (!options_.media->Has(sha)) {
    const absl::Status fetched =
        hooks_.fetch_media ? hooks_.fetch_media(*media) : absl::UnavailableError("no dispatcher");
    if (!fetched.ok() || !options_.media->Has(sha)) {
      spdlog::warn("event=review_media_fetch_failed sha256={} error=\"{}\"", sha,
                   fetched.ToString());
      c.res.status = 503;
      c.res.set_content("This file cannot be fetched now; try again.", "text/plain; charset=utf-8");
      return;
    }
  }
  ServeMedia(c, *media);
}

void WebServer::ServeMedia(Call& c, const v1::Media& in) {
  const std::string sha = in.sha256();
  const std::optional<v1::Media> media = in;
  // Named by its content, the bytes never change; but every use comes back through this check
  // (a phone shared by several workers keeps nothing another can reopen), cheaply: 304.
  const std::string etag = absl::StrCat("\"", sha, "\"");
  auto ok = [&] {
    c.res.set_header("Cache-Control", "private, no-cache");
    c.res.set_header("ETag", etag);
  };
  if (c.req.get_header_value("If-None-Match") == etag) {
    ok();
    c.res.status = 304;
    return;
  }
  const std::string path = options_.media->PathOf(sha);
  if (media->kind() != v1::MEDIA_IMAGE) {
    // Audio from the disk, only the ranges asked for (the player seeks).
    auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
    if (!*file) {
      c.res.status = 500;
      c.res.set_content("This file cannot be played.", "text/plain; charset=utf-8");
      return;
    }
    ok();
    c.res.set_content_provider(media->bytes(), AudioType(media->format()),
                               [file](size_t offset, size_t length, httplib::DataSink& sink) {
                                 std::string buf(std::min<size_t>(length, 64 * 1024), '\0');
                                 file->seekg(static_cast<std::streamoff>(offset));
                                 file->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                                 const size_t n = static_cast<size_t>(file->gcount());
                                 return n > 0 && sink.write(buf.data(), n);
                               });
    return;
  }
  std::string jpeg;
  {
    // One rendition at a time, each file once: a burst of requests for a 100-megapixel photo
    // costs one decode's memory, not one per request.
    absl::MutexLock l(&phone_mu_);
    for (const auto& [kept, bytes] : phone_images_) {
      if (kept == sha) jpeg = bytes;
    }
    if (jpeg.empty()) {
      std::optional<std::string> original = ReadFile(path, media->bytes());
      absl::StatusOr<std::string> made = original.has_value()
                                             ? media::PhoneImage(*original, options_.phone)
                                             : absl::DataLossError("cannot read it");
      if (!made.ok()) {
        spdlog::error("event=media_serve_failed sha256={} error=\"{}\"", sha,
                      made.status().ToString());
        c.res.status = 500;
        c.res.set_content("This file cannot be shown.", "text/plain; charset=utf-8");
        return;
      }
      jpeg = *std::move(made);
      phone_images_.emplace_back(sha, jpeg);
      if (phone_images_.size() > kPhoneImagesKept) phone_images_.pop_front();
    }
  }
  ok();
  c.res.set_content(jpeg, "image/jpeg");
}

}  // namespace mw::agent::web
