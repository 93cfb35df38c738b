// Media files made in memory for tests (libvips and libsndfile encode them): a test names the
// file it needs instead of shipping binaries.
#ifndef MW_ENGINE_MEDIA_TEST_MEDIA_H_
#define MW_ENGINE_MEDIA_TEST_MEDIA_H_

#include <string>

namespace mw::media {

// A `width`x`height` picture (a gradient, so it does not compress to nothing) in `format`:
// "jpeg", "png" or "webp".
std::string TestImage(int width, int height, const std::string& format = "jpeg",
                      int orientation = 1);
// `ms` of a 440 Hz tone, mono 16-bit PCM WAV at `rate` Hz.
std::string TestWav(int ms, int rate = 16000);

}  // namespace mw::media

#endif  // MW_ENGINE_MEDIA_TEST_MEDIA_H_
