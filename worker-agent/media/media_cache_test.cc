// MediaCache against a fetcher serving from memory: what lands on disk, what a cut link costs,
// and what is refused.
#include "worker-agent/media/media_cache.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "engine/common/sha256.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace mw::agent {
namespace {

namespace v1 = ::microwork::v1;

std::string Blob(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

v1::Media MediaOf(const std::string& bytes) {
  v1::Media m;
  m.set_sha256(ToHex(Sha256(bytes)));
  m.set_bytes(bytes.size());
  return m;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Serves files in chunks of 100,000 bytes; `cut_after` bytes into a call, the link drops.
struct FakeDispatcher {
  std::map<std::string, std::string> files;
  uint64_t cut_after = UINT64_MAX;
  std::vector<uint64_t> offsets;  // asked for, call by call
  uint64_t served = 0;

  absl::Status Fetch(const std::string& sha, uint64_t offset, const MediaCache::Sink& sink) {
    offsets.push_back(offset);
    const std::string& bytes = files.at(sha);
    uint64_t this_call = 0;
    for (uint64_t at = offset; at < bytes.size(); at += 100'000) {
      if (this_call >= cut_after) return absl::UnavailableError("link down");
      const std::string data = bytes.substr(at, 100'000);
      this_call += data.size();
      served += data.size();
      if (!sink(data, at + data.size() == bytes.size())) return absl::OkStatus();
    }
    return absl::OkStatus();
  }
  MediaCache::Fetcher fetcher() {
    return [this](const v1::Media& m, uint64_t offset, const MediaCache::Sink& sink) {
      return Fetch(m.sha256(), offset, sink);
    };
  }
};

TEST(MediaCacheTest, AFileIsFetchedVerifiedAndKeptUnderItsHash) {
  testing::TempDir dir;
  MediaCache cache({.dir = dir.Sub("media")});
  ASSERT_TRUE(cache.Open().ok());
  FakeDispatcher d;
  const std::string bytes = Blob(1'000'000, 1);
  const v1::Media m = MediaOf(bytes);
  d.files[m.sha256()] = bytes;
  EXPECT_FALSE(cache.Has(m.sha256()));
  ASSERT_TRUE(cache.Fetch(m, d.fetcher()).ok());
  EXPECT_TRUE(cache.Has(m.sha256()));
  EXPECT_EQ(ReadAll(cache.PathOf(m.sha256())), bytes);
  EXPECT_EQ(cache.bytes(), 1'000'000u);
  EXPECT_EQ(cache.fetched_bytes(), 1'000'000u);
  // Held already: not fetched again.
  ASSERT_TRUE(cache.Fetch(m, d.fetcher()).ok());
  EXPECT_EQ(d.offsets, std::vector<uint64_t>{0});
}

TEST(MediaCacheTest, ACutLinkResumesFromWhatArrivedAlsoAfterARestart) {
  testing::TempDir dir;
  FakeDispatcher d;
  const std::string bytes = Blob(1'050'000, 2);
  const v1::Media m = MediaOf(bytes);
  d.files[m.sha256()] = bytes;
  d.cut_after = 300'000;
  {
    MediaCache cache({.dir = dir.Sub("media")});
    ASSERT_TRUE(cache.Open().ok());
    EXPECT_EQ(cache.Fetch(m, d.fetcher()).code(), absl::StatusCode::kUnavailable);
    EXPECT_FALSE(cache.Has(m.sha256()));
    EXPECT_EQ(cache.bytes(), 300'000u);
  }
  MediaCache cache({.dir = dir.Sub("media")});  // the agent restarted
  ASSERT_TRUE(cache.Open().ok());
  EXPECT_EQ(cache.bytes(), 300'000u);
  EXPECT_EQ(cache.Fetch(m, d.fetcher()).code(), absl::StatusCode::kUnavailable);
  d.cut_after = UINT64_MAX;
  ASSERT_TRUE(cache.Fetch(m, d.fetcher()).ok());
  EXPECT_EQ(d.offsets, (std::vector<uint64_t>{0, 300'000, 600'000}));
  EXPECT_EQ(d.served, bytes.size());  // nothing was sent twice
  EXPECT_EQ(ReadAll(cache.PathOf(m.sha256())), bytes);
  EXPECT_EQ(cache.bytes(), bytes.size());
}

TEST(MediaCacheTest, BytesThatAreNotTheFileNamedAreThrownAway) {
  testing::TempDir dir;
  MediaCache cache({.dir = dir.Sub("media")});
  ASSERT_TRUE(cache.Open().ok());
  FakeDispatcher d;
  const std::string bytes = Blob(250'000, 3);
  const v1::Media m = MediaOf(bytes);
  std::string forged = bytes;
  forged[123'456] ^= 1;
  d.files[m.sha256()] = forged;
  EXPECT_EQ(cache.Fetch(m, d.fetcher()).code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(cache.Has(m.sha256()));
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_FALSE(std::filesystem::exists(cache.PathOf(m.sha256()) + ".part"));
  // More bytes than named: refused as they arrive.
  d.files[m.sha256()] = bytes + "x";
  EXPECT_EQ(cache.Fetch(m, d.fetcher()).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(cache.bytes(), 0u);
  // The real bytes, next time, from the start.
  d.files[m.sha256()] = bytes;
  ASSERT_TRUE(cache.Fetch(m, d.fetcher()).ok());
  EXPECT_EQ(d.offsets.back(), 0u);
}

TEST(MediaCacheTest, TheBudgetIsKeptAndWhatNoTaskNeedsIsRemoved) {
  testing::TempDir dir;
  MediaCache cache({.dir = dir.Sub("media"), .budget_bytes = 500'000});
  ASSERT_TRUE(cache.Open().ok());
  FakeDispatcher d;
  const std::string a = Blob(300'000, 4), b = Blob(300'000, 5);
  const v1::Media ma = MediaOf(a), mb = MediaOf(b);
  d.files[ma.sha256()] = a;
  d.files[mb.sha256()] = b;
  ASSERT_TRUE(cache.Fetch(ma, d.fetcher()).ok());
  absl::Status over = cache.Fetch(mb, d.fetcher());
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(d.offsets.size(), 1u);  // nothing was asked for
  EXPECT_EQ(cache.bytes(), 300'000u);
  cache.Retain({mb.sha256()});  // a's tasks are answered and acknowledged
  EXPECT_FALSE(cache.Has(ma.sha256()));
  EXPECT_FALSE(std::filesystem::exists(cache.PathOf(ma.sha256())));
  EXPECT_EQ(cache.bytes(), 0u);
  ASSERT_TRUE(cache.Fetch(mb, d.fetcher()).ok());
  EXPECT_TRUE(cache.Has(mb.sha256()));
}

TEST(MediaCacheTest, AFileBeingFetchedIsNotRemovedByARetainMeanwhile) {
  testing::TempDir dir;
  MediaCache cache({.dir = dir.Sub("media")});
  ASSERT_TRUE(cache.Open().ok());
  const std::string bytes = Blob(300'000, 7);
  const v1::Media m = MediaOf(bytes);
  int calls = 0;
  absl::Status s = cache.Fetch(m, [&](const v1::Media&, uint64_t, const MediaCache::Sink& sink) {
    for (size_t at = 0; at < bytes.size(); at += 100'000) {
      if (++calls == 2) cache.Retain({});  // no task needs it, as far as a snapshot says
      if (!sink(bytes.substr(at, 100'000), at + 100'000 >= bytes.size())) break;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(cache.Has(m.sha256()));
  EXPECT_EQ(ReadAll(cache.PathOf(m.sha256())), bytes);
  EXPECT_EQ(cache.bytes(), bytes.size());
  cache.Retain({});
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(MediaCacheTest, OpenKeepsOnlyFilesNamedByAHash) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("media/sub"));
  std::ofstream(dir.Sub("media/notes.txt")) << "x";
  const std::string bytes = Blob(1000, 6);
  const std::string sha = ToHex(Sha256(bytes));
  std::ofstream(dir.Sub("media/" + sha), std::ios::binary) << bytes;
  MediaCache cache({.dir = dir.Sub("media")});
  ASSERT_TRUE(cache.Open().ok());
  EXPECT_TRUE(cache.Has(sha));
  EXPECT_EQ(cache.bytes(), 1000u);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("media/notes.txt")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("media/sub")));
}

}  // namespace
}  // namespace mw::agent
