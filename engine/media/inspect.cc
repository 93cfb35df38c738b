#include "engine/media/inspect.h"

#include <sndfile.h>
#include <vips/vips.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "engine/media/vips.h"

namespace mw::media {
namespace {

namespace v1 = ::microwork::v1;

}  // namespace

// libvips, once per process: no operation cache (every file is decoded once), one worker
// thread (the dispatcher's core is shared), and no loader libvips marks untrusted.
void InitVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("microwork") != 0) vips_error_exit("cannot start libvips");
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    vips_block_untrusted_set(TRUE);
  });
}

namespace {

// The accepted image loaders, by libvips's class name, and the format each reads. Any other
// loader libvips has (ImageMagick's, SVG's, PDF's, ...) is never used.
struct Loader {
  const char* name;
  const char* format;
};
constexpr Loader kImageLoaders[] = {
    {"VipsForeignLoadJpegBuffer", "jpeg"}, {"VipsForeignLoadPngBuffer", "png"},
    {"VipsForeignLoadSpngBuffer", "png"},  {"VipsForeignLoadWebpBuffer", "webp"},
    {"VipsForeignLoadTiffBuffer", "tiff"}, {"VipsForeignLoadGifBuffer", "gif"},
    {"VipsForeignLoadNsgifBuffer", "gif"},
};

const Loader* AcceptedLoader(const char* name) {
  for (const Loader& l : kImageLoaders) {
    if (std::strcmp(l.name, name) == 0) return &l;
  }
  return nullptr;
}

}  // namespace

std::string VipsError() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return std::string(absl::StripAsciiWhitespace(text));
}

namespace {

absl::StatusOr<v1::Media> InspectImage(absl::string_view bytes, const Loader* found,
                                       const MediaLimits& limits) {
  // Lazy: only the header is read here.
  VipsImage* image =
      vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "access", VIPS_ACCESS_SEQUENTIAL,
                                 "fail_on", VIPS_FAIL_ON_TRUNCATED, nullptr);
  if (image == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", found->format, " image cannot be read (", VipsError(), ")"));
  }
  const uint64_t width = static_cast<uint64_t>(vips_image_get_width(image));
  const uint64_t height = static_cast<uint64_t>(vips_image_get_height(image));
  int orientation = 1;
  if (vips_image_get_typeof(image, VIPS_META_ORIENTATION) != 0 &&
      vips_image_get_int(image, VIPS_META_ORIENTATION, &orientation) != 0) {
    orientation = 1;
  }
  if (width * height > limits.max_pixels) {
    g_object_unref(image);
    return absl::InvalidArgumentError(
        absl::StrFormat("the image is %dx%d pixels, more than the %d pixels allowed", width, height,
                        limits.max_pixels));
  }
  // Decoding every pixel is what finds a truncated or damaged file.
  double average = 0;
  const int decoded = vips_avg(image, &average, nullptr);
  g_object_unref(image);
  if (decoded != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", found->format, " image is truncated or damaged (", VipsError(), ")"));
  }
  v1::Media media;
  media.set_kind(v1::MEDIA_IMAGE);
  media.set_format(found->format);
  media.set_bytes(bytes.size());
  // A camera that was turned says so in EXIF (orientation 5 to 8: a quarter turn); the phone's
  // rendition is turned upright (vips_thumbnail), and the sizes recorded are the upright
  // picture's, the one workers see and answers measure.
  const bool quarter_turn = orientation >= 5 && orientation <= 8;
  media.set_width(static_cast<uint32_t>(quarter_turn ? height : width));
  media.set_height(static_cast<uint32_t>(quarter_turn ? width : height));
  return media;
}

// libsndfile reads from memory through these.
struct Memory {
  absl::string_view bytes;
  sf_count_t at = 0;
};
sf_count_t Length(void* m) {
  return static_cast<sf_count_t>(static_cast<Memory*>(m)->bytes.size());
}
sf_count_t Seek(sf_count_t offset, int whence, void* m) {
  Memory* mem = static_cast<Memory*>(m);
  const sf_count_t size = static_cast<sf_count_t>(mem->bytes.size());
  sf_count_t to = whence == SEEK_SET   ? offset
                  : whence == SEEK_CUR ? mem->at + offset
                                       : size + offset;
  mem->at = std::clamp<sf_count_t>(to, 0, size);
  return mem->at;
}
sf_count_t Read(void* out, sf_count_t count, void* m) {
  Memory* mem = static_cast<Memory*>(m);
  const sf_count_t size = static_cast<sf_count_t>(mem->bytes.size());
  const sf_count_t n = std::clamp<sf_count_t>(size - mem->at, 0, std::max<sf_count_t>(count, 0));
  std::memcpy(out, mem->bytes.data() + mem->at, static_cast<size_t>(n));
  mem->at += n;
  return n;
}
sf_count_t Write(const void*, sf_count_t, void*) { return 0; }
sf_count_t Tell(void* m) { return static_cast<Memory*>(m)->at; }

