#include "engine/storage/move_keys.h"

#include <algorithm>
#include <utility>

#include "engine/common/status_macros.h"

namespace mw::storage {

absl::StatusOr<uint64_t> MoveKeys(
    Store* store, Cf cf, absl::string_view prefix, absl::string_view from, size_t batch_size,
    absl::FunctionRef<absl::StatusOr<std::string>(absl::string_view old_key)> new_key) {
  uint64_t moved = 0;
  // Each batch starts past the last key moved, not over its tombstones; the first at the prefix
  // at least (a scan from before it would end at once).
  std::string after(std::max(from, prefix));
  for (;;) {
    Batch batch;
    size_t n = 0;
    auto c = store->ScanFrom(cf, prefix, after);
    for (; c->Valid() && n < batch_size; c->Next(), ++n) {
      MW_ASSIGN_OR_RETURN(std::string to, new_key(c->key()));
      batch.Put(cf, to, c->value());
      batch.Delete(cf, c->key());
      after.assign(c->key().data(), c->key().size());
      after.push_back('\0');
    }
    MW_RETURN_IF_ERROR(c->status());
    if (n == 0) return moved;
    MW_RETURN_IF_ERROR(store->Write(std::move(batch), Durability::kSynced));
    moved += n;
  }
}

}  // namespace mw::storage
