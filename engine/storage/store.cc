#include "engine/storage/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/storage/keys.h"
#include "engine/storage/page_allocator.h"
#include "engine/storage/record.h"

namespace mw::storage {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError() && absl::StrContains(s.ToString(), "lock")) return absl::UnavailableError(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return absl::UnavailableError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

// Keeps RocksDB's one-time rewrite of the tables at the bottom of the tree due a flush at a time.
// This store's keys mostly ascend, so its tables are moved down the levels whole, keeping their
// sequence numbers, and sit at the bottom of their key range at once. RocksDB 7.8 rewrites such a
// table (dropping its deletions and zeroing its sequence numbers: "BottommostFiles" in the LOG)
// only once a snapshot older than its last write is released, and only then does it look again.
// Left alone, the first snapshot released after a burst of work (a results export's own) made
// every table written during the burst due at once: after a 1,000,000-item job, some 470 MB
// rewritten on one of the two cores while that export and the next ones ran. A snapshot taken
// and released after each flush makes each new table due as it is written, so the rewrite runs
// beside the work that wrote it, a table at a time, at compaction's lowest priority. Flush
// listeners are called with the database's lock released, where taking a snapshot is allowed.
// Measured (scale_bench, a 1,000,000-item two-stage job, its store settled before mw-dispatcher
// serves it): without this, 322 MB of that rewrite ran during the exports and the JSONL export
// made 128,000 rows/s; with it, none ran then and the exports made 202,000-238,000 rows/s, for
// 5-10% fewer completions per second while a job is answered (the rewrite done then; a median
// of 19,200/s over eight runs against 21,000/s over six before).
//
// Tables reach the bottom by compaction too (moved down whole from level 0), after the flush that
// wrote them made them due: a snapshot released after each compaction (but the rewrite's own)
// makes those due as they arrive, rather than at the next snapshot released (in
// scale_bench, a store reopened and settled after a job moved such tables down with no snapshot
// in between, and 97-122 MB of the rewrite then ran during mw-dispatcher's exports).
class RewriteAsFlushed : public rocksdb::EventListener {
 public:
  void OnFlushCompleted(rocksdb::DB* db, const rocksdb::FlushJobInfo&) override {
    db->ReleaseSnapshot(db->GetSnapshot());
  }
  void OnCompactionCompleted(rocksdb::DB* db, const rocksdb::CompactionJobInfo& info) override {
    if (info.status.ok() && info.compaction_reason != rocksdb::CompactionReason::kBottommostFiles) {
      db->ReleaseSnapshot(db->GetSnapshot());
    }
  }
};

}  // namespace

// ---- Batch ----

