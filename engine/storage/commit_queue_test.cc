#include "engine/storage/commit_queue.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::storage {
namespace {

TEST(CommitQueueTest, EveryTicketBecomesDurableInOrder) {
  mw::testing::TempDir dir;
  auto store = Store::Open(dir.Sub("db"), Schema::kDispatcher);
  ASSERT_TRUE(store.ok());
  {
    CommitQueue queue(store->get());
    constexpr int kThreads = 4, kPerThread = 50;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Batch b;
          b.Put(Cf::kMeta, absl::StrCat("t", t, "-", i), "x");
          // The last writer of "last" wins: order on disk must equal ticket order.
          const uint64_t ticket = queue.Enqueue(std::move(b));
          ASSERT_TRUE(queue.WaitDurable(ticket).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(queue.LastTicket(), uint64_t{kThreads * kPerThread});
    EXPECT_LE(queue.groups_written(), uint64_t{kThreads * kPerThread});
  }
  int count = 0;
  for (auto c = (*store)->Scan(Cf::kMeta, "t"); c->Valid(); c->Next()) ++count;
  EXPECT_EQ(count, 200);
}

// What DurableTicket says is durable can be read back; what waits behind a paused writer is not
// counted.
TEST(CommitQueueTest, TheDurableTicketCountsOnlyBatchesReadableFromTheStore) {
  mw::testing::TempDir dir;
  auto store = Store::Open(dir.Sub("db"), Schema::kDispatcher);
  ASSERT_TRUE(store.ok());
  CommitQueue queue(store->get());
  EXPECT_EQ(queue.DurableTicket(), 0u);
  Batch first;
  first.Put(Cf::kMeta, "first", "1");
  ASSERT_TRUE(queue.WaitDurable(queue.Enqueue(std::move(first))).ok());
  EXPECT_EQ(queue.DurableTicket(), 1u);
  queue.Pause();
  Batch second;
  second.Put(Cf::kMeta, "second", "2");
  const uint64_t ticket = queue.Enqueue(std::move(second));
  queue.AwaitWaitingBytes(1);
  EXPECT_EQ(ticket, 2u);
  EXPECT_EQ(queue.DurableTicket(), 1u);
  EXPECT_FALSE((*store)->Get(Cf::kMeta, "second")->has_value());
  queue.Resume();
  ASSERT_TRUE(queue.WaitDurable(ticket).ok());
  EXPECT_EQ(queue.DurableTicket(), 2u);
  EXPECT_EQ((*store)->Get(Cf::kMeta, "second")->value_or(""), "2");
}

TEST(CommitQueueTest, LaterBatchOverwritesEarlierOne) {
  mw::testing::TempDir dir;
  auto store = Store::Open(dir.Sub("db"), Schema::kDispatcher);
  ASSERT_TRUE(store.ok());
  CommitQueue queue(store->get());
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    Batch b;
    b.Put(Cf::kMeta, "k", absl::StrCat(i));
    last = queue.Enqueue(std::move(b));
  }
  ASSERT_TRUE(queue.WaitDurable(last).ok());
  EXPECT_EQ(**(*store)->Get(Cf::kMeta, "k"), "99");
}

TEST(CommitQueueTest, WaitingBytesCountWhatIsNotYetDurable) {
  mw::testing::TempDir dir;
  auto store = Store::Open(dir.Sub("db"), Schema::kDispatcher);
  ASSERT_TRUE(store.ok());
  CommitQueue queue(store->get());
  queue.Pause();
  Batch a, b;
  a.Put(Cf::kMeta, "a", "1");
  b.Put(Cf::kMeta, "b", std::string(100, 'x'));
  const uint64_t bytes = a.ByteSize() + b.ByteSize();
  queue.Enqueue(std::move(a));
  const uint64_t last = queue.Enqueue(std::move(b));
  queue.AwaitWaitingBytes(bytes);
  EXPECT_EQ(queue.WaitingBytes(), bytes);
  EXPECT_FALSE((*store)->Get(Cf::kMeta, "a")->has_value());  // paused: nothing written
  queue.Resume();
  ASSERT_TRUE(queue.WaitDurable(last).ok());
  EXPECT_EQ(queue.WaitingBytes(), 0u);
  EXPECT_EQ(**(*store)->Get(Cf::kMeta, "b"), std::string(100, 'x'));
}

}  // namespace
}  // namespace mw::storage
