#include "engine/media/test_media.h"

#include <sndfile.h>
#include <vips/vips.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace mw::media {

std::string TestImage(int width, int height, const std::string& format, int orientation) {
  if (VIPS_INIT("microwork-test") != 0) std::abort();
  VipsImage* image = nullptr;
  if (vips_xyz(&image, width, height, nullptr) != 0) std::abort();
  VipsImage* band = nullptr;
  if (vips_extract_band(image, &band, 0, nullptr) != 0) std::abort();
  g_object_unref(image);
  VipsImage* pixels = nullptr;
  if (vips_cast_uchar(band, &pixels, nullptr) != 0) std::abort();
  g_object_unref(band);
  if (orientation != 1) vips_image_set_int(pixels, VIPS_META_ORIENTATION, orientation);
  void* buf = nullptr;
  size_t len = 0;
  int rc = format == "png"    ? vips_pngsave_buffer(pixels, &buf, &len, nullptr)
           : format == "webp" ? vips_webpsave_buffer(pixels, &buf, &len, nullptr)
                              : vips_jpegsave_buffer(pixels, &buf, &len, nullptr);
  g_object_unref(pixels);
  if (rc != 0) std::abort();
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

namespace {
struct Sink {
  std::string bytes;
  sf_count_t at = 0;
};
sf_count_t Length(void* s) { return static_cast<sf_count_t>(static_cast<Sink*>(s)->bytes.size()); }
sf_count_t Seek(sf_count_t offset, int whence, void* s) {
  Sink* sink = static_cast<Sink*>(s);
  sink->at = whence == SEEK_SET   ? offset
             : whence == SEEK_CUR ? sink->at + offset
                                  : static_cast<sf_count_t>(sink->bytes.size()) + offset;
  return sink->at;
}
sf_count_t Read(void* out, sf_count_t count, void* s) {
  Sink* sink = static_cast<Sink*>(s);
  const sf_count_t left = static_cast<sf_count_t>(sink->bytes.size()) - sink->at;
  const sf_count_t n = count < left ? count : left;
  if (n <= 0) return 0;
  std::memcpy(out, sink->bytes.data() + sink->at, static_cast<size_t>(n));
  sink->at += n;
  return n;
}
sf_count_t Write(const void* data, sf_count_t count, void* s) {
  Sink* sink = static_cast<Sink*>(s);
  const size_t end = static_cast<size_t>(sink->at + count);
  if (sink->bytes.size() < end) sink->bytes.resize(end);
  std::memcpy(sink->bytes.data() + sink->at, data, static_cast<size_t>(count));
  sink->at += count;
  return count;
}
sf_count_t Tell(void* s) { return static_cast<Sink*>(s)->at; }
}  // namespace

std::string TestWav(int ms, int rate) {
  Sink sink;
  SF_VIRTUAL_IO io{Length, Seek, Read, Write, Tell};
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* file = sf_open_virtual(&io, SFM_WRITE, &info, &sink);
  if (file == nullptr) std::abort();
  std::vector<short> samples(static_cast<size_t>(rate) * ms / 1000);
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<short>(8000 * std::sin(2 * M_PI * 440 * i / rate));
  }
  sf_writef_short(file, samples.data(), static_cast<sf_count_t>(samples.size()));
  sf_close(file);
  return sink.bytes;
}

}  // namespace mw::media
