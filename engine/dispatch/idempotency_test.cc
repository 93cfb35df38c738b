#include "engine/dispatch/idempotency.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.pb.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

class IdempotencyTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    table_ = std::make_unique<IdempotencyTable>(store_.get());
  }
  void Write(storage::Batch batch) {
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<IdempotencyTable> table_;
};

v1::Job JobNamed(const std::string& id) {
  v1::Job job;
  job.set_id(id);
  return job;
}

TEST_F(IdempotencyTableTest, ReplyIsReplayedBeforeAndAfterItIsDurable) {
  EXPECT_FALSE(*table_->Seen("operator", "k1"));
  v1::Job none;
  EXPECT_FALSE(*table_->Replay("operator", "k1", "hash-a", &none));

  storage::Batch batch;
  const std::string pending =
      table_->Remember("operator", "k1", "hash-a", JobNamed("job-7"), 1000, &batch);
  EXPECT_EQ(table_->pending(), 1u);
  // Not in the store yet: the table answers from memory.
  v1::Job replayed;
  ASSERT_TRUE(*table_->Replay("operator", "k1", "hash-a", &replayed));
  EXPECT_EQ(replayed.id(), "job-7");
  EXPECT_TRUE(*table_->Seen("operator", "k1"));

  Write(std::move(batch));
  table_->Forget({pending});
  EXPECT_EQ(table_->pending(), 0u);
  v1::Job from_store;
  ASSERT_TRUE(*table_->Replay("operator", "k1", "hash-a", &from_store));
  EXPECT_EQ(from_store.id(), "job-7");
  // Keys are per principal.
  EXPECT_FALSE(*table_->Seen("centre-b", "k1"));
}

TEST_F(IdempotencyTableTest, AKeyReusedWithAnotherBodyIsAConflictNamingTheKey) {
  storage::Batch batch;
  table_->Remember("operator", "k1", "hash-a", JobNamed("job-7"), 1000, &batch);
  v1::Job reply;
  auto pending_conflict = table_->Replay("operator", "k1", "hash-b", &reply);
  EXPECT_EQ(pending_conflict.status().code(), absl::StatusCode::kAlreadyExists);
  Write(std::move(batch));
  table_->Forget({"i" + storage::keys::Idempotency("operator", "k1")});
  auto stored_conflict = table_->Replay("operator", "k1", "hash-b", &reply);
  EXPECT_EQ(stored_conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(stored_conflict.status().message(),
            "idempotency key \"k1\" was already used with a different request body");
}

TEST_F(IdempotencyTableTest, ResultReceiptsArePerCentreAndSurviveForget) {
  EXPECT_FALSE(table_->FindResult("nairobi", "r-1")->has_value());
  v1::ResultIdRecord rec;
  rec.set_body_sha256("h");
  rec.mutable_receipt()->set_status(v1::RECEIPT_ACCEPTED);
  storage::Batch batch;
  const std::string pending = table_->RememberResult("nairobi", "r-1", rec, &batch);
  auto found = table_->FindResult("nairobi", "r-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->receipt().status(), v1::RECEIPT_ACCEPTED);
  EXPECT_FALSE(table_->FindResult("mombasa", "r-1")->has_value());

  Write(std::move(batch));
  table_->Forget({pending});
  auto durable = table_->FindResult("nairobi", "r-1");
  ASSERT_TRUE(durable.ok() && durable->has_value());
  EXPECT_EQ((*durable)->body_sha256(), "h");
}

// A store written when result ids were keyed centre first: its ids are moved to the new keys
// as it opens, batch by batch, and found there; one that does not parse is named and stops it.
TEST_F(IdempotencyTableTest, ResultIdsKeyedCentreFirstAreMovedAndFoundUnderTheirNewKeys) {
  storage::Batch old;
  for (int i = 0; i < 5; ++i) {
    v1::ResultIdRecord rec;
    rec.set_body_sha256(absl::StrCat("h", i));
    rec.mutable_receipt()->set_status(v1::RECEIPT_ACCEPTED);
    old.PutRecord(
        storage::Cf::kResultIds,
        storage::keys::CentreFirstResultId(i % 2 ? "mombasa" : "nairobi", absl::StrCat("r-", i)),
        rec);
  }
  Write(std::move(old));
  EXPECT_FALSE(table_->FindResult("nairobi", "r-0")->has_value());

  auto moved = IdempotencyTable::MoveCentreFirstResultIds(store_.get(), 2);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, 5u);
  std::vector<std::string> keys;
  for (auto c = store_->Scan(storage::Cf::kResultIds, ""); c->Valid(); c->Next()) {
    keys.emplace_back(c->key());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{
                      storage::keys::ResultId("nairobi", "r-0"),
                      storage::keys::ResultId("mombasa", "r-1"),
                      storage::keys::ResultId("nairobi", "r-2"),
                      storage::keys::ResultId("mombasa", "r-3"),
                      storage::keys::ResultId("nairobi", "r-4"),
                  }));
  auto found = table_->FindResult("mombasa", "r-3");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->body_sha256(), "h3");
  EXPECT_FALSE(table_->FindResult("nairobi", "r-3")->has_value());
  EXPECT_EQ(*IdempotencyTable::MoveCentreFirstResultIds(store_.get()), 0u);

  storage::Batch bad;
  bad.Put(storage::Cf::kResultIds, std::string("\0\0\0\x09short", 9), "x");
  Write(std::move(bad));
  auto refused = IdempotencyTable::MoveCentreFirstResultIds(store_.get());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("\\x00\\x00\\x00\\tshort"), std::string::npos)
      << refused.status();
}

