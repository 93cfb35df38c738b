#include "worker-agent/state/assignment_cache.h"

#include <memory>
#include <set>

#include "engine/storage/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

v1::Assignment Assignment(const std::string& worker, int item) {
  v1::Assignment a;
  a.set_task_id("job-1/label/" + std::to_string(item));
  a.set_assignment_id(a.task_id() + "@" + worker);
  a.set_job_id("job-1");
  a.set_stage("label");
  a.set_worker(worker);
  a.set_epoch(1);
  a.set_lease_expires_at_ms(1000 + item);
  return a;
}

v1::LeaseReply Reply(const std::string& worker, std::vector<int> items) {
  v1::LeaseReply r;
  for (int i : items) *r.add_assignments() = Assignment(worker, i);
  v1::StageSpec* s = r.add_specs();
  s->set_job_id("job-1");
  s->set_stage("label");
  s->mutable_human()->set_piece_rate_minor(5);
  return r;
}

std::vector<std::string> Ids(const std::vector<v1::CachedAssignment>& held) {
  std::vector<std::string> out;
  for (const auto& a : held) out.push_back(a.assignment().assignment_id());
  return out;
}

class AssignmentCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    Reload();
  }
  void Reload() {
    cache_ = std::make_unique<AssignmentCache>(store_.get());
    load_ = cache_->Load();
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<AssignmentCache> cache_;
  absl::Status load_;
};

TEST_F(AssignmentCacheTest, ALeaseRequestIsStoredBeforeItIsSentAndTheSameOneIsRetried) {
  v1::WorkerCredit credit;
  credit.set_worker("w1");
  credit.set_count(2);
  auto first = cache_->PendingLease({credit});
  ASSERT_TRUE(first.ok()) << first.status();
  Reload();  // the reply was lost, and the agent restarted
  v1::WorkerCredit other;
  other.set_worker("w2");
  auto retry = cache_->PendingLease({other});
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());  // byte for byte
  ASSERT_TRUE(cache_->SaveLease(Reply("w1", {2, 1})).ok());
  auto next = cache_->PendingLease({other});
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->idempotency_key(), first->idempotency_key());
  ASSERT_TRUE(cache_->AbandonLease().ok());
  Reload();
  EXPECT_NE(cache_->PendingLease({other})->idempotency_key(), next->idempotency_key());
}

