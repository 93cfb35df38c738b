#include "engine/storage/store.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"
#include "gtest/gtest.h"
#include "microwork/v1/records.pb.h"
#include "testing/temp_dir.h"

namespace mw::storage {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_.Sub("db"), Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  mw::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, BatchIsAtomicAcrossFamiliesAndSurvivesReopen) {
  microwork::v1::JobRecord job;
  job.mutable_job()->set_id("job-1");
  Batch batch;
  batch.PutRecord(Cf::kJobs, keys::Job("job-1"), job);
  batch.Put(Cf::kMeta, keys::Meta("next_job"), "2");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());

  store_.reset();
  auto reopened = Store::Open(dir_.Sub("db"), Schema::kDispatcher);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  microwork::v1::JobRecord read;
  ASSERT_TRUE((*reopened)->GetRecord(Cf::kJobs, keys::Job("job-1"), &read).ok());
  EXPECT_EQ(read.job().id(), "job-1");
  EXPECT_EQ(*(*reopened)->Get(Cf::kMeta, "next_job").value(), "2");
}

// The memtables and the blocks read share one budget: what the memtables hold is charged to the
// block cache (so the cache holds fewer blocks while they fill), before anything is read.
TEST_F(StoreTest, TheMemtablesAreChargedToTheBlockCache) {
  // Empty memtables hold memory too (their arenas and filters), and nothing has been read.
  const Store::Memory empty = store_->MemoryUse();
  EXPECT_GT(empty.memtables, 0u);
  EXPECT_GT(empty.block_cache, 0u);
  EXPECT_EQ(empty.compactions_running, 0u);  // nothing written, nothing to compact
  EXPECT_EQ(empty.flushes_running, 0u);
  Batch batch;
  for (int i = 0; i < 4096; ++i) {
    batch.Put(Cf::kMeta, absl::StrCat("key-", i), std::string(1024, 'v'));
  }
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  const Store::Memory full = store_->MemoryUse();
  EXPECT_GT(full.memtables, empty.memtables + (4u << 20));
  // Charged in pieces of a quarter megabyte, released late: about the memtables' growth.
  EXPECT_GT(full.block_cache, empty.block_cache + (3u << 20));
}

// A family written a little holds a little of the memtables' budget: its filter and the first of
// its arena's blocks, not a megabyte. The budget flushes the family with the oldest memtable when
// it is nearly spent, and that is one written seldom: each megabyte such a family held was a
// flush of a table of a few kilobytes (with a blob file, for the families that keep large values
// apart), which is never merged with the next when its keys ascend.
TEST_F(StoreTest, AFamilyWrittenALittleHoldsLittleOfTheMemtablesBudget) {
  const std::vector<Cf> families = FamiliesOf(Schema::kDispatcher);
  Batch batch;
  for (Cf cf : families) batch.Put(cf, "key", std::string(3000, 'v'));
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  // Each family's filter (write_buffer_size x memtable_prefix_bloom_size_ratio: 164 KB asked,
  // 192 KB in jemalloc's size class) and one arena block (64 KB): 5 MB for every family with
  // glibc's malloc, as this test has it, 5.8 MB with jemalloc. With RocksDB's default blocks
  // (1 MB, the filter in one of them), 23 MB.
  EXPECT_LT(store_->MemoryUse().memtables, families.size() * (512u << 10));
}

TEST(StoreOptionsTest, TheCacheIsTheBlocksAndTheMemtablesBudgetTogether) {
  mw::testing::TempDir dir;
  Store::Options options;
  options.block_cache_bytes = 16 << 20;
  options.memtable_bytes = 8 << 20;
  auto store = Store::Open(dir.Sub("db"), Schema::kDispatcher, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->MemoryUse().cache_capacity, uint64_t{24} << 20);
}

// What each table file's reader holds is charged to the same cache: the files grow with
// everything stored, so outside a budget they would be memory that grows with time.
TEST_F(StoreTest, TheTableReadersAreChargedToTheBlockCache) {
  EXPECT_EQ(store_->MemoryUse().table_readers_charged, 0u);  // no table on disk yet
  Batch batch;
  for (int i = 0; i < 4096; ++i) {
    batch.Put(Cf::kMeta, absl::StrCat("key-", i), std::string(1024, 'v'));
  }
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  // Reopened, the log is replayed into a table, which is opened with its reader.
  store_.reset();
  auto reopened = Store::Open(dir_.Sub("db"), Schema::kDispatcher);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = std::move(*reopened);
  EXPECT_EQ(*store_->Get(Cf::kMeta, "key-4095").value(), std::string(1024, 'v'));
  const Store::Memory m = store_->MemoryUse();
  EXPECT_GT(m.table_readers, 0u);
  EXPECT_GE(m.table_readers_charged, m.table_readers);
  EXPECT_GE(m.block_cache, m.table_readers_charged + m.memtables);
}

