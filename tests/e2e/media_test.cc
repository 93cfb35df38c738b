// Media through the real binaries: `mw contract submit` sends each file the rows name once, by
// its SHA-256, before the rows; the dispatcher decodes every file and quarantines the rows whose
// file is missing, truncated, not an image or of the wrong kind, with the reason, before
// anything is leased; a file it has (from another job, after a restart) is not sent again.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/media/test_media.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/file_server.h"
#include "testing/http_get.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::Subprocess;

const std::string kBin = MW_BIN_DIR;

constexpr char kReceipts[] = R"(name: NAME
client: acme
currency: USD
budget_minor: 100000
inputs:
  - name: receipts
    format: FORMAT_CSV
    path: receipts.csv
    media_folder: scans
    media: [{field: photo, kind: MEDIA_IMAGE}]
stages:
  - name: rows
    split: {input: receipts, by: SPLIT_ROWS}
  - name: total
    after: [rows]
    human:
      instructions: {en: "The receipt's total?"}
      answer: {text: {max_length: 20}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 1
      languages: [en]
)";

class MediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Start();
    ASSERT_EQ(Mw({"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD",
                  "--floor-minor", "150", "--share-per-mille", "150", "--languages", "en",
                  "--credential-out", dir_.Sub("n.cred")})
                  .exit_code,
              0);
    std::filesystem::create_directories(dir_.Sub("scans"));
    jpeg_ = media::TestImage(400, 300);
    Write("scans/r1.jpg", jpeg_);
    Write("scans/r2.png", media::TestImage(200, 100, "png"));
    Write("scans/r3.jpg", jpeg_.substr(0, jpeg_.size() / 2));
    Write("scans/r4.jpg", "total,12.50\n");
    Write("scans/clip.wav", media::TestWav(1500));
    Write("scans/copy of r1.jpg", jpeg_);
    Write("receipts.csv",
          "id,photo\n"
          "1,r1.jpg\n"
          "2,r2.png\n"
          "3,r3.jpg\n"
          "4,r4.jpg\n"
          "5,r5.jpg\n"
          "6,clip.wav\n"
          "7,copy of r1.jpg\n"
          "8,../secret.jpg\n"
          "9,link.jpg\n");
    // A link out of the media folder, to a photo the operator never meant to send.
    Write("outside.jpg", jpeg_);
    std::filesystem::create_symlink("../outside.jpg", dir_.Sub("scans/link.jpg"));
  }

  void Start() {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("d"), "--listen",
                                 "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
        dir_.Sub("d.log"));
    server_ = testing::ReadyField(dispatcher_->ReadLineContaining("ready"), "grpc");
  }

  CommandResult Mw(std::vector<std::string> args) {
    std::vector<std::string> argv = {kBin + "/mw", "--server", server_, "--token-file",
                                     dir_.Sub("d/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  std::string Read(const std::string& name) {
    std::ifstream in(dir_.Sub(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_.Sub(name), std::ios::binary) << bytes;
  }

  std::string Contract(const std::string& name) {
    std::string text = kReceipts;
    text.replace(text.find("NAME"), 4, name);
    Write(name + ".yaml", text);
    return dir_.Sub(name + ".yaml");
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_;
  std::string server_;
  std::string jpeg_;
};

TEST_F(MediaTest, RowsWhoseFilesDoNotDecodeAreQuarantinedWithTheReason) {
  CommandResult check = Mw({"contract", "check", Contract("first")});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_THAT(check.out, HasSubstr("Input receipts: 9 items, 0 rows quarantined\n"));
  EXPECT_THAT(check.out, HasSubstr("Media: 9 files, "));
  EXPECT_THAT(check.out, HasSubstr(" bytes, 3 unreadable\n  r5.jpg: no such file (looked for "
                                   "scans/r5.jpg)\n"));

  CommandResult submit = Mw({"contract", "submit", Contract("first")});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  // r1 and its copy are one file: sent once. r5 is missing and ../secret.jpg is refused here.
  EXPECT_THAT(submit.out, HasSubstr("Media: 9 files named, 5 sent ("));
  EXPECT_THAT(submit.out, HasSubstr("Submitted job-1: 3 items, 6 rows quarantined\n"));
  EXPECT_THAT(submit.out, HasSubstr("  receipts line 4: photo: \"r3.jpg\": the jpeg image is "
                                    "truncated or damaged ("));
  EXPECT_THAT(submit.out,
              HasSubstr("  receipts line 5: photo: \"r4.jpg\": the file is neither an image nor "
                        "audio that can be read: expected JPEG, PNG, WebP, TIFF, GIF, WAV, FLAC, "
                        "Ogg or MP3\n"));
  EXPECT_THAT(submit.out, HasSubstr("  receipts line 6: photo: \"r5.jpg\" could not be read: no "
                                    "such file (looked for scans/r5.jpg)\n"));
  EXPECT_THAT(submit.out,
              HasSubstr("  receipts line 7: photo: \"clip.wav\" is audio; expected an image\n"));
  EXPECT_THAT(submit.out,
              HasSubstr("  receipts line 10: photo: \"link.jpg\" could not be read: leads out of "
                        "the media folder through a link (scans/link.jpg)\n"));
  EXPECT_THAT(submit.out,
              HasSubstr("  receipts line 9: photo: \"../secret.jpg\": the name has an empty, \".\" "
                        "or \"..\" part: expected a path that stays inside "
                        "its folder\n"));
  CommandResult job = Mw({"job", "get", "job-1"});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  EXPECT_THAT(job.out, HasSubstr("3 items"));
}

TEST_F(MediaTest, AFileTheDispatcherKeepsIsNotSentAgainEvenAfterARestart) {
  CommandResult first = Mw({"contract", "submit", Contract("first")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("Media: 9 files named, 5 sent ("));

  // Another job naming the same files: only the one that did not decode is sent again (the
  // dispatcher keeps only what decodes).
  CommandResult second = Mw({"contract", "submit", Contract("second")});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr(absl::StrCat(
                              "Media: 9 files named, 2 sent (",
                              jpeg_.size() / 2 + std::string("total,12.50\n").size(), " bytes)")));
  EXPECT_THAT(second.out, HasSubstr("Submitted job-2: 3 items, 6 rows quarantined\n"));

  dispatcher_->Signal(SIGTERM);
  ASSERT_EQ(dispatcher_->Wait(), 0) << Read("d.log");
  Start();
  CommandResult third = Mw({"contract", "submit", Contract("third")});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_THAT(third.out, HasSubstr("Media: 9 files named, 2 sent ("));
  EXPECT_THAT(third.out, HasSubstr("Submitted job-3: 3 items, 6 rows quarantined\n"));
}

// The files may come in an archive, and a row may name its file by URL instead: mw reads the
// archive once, fetches each URL into its cache (not again on a second run), and the rows whose
// file is not in the archive or whose URL fails are quarantined with the reason.
TEST_F(MediaTest, FilesFromAnArchiveAndFromUrlsAreSentOnceAndBadOnesQuarantined) {
  ASSERT_EQ(testing::Run({"/bin/tar", "-C", dir_.Sub("scans"), "-czf", dir_.Sub("scans.tar.gz"),
                          "r1.jpg", "r2.png"})
                .exit_code,
            0);
  testing::FileServer web;
  const std::string photo = media::TestImage(320, 240);
  web.Serve("/s/r7.jpg", photo);
  Write("urls.csv", absl::StrCat("id,photo\n1,r1.jpg\n2,r2.png\n3,", web.Url("/s/r7.jpg"), "\n4,",
                                 web.Url("/s/r8.jpg"), "\n5,r9.jpg\n"));
  std::string text = kReceipts;
  text.replace(text.find("NAME"), 4, "urls");
  text.replace(text.find("receipts.csv"), 12, "urls.csv");
  text.replace(text.find("media_folder: scans"), 19, "media_folder: scans.tar.gz");
  Write("urls.yaml", text);

  CommandResult submit =
      Mw({"contract", "submit", dir_.Sub("urls.yaml"), "--media-cache", dir_.Sub("cache")});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_THAT(submit.out, HasSubstr(absl::StrCat("Media: 5 files named, 3 sent (",
                                                 Read("scans/r1.jpg").size() +
                                                     Read("scans/r2.png").size() + photo.size(),
                                                 " bytes)")));
  EXPECT_THAT(submit.out, HasSubstr("Submitted job-1: 3 items, 2 rows quarantined\n"));
  EXPECT_THAT(submit.out,
              HasSubstr(absl::StrCat("  receipts line 5: photo: \"", web.Url("/s/r8.jpg"),
                                     "\" could not be read: the server answered "
                                     "HTTP 404\n")));
  EXPECT_THAT(submit.out, HasSubstr("  receipts line 6: photo: \"r9.jpg\" could not be read: no "
                                    "such file (looked for r9.jpg in scans.tar.gz)\n"));
  EXPECT_EQ(web.Hits("/s/r7.jpg"), 1);

  // The same command again (a lost reply): the same bytes from the cache, so the same job.
  CommandResult again =
      Mw({"contract", "submit", dir_.Sub("urls.yaml"), "--media-cache", dir_.Sub("cache")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("Not submitted again: this contract with these inputs was "
                                   "submitted before as job-1"));
  EXPECT_EQ(web.Hits("/s/r7.jpg"), 1);
}

// The agent fetches every photo its leases name while the link is up; the dispatcher dies; the
// workers finish every task from the agent's disk; when the dispatcher is back, every answer
// arrives and is paid exactly once.
TEST_F(MediaTest, WorkersFinishEveryPrefetchedTaskOfflineAndArePaidOnceWhenTheLinkReturns) {
  constexpr int kPhotos = 40;
  std::string rows = "id,photo\n";
  uint64_t total_bytes = 0;
  for (int i = 0; i < kPhotos; ++i) {
    const std::string jpeg = media::TestImage(200 + i, 150);  // each photo different
    total_bytes += jpeg.size();
    Write(absl::StrCat("scans/p", i, ".jpg"), jpeg);
    absl::StrAppend(&rows, i, ",p", i, ".jpg\n");
  }
  Write("receipts.csv", rows);
  std::string contract = kReceipts;
  contract.replace(contract.find("NAME"), 4, "offline");
  const std::string text_answer = "answer: {text: {max_length: 20}}";
  contract.replace(contract.find(text_answer), text_answer.size(),
                   "answer: {single_choice: {options: [\"legible\", \"not legible\"]}}");
  Write("offline.yaml", contract);
  CommandResult submit = Mw({"contract", "submit", dir_.Sub("offline.yaml")});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  ASSERT_THAT(submit.out, HasSubstr("Submitted job-1: 40 items\n"));

  // Two workers hold all forty tasks; each takes about 0.4 s (0.02 of the 20 s estimate), so
  // the outage spans the work.
  const std::vector<std::string> agent_argv = {kBin + "/mw-agent",
                                               "--dispatcher",
                                               server_,
                                               "--credential-file",
                                               dir_.Sub("n.cred"),
                                               "--data-dir",
                                               dir_.Sub("agent"),
                                               "--sim-workers",
                                               "2",
                                               "--sim-time-scale",
                                               "0.02",
                                               "--lease-buffer",
                                               "20",
                                               "--max-backoff-ms",
                                               "200",
                                               "--metrics-listen",
                                               "127.0.0.1:0",
                                               "--receipt-log",
                                               dir_.Sub("receipts.log")};
  auto agent = std::make_unique<Subprocess>(agent_argv, dir_.Sub("agent.log"));
  const std::string ready = agent->ReadLineContaining("mw-agent ready");
  ASSERT_FALSE(ready.empty());
  const std::string metrics = testing::ReadyField(ready, "metrics");
  auto metric = [&](const std::string& name) {
    return testing::MetricValue(testing::HttpGet(metrics, "/metrics"), name);
  };
  // Every photo is on the agent's disk (fetched once each).
  double fetched = 0;
  for (int i = 0; i < 200000 && fetched < total_bytes; ++i) {
    fetched = metric("mw_agent_media_fetched_bytes_total");
  }
  ASSERT_EQ(fetched, static_cast<double>(total_bytes));
  ASSERT_EQ(metric("mw_agent_assignments_leased_total"), kPhotos);

  // The link goes. The workers finish every task into the outbox.
  const std::string listen = server_;
  dispatcher_->Signal(SIGKILL);
  ASSERT_EQ(dispatcher_->Wait(), 128 + SIGKILL);
  double sent = metric("mw_agent_results_sent_total"), outbox = 0;
  for (int i = 0; i < 400000 && sent + outbox < kPhotos; ++i) {
    outbox = metric("mw_agent_outbox_depth");
  }
  ASSERT_EQ(sent + outbox, kPhotos) << "the workers did not finish offline";
  ASSERT_GT(outbox, 0) << "no task was left for the outage";
  EXPECT_EQ(metric("mw_agent_media_waiting"), 0);

  // The link returns: everything arrives once, and the photos no task needs are dropped.
  dispatcher_ = std::make_unique<Subprocess>(
      std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("d"), "--listen",
                               listen, "--metrics-listen", "127.0.0.1:0"},
      dir_.Sub("d.log"));
  ASSERT_FALSE(dispatcher_->ReadLineContaining("ready").empty());
  CommandResult watch = Mw({"job", "watch", "job-1", "--every", "3600"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_THAT(watch.out, HasSubstr("completed"));
  double cache = 1;
  for (int i = 0; i < 200000 && cache > 0; ++i) cache = metric("mw_agent_media_cache_bytes");
  EXPECT_EQ(cache, 0);
  agent->Signal(SIGTERM);
  EXPECT_EQ(agent->Wait(), 0);

  std::set<std::string> acknowledged;
  std::ifstream log(dir_.Sub("receipts.log"));
  std::string id, status;
  while (log >> id >> status) {
    ASSERT_TRUE(status == "RECEIPT_ACCEPTED" || status == "RECEIPT_DUPLICATE") << id << status;
    acknowledged.insert(id.substr(2, id.rfind(':') - 2));
  }
  EXPECT_EQ(acknowledged.size(), static_cast<size_t>(kPhotos));
  CommandResult answers =
      Mw({"results", "answers", "job-1", "--format", "csv", "--out", dir_.Sub("answers.csv")});
  ASSERT_EQ(answers.exit_code, 0) << answers.err;
  const std::string csv = Read("answers.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), kPhotos + 1) << csv;
  CommandResult verify = Mw({"ledger", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace mw
