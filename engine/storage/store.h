// Store: the project's only door to RocksDB. It opens a database with the column families of a
// schema, reads by key or prefix, and writes Batches atomically. No other module includes
// <rocksdb/...>; keys come from keys.h and values from record.h.
//
//   MW_ASSIGN_OR_RETURN(auto store, Store::Open(dir, Schema::kDispatcher));
//   Batch batch;
//   batch.Put(Cf::kJobs, keys::Job(id), EncodeRecord(job));
//   MW_RETURN_IF_ERROR(store->Write(std::move(batch), Durability::kSynced));
//
// Thread-safe: any number of readers and writers at once.
#ifndef MW_ENGINE_STORAGE_STORE_H_
#define MW_ENGINE_STORAGE_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/storage/column_families.h"
#include "google/protobuf/message_lite.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Iterator;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace mw::storage {

// How a write reaches the disk. Chosen per write class and written down where it is used.
enum class Durability {
  kSynced,    // fsync'd before Write returns: for anything acknowledged to a client
  kBuffered,  // in the WAL, not yet fsync'd: lost only on a machine crash, not a process crash
};

// An atomic set of puts and deletes across column families, kept in one contiguous buffer.
// Movable, not copyable.
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  void Put(Cf cf, absl::string_view key, absl::string_view value);
  void PutRecord(Cf cf, absl::string_view key, const google::protobuf::MessageLite& record);
  void Delete(Cf cf, absl::string_view key);
  // Appends every operation of `other`, after this batch's own.
  void Append(const Batch& other);

  size_t Count() const { return count_; }
  size_t ByteSize() const { return rep_.size(); }
  bool Empty() const { return count_ == 0; }

 private:
  friend class Store;
  // Each op: kind (1 byte), family (1 byte), key length (u32), key, value length (u32), value.
  void AppendHeader(char kind, Cf cf, absl::string_view key);
  std::string rep_;
  size_t count_ = 0;
};

// Iterates the keys of one column family that start with a prefix, in byte order.
class Cursor {
 public:
  ~Cursor();
  bool Valid() const;
  void Next();
  // Moves forward to the first key >= `target` (never back): a few steps when it is near, one
  // seek when it is not. Valid() says whether there is one with the prefix.
  void SkipTo(absl::string_view target);
  absl::string_view key() const;    // REQUIRES: Valid()
  absl::string_view value() const;  // REQUIRES: Valid()
  // Decodes value() into `record`; DATA_LOSS when it does not parse.
  [[nodiscard]] absl::Status Read(google::protobuf::MessageLite* record) const;
  // The error that stopped the iteration, if any. Check after !Valid().
  [[nodiscard]] absl::Status status() const;

 private:
  friend class Store;
  Cursor(std::unique_ptr<rocksdb::Iterator> it, std::string prefix);
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
};

// A consistent view of the whole database at one moment.
class Snapshot {
 public:
  ~Snapshot();

 private:
  friend class Store;
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot);
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

class Store {
 public:
  // The size at which a compaction closes the table file it writes and starts the next. What
  // a compaction holds in memory for the file it is writing (its filter and index partitions,
  // kept until the file is finished) grows with this: with RocksDB's 64 MB, compactions that
  // reached larger tables as the store grew made a rise in the heap that did not level off.
  static constexpr uint64_t kTableFileBytes = 16 << 20;

  struct Options {
    bool create_if_missing = true;
    // Blocks read from disk, with the tables' indexes and filters: at least this, and as much
    // of memtable_bytes as the memtables do not hold (they share one cache).
    size_t block_cache_bytes = 64 << 20;
    // Every family's memtables together (the write-ahead log's bound, max_total_wal_size, is
    // the other limit on what is held before a flush).
    size_t memtable_bytes = 64 << 20;
    // The table files held open at once, each with its reader (the handles of its index and
    // filter, its properties: some kilobytes a file), the least recently read closed first and
    // opened again when read. Every file of the store held open, as RocksDB does by default, is
    // memory that grows with everything ever stored. RocksDB keeps 10 of these for files other
    // than tables, and takes at least 20.
    int open_table_files = 256;
  };

