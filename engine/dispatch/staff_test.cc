#include "engine/dispatch/staff.h"

#include <memory>

#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

class StaffDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kDispatcher);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    staff_ = std::make_unique<StaffDirectory>();
    ASSERT_TRUE(staff_->Load(store_.get()).ok());
  }
  void Write(storage::Batch batch) {
    ASSERT_TRUE(store_->Write(std::move(batch), storage::Durability::kSynced).ok());
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<StaffDirectory> staff_;  // anew for each Reopen (it holds a mutex)
};

TEST_F(StaffDirectoryTest, EachPersonSignsInWithTheirOwnCredentialAcrossARestart) {
  storage::Batch b;
  std::string credential;
  auto added = staff_->Add("wanjiru", {v1::STAFF_FINANCE, v1::STAFF_AUDITOR, v1::STAFF_FINANCE},
                           "operator", 1000, &b, &credential);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->roles_size(), 2);  // duplicates dropped, sorted
  EXPECT_EQ(added->roles(0), v1::STAFF_FINANCE);
  EXPECT_EQ(added->roles(1), v1::STAFF_AUDITOR);
  EXPECT_EQ(added->created_by(), "operator");
  Write(std::move(b));
  ASSERT_EQ(credential.size(), 44u);
  ASSERT_EQ(credential.substr(0, 4), "mws_");

  Reopen();
  auto who = staff_->Authenticate(credential);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->name(), "wanjiru");
  EXPECT_TRUE(HasRole(*who, v1::STAFF_FINANCE));
  EXPECT_FALSE(HasRole(*who, v1::STAFF_OPERATOR));
  EXPECT_EQ(staff_->Authenticate("").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(staff_->Authenticate(credential + "x").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(StaffDirectoryTest, BadNamesAndRolesAndTakenNamesChangeNothing) {
  storage::Batch b;
  std::string c;
  EXPECT_EQ(staff_->Add("Wanjiru Kamau", {v1::STAFF_FINANCE}, "operator", 1, &b, &c).status(),
            absl::InvalidArgumentError("name: expected 1-40 of a-z, 0-9, _ or -"));
  EXPECT_EQ(
      staff_->Add("wanjiru", {}, "operator", 1, &b, &c).status(),
      absl::InvalidArgumentError("roles: expected at least one of operator, finance, auditor"));
  EXPECT_EQ(staff_->Add("wanjiru", {static_cast<v1::StaffRole>(9)}, "operator", 1, &b, &c).status(),
            absl::InvalidArgumentError("roles: 9 is not operator, finance or auditor"));
  EXPECT_EQ(staff_->Add("operator", {v1::STAFF_FINANCE}, "operator", 1, &b, &c).status(),
            absl::AlreadyExistsError("operator is a reserved name"));
  EXPECT_EQ(staff_->Add("system", {v1::STAFF_FINANCE}, "operator", 1, &b, &c).status(),
            absl::AlreadyExistsError("system is a reserved name"));
  EXPECT_EQ(c, "");
  EXPECT_EQ(b.Count(), 0u);
  EXPECT_TRUE(staff_->Sorted().empty());
  ASSERT_TRUE(staff_->Add("baraka", {v1::STAFF_OPERATOR}, "operator", 1, &b, &c).ok());
  ASSERT_TRUE(staff_->Revoke("baraka", "operator", 2, &b).ok());
  // A revoked name is never given to somebody else.
  EXPECT_EQ(staff_->Add("baraka", {v1::STAFF_FINANCE}, "operator", 3, &b, &c).status(),
            absl::AlreadyExistsError("staff baraka exists (names are never reused)"));
}

TEST_F(StaffDirectoryTest, RotatingAndRevokingRefuseTheOldCredentialForGood) {
  storage::Batch b;
  std::string first, second;
  ASSERT_TRUE(staff_->Add("amina", {v1::STAFF_AUDITOR}, "operator", 1, &b, &first).ok());
  EXPECT_TRUE(IssuedBy(*staff_->Find("amina"), "operator"));
  auto rotated = staff_->Rotate("amina", "amina", 5, &b, &second);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->rotated_at_ms(), 5);
  EXPECT_NE(second, first);
  // Only she has seen her credential now.
  EXPECT_TRUE(IssuedBy(*staff_->Find("amina"), "amina"));
  EXPECT_FALSE(IssuedBy(*staff_->Find("amina"), "operator"));
  EXPECT_EQ(staff_->Authenticate(first).status().code(), absl::StatusCode::kUnauthenticated);
  // The account a credential stands for is the account as rotated.
  auto signed_in = staff_->Authenticate(second);
  ASSERT_TRUE(signed_in.ok()) << signed_in.status();
  EXPECT_EQ(signed_in->rotated_at_ms(), 5);
  EXPECT_EQ(signed_in->rotated_by(), "amina");
  Write(std::move(b));

  storage::Batch r;
  auto revoked = staff_->Revoke("amina", "otieno", 9, &r);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->revoked_by(), "otieno");
  EXPECT_EQ(staff_->Authenticate(second).status().code(), absl::StatusCode::kUnauthenticated);
  Write(std::move(r));
  Reopen();
  EXPECT_EQ(staff_->Authenticate(second).status().code(), absl::StatusCode::kUnauthenticated);
  storage::Batch again;
  std::string c;
  EXPECT_EQ(staff_->Revoke("amina", "otieno", 10, &again).status(),
            absl::FailedPreconditionError("amina was revoked already"));
  EXPECT_EQ(staff_->Rotate("amina", "amina", 10, &again, &c).status(),
            absl::FailedPreconditionError("amina was revoked"));
  EXPECT_EQ(staff_->Rotate("nobody", "amina", 10, &again, &c).status(),
            absl::NotFoundError("no staff nobody"));
  ASSERT_EQ(staff_->Sorted().size(), 1u);
  EXPECT_EQ(staff_->Sorted()[0].revoked_at_ms(), 9);
}

}  // namespace
}  // namespace mw::dispatch
