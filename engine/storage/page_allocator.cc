#include "engine/storage/page_allocator.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

namespace mw::storage {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kOwnPages = 16384;  // jemalloc's smallest size class outside slabs

class PageAllocator : public rocksdb::MemoryAllocator {
 public:
  const char* Name() const override { return "MwPageAllocator"; }

  void* Allocate(size_t size) override {
    void* p = std::malloc(WholePages(size));
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void Deallocate(void* p) override { std::free(p); }
  size_t UsableSize(void* p, size_t /*allocation_size*/) const override {
    return malloc_usable_size(p);
  }
};

}  // namespace

size_t WholePages(size_t size) {
  if (size >= kOwnPages) return size;
  return size == 0 ? kPage : (size + kPage - 1) / kPage * kPage;
}

std::shared_ptr<rocksdb::MemoryAllocator> NewPageAllocator() {
  return std::make_shared<PageAllocator>();
}

}  // namespace mw::storage
