#include "worker-agent/state/manager_book.h"

#include <memory>

#include "gtest/gtest.h"
#include "testing/temp_dir.h"
#include "worker-agent/state/sign_in_code.h"

namespace mw::centre {
namespace {

namespace v1 = ::microwork::v1;

class ManagerBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::Store::Open(dir_.Sub("db"), storage::Schema::kAgent);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    Reload();
  }
  void Reload() {
    book_ = std::make_unique<ManagerBook>(store_.get());
    ASSERT_TRUE(book_->Load().ok());
  }
  // The name whose code `code` is, as a sign-in finds it; "" when none.
  std::string SignIn(const std::string& code) {
    auto typed = ParseManagerCode(code);
    if (!typed.has_value()) return "";
    auto m = book_->WithNumber(typed->number);
    return m.has_value() && VerifySignInCode(m->sign_in_verifier(), typed->secret) ? m->name() : "";
  }

  mw::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ManagerBook> book_;
};

TEST_F(ManagerBookTest, EachManagerHasTheirOwnCodeShownOnce) {
  auto halima = book_->Add("Halima", "manager", 1'000);
  ASSERT_TRUE(halima.ok()) << halima.status();
  EXPECT_EQ(halima->size(), 20u);
  EXPECT_EQ(halima->substr(0, 4), "0100");
  auto juma = book_->Add("juma_k", "halima", 2'000);
  ASSERT_TRUE(juma.ok());
  EXPECT_EQ(juma->substr(0, 4), "0101");
  EXPECT_EQ(SignIn(*halima), "halima");
  EXPECT_EQ(SignIn(*juma), "juma_k");
  EXPECT_EQ(SignIn(halima->substr(0, 4) + juma->substr(4)), "");  // her number, his secret

  Reload();  // kept, with who added them; the code itself is nowhere
  const std::vector<v1::CentreManager> all = book_->All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name(), "halima");
  EXPECT_EQ(all[0].added_by(), "manager");
  EXPECT_EQ(all[1].added_by(), "halima");
  EXPECT_EQ(all[0].sign_in_verifier().find(halima->substr(4)), std::string::npos);
  EXPECT_EQ(SignIn(*halima), "halima");
}

TEST_F(ManagerBookTest, NamesAreCheckedAndNeverReused) {
  EXPECT_EQ(book_->Add("", "manager", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_->Add("a b", "manager", 1).status(),
            absl::InvalidArgumentError("name: 1 to 40 letters, digits, '-' or '_', got \"a b\""));
  EXPECT_EQ(book_->Add("Manager", "manager", 1).status(),
            absl::InvalidArgumentError("name: \"manager\" is the installation's own manager code"));
  ASSERT_TRUE(book_->Add("halima", "manager", 1).ok());
  EXPECT_EQ(book_->Add("HALIMA", "manager", 1).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(book_->Revoke("halima", "manager", 2).ok());
  EXPECT_EQ(book_->Add("halima", "manager", 3).status(),
            absl::AlreadyExistsError("name: halima is or was a manager here; names are never "
                                     "reused"));
  EXPECT_TRUE(book_->All().at(0).revoked());
}

TEST_F(ManagerBookTest, ANewCodeEndsTheOldOneAndARevokedManagerSignsInNoMore) {
  auto first = book_->Add("halima", "manager", 1'000);
  ASSERT_TRUE(first.ok());
  auto second = book_->NewCode("halima", "juma", 2'000);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->substr(0, 4), first->substr(0, 4));  // her number stays
  EXPECT_EQ(SignIn(*first), "");
  EXPECT_EQ(SignIn(*second), "halima");
  EXPECT_EQ(book_->All()[0].code_by(), "juma");

  EXPECT_EQ(book_->Revoke("halima", "halima", 3'000),
            absl::FailedPreconditionError("a manager cannot revoke themself; ask another"));
  EXPECT_TRUE(book_->Active("halima"));
  ASSERT_TRUE(book_->Revoke("halima", "juma", 3'000).ok());
  EXPECT_FALSE(book_->Active("halima"));
  EXPECT_EQ(SignIn(*second), "");
  EXPECT_EQ(book_->NewCode("halima", "juma", 4'000).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(book_->Revoke("halima", "juma", 4'000).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(book_->Active(ManagerBook::kInstallationManager));
  Reload();
  EXPECT_FALSE(book_->Active("halima"));
  EXPECT_EQ(book_->All()[0].revoked_by(), "juma");
  // Her number is not given to anybody else.
  auto next = book_->Add("baraka", "juma", 5'000);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->substr(0, 4), "0101");
}

TEST(ManagerCodeTest, TwentyDigitsStartingWithAManagersNumber) {
  const IssuedCode issued = NewManagerCode(417);
  ASSERT_EQ(issued.code.size(), 20u);
  auto typed = ParseManagerCode(issued.code.substr(0, 4) + " " + issued.code.substr(4, 8) + "-" +
                                issued.code.substr(12));
  ASSERT_TRUE(typed.has_value());
  EXPECT_EQ(typed->number, 417u);
  EXPECT_TRUE(VerifySignInCode(issued.verifier, typed->secret));
  EXPECT_FALSE(ParseManagerCode("1000" + std::string(16, '1')).has_value());  // a worker's number
  EXPECT_FALSE(ParseManagerCode(std::string(12, '1')).has_value());           // a worker's length
  EXPECT_FALSE(ParseSignInCode(issued.code).has_value());
}

}  // namespace
}  // namespace mw::centre
