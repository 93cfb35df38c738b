#include "engine/common/heap.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>

namespace mw {
namespace {

TEST(HeapTest, ABlockOfAQuarterMegabyteIsMappedAndGoesBackWhenFreed) {
  ASSERT_TRUE(ReturnFreedMemory());
  // Raise glibc's own threshold first, as a freed large block does with the defaults.
  void* big = std::malloc(4 << 20);
  std::free(big);
  ASSERT_TRUE(ReturnFreedMemory());
  const struct mallinfo2 before = mallinfo2();
  void* block = std::malloc(512 * 1024);
  ASSERT_NE(block, nullptr);
  const struct mallinfo2 held = mallinfo2();
  EXPECT_EQ(held.hblks, before.hblks + 1);
  EXPECT_GE(held.hblkhd, before.hblkhd + 512 * 1024);
  std::free(block);
  const struct mallinfo2 after = mallinfo2();
  EXPECT_EQ(after.hblks, before.hblks);
  EXPECT_EQ(after.hblkhd, before.hblkhd);
}

}  // namespace
}  // namespace mw