// A block read into the cache is charged its whole pages (page_allocator.h), however small: a
// table of one short record has a data block of some tens of bytes. (And the flush that wrote
// that table is one table file more.)
TEST_F(StoreTest, ABlockReadIntoTheCacheIsChargedWholePages) {
  Batch batch;
  batch.Put(Cf::kMeta, "key", "value");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  EXPECT_EQ(store_->TableFiles(), 0u);
  ASSERT_TRUE(store_->Flush(Cf::kMeta).ok());
  EXPECT_EQ(store_->TableFiles(), 1u);
  const uint64_t before = store_->MemoryUse().block_cache;
  EXPECT_EQ(*store_->Get(Cf::kMeta, "key").value(), "value");
  EXPECT_GE(store_->MemoryUse().block_cache, before + 4096);
}

// A reply kept for an idempotency key (a lease's holds every assignment it gave) goes to a blob
// file when flushed, as media do, not into the family's tables: what a compaction of them reads
// and holds stays small. A value of a family without blob files stays in its table.
TEST_F(StoreTest, AnIdempotencyReplyIsFlushedToABlobFileNotIntoTheTables) {
  std::mt19937_64 random(11);
  std::string reply(256 << 10, '\0');  // incompressible, so a table holding it is as large
  for (size_t j = 0; j < reply.size(); j += 8) {
    const uint64_t r = random();
    std::memcpy(&reply[j], &r, 8);
  }
  Batch batch;
  batch.Put(Cf::kIdempotency, "centre:a/lease-1", reply);
  batch.Put(Cf::kMeta, "large", reply);
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  ASSERT_TRUE(store_->Flush(Cf::kIdempotency).ok());
  ASSERT_TRUE(store_->Flush(Cf::kMeta).ok());
  const std::vector<uint64_t> replies = store_->TableFileSizes(Cf::kIdempotency);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_LT(replies[0], uint64_t{16} << 10);  // the key and where its value is
  const std::vector<uint64_t> meta = store_->TableFileSizes(Cf::kMeta);
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_GT(meta[0], reply.size());
  EXPECT_EQ(store_->Get(Cf::kIdempotency, "centre:a/lease-1").value(), reply);
}

// A group goes in sorted by family and key (WriteGroup): writes of one key, within a batch and
// across the group's batches, still take effect in the order they were made.
// A compaction writes its tables kTableFileBytes at most (and one block and the file's index and
// filter more): what it holds in memory for the table it writes grows with the table.
TEST_F(StoreTest, ACompactionWritesTablesOfTheBoundedSize) {
  std::mt19937_64 random(7);  // incompressible values, so that the tables are as large as written
  constexpr int kValues = 48 * 1024;
  for (int written = 0; written < kValues;) {
    Batch batch;
    for (int i = 0; i < 1024; ++i, ++written) {
      std::string value(1024, '\0');
      for (size_t j = 0; j < value.size(); j += 8) {
        const uint64_t r = random();
        std::memcpy(&value[j], &r, 8);
      }
      batch.Put(Cf::kMeta, absl::StrFormat("key-%06d", written), value);
    }
    ASSERT_TRUE(store_->Write(std::move(batch), Durability::kBuffered).ok());
  }
  ASSERT_TRUE(store_->Compact(Cf::kMeta).ok());
  const std::vector<uint64_t> sizes = store_->TableFileSizes(Cf::kMeta);
  uint64_t total = 0;
  for (uint64_t size : sizes) {
    EXPECT_LE(size, Store::kTableFileBytes + (256 << 10));
    total += size;
  }
  EXPECT_GE(total, uint64_t{48} << 20);  // all of it is in the tables counted
  // Some 50 MB: three full tables and the rest (with RocksDB's 64 MB, one table).
  EXPECT_EQ(sizes.size(), 4u);
  EXPECT_EQ(store_->Get(Cf::kMeta, "key-049151").value()->size(), 1024u);
}

// The table files of `dir` that this process holds open.
int OpenTableFiles(const std::string& dir) {
  int open = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const std::string target = std::filesystem::read_symlink(fd.path(), error).string();
    if (!error && absl::StartsWith(target, dir) && absl::EndsWith(target, ".sst")) ++open;
  }
  return open;
}

