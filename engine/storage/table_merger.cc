#include "engine/storage/table_merger.h"

#include <rocksdb/options.h>

#include <utility>

namespace mw::storage {

TableMerger::~TableMerger() { Stop(); }

void TableMerger::Start(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> families) {
  db_ = db;
  for (rocksdb::ColumnFamilyHandle* h : families) {
    if (h == nullptr) continue;
    if (families_.size() <= h->GetID()) families_.resize(h->GetID() + 1, nullptr);
    families_[h->GetID()] = h;
  }
  thread_ = std::thread([this] { Loop(); });
}

void TableMerger::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TableMerger::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [&] { return stopping_ || (due_.empty() && !merging_); });
}

void TableMerger::OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo& info) {
  // Not after the merges' own (CompactFiles' reason), nor a level 0 one.
  if (!info.status.ok() || info.output_level == 0 ||
      info.compaction_reason == rocksdb::CompactionReason::kManualCompaction) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    due_.insert(info.cf_id);
  }
  wake_.notify_one();
}

void TableMerger::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    idle_.notify_all();
    wake_.wait(lock, [&] { return stopping_ || !due_.empty(); });
    if (stopping_) break;
    const uint32_t id = *due_.begin();
    due_.erase(due_.begin());
    merging_ = true;
    lock.unlock();
    if (id < families_.size() && families_[id] != nullptr) MergeRuns(db_, families_[id]);
    lock.lock();
    merging_ = false;
  }
  idle_.notify_all();
}

int TableMerger::MergeRuns(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) const {
  rocksdb::ColumnFamilyMetaData meta;
  db->GetColumnFamilyMetaData(family, &meta);
  rocksdb::CompactionOptions compaction;
  compaction.compression = rocksdb::kDisableCompressionOption;  // the family's own
  compaction.output_file_size_limit = options_.target_bytes;
  int merged = 0;
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    if (level.level == 0) continue;  // its tables may overlap: RocksDB's own compactions' work
    for (const std::vector<std::string>& run : Runs(level, options_)) {
      // Fails when RocksDB took one of the tables for a compaction since the listing; they are
      // in that compaction's output, listed again after it.
      if (db->CompactFiles(compaction, family, run, level.level).ok()) ++merged;
    }
  }
  return merged;
}

std::vector<std::vector<std::string>> TableMerger::Runs(const rocksdb::LevelMetaData& level,
                                                        const Options& options) {
  std::vector<std::vector<std::string>> runs;
  std::vector<std::string> run;
  uint64_t bytes = 0;
  for (const rocksdb::SstFileMetaData& file : level.files) {
    if (file.size >= options.small_bytes || file.being_compacted) {
      run.clear();
      bytes = 0;
      continue;
    }
    run.push_back(file.relative_filename);
    bytes += file.size;
    if (bytes >= options.target_bytes || run.size() >= options.max_run_tables) {
      if (run.size() > 1) runs.push_back(std::move(run));
      run.clear();
      bytes = 0;
    }
  }
  return runs;
}

}  // namespace mw::storage
