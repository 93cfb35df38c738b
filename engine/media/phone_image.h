// Images sized for a cheap phone: what the agent serves on the centre's network instead of the
// original. Only the bytes served change; an answer's coordinates always refer to the original
// (Media.width and height), so the size served never changes an answer.
//
//   PhoneImageOptions phone{.long_side = 1024, .quality = 60};
//   absl::StatusOr<std::string> jpeg = PhoneImage(original, phone);
#ifndef MW_ENGINE_MEDIA_PHONE_IMAGE_H_
#define MW_ENGINE_MEDIA_PHONE_IMAGE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mw::media {

struct PhoneImageOptions {
  uint32_t long_side = 1024;  // pixels; an image already smaller is not enlarged
  uint32_t quality = 60;      // JPEG quality, 1-100
};

// The size an image of `width` x `height` is served at: scaled so its long side is at most
// `long_side`, keeping its shape (each side at least 1).
std::pair<uint32_t, uint32_t> PhoneSize(uint32_t width, uint32_t height, uint32_t long_side);

// `image` (any kind InspectMedia accepts) as a baseline JPEG of PhoneSize, turned upright by
// its EXIF orientation, with its metadata (camera, place) left out. INVALID_ARGUMENT when it
// cannot be read. Thread-safe.
[[nodiscard]] absl::StatusOr<std::string> PhoneImage(absl::string_view image,
                                                     const PhoneImageOptions& options);

}  // namespace mw::media

#endif  // MW_ENGINE_MEDIA_PHONE_IMAGE_H_