// Three tables in every family (one key each, flushed three times: fewer than the four at
// which RocksDB compacts level 0), each of them read; the table files held open after.
int TablesOpenAfterReadingThree(const std::string& dir, int open_table_files, size_t* tables) {
  Store::Options options;
  options.open_table_files = open_table_files;
  auto store = Store::Open(dir, Schema::kDispatcher, options).value();
  const std::vector<Cf> families = FamiliesOf(Schema::kDispatcher);
  for (int round = 0; round < 3; ++round) {
    Batch batch;
    for (Cf cf : families) batch.Put(cf, absl::StrCat("key-", round), "value");
    EXPECT_TRUE(store->Write(std::move(batch), Durability::kBuffered).ok());
    for (Cf cf : families) EXPECT_TRUE(store->Flush(cf).ok());
  }
  *tables = 0;
  for (Cf cf : families) {
    *tables += store->TableFileSizes(cf).size();
    for (int round = 0; round < 3; ++round) {
      EXPECT_EQ(store->Get(cf, absl::StrCat("key-", round)).value(), "value");
    }
  }
  return OpenTableFiles(dir);
}

TEST(StoreOpenFilesTest, ReadingEveryTableHoldsOpenOnlyTheBoundedNumber) {
  mw::testing::TempDir dir;
  size_t tables = 0;
  // With every file held open (RocksDB's default), all of them are.
  const int all = TablesOpenAfterReadingThree(dir.Sub("all"), -1, &tables);
  ASSERT_EQ(tables, 3 * FamiliesOf(Schema::kDispatcher).size());
  EXPECT_EQ(all, static_cast<int>(tables));
  // Bounded at 20 files, 10 of them tables: RocksDB's table cache is 64 shards, so each holds
  // one reader, and what it holds open is at most 64 of the tables, whichever were read last.
  const int bounded = TablesOpenAfterReadingThree(dir.Sub("bounded"), 20, &tables);
  ASSERT_EQ(tables, 3 * FamiliesOf(Schema::kDispatcher).size());
  EXPECT_LE(bounded, 64);
  EXPECT_LT(bounded, all);
  EXPECT_GT(bounded, 0);
}

TEST_F(StoreTest, AGroupKeepsTheLastWriteOfEachKeyWhateverItsKeyOrder) {
  std::vector<Batch> group(3);
  group[0].Put(Cf::kMeta, "z", "1");
  group[0].Put(Cf::kJobs, "a", "job");
  group[0].Put(Cf::kMeta, "k", "first");
  group[0].Delete(Cf::kMeta, "k");
  group[0].Put(Cf::kMeta, "k", "second");
  group[1].Delete(Cf::kMeta, "z");
  group[1].Put(Cf::kMeta, "k", "third");
  group[1].Put(Cf::kMeta, "a", "kept");
  group[1].Put(Cf::kMeta, "y", "gone");
  group[2].Put(Cf::kMeta, "z", "again");
  group[2].Delete(Cf::kJobs, "a");
  group[2].Delete(Cf::kMeta, "y");
  ASSERT_TRUE(store_->WriteGroup(group, Durability::kSynced).ok());

  std::vector<std::pair<std::string, std::string>> meta;
  for (auto c = store_->Scan(Cf::kMeta, ""); c->Valid(); c->Next()) {
    meta.emplace_back(c->key(), c->value());
  }
  EXPECT_EQ(meta, (std::vector<std::pair<std::string, std::string>>{
                      {"a", "kept"}, {"k", "third"}, {"z", "again"}}));
  EXPECT_FALSE(store_->Get(Cf::kJobs, "a").value().has_value());

  // A group long enough that the sort is not an insertion sort (which is stable by chance):
  // 600 writes over six keys in five batches, the last of each key checked against a model.
  std::vector<Batch> many(5);
  std::map<std::string, std::optional<std::string>> last;
  auto batch_of = [](int i) { return i % 5 == 4 ? 4 : i / 120; };
  for (int i = 0; i < 600; ++i) {
    const std::string key = absl::StrCat("m", (i * 7) % 6);
    Batch& b = many[batch_of(i)];
    if (i % 3 == 2) {
      b.Delete(Cf::kMeta, key);
    } else {
      b.Put(Cf::kMeta, key, absl::StrCat("v", i));
    }
  }
  // The model follows the order of the group (batch by batch), not of the loop.
  for (int bi = 0; bi < 5; ++bi) {
    for (int i = 0; i < 600; ++i) {
      if (batch_of(i) != bi) continue;
      const std::string key = absl::StrCat("m", (i * 7) % 6);
      last[key] = i % 3 == 2 ? std::nullopt : std::optional<std::string>(absl::StrCat("v", i));
    }
  }
  ASSERT_TRUE(store_->WriteGroup(many, Durability::kSynced).ok());
  for (const auto& [key, value] : last) {
    EXPECT_EQ(store_->Get(Cf::kMeta, key).value(), value) << key;
  }
}

