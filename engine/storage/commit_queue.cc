#include "engine/storage/commit_queue.h"

namespace mw::storage {

CommitQueue::CommitQueue(Store* store) : store_(store), writer_([this] { Run(); }) {}

CommitQueue::~CommitQueue() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

uint64_t CommitQueue::Enqueue(Batch batch) {
  absl::MutexLock l(&mu_);
  waiting_bytes_ += batch.ByteSize();
  pending_.push_back(std::move(batch));
  return ++enqueued_;
}

absl::Status CommitQueue::WaitDurable(uint64_t ticket) {
  absl::MutexLock l(&mu_);
  auto done = [this, ticket]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return durable_ >= ticket || !error_.ok(); };
  mu_.Await(absl::Condition(&done));
  return error_;
}

uint64_t CommitQueue::LastTicket() const {
  absl::MutexLock l(&mu_);
  return enqueued_;
}

uint64_t CommitQueue::DurableTicket() const {
  absl::MutexLock l(&mu_);
  return durable_;
}

uint64_t CommitQueue::groups_written() const {
  absl::MutexLock l(&mu_);
  return groups_;
}

uint64_t CommitQueue::WaitingBytes() const {
  absl::MutexLock l(&mu_);
  return waiting_bytes_;
}

void CommitQueue::Pause() {
  absl::MutexLock l(&mu_);
  paused_ = true;
}

void CommitQueue::Resume() {
  absl::MutexLock l(&mu_);
  paused_ = false;
}

void CommitQueue::AwaitWaitingBytes(uint64_t bytes) const {
  absl::MutexLock l(&mu_);
  auto enough = [this, bytes]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiting_bytes_ >= bytes; };
  mu_.Await(absl::Condition(&enough));
}

void CommitQueue::Run() {
  for (;;) {
    std::vector<Batch> group;
    uint64_t last;
    absl::Status prior;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return (!pending_.empty() && !paused_) || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (pending_.empty()) return;  // stopping, and nothing left to write
      group.swap(pending_);
      last = enqueued_;
      prior = error_;
    }
    // A failed group leaves durable_ where it was and makes the error sticky.
    absl::Status s = prior.ok() ? store_->WriteGroup(group, Durability::kSynced) : prior;
    uint64_t bytes = 0;
    for (const Batch& b : group) bytes += b.ByteSize();
    absl::MutexLock l(&mu_);
    waiting_bytes_ -= bytes;
    if (s.ok()) {
      durable_ = last;
      ++groups_;
    } else if (error_.ok()) {
      error_ = s;
    }
  }
}

}  // namespace mw::storage
