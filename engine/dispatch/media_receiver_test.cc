// MediaReceiver against a map for a shelf: what it keeps, what it refuses and why, and what each
// row's media field gets.
#include "engine/dispatch/media_receiver.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"
#include "engine/contract/csv_reader.h"
#include "engine/media/test_media.h"
#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

class MapShelf : public MediaShelf {
 public:
  absl::StatusOr<std::optional<v1::Media>> FindMedia(const std::string& sha) const override {
    auto it = kept.find(sha);
    if (it == kept.end()) return std::nullopt;
    return it->second.first;
  }
  absl::Status StoreMedia(const v1::Media& media, absl::string_view bytes) override {
    kept[media.sha256()] = {media, std::string(bytes)};
    ++stores;
    return absl::OkStatus();
  }
  std::map<std::string, std::pair<v1::Media, std::string>> kept;
  int stores = 0;
};

std::string Hex(const std::string& bytes) { return ToHex(Sha256(bytes)); }

v1::MediaFile File(const std::string& name, const std::string& bytes) {
  v1::MediaFile f;
  f.set_name(name);
  f.set_sha256(Hex(bytes));
  f.set_bytes(bytes.size());
  return f;
}

// `bytes` as chunks of `size`, the last flagged.
std::vector<v1::MediaChunk> Chunks(const std::string& bytes, size_t size) {
  std::vector<v1::MediaChunk> out;
  for (size_t at = 0; at < bytes.size(); at += size) {
    v1::MediaChunk c;
    c.set_sha256(Hex(bytes));
    c.set_data(bytes.substr(at, size));
    c.set_last(at + size >= bytes.size());
    out.push_back(c);
  }
  return out;
}

absl::Status Send(MediaReceiver* r, const std::string& name, const std::string& bytes) {
  if (absl::Status s = r->AddFile(File(name, bytes)); !s.ok()) return s;
  for (const auto& c : Chunks(bytes, 1000)) {
    if (absl::Status s = r->AddChunk(c); !s.ok()) return s;
  }
  return absl::OkStatus();
}

v1::Input PhotoInput() {
  v1::Input in;
  in.set_name("items");
  auto* m = in.add_media();
  m->set_field("photo");
  m->set_kind(v1::MEDIA_IMAGE);
  return in;
}

v1::Item Row(const std::string& photo) {
  v1::Item item;
  auto* id = item.add_fields();
  id->set_name("id");
  id->set_value("1");
  auto* f = item.add_fields();
  f->set_name("photo");
  f->set_value(photo);
  return item;
}