TEST_F(StoreTest, MissingRecordIsNotFound) {
  microwork::v1::JobRecord read;
  EXPECT_EQ(store_->GetRecord(Cf::kJobs, keys::Job("nope"), &read).code(),
            absl::StatusCode::kNotFound);
  auto v = store_->Get(Cf::kJobs, keys::Job("nope"));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

// The batched existence check agrees with a point read of each key, wherever the key is: in a
// table on disk (written before a reopen), in the memtable, deleted since, or never written;
// asked in any order, twice over.
TEST_F(StoreTest, ContainsAgreesWithGetForKeysOnDiskInMemoryDeletedAndMissing) {
  Batch old;
  for (int i = 0; i < 50; ++i) old.Put(Cf::kTransferIds, absl::StrCat("old-", i), "x");
  ASSERT_TRUE(store_->Write(std::move(old), Durability::kSynced).ok());
  store_.reset();
  store_ = std::move(Store::Open(dir_.Sub("db"), Schema::kDispatcher).value());
  Batch fresh;
  for (int i = 0; i < 50; ++i) fresh.Put(Cf::kTransferIds, absl::StrCat("new-", i), "y");
  fresh.Delete(Cf::kTransferIds, "old-7");
  ASSERT_TRUE(store_->Write(std::move(fresh), Durability::kSynced).ok());

  const std::vector<std::string> keys = {"new-3", "old-7", "missing", "old-49", "new-49",
                                         "old-0", "new-3", "old-70",  "",       "old-8"};
  std::vector<bool> present;
  ASSERT_TRUE(store_->Contains(Cf::kTransferIds, keys, &present).ok());
  EXPECT_EQ(present,
            (std::vector<bool>{true, false, false, true, true, true, true, false, false, true}));
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(store_->Get(Cf::kTransferIds, keys[i]).value().has_value(), present[i]) << keys[i];
  }
  ASSERT_TRUE(store_->Contains(Cf::kTransferIds, {}, &present).ok());
  EXPECT_TRUE(present.empty());
}

// Contains asks RocksDB for the keys in byte order (sorted by it, unsigned, as the store orders
// them) and answers in the order asked: keys in order, in reverse and with bytes above 0x7f.
TEST_F(StoreTest, ContainsAnswersInTheOrderAskedWhateverTheOrderOfTheKeys) {
  Batch batch;
  for (const char* k : {"a", "b\x01", "b\x80", "b\xff", "c"}) batch.Put(Cf::kResultIds, k, "x");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  std::vector<std::string> keys = {"a",     "a\x80", "b\x01",     "b\x7f",
                                   "b\x80", "b\xff", "b\xff\x01", "c"};
  const std::vector<bool> in_order = {true, false, true, false, true, true, false, true};
  std::vector<bool> present;
  ASSERT_TRUE(store_->Contains(Cf::kResultIds, keys, &present).ok());
  EXPECT_EQ(present, in_order);
  std::reverse(keys.begin(), keys.end());
  ASSERT_TRUE(store_->Contains(Cf::kResultIds, keys, &present).ok());
  EXPECT_EQ(present, std::vector<bool>(in_order.rbegin(), in_order.rend()));
  std::swap(keys[1], keys[6]);
  std::swap(keys[2], keys[4]);
  ASSERT_TRUE(store_->Contains(Cf::kResultIds, keys, &present).ok());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(store_->Get(Cf::kResultIds, keys[i]).value().has_value(), present[i]) << i;
  }
}

TEST_F(StoreTest, CorruptValueIsDataLoss) {
  Batch batch;
  batch.Put(Cf::kJobs, keys::Job("bad"), "\x07garbage");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  microwork::v1::JobRecord read;
  EXPECT_EQ(store_->GetRecord(Cf::kJobs, keys::Job("bad"), &read).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(StoreTest, ScanStaysInsideItsPrefix) {
  Batch batch;
  for (uint64_t i = 0; i < 5; ++i) batch.Put(Cf::kItems, keys::Item("job-1", i), "a");
  batch.Put(Cf::kItems, keys::Item("job-10", 0), "b");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kBuffered).ok());
  std::vector<uint64_t> seen;
  auto c = store_->Scan(Cf::kItems, keys::JobPrefix("job-1"));
  for (; c->Valid(); c->Next()) seen.push_back(*keys::ParseItem(c->key()));
  ASSERT_TRUE(c->status().ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 3, 4}));

  seen.clear();
  for (c = store_->ScanFrom(Cf::kItems, keys::JobPrefix("job-1"), keys::Item("job-1", 3));
       c->Valid(); c->Next()) {
    seen.push_back(*keys::ParseItem(c->key()));
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{3, 4}));
}