TEST_F(AssignmentCacheTest, AssignmentsAreHeldInLeaseOrderWithTheirSpecAcrossARestart) {
  ASSERT_TRUE(cache_->SaveLease(Reply("w1", {2, 1})).ok());
  ASSERT_TRUE(cache_->SaveLease(Reply("w2", {3})).ok());
  EXPECT_EQ(cache_->HeldFor("w1"), 2u);
  Reload();
  ASSERT_TRUE(load_.ok()) << load_;
  EXPECT_THAT(Ids(cache_->HeldBy("w1")),
              ElementsAre("job-1/label/1@w1", "job-1/label/2@w1"));  // by lease expiry
  EXPECT_EQ(cache_->PeekNext("w1")->spec().human().piece_rate_minor(), 5);
  EXPECT_THAT(cache_->HeldIds(),
              UnorderedElementsAre("job-1/label/1@w1", "job-1/label/2@w1", "job-1/label/3@w2"));
  EXPECT_TRUE(cache_->OpenedIds().empty());
  EXPECT_EQ(cache_->OpenNext("w1", 5'000)->opened_at_ms(), 5'000);
  EXPECT_EQ(cache_->OpenNext("w1", 6'000)->opened_at_ms(), 5'000);  // opened once
  EXPECT_THAT(cache_->OpenedIds(), ElementsAre("job-1/label/1@w1"));
  EXPECT_FALSE(cache_->OpenNext("w9", 5'000).has_value());
}

TEST_F(AssignmentCacheTest, DroppedAndMovedAssignmentsStayThatWayAfterARestart) {
  ASSERT_TRUE(cache_->SaveLease(Reply("w1", {1, 2})).ok());
  ASSERT_TRUE(cache_->Drop({"job-1/label/1@w1", "not-held"}).ok());
  v1::ReassignReply moved;
  *moved.mutable_assignment() = Assignment("w2", 2);
  moved.mutable_spec()->set_stage("label");
  ASSERT_TRUE(cache_->Move("job-1/label/2@w1", moved).ok());
  EXPECT_EQ(cache_->Move("job-1/label/2@w1", moved).code(), absl::StatusCode::kNotFound);
  Reload();
  EXPECT_EQ(cache_->HeldFor("w1"), 0u);
  EXPECT_THAT(Ids(cache_->HeldBy("w2")), ElementsAre("job-1/label/2@w2"));
}

TEST_F(AssignmentCacheTest, AnAnsweredAssignmentLeavesWithTheAnswersWriteAndThenMemory) {
  ASSERT_TRUE(cache_->SaveLease(Reply("w1", {1})).ok());
  storage::Batch batch;
  cache_->PutAnswered("job-1/label/1@w1", &batch);
  cache_->PutAnswered("not-held", &batch);
  EXPECT_EQ(batch.Count(), 1u);
  EXPECT_NE(cache_->Find("job-1/label/1@w1"), nullptr);  // until the write is durable
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  cache_->Forget("job-1/label/1@w1");
  EXPECT_EQ(cache_->Find("job-1/label/1@w1"), nullptr);
  Reload();
  EXPECT_EQ(cache_->HeldFor("w1"), 0u);
}

TEST_F(AssignmentCacheTest, AWorkerIsGivenOnlyTasksWhoseMediaAreReadyAndEveryFileIsListedOnce) {
  v1::LeaseReply reply = Reply("w1", {1, 2, 3});
  // Items 1 and 3 show the same photo; item 2 another.
  for (int i : {0, 1, 2}) {
    v1::Field* f = reply.mutable_assignments(i)->mutable_item()->add_fields();
    f->set_name("photo");
    f->mutable_media()->set_sha256(i == 1 ? "b" : "a");
  }
  ASSERT_TRUE(cache_->SaveLease(reply).ok());
  std::vector<std::string> files;
  for (const v1::Media& m : cache_->HeldMedia()) files.push_back(m.sha256());
  EXPECT_THAT(files, ElementsAre("a", "b"));

  std::set<std::string> on_disk;
  cache_->set_ready([&](const v1::CachedAssignment& a) {
    for (const v1::Field& f : a.assignment().item().fields()) {
      if (f.has_media() && !on_disk.count(f.media().sha256())) return false;
    }
    return true;
  });
  EXPECT_FALSE(cache_->PeekNext("w1").has_value());
  EXPECT_FALSE(cache_->OpenNext("w1", 5).has_value());
  on_disk.insert("b");
  EXPECT_EQ(cache_->PeekNext("w1")->assignment().task_id(), "job-1/label/2");
  EXPECT_EQ(cache_->OpenNext("w1", 5)->assignment().task_id(), "job-1/label/2");
  // An older task becoming ready does not take the place of the one the worker has open.
  on_disk.insert("a");
  EXPECT_EQ(cache_->PeekNext("w1")->assignment().task_id(), "job-1/label/2");
  EXPECT_EQ(cache_->OpenNext("w1", 6)->opened_at_ms(), 5);
  ASSERT_TRUE(cache_->Drop({"job-1/label/2@w1"}).ok());
  EXPECT_EQ(cache_->OpenNext("w1", 7)->assignment().task_id(), "job-1/label/1");
  EXPECT_EQ(cache_->HeldFor("w1"), 2u);
}

TEST_F(AssignmentCacheTest, AnUnreadableAssignmentIsDataLossNamingIt) {
  storage::Batch batch;
  batch.Put(storage::Cf::kAssignments, storage::keys::CachedAssignment("a1"), "\x01not a record");
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  Reload();
  EXPECT_EQ(load_.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(load_.message().find("assignments record"), std::string::npos) << load_;
}

}  // namespace
}  // namespace mw::centre
