#include "worker-agent/state/reservation_book.h"

#include <memory>
#include <set>

#include "engine/storage/keys.h"
#include "engine/storage/record.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;

const std::set<std::string> kRoster = {"amina", "otieno", "wanjiru"};

bool OnRoster(const std::string& w) { return kRoster.count(w) > 0; }

v1::StageReservation Reservation(const std::string& stage, std::vector<std::string> workers,
                                 uint64_t first = 0, uint64_t last = 0) {
  v1::StageReservation r;
  r.set_stage(stage);
  for (auto& w : workers) r.add_workers(w);
  r.set_reserved_by("manager grace");
  if (last > 0) {
    r.set_batch(true);
    r.set_first_item(first);
    r.set_last_item(last);
  }
  return r;
}

v1::Team Team(const std::string& name, std::vector<std::string> members) {
  v1::Team t;
  t.set_name(name);
  for (auto& m : members) t.add_members(m);
  t.set_made_by("manager grace");
  return t;
}

class ReservationBookTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    book_.reset();
    store_.reset();
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    book_ = std::make_unique<ReservationBook>(store_.get(), &clock_);
    load_ = book_->Load();
  }

  mw::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ReservationBook> book_;
  absl::Status load_;
};

TEST_F(ReservationBookTest, ReservationsAndTeamsSurviveARestartInTheirOwnFamilies) {
  ASSERT_TRUE(load_.ok());
  ASSERT_TRUE(book_->SaveTeam(Team("night-shift", {"otieno", "wanjiru"}), OnRoster).ok());
  ASSERT_TRUE(book_->Reserve(Reservation("job-1/label", {"amina"}), OnRoster).ok());
  Reopen();
  ASSERT_TRUE(load_.ok());
  ASSERT_EQ(book_->Reservations().size(), 1u);
  EXPECT_EQ(book_->Reservations()[0].reserved_at_ms(), clock_.NowMs());
  ASSERT_EQ(book_->Teams().size(), 1u);
  EXPECT_EQ(book_->FindTeam("night-shift")->members_size(), 2);
  EXPECT_FALSE(book_->FindTeam("day-shift").has_value());
  v1::StageReservation stored;
  EXPECT_TRUE(store_
                  ->GetRecord(storage::Cf::kReservations, storage::keys::Reservation("job-1/label"),
                              &stored)
                  .ok());
}

TEST_F(ReservationBookTest, WhatAnOlderAgentKeptInMetaMovesOverOnce) {
  storage::Batch batch;
  batch.PutRecord(storage::Cf::kMeta, storage::keys::Reservation("job-1/label"),
                  Reservation("job-1/label", {"amina"}));
  batch.PutRecord(storage::Cf::kMeta, storage::keys::Team("night-shift"),
                  Team("night-shift", {"otieno"}));
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  Reopen();
  ASSERT_TRUE(load_.ok()) << load_;
  ASSERT_EQ(book_->Reservations().size(), 1u);
  EXPECT_EQ(book_->Reservations()[0].workers(0), "amina");
  ASSERT_EQ(book_->Teams().size(), 1u);
  EXPECT_FALSE(store_->Scan(storage::Cf::kMeta, storage::keys::ReservationPrefix())->Valid());
  EXPECT_FALSE(store_->Scan(storage::Cf::kMeta, storage::keys::TeamPrefix())->Valid());
  Reopen();  // nothing left to move; nothing lost
  EXPECT_EQ(book_->Reservations().size(), 1u);
  EXPECT_EQ(book_->Teams().size(), 1u);
}