const char* AudioFormat(int format) {
  switch (format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV:
      return "wav";
    case SF_FORMAT_FLAC:
      return "flac";
    case SF_FORMAT_OGG:
      return "ogg";
    case SF_FORMAT_MPEG:
      return "mp3";
    default:
      return nullptr;
  }
}

// nullopt when libsndfile does not take `bytes` for audio at all.
std::optional<absl::StatusOr<v1::Media>> InspectAudio(absl::string_view bytes,
                                                      const MediaLimits& limits) {
  Memory memory{bytes};
  SF_VIRTUAL_IO io{Length, Seek, Read, Write, Tell};
  SF_INFO info{};
  SNDFILE* file = sf_open_virtual(&io, SFM_READ, &info, &memory);
  if (file == nullptr) return std::nullopt;
  const char* format = AudioFormat(info.format);
  auto fail = [&](std::string why) {
    sf_close(file);
    return absl::InvalidArgumentError(std::move(why));
  };
  if (format == nullptr) {
    return fail(
        absl::StrFormat("the file is audio of a kind not accepted (libsndfile format "
                        "0x%x): expected WAV, FLAC, Ogg or MP3",
                        info.format & SF_FORMAT_TYPEMASK));
  }
  if (info.samplerate <= 0 || info.channels <= 0 || info.frames <= 0) {
    return fail(absl::StrCat("the ", format, " audio has no sound in it"));
  }
  const uint64_t ms = static_cast<uint64_t>(info.frames) * 1000 / info.samplerate;
  if (ms > limits.max_audio_ms) {
    return fail(absl::StrFormat("the audio lasts %d s, more than the %d s allowed", ms / 1000,
                                limits.max_audio_ms / 1000));
  }
  // A header that claims more than the file holds: libsndfile reads what is there and notes in
  // its log "data : 64000 (should be 31978)".
  char log[2048] = {};
  sf_command(file, SFC_GET_LOG_INFO, log, sizeof(log));
  if (std::strstr(log, "(should be ") != nullptr) {
    return fail(absl::StrCat("the ", format,
                             " audio is truncated: its header claims more "
                             "sound than the file holds"));
  }
  // Decoding every frame is what finds a damaged stream.
  std::vector<float> block(4096 * static_cast<size_t>(info.channels));
  sf_count_t read = 0;
  for (;;) {
    const sf_count_t n = sf_readf_float(file, block.data(), 4096);
    if (n <= 0) break;
    read += n;
  }
  if (sf_error(file) != SF_ERR_NO_ERROR || read != info.frames) {
    return fail(absl::StrFormat("the %s audio is truncated or damaged: %d of %d frames decode (%s)",
                                format, read, info.frames, sf_strerror(file)));
  }
  sf_close(file);
  v1::Media media;
  media.set_kind(v1::MEDIA_AUDIO);
  media.set_format(format);
  media.set_bytes(bytes.size());
  media.set_duration_ms(static_cast<uint32_t>(ms));
  return media;
}

}  // namespace

const char* MediaKindWord(v1::MediaKind kind) {
  switch (kind) {
    case v1::MEDIA_IMAGE:
      return "image";
    case v1::MEDIA_AUDIO:
      return "audio";
    default:
      return "media";
  }
}

absl::StatusOr<v1::Media> InspectMedia(absl::string_view bytes, const MediaLimits& limits) {
  if (bytes.size() > limits.max_file_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the file is %d bytes, more than the %d allowed", bytes.size(), limits.max_file_bytes));
  }
  if (bytes.empty()) return absl::InvalidArgumentError("the file is empty");
  InitVips();
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  vips_error_clear();
  if (loader != nullptr) {
    if (const Loader* accepted = AcceptedLoader(loader)) {
      return InspectImage(bytes, accepted, limits);
    }
  }
  if (auto audio = InspectAudio(bytes, limits)) return *std::move(audio);
  if (loader != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the file is of a kind not accepted (libvips would read it with ", loader,
                     "): expected JPEG, PNG, WebP, TIFF, GIF, WAV, FLAC, Ogg or MP3"));
  }
  return absl::InvalidArgumentError(
      "the file is neither an image nor audio that can be read: expected JPEG, PNG, WebP, TIFF, "
      "GIF, WAV, FLAC, Ogg or MP3");
}

}  // namespace mw::media