  // Opens (creating when allowed) the database in `dir` with the families of `schema`.
  // UNAVAILABLE when another process holds it; DATA_LOSS on corruption.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                                   Schema schema,
                                                                   const Options& options);
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                                   Schema schema) {
    return Open(dir, schema, Options());
  }

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The value at `key`, nullopt when absent.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> Get(
      Cf cf, absl::string_view key, const Snapshot* snapshot = nullptr) const;
  // Which of `keys` are present, in one batched read (RocksDB's MultiGet: the keys sorted and
  // each table's filters and blocks visited once for all of them), for existence checks of
  // many ids at a time. present[i] is whether keys[i] is.
  [[nodiscard]] absl::Status Contains(Cf cf, const std::vector<std::string>& keys,
                                      std::vector<bool>* present) const;
  // Reads the record at `key` into `record`. NOT_FOUND when absent, DATA_LOSS when corrupt.
  [[nodiscard]] absl::Status GetRecord(Cf cf, absl::string_view key,
                                       google::protobuf::MessageLite* record,
                                       const Snapshot* snapshot = nullptr) const;

  // Keys of `cf` starting with `prefix` (all keys when empty), optionally as of `snapshot`,
  // which must outlive the cursor.
  std::unique_ptr<Cursor> Scan(Cf cf, absl::string_view prefix,
                               const Snapshot* snapshot = nullptr) const;
  // Like Scan, starting at the first key >= `start` that has `prefix`.
  std::unique_ptr<Cursor> ScanFrom(Cf cf, absl::string_view prefix, absl::string_view start,
                                   const Snapshot* snapshot = nullptr) const;

  std::unique_ptr<Snapshot> GetSnapshot() const;

  // Called once, with the first write that fails (a full disk, say), whichever path wrote it.
  // RocksDB takes no more writes after that until it is reopened. Set before the first write.
  void OnWriteFailure(std::function<void(const absl::Status&)> fn) { on_write_failure_ = fn; }

  // Applies `batch` atomically.
  [[nodiscard]] absl::Status Write(Batch batch, Durability durability);
  // Applies every batch of `group`, in order, as one atomic write (one fsync when synced).
  [[nodiscard]] absl::Status WriteGroup(const std::vector<Batch>& group, Durability durability);

  // Deletes every key of `cf` that starts with `prefix`, durably.
  [[nodiscard]] absl::Status DeletePrefix(Cf cf, absl::string_view prefix);

  // Compacts every table of `cf` into the bottom level (a maintenance step; the store compacts
  // by itself as it is written).
  [[nodiscard]] absl::Status Compact(Cf cf);
  // Writes the memtable of `cf` to a table file, durably (a maintenance step, like Compact).
  [[nodiscard]] absl::Status Flush(Cf cf);
  // The size in bytes of each table file of `cf` on disk, in no particular order.
  std::vector<uint64_t> TableFileSizes(Cf cf) const;

  // Writes a consistent online copy of the database to `dir`, which must not exist.
  [[nodiscard]] absl::Status Checkpoint(const std::string& dir) const;

  // Whether RocksDB has a flush or compaction running or due in any column family. Benchmarks
  // wait for a settled store so that one run does not pay for the writes of the one before.
  bool BackgroundWorkPending() const;

  // What RocksDB holds in memory, in bytes: the memtables of every family, the block cache
  // (data blocks, the tables' indexes and filters, and the memtables' share charged to it), and
  // what the table readers hold (charged to the cache too, so counted in block_cache as well).
  // The benchmarks print it beside the resident set.
  struct Memory {
    uint64_t memtables = 0;
    uint64_t block_cache = 0;
    uint64_t block_cache_pinned = 0;  // of it: held by table readers, cursors and the memtables
    uint64_t table_readers = 0;
    uint64_t table_readers_charged = 0;  // of block_cache: reserved for the table readers
    uint64_t cache_capacity = 0;         // the budget: block_cache_bytes + memtable_bytes
    // And the work that holds memory beside the cache while it runs: compactions and flushes
    // running now (each compaction's input blocks and output tables are read and built on the
    // heap).
    uint64_t compactions_running = 0;
    uint64_t flushes_running = 0;
  };
  // Reads every figure; the table readers' charge by a scan of the cache's entries.
  Memory MemoryUse() const;
  // The table files on disk, every family's at every level: RocksDB keeps some state in memory
  // for each (its metadata, its place in the levels), so what it holds grows with them.
  uint64_t TableFiles() const;

  const std::string& dir() const { return dir_; }

 private:
  Store(std::string dir, Schema schema);
  rocksdb::ColumnFamilyHandle* Handle(Cf cf) const;

  std::string dir_;
  Schema schema_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // indexed by Cf; null when not in schema
  // The written database's failure report: called once (the flag is set by the writer).
  absl::Status Written(absl::Status s);
  std::function<void(const absl::Status&)> on_write_failure_;
  std::atomic<bool> write_failed_{false};
};

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_STORE_H_
