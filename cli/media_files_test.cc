#include "cli/media_files.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "engine/common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/file_server.h"
#include "testing/temp_dir.h"

namespace mw::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

struct Entry {
  std::string name;
  std::string bytes;
  bool link = false;  // a symbolic link to `bytes`
};

// Writes `entries` into a new archive at `path`: a gzip'd tar, or a zip.
void WriteArchive(const std::string& path, bool zip, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const Entry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    if (e.link) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, e.bytes.c_str());
      archive_entry_set_size(entry, 0);
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, static_cast<la_int64_t>(e.bytes.size()));
    }
    archive_entry_set_perm(entry, 0644);
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK);
    if (!e.link && !e.bytes.empty()) {
      ASSERT_EQ(archive_write_data(a, e.bytes.data(), e.bytes.size()),
                static_cast<la_ssize_t>(e.bytes.size()));
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// What Send gave: each file's bytes as concatenated, and the sizes of its pieces.
struct Sent {
  std::map<std::string, std::string> bytes;
  std::map<std::string, std::vector<size_t>> pieces;
  std::vector<std::string> headers;  // in order
  std::map<std::string, bool> ended;
};

Sent SendAll(const MediaFiles& files, size_t size) {
  Sent sent;
  absl::Status s = files.Send(
      size,
      [&](const LocalMedia& m) {
        sent.headers.push_back(m.file.name());
        return m.file.unreadable().empty();
      },
      [&](const LocalMedia& m, std::string data, bool last) {
        EXPECT_FALSE(sent.ended[m.file.name()]) << m.file.name() << ": a piece after the last";
        sent.bytes[m.file.name()] += data;
        sent.pieces[m.file.name()].push_back(data.size());
        sent.ended[m.file.name()] = last;
        return absl::OkStatus();
      });
  EXPECT_TRUE(s.ok()) << s;
  return sent;
}

std::map<std::string, std::string> Unreadable(const MediaFiles& files) {
  std::map<std::string, std::string> out;
  for (const LocalMedia& m : files.list()) {
    if (!m.file.unreadable().empty()) out[m.file.name()] = m.file.unreadable();
  }
  return out;
}

// `n` bytes that do not compress (a linear congruential sequence from `seed`).
std::string Bytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  for (char& c : out) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return out;
}

class MediaFilesTest : public ::testing::Test {
 protected:
  MediaFiles Files() { return MediaFiles(DownloadOptions{.cache_dir = dir_.Sub("cache")}); }

  testing::TempDir dir_;
  // mw only hashes and sends: the dispatcher decodes. Any bytes do, of a few pieces' length.
  std::string photo_ = Bytes(7500, 3);
  std::string wav_ = Bytes(20000, 7);
};

TEST_F(MediaFilesTest, FilesInATarGzAreHashedAndSentFromOneReadingInTheArchivesOrder) {
  WriteArchive(dir_.Sub("scans.tar.gz"), false,
               {{"./b/clip.wav", wav_},
                {"unnamed.jpg", "not read"},
                {"a.jpg", photo_},
                {"empty.jpg", ""},
                {"twice.jpg", "first"},
                {"twice.jpg", "second"},
                {"link.jpg", "../../etc/passwd", /*link=*/true}});
  MediaFiles files = Files();
  for (const char* name :
       {"a.jpg", "b/clip.wav", "empty.jpg", "twice.jpg", "link.jpg", "missing.jpg"}) {
    ASSERT_TRUE(files.Add(dir_.Sub("scans.tar.gz"), "scans.tar.gz", name, "receipts").ok());
  }
  ASSERT_TRUE(files.Hash().ok());

  EXPECT_THAT(Unreadable(files),
              ElementsAre(Pair("link.jpg", "not a regular file (link.jpg in scans.tar.gz)"),
                          Pair("missing.jpg",
                               "no such file (looked for missing.jpg in "
                               "scans.tar.gz)"),
                          Pair("twice.jpg",
                               "is in the archive twice (twice.jpg in "
                               "scans.tar.gz)")));
  ASSERT_EQ(files.list()[0].file.sha256(), ToHex(Sha256(photo_)));
  EXPECT_EQ(files.list()[0].file.bytes(), photo_.size());
  EXPECT_EQ(files.list()[1].file.sha256(), ToHex(Sha256(wav_)));
  EXPECT_EQ(files.list()[2].file.sha256(), ToHex(Sha256("")));

  const size_t piece = 1000;
  Sent sent = SendAll(files, piece);
  // The unreadable first (their reasons, no bytes), then the archive's files in its order.
  EXPECT_THAT(sent.headers, ElementsAre("twice.jpg", "link.jpg", "missing.jpg", "b/clip.wav",
                                        "a.jpg", "empty.jpg"));
  EXPECT_EQ(sent.bytes["a.jpg"], photo_);
  EXPECT_EQ(sent.bytes["b/clip.wav"], wav_);
  EXPECT_EQ(sent.pieces["empty.jpg"], std::vector<size_t>{0});
  for (const char* name : {"a.jpg", "b/clip.wav", "empty.jpg"}) EXPECT_TRUE(sent.ended[name]);
  const std::vector<size_t>& pieces = sent.pieces["a.jpg"];
  ASSERT_EQ(pieces.size(), (photo_.size() + piece - 1) / piece);
  for (size_t i = 0; i + 1 < pieces.size(); ++i) EXPECT_EQ(pieces[i], piece);
}

