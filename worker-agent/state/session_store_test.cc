#include "worker-agent/state/session_store.h"

#include <memory>

#include "engine/storage/keys.h"
#include "engine/storage/record.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;

v1::WebSession Session(const std::string& worker, int64_t created) {
  v1::WebSession s;
  s.set_worker(worker);
  s.set_created_at_ms(created);
  return s;
}

class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    sessions_.reset();
    store_.reset();
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    sessions_ = std::make_unique<SessionStore>(store_.get());
    load_ = sessions_->Load();
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<SessionStore> sessions_;
  absl::Status load_;
};

TEST_F(SessionStoreTest, SessionsSurviveARestartAndAreDeletedByChoice) {
  ASSERT_TRUE(sessions_->Save("aa", Session("amina", 1)).ok());
  ASSERT_TRUE(sessions_->Save("bb", Session("otieno", 2)).ok());
  ASSERT_TRUE(sessions_->Save("cc", Session("amina", 3)).ok());
  Reopen();
  ASSERT_TRUE(load_.ok());
  ASSERT_EQ(sessions_->All().size(), 3u);
  EXPECT_EQ(sessions_->All()[1].first, "bb");
  EXPECT_EQ(sessions_->All()[1].second.worker(), "otieno");
  // A new sign-in code ends every session of its worker.
  ASSERT_TRUE(sessions_
                  ->Delete([](const std::string&, const v1::WebSession& s) {
                    return s.worker() == "amina";
                  })
                  .ok());
  Reopen();
  ASSERT_EQ(sessions_->All().size(), 1u);
  EXPECT_EQ(sessions_->All()[0].first, "bb");
}

TEST_F(SessionStoreTest, SessionsAnOlderAgentKeptInMetaMoveOverOnce) {
  storage::Batch batch;
  batch.PutRecord(storage::Cf::kMeta, storage::keys::WebSession("aa"), Session("amina", 1));
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  Reopen();
  ASSERT_TRUE(load_.ok()) << load_;
  ASSERT_EQ(sessions_->All().size(), 1u);
  EXPECT_EQ(sessions_->All()[0].second.worker(), "amina");
  EXPECT_FALSE(store_->Scan(storage::Cf::kMeta, storage::keys::WebSessionPrefix())->Valid());
}

TEST_F(SessionStoreTest, AnUnreadableSessionIsDataLossNamingIt) {
  storage::Batch batch;
  batch.Put(storage::Cf::kSessions, storage::keys::WebSession("ab"), "\x01not a record");
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  Reopen();
  EXPECT_EQ(load_.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(load_.message().find("sessions record"), std::string::npos) << load_;
}

}  // namespace
}  // namespace mw::centre
