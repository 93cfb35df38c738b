#include "engine/record/work_record.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::record {
namespace {

using ::testing::HasSubstr;

const absl::Time kDay = absl::FromUnixSeconds(1796300000);  // 2026-12-03

WorkFacts Amina() {
  WorkFacts f;
  f.centre = "nairobi";
  f.worker = "w1a2b3";
  f.jobs = 2;
  f.answers = 120;
  f.active_seconds = 5400;
  f.checks = 10;
  f.checks_right = 9;
  f.verdicts = 100;
  f.agreed = 87;
  f.first_ms = 1793700000000;
  f.last_ms = 1796200000000;
  f.kinds.push_back({"transcribe", "sw", 10, 9, 60, 55, 0.9});
  f.kinds.push_back({"", "en", 0, 0, 40, 32, 0.78});
  return f;
}

class WorkRecordTest : public ::testing::Test {
 protected:
  SigningKey installation_ = *SigningKey::Generate();
  SigningKey centre_ = *SigningKey::Generate();
};

TEST_F(WorkRecordTest, ARecordReadsAsTextAndVerifiesWithBothSignatures) {
  const std::string half = IssueDispatcherHalf(Amina(), centre_.public_key(), kDay, installation_);
  auto record = Attest(half, "Amina Wanjiru", kDay, centre_);
  EXPECT_TRUE(Attest(half, "Zaïneb Ōkafor-Wanjirũ", kDay, centre_).ok());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(absl::StartsWith(*record, half));
  for (const char* line :
       {"microwork work record, version 1\nWorker: w1a2b3 at centre nairobi\n",
        "Issued: 2026-12-03\n", "Period: 2026-11-03 to 2026-12-02\n", "Jobs: 2\n", "Answers: 120\n",
        "Hours on task: 1.5\n", "Check tasks: 9 of 10 right (90%)\n",
        "Agreement with verdicts: 87 of 100 agreed (87%)\n",
        "  transcribe in sw: checks 9 of 10 right (90%), verdicts 55 of 60 agreed (91%), skill "
        "0.90\n",
        "  any skill in en: checks none, verdicts 32 of 40 agreed (80%), skill 0.78\n",
        "Name: Amina Wanjiru\nAttested: 2026-12-03 by centre nairobi\nCentre signature: "}) {
    EXPECT_THAT(*record, HasSubstr(line));
  }
  auto v = VerifyRecord(*record);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->dispatcher_key, installation_.public_key());
  EXPECT_EQ(v->centre_key, centre_.public_key());
  EXPECT_EQ(v->centre, "nairobi");
  EXPECT_EQ(v->worker, "w1a2b3");
  EXPECT_EQ(v->name, "Amina Wanjiru");
}

// Every byte is covered by a signature: a change to any one fails the record.
TEST_F(WorkRecordTest, EveryChangedByteFails) {
  const std::string record =
      *Attest(IssueDispatcherHalf(Amina(), centre_.public_key(), kDay, installation_), std::nullopt,
              kDay, centre_);
  ASSERT_TRUE(VerifyRecord(record).ok());
  EXPECT_EQ(VerifyRecord(record)->name, std::nullopt);
  for (size_t i = 0; i < record.size(); ++i) {
    std::string changed = record;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(VerifyRecord(changed).ok()) << "byte " << i << " of " << record.size();
  }
  EXPECT_FALSE(VerifyRecord(record + "\n").ok());
  EXPECT_FALSE(VerifyRecord(record.substr(0, record.size() - 1)).ok());
}

TEST_F(WorkRecordTest, AChangedFactFailsTheDispatchersSignatureNamingItsLine) {
  const std::string record =
      *Attest(IssueDispatcherHalf(Amina(), centre_.public_key(), kDay, installation_), "Amina",
              kDay, centre_);
  std::string forged = record;
  forged.replace(forged.find("Answers: 120"), 12, "Answers: 920");
  EXPECT_EQ(VerifyRecord(forged).status().message(),
            "record line 15: expected the dispatcher's signature of every line above it; it does "
            "not match");
  forged = record;
  forged.replace(forged.find("Name: Amina"), 11, "Name: Baraka");
  EXPECT_EQ(VerifyRecord(forged).status().message(),
            "record line 18: expected the centre's signature of every line above it, by the centre "
            "key the dispatcher's half names; it does not match");
}

// A centre cannot attest another centre's half, nor put a name that is not one plain line.
TEST_F(WorkRecordTest, TheCentreAttestsOnlyItsOwnHalfAndPlainNames) {
  const std::string half = IssueDispatcherHalf(Amina(), centre_.public_key(), kDay, installation_);
  SigningKey other = *SigningKey::Generate();
  EXPECT_EQ(Attest(half, std::nullopt, kDay, other).status().message(),
            "the record names another centre key than this centre's");
  for (const char* bad :
       {"Amina\nAttested: 2026-01-01 by centre nairobi", "(Amina)", " Amina", "",
        "Amina\u2028Jobs: 900", "Amina\u202eanimA", "\xff\xfe", "Amina\xc2\x85"}) {
    EXPECT_EQ(Attest(half, bad, kDay, centre_).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  std::string tampered = half;
  tampered.replace(tampered.find("Jobs: 2"), 7, "Jobs: 9");
  EXPECT_EQ(Attest(tampered, std::nullopt, kDay, centre_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyRecord(std::string(70 * 1024, 'x')).status().message(),
            "expected a record of at most 65536 bytes, got 71680");
}

// The key file is created once, readable by its owner only, and loads as the same key.
TEST(SigningKeyTest, AKeyFileIsCreatedPrivateAndReloads) {
  mw::testing::TempDir dir;
  const std::string path = dir.Sub("installation.key");
  auto created = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto loaded = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->public_key(), created->public_key());
  const std::string signature = loaded->Sign("hello");
  EXPECT_TRUE(VerifySignature(created->public_key(), "hello", signature));
  EXPECT_FALSE(VerifySignature(created->public_key(), "hellO", signature));
  EXPECT_EQ(FromKeyText(KeyText(created->public_key())), created->public_key());
  EXPECT_EQ(FromKeyText("ed25519:not base64!"), "");
  EXPECT_EQ(Fingerprint(created->public_key()).size(), 39u);
}

}  // namespace
}  // namespace mw::record
