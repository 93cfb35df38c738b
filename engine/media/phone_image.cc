#include "engine/media/phone_image.h"

#include <vips/vips.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/media/vips.h"

namespace mw::media {

std::pair<uint32_t, uint32_t> PhoneSize(uint32_t width, uint32_t height, uint32_t long_side) {
  const uint32_t longest = std::max(width, height);
  if (longest <= long_side || longest == 0) return {width, height};
  auto scaled = [&](uint32_t side) {
    return std::max<uint32_t>(
        1, static_cast<uint32_t>((uint64_t{side} * long_side + longest / 2) / longest));
  };
  return {scaled(width), scaled(height)};
}

absl::StatusOr<std::string> PhoneImage(absl::string_view image, const PhoneImageOptions& options) {
  InitVips();
  VipsImage* small = nullptr;
  // Shrink-on-load where the format allows it (JPEG decodes at 1/2, 1/4, 1/8): a 12-megapixel
  // photo never sits in memory whole.
  if (vips_thumbnail_buffer(const_cast<char*>(image.data()), image.size(), &small,
                            static_cast<int>(options.long_side), "height",
                            static_cast<int>(options.long_side), "size", VIPS_SIZE_DOWN,
                            nullptr) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the image cannot be sized for phones (", VipsError(), ")"));
  }
  void* buf = nullptr;
  size_t len = 0;
  const int rc = vips_jpegsave_buffer(small, &buf, &len, "Q", static_cast<int>(options.quality),
                                      "strip", TRUE, "optimize_coding", TRUE, nullptr);
  g_object_unref(small);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the image cannot be sized for phones (", VipsError(), ")"));
  }
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

}  // namespace mw::media