TEST(MediaReceiverTest, EachRowGetsItsFileOrTheReasonItIsRefused) {
  MapShelf shelf;
  MediaReceiver r(&shelf, MediaCaps(), /*keep=*/true);
  const std::string jpeg = media::TestImage(320, 200);
  const std::string wav = media::TestWav(1200);
  ASSERT_TRUE(Send(&r, "scans/a.jpg", jpeg).ok());
  ASSERT_TRUE(r.AddFile(File("copy of a.jpg", jpeg)).ok());  // the same bytes: none follow
  ASSERT_TRUE(Send(&r, "b.jpg", jpeg.substr(0, jpeg.size() / 2)).ok());
  ASSERT_TRUE(Send(&r, "c.wav", wav).ok());
  v1::MediaFile gone;
  gone.set_name("d.jpg");
  gone.set_unreadable("no such file");
  ASSERT_TRUE(r.AddFile(gone).ok());
  ASSERT_TRUE(r.Close().ok());
  EXPECT_EQ(r.files(), 5u);
  EXPECT_EQ(r.received_bytes(), jpeg.size() + jpeg.size() / 2 + wav.size());
  // Kept once each: the JPEG and the WAV; the truncated file nowhere.
  EXPECT_EQ(shelf.stores, 2);
  ASSERT_EQ(shelf.kept.count(Hex(jpeg)), 1u);
  EXPECT_EQ(shelf.kept[Hex(jpeg)].second, jpeg);

  for (const char* name : {"scans/a.jpg", "copy of a.jpg"}) {
    v1::Item item = Row(name);
    EXPECT_EQ(r.Attach(PhotoInput(), &item), "") << name;
    const v1::Media& m = item.fields(1).media();
    EXPECT_EQ(m.sha256(), Hex(jpeg));
    EXPECT_EQ(m.kind(), v1::MEDIA_IMAGE);
    EXPECT_EQ(m.format(), "jpeg");
    EXPECT_EQ(m.width(), 320u);
    EXPECT_EQ(m.height(), 200u);
    EXPECT_EQ(m.bytes(), jpeg.size());
    EXPECT_EQ(item.fields(1).value(), name);
    EXPECT_FALSE(item.fields(0).has_media());
  }
  const std::map<std::string, std::string> refused = {
      {"c.wav", "photo: \"c.wav\" is audio; expected an image"},
      {"d.jpg", "photo: \"d.jpg\" could not be read: no such file"},
      {"e.jpg", "photo: \"e.jpg\" was not sent with the contract"},
      {"", "photo: empty, expected a file's name"},
  };
  for (const auto& [name, why] : refused) {
    v1::Item item = Row(name);
    EXPECT_EQ(r.Attach(PhotoInput(), &item), why);
    EXPECT_FALSE(item.fields(1).has_media());
  }
  v1::Item truncated = Row("b.jpg");
  EXPECT_EQ(r.Attach(PhotoInput(), &truncated)
                .rfind("photo: \"b.jpg\": the jpeg image is "
                       "truncated or damaged (",
                       0),
            0u)
      << r.Attach(PhotoInput(), &truncated);
  v1::Item no_field;
  EXPECT_EQ(r.Attach(PhotoInput(), &no_field), "photo: the row has no such field");
}

TEST(MediaReceiverTest, AFileTheShelfHasNeedsNoBytesAndADryRunKeepsNothing) {
  MapShelf shelf;
  const std::string png = media::TestImage(64, 48, "png");
  {
    MediaReceiver dry(&shelf, MediaCaps(), /*keep=*/false);
    ASSERT_TRUE(Send(&dry, "p.png", png).ok());
    v1::Item item = Row("p.png");
    EXPECT_EQ(dry.Attach(PhotoInput(), &item), "");
    EXPECT_EQ(item.fields(1).media().format(), "png");
    EXPECT_TRUE(shelf.kept.empty());
  }
  MediaReceiver first(&shelf, MediaCaps(), true);
  ASSERT_TRUE(Send(&first, "p.png", png).ok());
  MediaReceiver second(&shelf, MediaCaps(), true);
  ASSERT_TRUE(second.AddFile(File("again.png", png)).ok());
  ASSERT_TRUE(second.Close().ok());  // no bytes were expected
  EXPECT_EQ(second.received_bytes(), 0u);
  v1::Item item = Row("again.png");
  EXPECT_EQ(second.Attach(PhotoInput(), &item), "");
  EXPECT_EQ(item.fields(1).media().width(), 64u);
  EXPECT_EQ(shelf.stores, 1);

  // A claim about a file the shelf has must agree with it.
  v1::MediaFile wrong = File("wrong.png", png);
  wrong.set_bytes(png.size() + 1);
  EXPECT_EQ(std::string(second.AddFile(wrong).message()),
            "media_file \"wrong.png\": claimed " + std::to_string(png.size() + 1) +
                " bytes; the file with its sha256 has " + std::to_string(png.size()));
}