namespace {
constexpr char kPutOp = 'P';
constexpr char kDeleteOp = 'D';

void AppendU32(std::string* out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // host order: the buffer never leaves the process
  out->append(b, 4);
}

uint32_t ReadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace

Batch::Batch() = default;
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::AppendHeader(char kind, Cf cf, absl::string_view key) {
  rep_.push_back(kind);
  rep_.push_back(static_cast<char>(cf));
  AppendU32(&rep_, static_cast<uint32_t>(key.size()));
  rep_.append(key.data(), key.size());
  ++count_;
}

void Batch::Put(Cf cf, absl::string_view key, absl::string_view value) {
  AppendHeader(kPutOp, cf, key);
  AppendU32(&rep_, static_cast<uint32_t>(value.size()));
  rep_.append(value.data(), value.size());
}

void Batch::PutRecord(Cf cf, absl::string_view key, const google::protobuf::MessageLite& record) {
  // Serialized straight into the buffer: the format byte, then the record.
  AppendHeader(kPutOp, cf, key);
  const size_t size = record.ByteSizeLong();
  AppendU32(&rep_, static_cast<uint32_t>(size + 1));
  rep_.push_back(kRecordFormatV1);
  record.AppendToString(&rep_);
}

void Batch::Delete(Cf cf, absl::string_view key) {
  AppendHeader(kDeleteOp, cf, key);
  AppendU32(&rep_, 0);
}

void Batch::Append(const Batch& other) {
  rep_.append(other.rep_);
  count_ += other.count_;
}

// ---- Cursor ----

Cursor::Cursor(std::unique_ptr<rocksdb::Iterator> it, std::string prefix)
    : it_(std::move(it)), prefix_(std::move(prefix)) {}
Cursor::~Cursor() = default;

bool Cursor::Valid() const {
  return it_->Valid() && it_->key().starts_with(rocksdb::Slice(prefix_));
}
void Cursor::Next() { it_->Next(); }
void Cursor::SkipTo(absl::string_view target) {
  const rocksdb::Slice to(target.data(), target.size());
  // A step costs a fraction of a seek: the next few keys are read before jumping.
  constexpr int kSteps = 8;
  for (int i = 0; i < kSteps; ++i) {
    if (!it_->Valid() || it_->key().compare(to) >= 0) return;
    it_->Next();
  }
  if (it_->Valid() && it_->key().compare(to) < 0) it_->Seek(to);
}
absl::string_view Cursor::key() const { return {it_->key().data(), it_->key().size()}; }
absl::string_view Cursor::value() const { return {it_->value().data(), it_->value().size()}; }
absl::Status Cursor::Read(google::protobuf::MessageLite* record) const {
  return DecodeRecord(value(), record);
}
absl::Status Cursor::status() const { return FromRocks(it_->status(), "scan"); }

// ---- Snapshot ----

Snapshot::Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot)
    : db_(db), snapshot_(snapshot) {}
Snapshot::~Snapshot() { db_->ReleaseSnapshot(snapshot_); }

// ---- Store ----

Store::Store(std::string dir, Schema schema) : dir_(std::move(dir)), schema_(schema) {}

