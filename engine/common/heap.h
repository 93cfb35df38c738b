// The heap: the project's programs (mw-dispatcher, mw-agent, mw and the benches) allocate with
// jemalloc, through the mw_heap library, not glibc's malloc (the tests keep the C library's,
// HeapTest's binary aside; a sanitized build and the fuzzers, their sanitizer's). Measured on the
// same store and binaries, glibc's malloc vs jemalloc preloaded in mw-dispatcher: `mw results
// export` 95,000 vs 143,000 rows/s, the per-answer export 286,000 vs 402,000 rows/s, the
// dispatcher's peak RSS 211 vs 145 MB. With glibc a server's resident set also climbed with work
// done while what it held stayed flat (per-thread arenas, RocksDB's memtable blocks leaving holes
// in the heap); jemalloc returns freed pages to the system after a decay (a quarter of a
// second, as heap.cc configures it, with two arenas).
//
// ReturnFreedMemory: call first thing in main, before any thread starts. It starts jemalloc's
// background threads, which return freed pages on time even while the process is idle (without
// them that happens only as a side effect of allocating).
#ifndef MW_ENGINE_COMMON_HEAP_H_
#define MW_ENGINE_COMMON_HEAP_H_

#include <cstdint>

namespace mw {

// False when the allocator refused, or is a sanitizer's (the process then runs with its
// defaults).
bool ReturnFreedMemory();

// jemalloc's own account of the heap, in bytes: what the program holds (allocated), the pages
// those allocations occupy (active), and the pages resident in all (resident: active, plus the
// freed pages not yet returned (dirty) and jemalloc's own metadata). All zero under a
// sanitizer's malloc.
struct HeapFigures {
  uint64_t allocated = 0;
  uint64_t active = 0;
  uint64_t resident = 0;
  uint64_t dirty = 0;
  uint64_t metadata = 0;
};
HeapFigures Heap();

// Writes jemalloc's full statistics (per arena and per size class: how full each class's slabs
// are) to `path`, as malloc_stats_print does. False when the file cannot be written, or under a
// sanitizer's malloc. For benches that look for what the heap's fragmentation is made of.
bool WriteHeapStats(const char* path);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_HEAP_H_