TEST_F(ReservationBookTest, AnUnreadableTeamIsDataLossNamingIt) {
  storage::Batch batch;
  batch.Put(storage::Cf::kTeams, storage::keys::Team("x"), "\x01not a record");
  ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  Reopen();
  EXPECT_EQ(load_.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(load_.message().find("teams record \"team/x\""), std::string::npos) << load_;
}

TEST_F(ReservationBookTest, BadReservationsAreRefusedNamingWhatIsWrongAndChangeNothing) {
  ASSERT_TRUE(book_->Reserve(Reservation("job-1/label", {"amina"}, 1, 50), OnRoster).ok());
  auto refused = [&](v1::StageReservation r) {
    return std::string(book_->Reserve(std::move(r), OnRoster).message());
  };
  EXPECT_EQ(refused(Reservation("label", {"amina"})),
            "stage: expected <job>/<stage>, such as job-1/label, got \"label\"");
  EXPECT_EQ(refused(Reservation("job-1/label", {})), "workers: choose at least one, or a team");
  EXPECT_EQ(refused(Reservation("job-1/label", {"baraka"})), "no worker baraka");
  EXPECT_EQ(refused(Reservation("job-1/label", {"otieno"}, 9, 3)),
            "items: the first (9) is after the last (3)");
  EXPECT_EQ(refused(Reservation("job-1/label", {"otieno"}, 40, 60)),
            "items: job-1/label#1-50 is reserved already; open it to everyone first");
  EXPECT_EQ(refused(Reservation("job-1/label", {"otieno"})),
            "items: job-1/label#1-50 is reserved already; open it to everyone first");
  v1::StageReservation by_team = Reservation("job-1/check", {});
  by_team.set_team("day-shift");
  EXPECT_EQ(refused(by_team), "team: no team day-shift");
  ASSERT_EQ(book_->Reservations().size(), 1u);
  // A batch beside it, and another stage, are fine.
  EXPECT_TRUE(book_->Reserve(Reservation("job-1/label", {"otieno"}, 51, 60), OnRoster).ok());
  EXPECT_TRUE(book_->Reserve(Reservation("job-1/check", {"otieno"}), OnRoster).ok());
  EXPECT_EQ(book_->Reservations().size(), 3u);
}

TEST_F(ReservationBookTest, OthersSeeWhatIsReservedForSomeoneElseByNameOrTeam) {
  ASSERT_TRUE(book_->SaveTeam(Team("night-shift", {"otieno"}), OnRoster).ok());
  v1::StageReservation for_team = Reservation("job-1/check", {});
  for_team.set_team("night-shift");
  ASSERT_TRUE(book_->Reserve(for_team, OnRoster).ok());
  ASSERT_TRUE(book_->Reserve(Reservation("job-1/label", {"amina"}, 1, 50), OnRoster).ok());

  const ReservationBook::Reserved for_wanjiru = book_->ReservedForOthers("wanjiru");
  EXPECT_EQ(for_wanjiru.stages, std::vector<std::string>{"job-1/check"});
  ASSERT_EQ(for_wanjiru.batches.size(), 1u);
  EXPECT_EQ(for_wanjiru.batches[0].first_item(), 1u);
  EXPECT_EQ(for_wanjiru.batches[0].last_item(), 50u);
  const ReservationBook::Reserved for_otieno = book_->ReservedForOthers("otieno");
  EXPECT_TRUE(for_otieno.stages.empty());  // his team's
  EXPECT_EQ(for_otieno.batches.size(), 1u);
  EXPECT_EQ(book_->ReservedForOthers("amina").stages.size(), 1u);
  EXPECT_TRUE(book_->ReservedForOthers("amina").batches.empty());
}

TEST_F(ReservationBookTest, ATeamInUseCannotBeDisbandedUntilItsReservationIsCleared) {
  EXPECT_EQ(book_->SaveTeam(Team("Night Shift!", {"otieno"}), OnRoster).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_->SaveTeam(Team("night-shift", {"baraka"}), OnRoster).message(),
            "no worker baraka");
  ASSERT_TRUE(book_->SaveTeam(Team("night-shift", {"otieno"}), OnRoster).ok());
  v1::StageReservation for_team = Reservation("job-1/check", {});
  for_team.set_team("night-shift");
  ASSERT_TRUE(book_->Reserve(for_team, OnRoster).ok());
  absl::Status s = book_->DisbandTeam("night-shift");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "team night-shift: job-1/check is reserved for it; open that to everyone first");
  ASSERT_TRUE(book_->Clear("job-1/check").ok());
  ASSERT_TRUE(book_->DisbandTeam("night-shift").ok());
  EXPECT_TRUE(book_->Teams().empty());
}

}  // namespace
}  // namespace mw::centre