TEST_F(MediaFilesTest, AZipIsReadLikeATarAndADamagedArchiveNamesWhereItBroke) {
  WriteArchive(dir_.Sub("scans.zip"), true, {{"r1.jpg", photo_}, {"r2.wav", wav_}});
  MediaFiles zip = Files();
  ASSERT_TRUE(zip.Add(dir_.Sub("scans.zip"), "scans.zip", "r2.wav", "in").ok());
  ASSERT_TRUE(zip.Add(dir_.Sub("scans.zip"), "scans.zip", "r1.jpg", "in").ok());
  ASSERT_TRUE(zip.Hash().ok());
  EXPECT_THAT(Unreadable(zip), ElementsAre());
  EXPECT_EQ(zip.list()[1].file.sha256(), ToHex(Sha256(photo_)));
  Sent sent = SendAll(zip, 1 << 18);
  EXPECT_EQ(sent.bytes["r1.jpg"], photo_);
  EXPECT_EQ(sent.bytes["r2.wav"], wav_);

  // A tar.gz cut inside its second file: the first is whole, the second names the damage.
  const std::string large = Bytes(200000, 5), larger = Bytes(300000, 11);
  WriteArchive(dir_.Sub("whole.tar.gz"), false, {{"r1.jpg", large}, {"r2.wav", larger}});
  std::ifstream in(dir_.Sub("whole.tar.gz"), std::ios::binary);
  const std::string whole(std::istreambuf_iterator<char>(in), {});
  Write(dir_.Sub("cut.tar.gz"), whole.substr(0, whole.size() * 3 / 4));
  MediaFiles cut = Files();
  ASSERT_TRUE(cut.Add(dir_.Sub("cut.tar.gz"), "cut.tar.gz", "r1.jpg", "in").ok());
  ASSERT_TRUE(cut.Add(dir_.Sub("cut.tar.gz"), "cut.tar.gz", "r2.wav", "in").ok());
  ASSERT_TRUE(cut.Hash().ok());
  EXPECT_EQ(cut.list()[0].file.sha256(), ToHex(Sha256(large)));
  ASSERT_THAT(
      Unreadable(cut),
      ElementsAre(Pair("r2.wav", ::testing::StartsWith("cut.tar.gz: damaged in r2.wav ("))));

  // Not an archive at all: every file it was to hold says so.
  Write(dir_.Sub("notes.txt"), "total,12.50\n");
  MediaFiles text = Files();
  ASSERT_TRUE(text.Add(dir_.Sub("notes.txt"), "notes.txt", "r1.jpg", "in").ok());
  ASSERT_TRUE(text.Hash().ok());
  EXPECT_THAT(
      Unreadable(text),
      ElementsAre(Pair(
          "r1.jpg", ::testing::StartsWith("notes.txt: cannot be read as a tar or zip archive"))));
}

TEST_F(MediaFilesTest, UrlsAreFetchedOnceIntoTheCacheAndEachFailureIsTheRowsReason) {
  testing::FileServer server;
  server.Serve("/r1.jpg", photo_);
  server.Serve("/big.jpg", std::string(10001, 'x'));
  server.Redirect("/moved.jpg", "/r1.jpg");
  server.Redirect("/away.jpg", "file:///etc/passwd");
  const std::string closed = "http://127.0.0.1:1/r9.jpg";  // nothing listens on port 1

  auto fetch = [&] {
    MediaFiles files(DownloadOptions{.cache_dir = dir_.Sub("cache"), .max_bytes = 10000});
    for (const char* path : {"/r1.jpg", "/moved.jpg", "/missing.jpg", "/big.jpg", "/away.jpg"}) {
      EXPECT_TRUE(files.Add(dir_.path(), ".", server.Url(path), "in").ok());
    }
    EXPECT_TRUE(files.Add(dir_.path(), ".", closed, "in").ok());
    EXPECT_TRUE(files.Add(dir_.path(), ".", "https://exa mple.org/a.jpg", "in").ok());
    EXPECT_TRUE(files.Hash().ok());
    return files;
  };
  MediaFiles files = fetch();
  EXPECT_EQ(files.list()[0].file.sha256(), ToHex(Sha256(photo_)));
  EXPECT_EQ(files.list()[1].file.sha256(), ToHex(Sha256(photo_)));
  std::map<std::string, std::string> bad = Unreadable(files);
  ASSERT_EQ(bad.size(), 5u) << ::testing::PrintToString(bad);
  EXPECT_EQ(bad[server.Url("/missing.jpg")], "the server answered HTTP 404");
  EXPECT_EQ(bad[server.Url("/big.jpg")], "is larger than 10000 bytes");
  EXPECT_THAT(bad[server.Url("/away.jpg")], ::testing::StartsWith("could not be fetched ("));
  EXPECT_THAT(bad[closed], ::testing::StartsWith("could not be fetched ("));
  EXPECT_EQ(bad["https://exa mple.org/a.jpg"],
            "the name is a URL with a space or control character: expected one percent-encoded");
  Sent sent = SendAll(files, 1 << 18);
  EXPECT_EQ(sent.bytes[server.Url("/r1.jpg")], photo_);
  EXPECT_EQ(server.Hits("/r1.jpg"), 2);  // itself, and through /moved.jpg
  EXPECT_EQ(server.Hits("/away.jpg"), 1);

  // A second run reads what the first kept, and asks again only for what failed.
  MediaFiles again = fetch();
  EXPECT_EQ(again.list()[0].file.sha256(), ToHex(Sha256(photo_)));
  EXPECT_EQ(server.Hits("/r1.jpg"), 2);
  EXPECT_EQ(server.Hits("/missing.jpg"), 2);
  // Nothing half-written is left: only the two whole bodies are kept.
  size_t kept = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("cache"))) {
    EXPECT_EQ(e.path().extension(), "") << e.path();
    ++kept;
  }
  EXPECT_EQ(kept, 2u);
}

}  // namespace
}  // namespace mw::cli
