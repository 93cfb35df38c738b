#include "engine/common/heap.h"

#include <gtest/gtest.h>

#ifndef MW_SANITIZED_HEAP
#include <jemalloc/jemalloc.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "testing/temp_dir.h"

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
  EXPECT_LE(Heap().allocated + (uint64_t{64} << 20), held.allocated + (uint64_t{1} << 20));
}

TEST(HeapTest, HeapFiguresCountFreedPagesNotYetReturned) {
  // An arena of the test's own that never returns freed pages: a block freed there stays dirty
  // whatever jemalloc's background threads do with the process's other arenas.
  unsigned arena = 0;
  size_t size = sizeof(arena);
  ASSERT_EQ(mallctl("arenas.create", &arena, &size, nullptr, 0), 0);
  const std::string prefix = "arena." + std::to_string(arena);
  ssize_t never = -1;
  ASSERT_EQ(mallctl((prefix + ".dirty_decay_ms").c_str(), nullptr, nullptr, &never, sizeof(never)),
            0);
  constexpr size_t kBlock = 4 << 20;  // under jemalloc's threshold for blocks of their own
  void* block = mallocx(kBlock, MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const HeapFigures held = Heap();
  dallocx(block, MALLOCX_TCACHE_NONE);
  const HeapFigures freed = Heap();
  EXPECT_GE(freed.dirty, kBlock);
  EXPECT_LE(freed.dirty, freed.resident);
  EXPECT_LE(freed.allocated + kBlock, held.allocated + (uint64_t{1} << 20));
  ASSERT_EQ(mallctl((prefix + ".destroy").c_str(), nullptr, nullptr, nullptr, 0), 0);
}

// The statistics a bench writes name every size class with how full its slabs are.
TEST(HeapTest, WritesTheStatisticsOfEverySizeClass) {
  mw::testing::TempDir dir;
  const std::string path = dir.Sub("heap-stats.txt");
  ASSERT_TRUE(WriteHeapStats(path.c_str()));
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("___ Begin jemalloc statistics ___"), std::string::npos);
  // The bins' table: each size class's slabs and how full they are.
  EXPECT_NE(text.find("bins:"), std::string::npos);
  EXPECT_NE(text.find("util"), std::string::npos);
  EXPECT_NE(text.find("--- End jemalloc statistics ---"), std::string::npos);
  EXPECT_FALSE(WriteHeapStats(dir.Sub("no-such-dir/heap-stats.txt").c_str()));
}
#else
TEST(HeapTest, UnderASanitizerTheSanitizersMallocServes) {
  EXPECT_FALSE(ReturnFreedMemory());
  EXPECT_EQ(Heap().allocated, 0u);
  mw::testing::TempDir dir;
  EXPECT_FALSE(WriteHeapStats(dir.Sub("heap-stats.txt").c_str()));
}
#endif

}  // namespace
}  // namespace mw