TEST_F(StoreTest, SkipToMovesForwardToTheFirstKeyAtOrAfterTheTarget) {
  Batch batch;
  for (uint64_t i = 0; i < 100; i += 2) batch.Put(Cf::kItems, keys::Item("job-1", i), "a");
  batch.Put(Cf::kItems, keys::Item("job-2", 0), "b");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kBuffered).ok());
  auto c = store_->Scan(Cf::kItems, keys::JobPrefix("job-1"));
  std::vector<std::string> seen;
  // Near (a step), absent (the next one), eight steps on (the last step), far (a seek), behind
  // (stays), past the prefix.
  for (uint64_t target : {2, 5, 22, 90, 10, 99}) {
    c->SkipTo(keys::Item("job-1", target));
    seen.push_back(c->Valid() ? absl::StrCat(*keys::ParseItem(c->key())) : "none");
  }
  ASSERT_TRUE(c->status().ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"2", "6", "22", "90", "90", "none"}));
  // Past the family's last key.
  auto end = store_->Scan(Cf::kItems, keys::JobPrefix("job-2"));
  end->SkipTo(keys::Item("job-2", 5));
  EXPECT_FALSE(end->Valid());
  EXPECT_TRUE(end->status().ok());
}

TEST_F(StoreTest, SnapshotDoesNotSeeLaterWrites) {
  Batch a;
  a.Put(Cf::kMeta, "k", "1");
  ASSERT_TRUE(store_->Write(std::move(a), Durability::kSynced).ok());
  auto snap = store_->GetSnapshot();
  Batch b;
  b.Put(Cf::kMeta, "k", "2");
  ASSERT_TRUE(store_->Write(std::move(b), Durability::kSynced).ok());
  EXPECT_EQ(**store_->Get(Cf::kMeta, "k", snap.get()), "1");
  EXPECT_EQ(**store_->Get(Cf::kMeta, "k"), "2");
}

TEST_F(StoreTest, DeletePrefixRemovesOnlyThePrefix) {
  Batch batch;
  for (uint64_t i = 0; i < 3; ++i) batch.Put(Cf::kItems, keys::Item("job-1", i), "a");
  batch.Put(Cf::kItems, keys::Item("job-2", 0), "b");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  ASSERT_TRUE(store_->DeletePrefix(Cf::kItems, keys::JobPrefix("job-1")).ok());
  EXPECT_FALSE(store_->Scan(Cf::kItems, keys::JobPrefix("job-1"))->Valid());
  EXPECT_TRUE(store_->Scan(Cf::kItems, keys::JobPrefix("job-2"))->Valid());
}

TEST_F(StoreTest, SecondOpenOfTheSameDirectoryIsUnavailable) {
  auto second = Store::Open(dir_.Sub("db"), Schema::kDispatcher);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST_F(StoreTest, CheckpointIsAConsistentCopy) {
  Batch batch;
  batch.Put(Cf::kMeta, "k", "v");
  ASSERT_TRUE(store_->Write(std::move(batch), Durability::kSynced).ok());
  ASSERT_TRUE(store_->Checkpoint(dir_.Sub("copy")).ok());
  auto copy = Store::Open(dir_.Sub("copy"), Schema::kDispatcher);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(**(*copy)->Get(Cf::kMeta, "k"), "v");
}

}  // namespace
}  // namespace mw::storage

namespace mw::storage {
namespace {

TEST(ColumnFamiliesTest, EveryFamilyHasAUniqueName) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    const std::string name = CfName(static_cast<Cf>(i));
    EXPECT_NE(name, "invalid") << i;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  for (Schema schema : {Schema::kDispatcher, Schema::kAgent}) {
    EXPECT_EQ(FamiliesOf(schema).front(), Cf::kDefault);
  }
  const std::vector<Cf> dispatcher = FamiliesOf(Schema::kDispatcher);
  EXPECT_EQ(dispatcher.back(), Cf::kTransferBlocks);
  EXPECT_EQ(std::count(dispatcher.begin(), dispatcher.end(), Cf::kMedia), 1);
  EXPECT_EQ(std::count(dispatcher.begin(), dispatcher.end(), Cf::kSessions), 0);
}

}  // namespace
}  // namespace mw::storage
