// Moving a family's records to new keys when a key encoding changes, as a store opens.
#ifndef MW_ENGINE_STORAGE_MOVE_KEYS_H_
#define MW_ENGINE_STORAGE_MOVE_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/storage/store.h"

namespace mw::storage {

// Moves every record of `cf` whose key starts with `prefix` and is at least `from` to the key
// `new_key` gives for its old one, with its value unchanged: `batch_size` records per synced
// write, each write putting the new keys and deleting the old ones. Interrupted, it goes on from
// where it stopped when called again, so the old keys must never be new keys (a new encoding
// starts with a tag byte the old one never does). An error from `new_key` (a key that does not
// parse) stops it; what was written before stays moved. Returns how many records it moved.
absl::StatusOr<uint64_t> MoveKeys(
    Store* store, Cf cf, absl::string_view prefix, absl::string_view from, size_t batch_size,
    absl::FunctionRef<absl::StatusOr<std::string>(absl::string_view old_key)> new_key);

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_MOVE_KEYS_H_
