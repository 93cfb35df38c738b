#include "worker-agent/state/roster.h"

#include <memory>

#include "engine/storage/keys.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"
#include "worker-agent/state/sign_in_code.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;

class RosterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    Reload();
  }
  void Reload() {
    roster_ = std::make_unique<Roster>(store_.get());
    load_ = roster_->Load();
  }
  v1::RosterEntry Add(const std::string& name, bool simulated = false) {
    v1::RosterEntry e;
    e.set_name(name);
    e.set_simulated(simulated);
    auto added = roster_->Add(e, 1'000);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : v1::RosterEntry();
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Roster> roster_;
  absl::Status load_;
};

TEST_F(RosterTest, AWorkerAddedGetsARandomPseudonymAndIsThereAfterARestart) {
  const v1::RosterEntry amina = Add("Amina");
  EXPECT_EQ(amina.pseudonym().size(), 11u);  // "w" and 10 hex digits
  EXPECT_EQ(amina.pseudonym()[0], 'w');
  EXPECT_EQ(amina.added_at_ms(), 1'000);
  EXPECT_NE(Add("Amina").pseudonym(), amina.pseudonym());
  Reload();
  ASSERT_TRUE(load_.ok()) << load_;
  ASSERT_NE(roster_->Find(amina.pseudonym()), nullptr);
  EXPECT_EQ(roster_->Find(amina.pseudonym())->name(), "Amina");
  EXPECT_EQ(roster_->All().size(), 2u);
}

TEST_F(RosterTest, AnUpdateIsDurableAndAnUnknownWorkerIsNotFound) {
  const v1::RosterEntry amina = Add("Amina");
  ASSERT_TRUE(
      roster_->Update(amina.pseudonym(), [](v1::RosterEntry* e) { e->set_ui_language("sw"); })
          .ok());
  Reload();
  EXPECT_EQ(roster_->Find(amina.pseudonym())->ui_language(), "sw");
  absl::Status unknown = roster_->Update("wnobody", [](v1::RosterEntry*) {});
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(), "no worker wnobody");
}

TEST_F(RosterTest, ASignInNumberIsTheWorkersOwnOrTheLowestNobodyHas) {
  const v1::RosterEntry amina = Add("Amina");
  const v1::RosterEntry baraka = Add("Baraka");
  EXPECT_EQ(roster_->SignInNumberFor(amina.pseudonym()).value(), kFirstSignInNumber);
  ASSERT_TRUE(roster_
                  ->Update(amina.pseudonym(),
                           [](v1::RosterEntry* e) { e->set_sign_in_number(kFirstSignInNumber); })
                  .ok());
  EXPECT_EQ(roster_->SignInNumberFor(amina.pseudonym()).value(), kFirstSignInNumber);
  EXPECT_EQ(roster_->SignInNumberFor(baraka.pseudonym()).value(), kFirstSignInNumber + 1);
  EXPECT_EQ(roster_->SignInNumberFor("wnobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(roster_->WithSignInNumber(kFirstSignInNumber)->pseudonym(), amina.pseudonym());
  EXPECT_FALSE(roster_->WithSignInNumber(kFirstSignInNumber + 1).has_value());
}

TEST_F(RosterTest, SimulatedWorkersCannotSignIn) {
  const v1::RosterEntry bot = Add("bot", /*simulated=*/true);
  ASSERT_TRUE(roster_
                  ->Update(bot.pseudonym(),
                           [](v1::RosterEntry* e) {
                             e->set_sign_in_number(kFirstSignInNumber);
                             e->set_sign_in_code_sha256("hash");
                           })
                  .ok());
  EXPECT_FALSE(roster_->WithSignInNumber(kFirstSignInNumber).has_value());
  EXPECT_FALSE(roster_->WithLegacyCode("hash").has_value());
}

TEST_F(RosterTest, APromotionIsWrittenWithTheBatchAndOnlyForANewcomer) {
  const v1::RosterEntry amina = Add("Amina");
  storage::Batch batch;
  auto trained = roster_->Promote(amina.pseudonym(), &batch);
  ASSERT_TRUE(trained.has_value());
  EXPECT_EQ(trained->training_level(), 1u);
  EXPECT_EQ(roster_->Find(amina.pseudonym())->training_level(), 0u);  // not until durable
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  roster_->Replace(*trained);
  EXPECT_EQ(roster_->Find(amina.pseudonym())->training_level(), 1u);
  storage::Batch again;
  EXPECT_FALSE(roster_->Promote(amina.pseudonym(), &again).has_value());
  EXPECT_FALSE(roster_->Promote("wnobody", &again).has_value());
  EXPECT_TRUE(again.Empty());
  Reload();
  EXPECT_EQ(roster_->Find(amina.pseudonym())->training_level(), 1u);
}

TEST_F(RosterTest, AnUnreadableEntryIsDataLossNamingIt) {
  storage::Batch batch;
  batch.Put(storage::Cf::kRoster, storage::keys::Roster("w1"), "\x01not a record");
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  Reload();
  EXPECT_EQ(load_.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(load_.message().find("roster record"), std::string::npos) << load_;
}

}  // namespace
}  // namespace mw::centre
