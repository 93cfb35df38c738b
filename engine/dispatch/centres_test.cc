#include "engine/dispatch/centres.h"

#include <memory>

#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

v1::Centre MakeCentre(const std::string& id, uint32_t weight, uint32_t share) {
  v1::Centre c;
  c.set_id(id);
  c.set_currency("KES");
  c.set_share_weight(weight);
  c.set_centre_share_per_mille(share);
  return c;
}

class CentreDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    centres_ = std::make_unique<CentreDirectory>();
    ASSERT_TRUE(centres_->Load(store_.get()).ok());
  }
  void Write(storage::Batch batch) {
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<CentreDirectory> centres_;  // anew for each Reopen (it holds a mutex)
};

TEST_F(CentreDirectoryTest, AddedCentreAuthenticatesWithItsCredentialAcrossReopen) {
  storage::Batch batch;
  ASSERT_TRUE(centres_->Add(MakeCentre("nairobi", 2, 150), "key-1", 1000, &batch).ok());
  Write(std::move(batch));
  const std::string credential = centres_->CurrentCredential("nairobi", "key-1");
  ASSERT_EQ(credential.substr(0, 4), "mwc_");
  EXPECT_EQ(credential.size(), 44u);
  EXPECT_EQ(*centres_->Authenticate(credential), "nairobi");

  Reopen();  // the secret and the record came back from the store
  EXPECT_EQ(centres_->CurrentCredential("nairobi", "key-1"), credential);
  EXPECT_EQ(*centres_->Authenticate(credential), "nairobi");
  EXPECT_EQ(centres_->ShareWeight("nairobi"), 2u);
  EXPECT_EQ(centres_->SharePerMille("nairobi"), 150u);
}

TEST_F(CentreDirectoryTest, UnknownEmptyAndForeignCredentialsAreRefused) {
  storage::Batch batch;
  ASSERT_TRUE(centres_->Add(MakeCentre("nairobi", 0, 0), "key-1", 1000, &batch).ok());
  EXPECT_EQ(centres_->Authenticate("").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(centres_->Authenticate("mwc_0000").status().code(), absl::StatusCode::kUnauthenticated);
  // Another directory (another dispatcher's secret) derives another credential.
  mw::testing::TempDir other_dir;
  auto other_store = storage::Store::Open(other_dir.Sub("db"), storage::Schema::kDispatcher);
  ASSERT_TRUE(other_store.ok());
  CentreDirectory other;
  ASSERT_TRUE(other.Load(other_store->get()).ok());
  storage::Batch other_batch;
  ASSERT_TRUE(other.Add(MakeCentre("nairobi", 0, 0), "key-1", 1000, &other_batch).ok());
  EXPECT_EQ(centres_->Authenticate(other.CurrentCredential("nairobi", "key-1")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(CentreDirectoryTest, AddingATakenIdChangesNothing) {
  storage::Batch batch;
  ASSERT_TRUE(centres_->Add(MakeCentre("nairobi", 3, 0), "key-1", 1000, &batch).ok());
  storage::Batch again;
  absl::Status s = centres_->Add(MakeCentre("nairobi", 9, 0), "key-2", 2000, &again);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "centre nairobi exists");
  EXPECT_TRUE(again.Empty());
  EXPECT_EQ(centres_->ShareWeight("nairobi"), 3u);
  EXPECT_EQ(centres_->CurrentCredential("nairobi", "key-2"), "");
}

TEST_F(CentreDirectoryTest, RotationRefusesTheOldCredentialAcrossReopen) {
  storage::Batch batch;
  ASSERT_TRUE(centres_->Add(MakeCentre("nairobi", 0, 0), "key-1", 1000, &batch).ok());
  Write(std::move(batch));
  const std::string old_credential = centres_->CurrentCredential("nairobi", "key-1");
  storage::Batch rotate;
  auto rotated = centres_->Rotate("nairobi", "rotate:k", &rotate);
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->id(), "nairobi");
  Write(std::move(rotate));
  const std::string new_credential = centres_->CurrentCredential("nairobi", "rotate:k");
  ASSERT_NE(new_credential, "");
  EXPECT_EQ(centres_->CurrentCredential("nairobi", "key-1"), "");

  Reopen();
  EXPECT_EQ(centres_->Authenticate(old_credential).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(*centres_->Authenticate(new_credential), "nairobi");
  storage::Batch unknown;
  EXPECT_EQ(centres_->Rotate("mombasa", "rotate:k", &unknown).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CentreDirectoryTest, OnDutyIsTheLastRegistrationAndUnknownsHaveDefaults) {
  storage::Batch batch;
  ASSERT_TRUE(centres_->Add(MakeCentre("nairobi", 0, 0), "key-1", 1000, &batch).ok());
  google::protobuf::RepeatedPtrField<v1::WorkerOnDuty> workers;
  workers.Add()->set_worker("amina");
  workers.Add()->set_worker("otieno");
  ASSERT_TRUE(centres_->SetOnDuty("nairobi", workers, &batch).ok());
  Write(std::move(batch));
  Reopen();
  ASSERT_NE(centres_->OnDuty("nairobi", "otieno"), nullptr);
  EXPECT_EQ(centres_->OnDuty("nairobi", "otieno")->worker(), "otieno");
  EXPECT_EQ(centres_->OnDuty("nairobi", "baraka"), nullptr);
  EXPECT_EQ(centres_->OnDuty("mombasa", "amina"), nullptr);
  EXPECT_EQ(centres_->ShareWeight("nairobi"), 1u);  // 0 counts as 1
  EXPECT_EQ(centres_->ShareWeight("mombasa"), 1u);
  EXPECT_EQ(centres_->SharePerMille("mombasa"), 0u);
  storage::Batch unknown;
  EXPECT_EQ(centres_->SetOnDuty("mombasa", workers, &unknown).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CentreDirectoryTest, SortedListsEveryCentreById) {
  storage::Batch batch;
  for (const char* id : {"mombasa", "kisumu", "nairobi"}) {
    ASSERT_TRUE(centres_->Add(MakeCentre(id, 0, 0), id, 1000, &batch).ok());
  }
  std::vector<std::string> ids;
  for (const auto& c : centres_->Sorted()) ids.push_back(c.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"kisumu", "mombasa", "nairobi"}));
}

}  // namespace
}  // namespace mw::dispatch
