// libFuzzer target: media inspection (engine/media/inspect.h), the path every file a contract
// brings takes before anything trusts it. Whatever the bytes, it answers a Media or
// INVALID_ARGUMENT, and a Media it answers is within the caps.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/media/inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mw::media::MediaLimits limits;
  limits.max_pixels = 4'000'000;  // keeps each run short; the check itself is what is tested
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<microwork::v1::Media> media = mw::media::InspectMedia(bytes, limits);
  if (!media.ok()) {
    if (media.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (media->bytes() != size) std::abort();
  if (media->kind() == microwork::v1::MEDIA_IMAGE &&
      uint64_t{media->width()} * media->height() > limits.max_pixels) {
    std::abort();
  }
  if (media->kind() == microwork::v1::MEDIA_AUDIO && media->duration_ms() > limits.max_audio_ms) {
    std::abort();
  }
  return 0;
}
