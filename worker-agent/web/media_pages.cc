// WebServer: the media of a worker's tasks, from the agent's disk. Images go out re-encoded for
// a phone (engine/media/phone_image.h); audio goes out as it is, and the browser asks for the
// ranges it needs. Only a file one of the worker's held tasks names is served: a hash alone
// opens nothing.
#include <spdlog/spdlog.h>

#include <fstream>

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
  // Named by its content: the same address never holds other bytes.
  c.res.set_header("Cache-Control", "private, max-age=86400, immutable");
  if (media->kind() == v1::MEDIA_IMAGE) {
    {
      absl::MutexLock l(&phone_mu_);
      for (const auto& [kept, jpeg] : phone_images_) {
        if (kept == sha) {
          c.res.set_content(jpeg, "image/jpeg");
          return;
        }
      }
    }
    std::optional<std::string> original = ReadFile(options_.media->PathOf(sha), media->bytes());
    absl::StatusOr<std::string> jpeg = original.has_value()
                                           ? media::PhoneImage(*original, options_.phone)
                                           : absl::DataLossError("cannot read it");
    if (!jpeg.ok()) {
      spdlog::error("event=media_serve_failed sha256={} error=\"{}\"", sha,
                    jpeg.status().ToString());
      c.res.status = 500;
      c.res.set_content("This file cannot be shown.", "text/plain; charset=utf-8");
      return;
    }
    c.res.set_content(*jpeg, "image/jpeg");
    absl::MutexLock l(&phone_mu_);
    phone_images_.emplace_back(sha, *std::move(jpeg));
    if (phone_images_.size() > kPhoneImagesKept) phone_images_.pop_front();
    return;
  }
  std::optional<std::string> audio = ReadFile(options_.media->PathOf(sha), media->bytes());
  if (!audio.has_value()) {
    c.res.status = 500;
    c.res.set_content("This file cannot be played.", "text/plain; charset=utf-8");
    return;
  }
  c.res.set_content(*std::move(audio), AudioType(media->format()));
}

}  // namespace mw::agent::web
