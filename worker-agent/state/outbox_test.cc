#include "worker-agent/state/outbox.h"

#include <memory>

#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;

v1::OutboxEntry Entry(const std::string& id, const std::string& worker, int64_t queued_at) {
  v1::OutboxEntry e;
  e.mutable_result()->set_result_id(id);
  e.mutable_result()->set_worker(worker);
  e.set_queued_at_ms(queued_at);
  return e;
}

v1::Receipt Receipt(const std::string& id, v1::ReceiptStatus status) {
  v1::Receipt r;
  r.set_result_id(id);
  r.set_status(status);
  r.set_detail("why");
  return r;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    Reload();
  }
  void Reload() {
    outbox_ = std::make_unique<Outbox>(store_.get());
    load_ = outbox_->Load();
  }
  // Saves `entry` the way AgentState does: begin, put, write, saved.
  void Save(const v1::OutboxEntry& entry) {
    std::optional<uint64_t> seq = outbox_->Begin(entry.result().result_id());
    ASSERT_TRUE(seq.has_value());
    storage::Batch batch;
    outbox_->Put(*seq, entry, &batch);
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
    outbox_->Saved(*seq, entry);
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Outbox> outbox_;
  absl::Status load_;
};

TEST_F(OutboxTest, AnAnswerIsSavedOnceAndWaitsInOrderAcrossARestart) {
  Save(Entry("r1", "w1", 10));
  Save(Entry("r2", "w2", 20));
  EXPECT_FALSE(outbox_->Begin("r1").has_value());  // saved already
  std::optional<uint64_t> r3 = outbox_->Begin("r3");
  ASSERT_TRUE(r3.has_value());
  EXPECT_FALSE(outbox_->Begin("r3").has_value());  // being saved
  outbox_->Abandon("r3");                          // its write failed
  EXPECT_TRUE(outbox_->Begin("r3").has_value());
  EXPECT_EQ(outbox_->saved(), 2u);
  Reload();
  ASSERT_TRUE(load_.ok()) << load_;
  auto pending = outbox_->Pending(10);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].result_id(), "r1");
  EXPECT_EQ(pending[1].result_id(), "r2");
  EXPECT_EQ(outbox_->Pending(1).size(), 1u);
  EXPECT_EQ(outbox_->PendingFor("w2").size(), 1u);
  EXPECT_EQ(outbox_->Stats().depth, 2u);
  EXPECT_EQ(outbox_->Stats().oldest_queued_at_ms, 10);
  Save(Entry("r4", "w1", 30));  // numbered after what was there
  EXPECT_EQ(outbox_->Pending(10).back().result_id(), "r4");
}

TEST_F(OutboxTest, AReceiptTakesAnAnswerOutAndARefusalKeepsItInQuarantine) {
  Save(Entry("r1", "w1", 10));
  Save(Entry("r2", "w1", 20));
  uint64_t seq1 = 0, seq2 = 0;
  ASSERT_NE(outbox_->Find("r1", &seq1), nullptr);
  ASSERT_NE(outbox_->Find("r2", &seq2), nullptr);
  EXPECT_EQ(outbox_->Find("r9", &seq1), nullptr);
  storage::Batch batch;
  outbox_->PutReceipt(seq1, Receipt("r1", v1::RECEIPT_ACCEPTED), /*refused=*/false, &batch);
  outbox_->PutReceipt(seq2, Receipt("r2", v1::RECEIPT_QUARANTINED), /*refused=*/true, &batch);
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  outbox_->Done(seq1, false);
  outbox_->Done(seq2, true);
  EXPECT_EQ(outbox_->Stats().depth, 0u);
  EXPECT_EQ(outbox_->Stats().quarantined, 1u);
  Reload();
  EXPECT_TRUE(outbox_->Pending(10).empty());
  EXPECT_EQ(outbox_->Stats().quarantined, 1u);
  auto q = outbox_->Quarantined();
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].result().result_id(), "r2");
  EXPECT_EQ((*q)[0].receipt().detail(), "why");
}

TEST_F(OutboxTest, AnUnreadableEntryIsDataLossNamingIt) {
  for (auto cf : {storage::Cf::kOutbox, storage::Cf::kQuarantine}) {
    storage::Batch batch;
    batch.Put(cf, storage::keys::Outbox(7), "\x01not a record");
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
    Reload();
    EXPECT_EQ(load_.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(load_.message().find(absl::StrCat(storage::CfName(cf), " record")), std::string::npos)
        << load_;
    storage::Batch mend;
    mend.Delete(cf, storage::keys::Outbox(7));
    ASSERT_TRUE(store_->Write(std::move(mend), storage::Durability::kSynced).ok());
  }
  Reload();
  EXPECT_TRUE(load_.ok()) << load_;
}

}  // namespace
}  // namespace mw::centre
