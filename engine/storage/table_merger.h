// TableMerger: merges the small tables a level holds side by side into tables of full size.
//
// This store's keys mostly ascend, so a flushed table overlaps nothing below it and RocksDB moves
// it down the levels whole: every table stays the size it was flushed at, and a flush writes one
// for each family with something in its memtable, a few megabytes or less each time the
// memtables' budget fills. What RocksDB holds in memory for every table file (its metadata, the
// file's entry in each version of the tree) is some 0.9 KB, kept for as long as the table lives:
// scale_bench --steady 1800 ended with 7,000 tables, from 700 after its second minute, most of
// them 4 MB or less. The merger rewrites a run of such tables, side by side in one level, into
// tables of the target size in that same level (RocksDB's CompactFiles), on a thread of its own,
// after the compactions that move tables down.
#ifndef MW_ENGINE_STORAGE_TABLE_MERGER_H_
#define MW_ENGINE_STORAGE_TABLE_MERGER_H_

#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/metadata.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mw::storage {

class TableMerger : public rocksdb::EventListener {
 public:
  struct Options {
    uint64_t target_bytes = 16 << 20;  // what a merge writes each table up to
    uint64_t small_bytes = 8 << 20;    // a table below this is merged with its neighbours
    // And a run is cut at this many tables, whatever they hold: a family whose values are in
    // blob files (the ledger's blocks) flushes tables of some kilobytes, hundreds of which
    // would not reach target_bytes. Its merged table is merged again with the next ones.
    size_t max_run_tables = 64;
  };

  explicit TableMerger(Options options) : options_(options) {}
  ~TableMerger() override;

  // Starts merging on a thread of its own, in the families of `db` given, each time a
  // compaction into one of them ends. Stop before the families' handles are destroyed.
  void Start(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> families);
  // Waits for the merge in progress, if any, and merges no more. Safe to call twice.
  void Stop();
  // Waits until every family a compaction ended in has been merged (for tests).
  void Drain();

  // Merges every run of `family` now, on the caller's thread; returns the merges done. A run
  // that RocksDB is compacting meanwhile is left for the next time.
  int MergeRuns(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) const;

  // The runs to merge in `level` (its files in key order, as RocksDB lists a level below 0):
  // consecutive tables each smaller than small_bytes and none being compacted, cut once they
  // hold target_bytes together or number max_run_tables. A shorter run waits for more tables
  // beside it, so that a table of some size is rewritten once.
  static std::vector<std::vector<std::string>> Runs(const rocksdb::LevelMetaData& level,
                                                    const Options& options);

  void OnCompactionCompleted(rocksdb::DB* db, const rocksdb::CompactionJobInfo& info) override;

 private:
  void Loop();

  const Options options_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;  // by column family id
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::set<uint32_t> due_;  // ids of the families a compaction ended in since they were merged
  bool merging_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_TABLE_MERGER_H_
