// The block cache's allocator: every block RocksDB reads into the cache (data, index and filter
// blocks) is held in whole pages of its own.
//
// Why: jemalloc keeps an allocation under 16 KB in a slab, a run of pages shared with others of
// its size class, and a slab's pages return to the system only once every allocation in it is
// freed. The cache frees its blocks in no order (evicted, or dropped with a table file a
// compaction deleted), so the slabs of the sizes it uses were left part-full, and the part left
// empty grew with time. In scale_bench --steady, jemalloc's 1,280-byte class went from 1.8 MB
// in use and 1.5 MB empty in its slabs in the second minute to 6.1 MB in use and 6.1 MB empty in
// the ninth; the heap's pages beyond what was allocated in them, 6 to 10 MB. With the cache's
// blocks in whole pages (a 4, 8, 12 or 16 KB size class: one allocation a slab, or pages of its
// own, freed as the block leaves) that class held no more than 0.1 MB, and the pages beyond what
// was allocated stayed at 3 to 4 MB from the first minute to the fifth.
//
// What a block costs in the cache is what it holds, rounding included (UsableSize), so the
// rounding is inside the cache's budget, not beside it.
#ifndef MW_ENGINE_STORAGE_PAGE_ALLOCATOR_H_
#define MW_ENGINE_STORAGE_PAGE_ALLOCATOR_H_

#include <rocksdb/memory_allocator.h>

#include <cstddef>
#include <memory>

namespace mw::storage {

// The size `size` bytes are allocated at: under 16 KB, the next multiple of 4 KB (sizes whose
// slabs hold one allocation each); from 16 KB up, `size` itself (allocations that have pages of
// their own already). Never 0.
size_t WholePages(size_t size);

std::shared_ptr<rocksdb::MemoryAllocator> NewPageAllocator();

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_PAGE_ALLOCATOR_H_