Store::~Store() {
  for (auto* h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  if (db_ != nullptr) db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir, Schema schema,
                                                   const Options& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  // Recovery after kill -9 replays the write-ahead log; bounding it (the families holding the
  // oldest log are flushed first) bounds how long a restart takes under load. Twice the
  // memtables' budget, so that the budget, not the log, decides when to flush: a full log
  // flushes every family with a write in its oldest file, most of them a few kilobytes. At 64 MB
  // (with the memtables' filters made smaller, below), 1,784 of the first six minutes' 4,321
  // flushes in scale_bench --steady were for a full log; at 128 MB, 6 of 5,426 in eight minutes,
  // and the twelve minutes' completions were 37.5 million against 33.2 (one run each).
  db_options.max_total_wal_size = 128 << 20;
  // A bounded set of table files open, not all of them: what a file's reader holds (its
  // properties alone are some kilobytes) grows with the files on disk. With every file open,
  // jemalloc's heap profiles of scale_bench --steady 1800 had the table readers' properties 8 MB
  // larger in the twenty-eighth minute than in the second, and the heap beyond the cache's usage
  // some 10 MB larger; with 256 open, the heap's minute means levelled off from the sixteenth
  // minute. And a restart opens no table file until it is read.
  db_options.max_open_files = options.open_table_files;
  db_options.listeners.push_back(std::make_shared<RewriteAsFlushed>());
  // Memory independent of how much is stored: the memtables of all families share one budget
  // (from 7/8 of it, the family with the oldest memtable is flushed), and the index and filter
  // blocks of the tables on disk, which grow with the data, live in the block cache instead of
  // beside it. Indexes and filters are partitioned, so a large table's are read in pieces rather
  // than whole.
  //
  // And one budget for both: the memtables are charged to the block cache, which holds fewer
  // blocks while they fill and more after a flush. With a cache of its own beside them, the
  // resident set rose and fell with the memtables (33 to 79 MB) at full load: scale_bench
  // --steady 1800, minutes 2 to 29, 207-269 MB before, 205-226 MB with one budget.
  //
  // The blocks tables read are held in whole pages (page_allocator.h): freed in no order, those
  // the cache kept otherwise left the heap's slabs part-full.
  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = options.block_cache_bytes + options.memtable_bytes;
  cache_options.memory_allocator = NewPageAllocator();
  auto cache = rocksdb::NewLRUCache(cache_options);
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_bytes, cache);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  // Nothing pinned: every index and filter block, the tables' top-level ones too, is a cache
  // entry the budget can evict (at high priority, so kept before data blocks). A pinned block is
  // held by its table's reader for as long as the table lives, and counts against the cache
  // without ever leaving it; the pins grow with everything ever stored:
  // - the partitions of tables flushed to L0: a table opened at L0 keeps its pins when it is
  //   moved down without a rewrite, which is what happens to this store's mostly ascending keys
  //   (scale_bench --steady: 13 MB more pinned each minute at full load);
  // - the top-level index and filter index of every table, a few kilobytes a table: one entry
  //   per partition, so they too grow with the data stored, slowly. With them pinned, in
  //   scale_bench --steady 1800, the cache's pinned share (the memtables' charge with it) was
  //   65 MB in the second minute and 87 MB in the twenty-sixth, and the resident set's minute
  //   means rose from 172 MB to 192 MB. Unpinned, in a --steady 720 run: 61-68 MB pinned
  //   throughout, and as many completions (19.9M in eleven minutes, against 19.0M pinned).
  table.metadata_cache_options.top_level_index_pinning = rocksdb::PinningTier::kNone;
  table.metadata_cache_options.partition_pinning = rocksdb::PinningTier::kNone;
  table.metadata_cache_options.unpartitioned_pinning = rocksdb::PinningTier::kNone;
  // And what RocksDB holds per table file beside the cache (the table reader, with its
  // properties, and the file's metadata) and while building a table's filter is
  // charged to it too, so that one budget bounds them all: these grow with the files on disk,
  // which grow with everything ever stored (scale_bench --steady 1800 with every file open:
  // table readers 0 to 6 MB in half an hour, outside the cache; open_table_files bounds them).
  for (rocksdb::CacheEntryRole role :
       {rocksdb::CacheEntryRole::kBlockBasedTableReader, rocksdb::CacheEntryRole::kFileMetadata,
        rocksdb::CacheEntryRole::kFilterConstruction}) {
    table.cache_usage_options.options_overrides.insert(
        {role, {rocksdb::CacheEntryRoleOptions::Decision::kEnabled}});
  }
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  // Most point reads are existence checks of ids that are new (idempotency keys, transfer ids,
  // result ids): bloom filters, on disk and in the memtable, answer those without a search.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options(db_options);
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Small memtables per family: with some thirty families, each memtable's bloom filter (a
  // share of its size, allocated whole) and arena blocks add up; the shared budget above, not
  // this, decides when to flush.
  cf_options.write_buffer_size = 16 << 20;
  // And compactions write table files of kTableFileBytes, not 64 MB: what one holds in memory
  // for the file it writes (the filter and index partitions, until the file is finished) grows
  // with the file. jemalloc's heap profiles of scale_bench --steady put most of what the heap
  // gained between two minutes in those partitions; one run each of --steady 720, the heap's
  // highest minute mean over the second minute's: 10% with 64 MB files, 6% with these.
  cf_options.target_file_size_base = kTableFileBytes;
  // A memtable's bloom filter is allocated whole when the memtable is made, write_buffer_size x
  // the ratio, and charged to the memtables' budget: at 0.05, 0.8 MB each, some 40 bits for each
  // key of a full memtable (16 MB of ~100-byte records). The memtables of some thirty families
  // held 19 MB of the budget in filters (jemalloc's heap profile of scale_bench --steady), 5 MB of
  // it in families never written. At 0.01, 160 KB each: 8 bits a key for a full memtable, more
  // for the usual partial one; the steady run's second-minute mean 164 MB against 173 before.
  cf_options.memtable_whole_key_filtering = true;
  cf_options.memtable_prefix_bloom_size_ratio = 0.01;
  // A memtable's arena takes memory in blocks of this size, each charged to the budget whole.
  // RocksDB's default, 1 MB here (an eighth of write_buffer_size, at most 1 MB), made every
  // memtable, written or not, a megabyte of the budget from the moment it was made: its filter
  // (164 KB asked, allocated then) was cut from a fresh block. The dispatcher's families
  // held 23 MB of the 64 MB that no flush could lower: flushing a family written seldom freed
  // its few kilobytes, and the memtable made in its place took a megabyte again. So the budget,
  // nearly spent, flushed the family with the oldest memtable, one written seldom, again and
  // again: in the first twelve minutes of scale_bench --steady 730, 4,878 of the 5,711 flushes
  // were the budget's, each family written seldom flushed every second or two, most of them a
  // table of a few kilobytes (and a blob file for the ledger's blocks and the idempotency
  // replies). Those whose keys ascend are moved down the levels whole and never merged: after
  // the twelve minutes, 2,227 table files on disk with 1 MB blocks, 1,781 with these (one run
  // each: 25.8 and 25.3 million completions). The cost: a value over a quarter of a block (16
  // KB) gets an allocation of its own rather than a place in a block, as an idempotency reply
  // (66 KB on average) does, charged at its allocator's size class (80 KB under jemalloc).
  cf_options.arena_block_size = 64 << 10;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  const std::vector<Cf> families = FamiliesOf(schema);
  // Media files, the ledger's blocks of transfers and the replies kept for idempotency keys (a
  // lease's reply holds every assignment it gave: 66 KB on average in scale_bench --steady) are
  // large values written once and seldom, or only in order, read: blob files keep them out of
  // compaction's way. With the replies in the tables, scale_bench --steady's compactions of their
  // family read 2 to 5 GB every two minutes, and each table a compaction reads holds such a
  // block in memory; with blob files, 2 to 7 MB.
  rocksdb::ColumnFamilyOptions media_options(cf_options);
  media_options.enable_blob_files = true;
  media_options.min_blob_size = 4096;
  for (Cf cf : families) {
    descriptors.emplace_back(CfName(cf),
                             cf == Cf::kMedia || cf == Cf::kTransferBlocks || cf == Cf::kIdempotency
                                 ? media_options
                                 : cf_options);
  }

  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &opened, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open database ", dir));

  std::unique_ptr<Store> store(new Store(dir, schema));
  store->db_.reset(raw);
  store->handles_.assign(static_cast<size_t>(Cf::kCount), nullptr);
  for (size_t i = 0; i < families.size(); ++i) {
    store->handles_[static_cast<size_t>(families[i])] = opened[i];
  }
  return store;
}

