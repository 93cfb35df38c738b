// The allocator of the blocks RocksDB's table readers read (data, index and filter blocks; those
// the block cache keeps, and those a compaction reads and drops): each is held in whole pages.
// What the cache keeps beside a block's bytes (its entry's handle, the parsed block) is allocated
// as usual.
//
// Why: jemalloc keeps an allocation under 16 KB in a slab, a run of pages shared with others of
// its size class, and a slab's pages return to the system only once every allocation in it is
// freed. The cache frees its blocks in no order (evicted, or dropped with a table file a
// compaction deleted), so the slabs of the sizes it uses were left part-full, and the part left
// empty grew with time. In scale_bench --steady, jemalloc's 1,280-byte class went from 1.8 MB
// in use and 1.5 MB empty in its slabs in the second minute to 6.1 MB in use and 6.1 MB empty in
// the ninth. A block in whole pages (a 4, 8 or 12 KB size class, whose slabs hold one allocation
// each, or 16 KB and up, pages of its own) gives its pages back as it leaves. The heap's pages
// beyond what is allocated in them, minute means of scale_bench --steady: 4 MB in the second
// minute and 6 MB in the thirtieth with this (--steady 1810), 6 MB in the second and 11 MB in
// the eleventh without (--steady 720). The resident set's highest minute mean over the second's:
// 7.2% with this (one run), 8.5-9.9% without (four).
//
// The cost: a block is charged to the cache what it holds, rounding included (UsableSize), so a
// 1.2 KB block takes 4 KB of the cache's budget and the cache holds fewer blocks; the rounding
// is inside the budget rather than empty slab space beside it. The steady run's completions did
// not fall: 74.4 million in the half hour with this, 70.2 million in the last run without.
// Assumes 4 KB pages (x86-64, as jemalloc is built here).
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