TEST(MediaReceiverTest, WhatBreaksTheProtocolIsAnErrorNamingTheFile) {
  MapShelf shelf;
  const std::string jpeg = media::TestImage(32, 32);
  auto error = [](const absl::Status& s) { return std::string(s.message()); };
  {
    MediaReceiver r(&shelf, MediaCaps(), true);
    EXPECT_EQ(error(r.AddFile(File("../etc/passwd", jpeg))),
              "media_file \"../etc/passwd\": the name has an empty, \".\" or \"..\" part: "
              "expected a path that stays inside its folder");
    v1::MediaFile bad_hash = File("a.jpg", jpeg);
    bad_hash.set_sha256("ABC");
    EXPECT_EQ(error(r.AddFile(bad_hash)),
              "media_file \"a.jpg\": sha256 must be 64 lower-case hex digits");
    v1::MediaFile neither;
    neither.set_name("n.jpg");
    EXPECT_EQ(error(r.AddFile(neither)),
              "media_file \"n.jpg\": expected a sha256, or why the file could not be read");
    ASSERT_TRUE(r.AddFile(File("a.jpg", jpeg)).ok());
    // Another file named before a.jpg's bytes are done.
    EXPECT_EQ(error(r.AddFile(File("b.jpg", media::TestImage(8, 8)))),
              absl::StrCat("media_file \"a.jpg\": 0 of its ", jpeg.size(),
                           " bytes arrived before the next part"));
    v1::MediaChunk other = Chunks(media::TestImage(8, 8), 1 << 20)[0];
    EXPECT_EQ(error(r.AddChunk(other)),
              absl::StrCat("media_chunk of ", other.sha256(), ": expected the bytes of \"a.jpg\""));
    v1::MediaChunk too_much = Chunks(jpeg, 1 << 20)[0];
    too_much.mutable_data()->append("x");
    EXPECT_EQ(error(r.AddChunk(too_much)),
              absl::StrCat("media_file \"a.jpg\": more bytes arrived than the ", jpeg.size(),
                           " it claimed"));
    EXPECT_EQ(error(r.AddFile(File("a.jpg", jpeg))).substr(0, 22), "media_file \"a.jpg\": 0 ");
  }
  {
    MediaReceiver r(&shelf, MediaCaps(), true);
    // Bytes that are not the ones claimed.
    std::string forged = jpeg;
    forged[forged.size() / 2] ^= 1;
    v1::MediaFile f = File("a.jpg", jpeg);
    ASSERT_TRUE(r.AddFile(f).ok());
    v1::MediaChunk c;
    c.set_sha256(f.sha256());
    c.set_data(forged);
    c.set_last(true);
    EXPECT_EQ(error(r.AddChunk(c)),
              "media_file \"a.jpg\": the bytes that arrived do not have the sha256 it claimed");
    EXPECT_TRUE(shelf.kept.empty());
  }
  {
    MediaReceiver r(&shelf, MediaCaps(), true);
    v1::MediaChunk c = Chunks(jpeg, 1 << 20)[0];
    EXPECT_EQ(error(r.AddChunk(c)), absl::StrCat("media_chunk of ", c.sha256(),
                                                 ": no media file is waiting for its bytes"));
    ASSERT_TRUE(r.AddFile(File("a.jpg", jpeg)).ok());
    c.set_data(jpeg.substr(0, 10));
    EXPECT_EQ(error(r.AddChunk(c)),
              absl::StrCat("media_file \"a.jpg\": 10 bytes arrived, it claimed ", jpeg.size()));
  }
  {
    MediaCaps caps;
    caps.max_files = 1;
    caps.max_bytes = 2 * jpeg.size() - 1;
    caps.file.max_file_bytes = jpeg.size() - 1;
    MediaReceiver r(&shelf, caps, true);
    ASSERT_TRUE(r.AddFile(File("big.jpg", jpeg)).ok());  // too big: refused rows, no bytes
    ASSERT_TRUE(r.Close().ok());
    v1::Item item = Row("big.jpg");
    EXPECT_EQ(r.Attach(PhotoInput(), &item),
              absl::StrCat("photo: \"big.jpg\": the file is ", jpeg.size(),
                           " bytes, more than the ", jpeg.size() - 1, " allowed"));
    EXPECT_EQ(error(r.AddFile(File("two.jpg", media::TestImage(9, 9)))),
              "media_file \"two.jpg\": more than 1 media files in one submission");
  }
  {
    MediaCaps caps;
    caps.max_bytes = jpeg.size() + 10;
    MediaReceiver r(&shelf, caps, true);
    const std::string other = media::TestImage(40, 40);
    ASSERT_TRUE(Send(&r, "a.jpg", jpeg).ok());
    EXPECT_EQ(error(r.AddFile(File("b.jpg", other))),
              absl::StrCat("media_file \"b.jpg\": the media files come to more than ",
                           jpeg.size() + 10, " bytes in one submission"));
  }
}