rocksdb::ColumnFamilyHandle* Store::Handle(Cf cf) const {
  rocksdb::ColumnFamilyHandle* h = handles_[static_cast<size_t>(cf)];
  if (h == nullptr) {
    // A programming error: the family is not part of this database's schema.
    std::fprintf(stderr, "column family %s is not in this database\n", CfName(cf));
    std::abort();
  }
  return h;
}

absl::StatusOr<std::optional<std::string>> Store::Get(Cf cf, absl::string_view key,
                                                      const Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  if (snapshot != nullptr) ro.snapshot = snapshot->snapshot_;
  std::string value;
  rocksdb::Status s = db_->Get(ro, Handle(cf), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, absl::StrCat("read ", CfName(cf)));
  return std::optional<std::string>(std::move(value));
}

absl::Status Store::Contains(Cf cf, const std::vector<std::string>& keys,
                             std::vector<bool>* present) const {
  present->assign(keys.size(), false);
  if (keys.empty()) return absl::OkStatus();
  // Asked in key order, as MultiGet takes them: sorted here, by plain byte comparisons (this
  // store's order), rather than by RocksDB through its comparator (PrepareMultiGetKeys: over half
  // of MultiGet's instructions for a call's 500 result ids), and not at all when they come
  // sorted.
  std::vector<uint32_t> order(keys.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto before = [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; };
  if (!std::is_sorted(order.begin(), order.end(), before)) {
    std::sort(order.begin(), order.end(), before);
  }
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (uint32_t i : order) slices.emplace_back(keys[i]);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), Handle(cf), keys.size(), slices.data(), values.data(),
                statuses.data(), /*sorted_input=*/true);
  for (size_t j = 0; j < order.size(); ++j) {
    if (statuses[j].IsNotFound()) continue;
    if (!statuses[j].ok()) return FromRocks(statuses[j], absl::StrCat("read ", CfName(cf)));
    (*present)[order[j]] = true;
  }
  return absl::OkStatus();
}