// A result that made a contribution is stored as that contribution's key: the receipt is kept
// once, in the contribution's record, and read from there once the result is durable.
TEST_F(IdempotencyTableTest, AResultsReceiptIsReadFromTheContributionThatHoldsIt) {
  const std::string key = storage::keys::Contribution("job-1", 1, 4, "amina");
  v1::ContributionRecord contribution;
  contribution.mutable_receipt()->set_result_id("r-1");
  contribution.mutable_receipt()->set_status(v1::RECEIPT_ACCEPTED);
  contribution.mutable_receipt()->set_wage_minor(37);
  contribution.mutable_receipt()->set_currency("KES");
  v1::ResultIdRecord rec;
  rec.set_body_sha256("h");
  *rec.mutable_receipt() = contribution.receipt();
  storage::Batch batch;
  const std::string pending = table_->RememberResult("nairobi", "r-1", rec, &batch, &key);
  batch.PutRecord(storage::Cf::kContributions, key, contribution);
  // From memory before the batch is durable: the receipt as given.
  auto queued = table_->FindResult("nairobi", "r-1");
  ASSERT_TRUE(queued.ok() && queued->has_value()) << queued.status();
  EXPECT_EQ((*queued)->receipt().wage_minor(), 37);

  Write(std::move(batch));
  table_->Forget({pending});
  // What is stored is the digest and the key, not the receipt.
  v1::ResultIdRecord stored;
  ASSERT_TRUE(
      store_->GetRecord(storage::Cf::kResultIds, storage::keys::ResultId("nairobi", "r-1"), &stored)
          .ok());
  EXPECT_FALSE(stored.has_receipt());
  EXPECT_EQ(stored.contribution_key(), key);
  EXPECT_EQ(stored.body_sha256(), "h");
  auto durable = table_->FindResult("nairobi", "r-1");
  ASSERT_TRUE(durable.ok() && durable->has_value()) << durable.status();
  EXPECT_EQ((*durable)->body_sha256(), "h");
  EXPECT_EQ((*durable)->receipt().SerializeAsString(), contribution.receipt().SerializeAsString());
}

TEST_F(IdempotencyTableTest, AResultNamingAContributionThatIsNotStoredIsDataLoss) {
  const std::string key = storage::keys::Contribution("job-1", 1, 4, "amina");
  v1::ResultIdRecord rec;
  rec.set_body_sha256("h");
  storage::Batch batch;
  const std::string pending = table_->RememberResult("nairobi", "r-1", rec, &batch, &key);
  Write(std::move(batch));  // without the contribution
  table_->Forget({pending});
  auto found = table_->FindResult("nairobi", "r-1");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(found.status().message().find("which is not stored"), absl::string_view::npos)
      << found.status();
}

TEST_F(IdempotencyTableTest, AContributionCountsFromItsNoteAndThenFromTheStore) {
  const std::string key = storage::keys::Contribution("job-1", 1, 4, "amina");
  EXPECT_FALSE(*table_->Contributed(key));
  const std::string pending = table_->NoteContribution(key);
  EXPECT_TRUE(*table_->Contributed(key));
  EXPECT_FALSE(*table_->Contributed(storage::keys::Contribution("job-1", 1, 4, "otieno")));
  table_->Forget({pending});
  EXPECT_FALSE(*table_->Contributed(key));  // never written
  storage::Batch batch;
  batch.Put(storage::Cf::kContributions, key, "");
  Write(std::move(batch));
  EXPECT_TRUE(*table_->Contributed(key));
}