TEST(MediaReceiverTest, AClaimOfHugeBytesCannotWrapTheCapAround) {
  MapShelf shelf;
  const std::string jpeg = media::TestImage(32, 32);
  MediaCaps caps;
  caps.max_bytes = jpeg.size() + 10;
  MediaReceiver r(&shelf, caps, true);
  ASSERT_TRUE(Send(&r, "a.jpg", jpeg).ok());
  v1::MediaFile huge = File("huge.jpg", media::TestImage(8, 8));
  huge.set_bytes(UINT64_MAX - jpeg.size() + 1);  // with a.jpg's bytes: 2^64, or 0 wrapped
  EXPECT_EQ(std::string(r.AddFile(huge).message()),
            absl::StrCat("media_file \"huge.jpg\": the media files come to more than ",
                         jpeg.size() + 10, " bytes in one submission"));
}

TEST(MediaReceiverTest, BytesOfAFileAnotherSubmissionKeptMeanwhileAreDropped) {
  MapShelf shelf;
  const std::string jpeg = media::TestImage(48, 32);
  MediaReceiver first(&shelf, MediaCaps(), true);
  ASSERT_TRUE(Send(&first, "a.jpg", jpeg).ok());
  // The second client asked FindMedia before the first kept the file: it sends the bytes.
  MediaReceiver second(&shelf, MediaCaps(), true);
  ASSERT_TRUE(Send(&second, "a.jpg", jpeg).ok());
  ASSERT_TRUE(second.Close().ok());
  v1::Item item = Row("a.jpg");
  EXPECT_EQ(second.Attach(PhotoInput(), &item), "");
  EXPECT_EQ(shelf.stores, 1);
  // More than the file's bytes is still an error.
  MediaReceiver third(&shelf, MediaCaps(), true);
  ASSERT_TRUE(third.AddFile(File("a.jpg", jpeg)).ok());
  v1::MediaChunk too_much = Chunks(jpeg + "x", 1 << 20)[0];
  too_much.set_sha256(ToHex(Sha256(jpeg)));
  EXPECT_EQ(third.AddChunk(too_much).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MediaReceiverTest, ReasonsCutLongNamesOnACharacterBoundary) {
  MapShelf shelf;
  MediaReceiver r(&shelf, MediaCaps(), true);
  std::string name;
  for (int i = 0; i < 27; ++i) name += "\xe6\x94\xb6";  // 收: 81 bytes
  v1::MediaFile gone;
  gone.set_name(name);
  gone.set_unreadable(std::string(199, 'x') + "\xe6\x94\xb6");
  ASSERT_TRUE(r.AddFile(gone).ok());
  v1::Item item = Row(name);
  const std::string why = r.Attach(PhotoInput(), &item);
  EXPECT_TRUE(contract::IsValidUtf8(why)) << why;
  EXPECT_EQ(why.substr(0, 8 + 78), "photo: \"" + name.substr(0, 78));
  EXPECT_NE(why.find("…\" could not be read: " + std::string(199, 'x') + "…"), std::string::npos)
      << why;
}

}  // namespace
}  // namespace mw::dispatch
