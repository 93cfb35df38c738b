#include "engine/media/inspect.h"

#include "absl/strings/str_cat.h"
#include "engine/media/phone_image.h"
#include "engine/media/test_media.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mw::media {
namespace {

namespace v1 = ::microwork::v1;
using ::testing::HasSubstr;

TEST(InspectMediaTest, ImagesAreDecodedWholeAndMeasured) {
  for (const char* format : {"jpeg", "png", "webp"}) {
    const std::string bytes = TestImage(640, 480, format);
    absl::StatusOr<v1::Media> media = InspectMedia(bytes, MediaLimits());
    ASSERT_TRUE(media.ok()) << format << ": " << media.status();
    EXPECT_EQ(media->kind(), v1::MEDIA_IMAGE);
    EXPECT_EQ(media->format(), format);
    EXPECT_EQ(media->width(), 640u);
    EXPECT_EQ(media->height(), 480u);
    EXPECT_EQ(media->bytes(), bytes.size());
    EXPECT_EQ(media->duration_ms(), 0u);
  }
}

TEST(InspectMediaTest, AudioIsDecodedWholeAndTimed) {
  const std::string bytes = TestWav(2500);
  absl::StatusOr<v1::Media> media = InspectMedia(bytes, MediaLimits());
  ASSERT_TRUE(media.ok()) << media.status();
  EXPECT_EQ(media->kind(), v1::MEDIA_AUDIO);
  EXPECT_EQ(media->format(), "wav");
  EXPECT_EQ(media->duration_ms(), 2500u);
  EXPECT_EQ(media->bytes(), bytes.size());
  EXPECT_EQ(media->width(), 0u);
}

TEST(InspectMediaTest, ATruncatedImageIsRefused) {
  for (const char* format : {"jpeg", "png", "webp"}) {
    const std::string bytes = TestImage(640, 480, format);
    absl::StatusOr<v1::Media> media =
        InspectMedia(bytes.substr(0, bytes.size() / 2), MediaLimits());
    ASSERT_FALSE(media.ok()) << format;
    EXPECT_EQ(media.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(media.status().message(), HasSubstr(absl::StrCat("the ", format, " image")))
        << media.status();
  }
}

TEST(InspectMediaTest, TruncatedAudioIsRefused) {
  const std::string bytes = TestWav(2000);
  absl::StatusOr<v1::Media> media = InspectMedia(bytes.substr(0, bytes.size() / 2), MediaLimits());
  ASSERT_FALSE(media.ok());
  EXPECT_EQ(std::string(media.status().message()),
            "the wav audio is truncated: its header claims more sound than the file holds");
}

TEST(InspectMediaTest, WhatIsNeitherIsRefusedWhateverItsName) {
  for (const std::string& bytes : {std::string("id,text\n1,hello\n"), std::string(5000, '\xff'),
                                   std::string("<svg xmlns=\"http://www.w3.org/2000/svg\" "
                                               "width=\"10\" height=\"10\"></svg>")}) {
    absl::StatusOr<v1::Media> media = InspectMedia(bytes, MediaLimits());
    ASSERT_FALSE(media.ok());
    EXPECT_EQ(media.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(media.status().message(), ::testing::AnyOf(HasSubstr("neither an image nor audio"),
                                                           HasSubstr("not accepted")))
        << media.status();
  }
  EXPECT_EQ(std::string(InspectMedia("", MediaLimits()).status().message()), "the file is empty");
}

TEST(InspectMediaTest, CapsAreCheckedBeforeDecoding) {
  MediaLimits limits;
  limits.max_pixels = 100 * 100;
  EXPECT_EQ(std::string(InspectMedia(TestImage(101, 100), limits).status().message()),
            "the image is 101x100 pixels, more than the 10000 pixels allowed");
  EXPECT_TRUE(InspectMedia(TestImage(100, 100), limits).ok());

  limits.max_file_bytes = 1000;
  const std::string wav = TestWav(1000);
  EXPECT_EQ(std::string(InspectMedia(wav, limits).status().message()),
            absl::StrCat("the file is ", wav.size(), " bytes, more than the 1000 allowed"));

  limits = MediaLimits();
  limits.max_audio_ms = 1000;
  EXPECT_EQ(std::string(InspectMedia(TestWav(3000), limits).status().message()),
            "the audio lasts 3 s, more than the 1 s allowed");
}

// A phone held upright saves its photo lying down with EXIF orientation 6: the sizes recorded
// and the rendition served are the upright picture's, so the page lays it out as it shows.
TEST(PhoneImageTest, APhotoTakenUprightIsRecordedAndServedUpright) {
  const std::string photo = TestImage(400, 300, "jpeg", /*orientation=*/6);
  absl::StatusOr<v1::Media> media = InspectMedia(photo, MediaLimits());
  ASSERT_TRUE(media.ok()) << media.status();
  EXPECT_EQ(media->width(), 300u);
  EXPECT_EQ(media->height(), 400u);
  absl::StatusOr<std::string> phone = PhoneImage(photo, {.long_side = 200, .quality = 60});
  ASSERT_TRUE(phone.ok()) << phone.status();
  absl::StatusOr<v1::Media> served = InspectMedia(*phone, MediaLimits());
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(std::make_pair(served->width(), served->height()),
            PhoneSize(media->width(), media->height(), 200));
  EXPECT_EQ(served->height(), 200u);
}

TEST(PhoneImageTest, AnImageIsServedWithinItsLongSideKeepingItsShape) {
  EXPECT_EQ(PhoneSize(4000, 3000, 1024), std::make_pair(1024u, 768u));
  EXPECT_EQ(PhoneSize(3000, 4000, 1024), std::make_pair(768u, 1024u));
  EXPECT_EQ(PhoneSize(5000, 2, 1024), std::make_pair(1024u, 1u));
  EXPECT_EQ(PhoneSize(800, 600, 1024), std::make_pair(800u, 600u));  // never enlarged

  for (const char* format : {"jpeg", "png"}) {
    absl::StatusOr<std::string> phone =
        PhoneImage(TestImage(4000, 3000, format), {.long_side = 1024, .quality = 60});
    ASSERT_TRUE(phone.ok()) << phone.status();
    absl::StatusOr<v1::Media> served = InspectMedia(*phone, MediaLimits());
    ASSERT_TRUE(served.ok()) << served.status();
    EXPECT_EQ(served->format(), "jpeg");
    EXPECT_EQ(served->width(), 1024u) << format;
    EXPECT_EQ(served->height(), 768u) << format;
  }
  absl::StatusOr<std::string> small = PhoneImage(TestImage(300, 200), {});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(InspectMedia(*small, MediaLimits())->width(), 300u);
  EXPECT_EQ(PhoneImage("not an image", {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mw::media
