// Media inspection: what a file a contract's rows name really is, found by decoding it whole
// (images with libvips, audio with libsndfile), never by its name. The dispatcher runs it on
// every file a submission brings before any row that names the file becomes an item.
//
//   absl::StatusOr<v1::Media> media = InspectMedia(bytes, MediaLimits());
//   // INVALID_ARGUMENT: "the image is truncated or damaged (VipsJpeg: Premature end of JPEG
//   //                    file)"
#ifndef MW_ENGINE_MEDIA_INSPECT_H_
#define MW_ENGINE_MEDIA_INSPECT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "microwork/v1/contract.pb.h"

namespace mw::media {

// The installation's caps on one file (README, Limits).
struct MediaLimits {
  uint64_t max_file_bytes = 32 << 20;
  // An image's pixels, read from its header before anything is decoded: a small file that
  // claims a huge image (a decompression bomb) is refused unread.
  uint64_t max_pixels = 100'000'000;
  uint32_t max_audio_ms = 15 * 60 * 1000;
};

// What `bytes` are: a JPEG, PNG, WebP, TIFF or GIF image (its first page) or WAV, FLAC, Ogg or
// MP3 audio that decodes to the end, within `limits`. The result has every field but sha256.
// INVALID_ARGUMENT saying what is wrong (not a kind accepted, truncated or damaged, too large),
// with the decoder's own words where it gave some. An image's width and height are the upright
// picture's: swapped when its EXIF orientation is a quarter turn (5 to 8). Thread-safe.
[[nodiscard]] absl::StatusOr<microwork::v1::Media> InspectMedia(absl::string_view bytes,
                                                                const MediaLimits& limits);

// "image" or "audio", for messages.
const char* MediaKindWord(microwork::v1::MediaKind kind);

}  // namespace mw::media

#endif  // MW_ENGINE_MEDIA_INSPECT_H_