// What ReadAhead learns holds however the records are then made: a result or contribution it
// found unrecorded and that is recorded since is found, from memory and, once written and
// forgotten, from the store; records in memory or in the store when it read are found as before.
TEST_F(IdempotencyTableTest, RecordsReadAheadAreFoundOnceMadeFromMemoryAndFromTheStore) {
  v1::ResultIdRecord rec;
  rec.set_body_sha256("h");
  const std::string stored_key = storage::keys::Contribution("job-1", 1, 1, "stored");
  const std::string noted_key = storage::keys::Contribution("job-1", 1, 2, "noted");
  const std::string new_key = storage::keys::Contribution("job-1", 1, 3, "new");
  storage::Batch written;
  const std::string stored = table_->RememberResult("nairobi", "r-stored", rec, &written);
  written.Put(storage::Cf::kContributions, stored_key, "");
  Write(std::move(written));
  table_->Forget({stored});
  storage::Batch queued;
  const std::string noted_result = table_->RememberResult("nairobi", "r-noted", rec, &queued);
  const std::string noted = table_->NoteContribution(noted_key);

  ASSERT_TRUE(
      table_
          ->ReadAhead("nairobi", {"r-stored", "r-noted", "r-new"}, {stored_key, noted_key, new_key})
          .ok());
  auto result_found = [&](const char* id) {
    auto found = table_->FindResult("nairobi", id);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() && found->has_value();
  };
  EXPECT_TRUE(result_found("r-stored"));
  EXPECT_TRUE(result_found("r-noted"));
  EXPECT_FALSE(result_found("r-new"));
  EXPECT_TRUE(*table_->Contributed(stored_key));
  EXPECT_TRUE(*table_->Contributed(noted_key));
  EXPECT_FALSE(*table_->Contributed(new_key));

  // The new ones recorded, written and forgotten: found in the store, not taken as unrecorded.
  const std::string new_result = table_->RememberResult("nairobi", "r-new", rec, &queued);
  const std::string new_contribution = table_->NoteContribution(new_key);
  queued.Put(storage::Cf::kContributions, noted_key, "");
  queued.Put(storage::Cf::kContributions, new_key, "");
  Write(std::move(queued));
  table_->Forget({noted_result, noted, new_result, new_contribution});
  EXPECT_EQ(table_->pending(), 0u);
  EXPECT_TRUE(result_found("r-new"));
  EXPECT_TRUE(result_found("r-noted"));
  EXPECT_TRUE(*table_->Contributed(new_key));
  EXPECT_TRUE(*table_->Contributed(noted_key));
}

// A call reads ahead while another call's result is still in memory; that result is forgotten
// (its batch durable) and dropped as this call makes its first record. Asked after, it is found
// in the store: what was read ahead said only that it was not new, never that it was absent.
TEST_F(IdempotencyTableTest, AResultDroppedAfterTheReadAheadIsFoundInTheStore) {
  v1::ResultIdRecord rec;
  rec.set_body_sha256("h1");
  rec.mutable_receipt()->set_status(v1::RECEIPT_ACCEPTED);
  storage::Batch first;
  const std::string pending = table_->RememberResult("nairobi", "r-1", rec, &first);
  Write(std::move(first));

  ASSERT_TRUE(table_->ReadAhead("nairobi", {"r-1", "r-2"}, {}).ok());
  table_->ForgetLater({pending});
  v1::ResultIdRecord second_rec;
  second_rec.set_body_sha256("h2");
  storage::Batch second;
  table_->RememberResult("nairobi", "r-2", second_rec, &second);  // drops r-1 from memory
  EXPECT_EQ(table_->pending(), 1u);
  auto found = table_->FindResult("nairobi", "r-1");
  ASSERT_TRUE(found.ok() && found->has_value()) << found.status();
  EXPECT_EQ((*found)->body_sha256(), "h1");
  EXPECT_EQ((*found)->receipt().status(), v1::RECEIPT_ACCEPTED);
}

// What a call forgets once durable, from any thread and without the engine's lock, leaves
// memory with the next record made; the store answers for it then, as memory did.
TEST_F(IdempotencyTableTest, WhatIsForgottenLaterLeavesMemoryWithTheNextRecordMade) {
  storage::Batch first;
  std::string pending =
      table_->Remember("centre:a", "k1", "hash-a", JobNamed("job-1"), 1000, &first);
  Write(std::move(first));
  std::thread other([&] { table_->ForgetLater({pending}); });
  other.join();
  EXPECT_EQ(table_->pending(), 1u);  // queued, not dropped yet
  v1::Job replayed;
  ASSERT_TRUE(*table_->Replay("centre:a", "k1", "hash-a", &replayed));
  EXPECT_EQ(replayed.id(), "job-1");

  storage::Batch second;
  table_->Remember("centre:a", "k2", "hash-b", JobNamed("job-2"), 1001, &second);
  EXPECT_EQ(table_->pending(), 1u);  // k2 only: k1 was dropped as k2 was made
  v1::Job from_store;
  ASSERT_TRUE(*table_->Replay("centre:a", "k1", "hash-a", &from_store));
  EXPECT_EQ(from_store.id(), "job-1");
  EXPECT_EQ(table_->Replay("centre:a", "k1", "hash-other", &from_store).status().code(),
            absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace mw::dispatch
