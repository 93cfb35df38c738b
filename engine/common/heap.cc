#include "engine/common/heap.h"

#include <jemalloc/jemalloc.h>

// Read by jemalloc when the process starts, in every binary that links this file: two arenas
// (gRPC's many threads otherwise spread over eight on two cores, each keeping freed pages of
// its own), and freed pages returned after a second instead of ten. Measured (scale_bench, 10^6
// items): RSS 243 vs 287 MB at the same completion rate and export speed.
const char* malloc_conf = "narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0";

namespace mw {

bool ReturnFreedMemory() {
  bool on = true;
  return mallctl("background_thread", nullptr, nullptr, &on, sizeof(on)) == 0;
}

}  // namespace mw
