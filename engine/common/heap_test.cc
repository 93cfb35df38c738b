#include "engine/common/heap.h"

#include <gtest/gtest.h>

#ifndef MW_SANITIZED_HEAP
#include <jemalloc/jemalloc.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace mw {
namespace {

#ifndef MW_SANITIZED_HEAP
uint64_t ThreadAllocated() {
  uint64_t bytes = 0;
  size_t size = sizeof(bytes);
  EXPECT_EQ(mallctl("thread.allocated", &bytes, &size, nullptr, 0), 0);
  return bytes;
}

void* volatile kept;  // so the compiler keeps the malloc

TEST(HeapTest, MallocIsJemallocsAndItReturnsFreedPagesInTheBackground) {
  ASSERT_TRUE(ReturnFreedMemory());
  bool on = false;
  size_t size = sizeof(on);
  ASSERT_EQ(mallctl("background_thread", &on, &size, nullptr, 0), 0);
  EXPECT_TRUE(on);
  // The settings heap.cc gives jemalloc at start are the ones it runs with.
  unsigned arenas = 0;
  size = sizeof(arenas);
  ASSERT_EQ(mallctl("opt.narenas", &arenas, &size, nullptr, 0), 0);
  EXPECT_EQ(arenas, 2u);
  ssize_t decay_ms = 0;
  size = sizeof(decay_ms);
  ASSERT_EQ(mallctl("opt.dirty_decay_ms", &decay_ms, &size, nullptr, 0), 0);
  EXPECT_EQ(decay_ms, 250);
  // The process's malloc is jemalloc's: a block taken with plain malloc is counted by it (with
  // glibc's malloc first in the symbol order, jemalloc would count nothing).
  const uint64_t before = ThreadAllocated();
  kept = std::malloc(1 << 20);
  const uint64_t after = ThreadAllocated();
  std::free(kept);
  EXPECT_GE(after - before, uint64_t{1} << 20);
}

TEST(HeapTest, HeapFiguresCountABlockWhileItIsHeld) {
  const HeapFigures before = Heap();
  kept = std::malloc(64 << 20);
  std::memset(kept, 1, 64 << 20);
  const HeapFigures held = Heap();
  std::free(kept);
  EXPECT_GE(held.allocated - before.allocated, uint64_t{64} << 20);
  EXPECT_GE(held.active, held.allocated);
  EXPECT_GE(held.resident, held.active);
  EXPECT_GT(held.metadata, 0u);  // jemalloc's own structures, counted apart
  EXPECT_LE(held.dirty, held.resident);
  EXPECT_LE(Heap().allocated + (uint64_t{64} << 20), held.allocated + (uint64_t{1} << 20));
}
#else
TEST(HeapTest, UnderASanitizerTheSanitizersMallocServes) {
  EXPECT_FALSE(ReturnFreedMemory());
  EXPECT_EQ(Heap().allocated, 0u);
}
#endif

}  // namespace
}  // namespace mw
