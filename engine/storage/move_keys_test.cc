#include "engine/storage/move_keys.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::storage {
namespace {

std::map<std::string, std::string> Contents(const Store& store, Cf cf) {
  std::map<std::string, std::string> out;
  for (auto c = store.Scan(cf, ""); c->Valid(); c->Next()) {
    out.emplace(std::string(c->key()), std::string(c->value()));
  }
  return out;
}

// Old keys "o<n>" become "N<n>"; keys before `from` or outside the prefix stay where they are.
TEST(MoveKeysTest, MovesTheKeysFromWhereItIsToldInBatchesAndKeepsTheValues) {
  mw::testing::TempDir dir;
  auto store = Store::Open(dir.Sub("db"), Schema::kDispatcher).value();
  Batch b;
  for (int i = 0; i < 5; ++i) b.Put(Cf::kTransferIds, absl::StrCat("o", i), absl::StrCat("v", i));
  b.Put(Cf::kTransferIds, "a-before", "x");
  b.Put(Cf::kTransferIds, "p-other", "y");
  ASSERT_TRUE(store->Write(std::move(b), Durability::kSynced).ok());

  int calls = 0;
  auto moved = MoveKeys(store.get(), Cf::kTransferIds, "o", "o1", 2,
                        [&](absl::string_view old_key) -> absl::StatusOr<std::string> {
                          ++calls;
                          return absl::StrCat("N", old_key.substr(1));
                        });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, 4u);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(Contents(*store, Cf::kTransferIds),
            (std::map<std::string, std::string>{{"N1", "v1"},
                                                {"N2", "v2"},
                                                {"N3", "v3"},
                                                {"N4", "v4"},
                                                {"a-before", "x"},
                                                {"o0", "v0"},
                                                {"p-other", "y"}}));
  // Again, nothing is left to move.
  auto again = MoveKeys(store.get(), Cf::kTransferIds, "o", "o1", 2,
                        [](absl::string_view) -> absl::StatusOr<std::string> { return "?"; });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
}

// A key the mapping refuses stops the move there: the batches written before stay moved, the
// refused key's batch is not written, and the error is the mapping's.
TEST(MoveKeysTest, AKeyThatDoesNotParseStopsItAndWhatWasWrittenStaysMoved) {
  mw::testing::TempDir dir;
  auto store = Store::Open(dir.Sub("db"), Schema::kDispatcher).value();
  Batch b;
  for (int i = 0; i < 5; ++i) b.Put(Cf::kTransferIds, absl::StrCat("o", i), "v");
  ASSERT_TRUE(store->Write(std::move(b), Durability::kSynced).ok());

  auto moved = MoveKeys(store.get(), Cf::kTransferIds, "o", "", 2,
                        [](absl::string_view old_key) -> absl::StatusOr<std::string> {
                          if (old_key == "o3") return absl::DataLossError("o3 is not a key");
                          return absl::StrCat("N", old_key.substr(1));
                        });
  EXPECT_EQ(moved.status(), absl::DataLossError("o3 is not a key"));
  EXPECT_EQ(Contents(*store, Cf::kTransferIds),
            (std::map<std::string, std::string>{
                {"N0", "v"}, {"N1", "v"}, {"o2", "v"}, {"o3", "v"}, {"o4", "v"}}));
}

}  // namespace
}  // namespace mw::storage