absl::Status Store::GetRecord(Cf cf, absl::string_view key, google::protobuf::MessageLite* record,
                              const Snapshot* snapshot) const {
  auto value = Get(cf, key, snapshot);
  if (!value.ok()) return value.status();
  if (!value->has_value()) {
    return absl::NotFoundError(absl::StrCat(CfName(cf), ": no such record"));
  }
  return DecodeRecord(**value, record);
}

std::unique_ptr<Cursor> Store::Scan(Cf cf, absl::string_view prefix,
                                    const Snapshot* snapshot) const {
  return ScanFrom(cf, prefix, prefix, snapshot);
}

std::unique_ptr<Cursor> Store::ScanFrom(Cf cf, absl::string_view prefix, absl::string_view start,
                                        const Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  if (snapshot != nullptr) ro.snapshot = snapshot->snapshot_;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, Handle(cf)));
  it->Seek(rocksdb::Slice(start.data(), start.size()));
  return std::unique_ptr<Cursor>(new Cursor(std::move(it), std::string(prefix)));
}

std::unique_ptr<Snapshot> Store::GetSnapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(db_.get(), db_->GetSnapshot()));
}

absl::Status Store::Write(Batch batch, Durability durability) {
  std::vector<Batch> group;
  group.push_back(std::move(batch));
  return WriteGroup(group, durability);
}

absl::Status Store::WriteGroup(const std::vector<Batch>& group, Durability durability) {
  struct Op {
    char kind;
    Cf cf;
    rocksdb::Slice key;
    rocksdb::Slice value;
  };
  std::vector<Op> ops;
  size_t count = 0;
  for (const Batch& batch : group) count += batch.Count();
  ops.reserve(count);
  for (const Batch& batch : group) {
    const char* p = batch.rep_.data();
    const char* end = p + batch.rep_.size();
    while (p < end) {
      Op op{p[0], static_cast<Cf>(p[1]), {}, {}};
      const uint32_t klen = ReadU32(p + 2);
      op.key = rocksdb::Slice(p + 6, klen);
      p += 6 + klen;
      const uint32_t vlen = ReadU32(p);
      op.value = rocksdb::Slice(p + 4, vlen);
      p += 4 + vlen;
      ops.push_back(op);
    }
  }
  // The group is one atomic write whatever its order, so it goes in sorted by family and key
  // (stably: two writes of one key keep their order, and the later one wins). Each memtable then
  // takes its keys in ascending order, each from where the one before went in. In the order
  // written they jump between the jobs, stages and centres of the calls in the group, and every
  // insert searched its skip list from the top (RecomputeSpliceLevels: 14 of the writer's 50 points
  // in dispatch_bench's profile).
  std::stable_sort(ops.begin(), ops.end(), [](const Op& a, const Op& b) {
    return a.cf != b.cf ? a.cf < b.cf : a.key.compare(b.key) < 0;
  });
  rocksdb::WriteBatch wb;
  for (const Op& op : ops) {
    rocksdb::Status s = op.kind == kPutOp ? wb.Put(Handle(op.cf), op.key, op.value)
                                          : wb.Delete(Handle(op.cf), op.key);
    if (!s.ok()) return FromRocks(s, "build write batch");
  }
  // RocksDB counts every key comparison of a memtable insert in a thread-local perf context
  // unless told not to, per thread (setting that context up alone: 1.9% in dispatch_bench's
  // profile).
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::kSynced;
  return Written(FromRocks(db_->Write(wo, &wb), "write"));
}

