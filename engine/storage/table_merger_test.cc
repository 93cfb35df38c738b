#include "engine/storage/table_merger.h"

#include <rocksdb/db.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::storage {
namespace {

rocksdb::SstFileMetaData Table(const std::string& name, uint64_t size, bool compacting = false) {
  rocksdb::SstFileMetaData f;
  f.relative_filename = name;
  f.size = size;
  f.being_compacted = compacting;
  return f;
}

TEST(TableMergerTest, ARunIsSmallTablesSideBySideCutAtTheTargetSize) {
  const TableMerger::Options options{.target_bytes = 8, .small_bytes = 4};
  std::vector<rocksdb::SstFileMetaData> files;
  // A large table breaks a run, a table being compacted too; what is short of the target and
  // a run of one are left.
  for (auto [name, size, compacting] :
       std::vector<std::tuple<std::string, uint64_t, bool>>{{"a", 3, false},
                                                            {"b", 3, false},
                                                            {"c", 3, false},
                                                            {"d", 3, false},
                                                            {"big", 9, false},
                                                            {"e", 2, false},
                                                            {"f", 2, false},
                                                            {"g", 2, true},
                                                            {"h", 3, false},
                                                            {"i", 3, false},
                                                            {"j", 2, false},
                                                            {"k", 8, false},
                                                            {"l", 3, false},
                                                            {"m", 3, false}}) {
    files.push_back(Table(name, size, compacting));
  }
  const rocksdb::LevelMetaData level(1, 0, std::move(files));
  EXPECT_EQ(TableMerger::Runs(level, options),
            (std::vector<std::vector<std::string>>{{"a", "b", "c"}, {"h", "i", "j"}}));
  rocksdb::LevelMetaData one(1, 0, {Table("x", 3), Table("big", 40), Table("y", 3)});
  EXPECT_TRUE(TableMerger::Runs(one, {.target_bytes = 2, .small_bytes = 4}).empty());
  // Tiny tables, cut by their number.
  rocksdb::LevelMetaData tiny(
      1, 0, {Table("t1", 1), Table("t2", 1), Table("t3", 1), Table("t4", 1), Table("t5", 1)});
  EXPECT_EQ(TableMerger::Runs(tiny, {.target_bytes = 100, .small_bytes = 4, .max_run_tables = 2}),
            (std::vector<std::vector<std::string>>{{"t1", "t2"}, {"t3", "t4"}}));
}

// A RocksDB database of 24 tables of about 1 MB side by side in level 1 (ascending keys, each
// flushed and moved down alone, as the store's families are), automatic compactions off.
class TableMergerDbTest : public ::testing::Test {
 protected:
  static constexpr int kTables = 24;
  static constexpr int kPerTable = 1024;  // 1 KB values, incompressible

  void SetUp() override {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.disable_auto_compactions = true;
    merger_ = std::make_shared<TableMerger>(
        TableMerger::Options{.target_bytes = 16 << 20, .small_bytes = 8 << 20});
    o.listeners.push_back(merger_);
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.Sub("db"), &raw).ok());
    db_.reset(raw);
    std::mt19937_64 random(3);
    for (int t = 0; t < kTables; ++t) {
      for (int i = 0; i < kPerTable; ++i) {
        std::string value(1024, '\0');
        for (size_t j = 0; j < value.size(); j += 8) {
          const uint64_t r = random();
          std::memcpy(&value[j], &r, 8);
        }
        values_.push_back(value);
        ASSERT_TRUE(db_->Put({}, Key(t * kPerTable + i), value).ok());
      }
      ASSERT_TRUE(db_->Flush({}).ok());
      rocksdb::ColumnFamilyMetaData meta;
      db_->GetColumnFamilyMetaData(&meta);
      ASSERT_EQ(meta.levels[0].files.size(), 1u);
      ASSERT_TRUE(db_->CompactFiles({}, {meta.levels[0].files[0].relative_filename}, 1).ok());
    }
  }
  void TearDown() override {
    merger_->Stop();
    db_.reset();
  }

  static std::string Key(int i) { return absl::StrFormat("key-%08d", i); }
  std::vector<uint64_t> Level1Sizes() {
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(&meta);
    std::vector<uint64_t> sizes;
    for (const auto& f : meta.levels[1].files) sizes.push_back(f.size);
    return sizes;
  }
  void ExpectEveryValue() {
    for (int i = 0; i < kTables * kPerTable; i += 97) {
      std::string v;
      ASSERT_TRUE(db_->Get({}, Key(i), &v).ok()) << Key(i);
      EXPECT_EQ(v, values_[i]) << Key(i);
    }
  }

  mw::testing::TempDir dir_;
  std::shared_ptr<TableMerger> merger_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::string> values_;
};

TEST_F(TableMergerDbTest, ARunOfSmallTablesBecomesTablesOfTheTargetSizeInTheSameLevel) {
  ASSERT_EQ(Level1Sizes().size(), size_t{kTables});
  // The first 16 or so tables reach 16 MB: one merge, into one table (and the start of a
  // second, as RocksDB closes a table after the block that passes the limit); the rest wait.
  EXPECT_EQ(merger_->MergeRuns(db_.get(), db_->DefaultColumnFamily()), 1);
  const std::vector<uint64_t> sizes = Level1Sizes();
  int large = 0;
  for (uint64_t size : sizes) large += size >= (15 << 20);
  EXPECT_EQ(large, 1);
  EXPECT_LE(sizes.size(), size_t{kTables} - 14);
  ExpectEveryValue();
  // Nothing more to merge until more tables come.
  EXPECT_EQ(merger_->MergeRuns(db_.get(), db_->DefaultColumnFamily()), 0);
}

TEST_F(TableMergerDbTest, ACompactionIntoALevelStartsTheMergeOnTheMergersThread) {
  merger_->Start(db_.get(), {db_->DefaultColumnFamily()});
  rocksdb::CompactionJobInfo moved;
  moved.cf_id = db_->DefaultColumnFamily()->GetID();
  moved.output_level = 1;
  moved.compaction_reason = rocksdb::CompactionReason::kLevelMaxLevelSize;
  rocksdb::CompactionJobInfo own = moved;  // a merge's own, or any manual compaction
  own.compaction_reason = rocksdb::CompactionReason::kManualCompaction;
  merger_->OnCompactionCompleted(db_.get(), own);
  merger_->Drain();
  EXPECT_EQ(Level1Sizes().size(), size_t{kTables});
  merger_->OnCompactionCompleted(db_.get(), moved);
  merger_->Drain();
  EXPECT_LE(Level1Sizes().size(), size_t{kTables} - 14);
  ExpectEveryValue();
}

}  // namespace
}  // namespace mw::storage
