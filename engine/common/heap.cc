#include "engine/common/heap.h"

#include <malloc.h>

namespace mw {

bool ReturnFreedMemory() {
  // A fixed threshold also turns off glibc's raising of it after large frees.
  const bool arenas = mallopt(M_ARENA_MAX, 2) == 1;
  const bool mapped = mallopt(M_MMAP_THRESHOLD, 256 * 1024) == 1;
  return arenas && mapped;
}

}  // namespace mw