absl::Status Store::Written(absl::Status s) {
  if (!s.ok() && !write_failed_.exchange(true) && on_write_failure_) on_write_failure_(s);
  return s;
}

bool Store::BackgroundWorkPending() const {
  for (const char* property : {"rocksdb.num-running-compactions", "rocksdb.num-running-flushes",
                               "rocksdb.compaction-pending", "rocksdb.mem-table-flush-pending"}) {
    uint64_t value = 0;
    if (db_->GetAggregatedIntProperty(property, &value) && value > 0) return true;
  }
  return false;
}

Store::Memory Store::MemoryUse() const {
  Memory m;
  db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &m.memtables);
  db_->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem", &m.table_readers);
  // One cache shared by every family: read once, not summed over them.
  db_->GetIntProperty("rocksdb.block-cache-usage", &m.block_cache);
  db_->GetIntProperty("rocksdb.block-cache-pinned-usage", &m.block_cache_pinned);
  db_->GetIntProperty("rocksdb.block-cache-capacity", &m.cache_capacity);
  db_->GetIntProperty("rocksdb.num-running-compactions", &m.compactions_running);
  db_->GetIntProperty("rocksdb.num-running-flushes", &m.flushes_running);
  // The cache's entries by role: a scan of the cache, so not for every request.
  std::map<std::string, std::string> roles;
  if (db_->GetMapProperty(rocksdb::DB::Properties::kBlockCacheEntryStats, &roles)) {
    auto it = roles.find(rocksdb::BlockCacheEntryStatsMapKeys::UsedBytes(
        rocksdb::CacheEntryRole::kBlockBasedTableReader));
    if (it != roles.end() && !absl::SimpleAtoi(it->second, &m.table_readers_charged)) {
      m.table_readers_charged = 0;  // not a number: unknown, as when RocksDB does not say
    }
  }
  return m;
}

uint64_t Store::TableFiles() const {
  uint64_t files = 0;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h == nullptr) continue;
    for (int level = 0; level < db_->NumberLevels(h); ++level) {
      std::string count;
      uint64_t n = 0;
      if (db_->GetProperty(h, absl::StrCat("rocksdb.num-files-at-level", level), &count) &&
          absl::SimpleAtoi(count, &n)) {
        files += n;
      }
    }
  }
  return files;
}

absl::Status Store::DeletePrefix(Cf cf, absl::string_view prefix) {
  std::optional<std::string> end = keys::PrefixSuccessor(prefix);
  rocksdb::WriteBatch wb;
  rocksdb::Status s;
  if (end.has_value()) {
    s = wb.DeleteRange(Handle(cf), rocksdb::Slice(prefix.data(), prefix.size()), *end);
  } else {
    for (auto c = Scan(cf, prefix); c->Valid(); c->Next()) {
      s = wb.Delete(Handle(cf), rocksdb::Slice(c->key().data(), c->key().size()));
      if (!s.ok()) break;
    }
  }
  if (!s.ok()) return FromRocks(s, "delete range");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return Written(FromRocks(db_->Write(wo, &wb), "delete range"));
}

absl::Status Store::Compact(Cf cf) {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return Written(FromRocks(db_->CompactRange(options, Handle(cf), nullptr, nullptr),
                           absl::StrCat("compact ", CfName(cf))));
}

absl::Status Store::Flush(Cf cf) {
  return Written(FromRocks(db_->Flush(rocksdb::FlushOptions(), Handle(cf)),
                           absl::StrCat("flush ", CfName(cf))));
}

std::vector<uint64_t> Store::TableFileSizes(Cf cf) const {
  rocksdb::ColumnFamilyMetaData meta;
  db_->GetColumnFamilyMetaData(Handle(cf), &meta);
  std::vector<uint64_t> sizes;
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    for (const rocksdb::SstFileMetaData& file : level.files) sizes.push_back(file.size);
  }
  return sizes;
}

absl::Status Store::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return FromRocks(s, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(dir), absl::StrCat("checkpoint to ", dir));
}

}  // namespace mw::storage
