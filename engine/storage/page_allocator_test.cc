#include "engine/storage/page_allocator.h"

#include <cstring>

#include "gtest/gtest.h"

namespace mw::storage {
namespace {

TEST(PageAllocatorTest, SizesUnderSixteenKilobytesTakeWholePagesAndLargerOnesTheirOwn) {
  EXPECT_EQ(WholePages(0), 4096u);
  EXPECT_EQ(WholePages(1), 4096u);
  EXPECT_EQ(WholePages(1200), 4096u);
  EXPECT_EQ(WholePages(4096), 4096u);
  EXPECT_EQ(WholePages(4097), 8192u);
  EXPECT_EQ(WholePages(12289), 16384u);
  EXPECT_EQ(WholePages(16383), 16384u);
  EXPECT_EQ(WholePages(16384), 16384u);
  EXPECT_EQ(WholePages(20000), 20000u);
}

// What a block is charged in the cache (its usable size) covers its whole pages, and it holds
// what was asked for. (That the cache uses this allocator: StoreTest's
// ABlockReadIntoTheCacheIsChargedWholePages.)
TEST(PageAllocatorTest, UsableSizeCoversWholePages) {
  auto allocator = NewPageAllocator();
  for (size_t size : {size_t{1}, size_t{1200}, size_t{4097}, size_t{20000}}) {
    void* p = allocator->Allocate(size);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xab, size);
    EXPECT_GE(allocator->UsableSize(p, size), WholePages(size)) << size;
    allocator->Deallocate(p);
  }
}

}  // namespace
}  // namespace mw::storage
