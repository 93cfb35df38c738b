// libvips inside engine/media: started once per process, and its errors read as one line.
// Internal to mw_media.
#ifndef MW_ENGINE_MEDIA_VIPS_H_
#define MW_ENGINE_MEDIA_VIPS_H_

#include <string>

namespace mw::media {

// Starts libvips once: no operation cache, one worker thread, untrusted loaders blocked.
void InitVips();
// libvips's pending error text on one line, cleared.
std::string VipsError();

}  // namespace mw::media

#endif  // MW_ENGINE_MEDIA_VIPS_H_
