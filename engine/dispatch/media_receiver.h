// MediaReceiver: the media files one submission brings. The client names each file its rows
// refer to once (MediaFile) and, for a file the dispatcher lacks, sends its bytes at once in
// order (MediaChunk); the receiver checks the bytes against the SHA-256 and size the client
// claimed, decodes them (engine/media/inspect.h) and puts what decodes on the MediaShelf, by
// hash, once. Then, as the input is split, Attach gives each row's media field its Media, or the
// reason the row is quarantined: the file could not be read, did not decode, was too large or
// is of the wrong kind.
//
//   MediaReceiver media(shelf, limits, /*keep=*/true);
//   MW_RETURN_IF_ERROR(media.AddFile(file));    // for each MediaFile
//   MW_RETURN_IF_ERROR(media.AddChunk(chunk));  // for each MediaChunk
//   MW_RETURN_IF_ERROR(media.Close());          // before the first input chunk
//   std::string why = media.Attach(input, &item);
//
// Not thread-safe.
#ifndef MW_ENGINE_DISPATCH_MEDIA_RECEIVER_H_
#define MW_ENGINE_DISPATCH_MEDIA_RECEIVER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/common/sha256.h"
#include "engine/media/inspect.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::dispatch {

// Where the dispatcher keeps media files, by lower-case hex SHA-256.
class MediaShelf {
 public:
  // The file's Media, nullopt when the shelf does not have it.
  [[nodiscard]] virtual absl::StatusOr<std::optional<microwork::v1::Media>> FindMedia(
      const std::string& sha256) const = 0;
  // Keeps `bytes` as `media` (buffered: the job's synced write makes it durable). Writing a
  // file the shelf has again changes nothing: the key is the content.
  [[nodiscard]] virtual absl::Status StoreMedia(const microwork::v1::Media& media,
                                                absl::string_view bytes) = 0;

 protected:
  ~MediaShelf() = default;
};

struct MediaCaps {
  media::MediaLimits file;           // one file: bytes, pixels, length
  uint64_t max_files = 100'000;      // files one submission names
  uint64_t max_bytes = 20ull << 30;  // their bytes together (files the shelf had count too)
};

class MediaReceiver {
 public:
  // `keep` false for a dry run: files are checked but nothing is put on the shelf.
  MediaReceiver(MediaShelf* shelf, MediaCaps caps, bool keep);

  // INVALID_ARGUMENT, naming the file, for what breaks the protocol: a bad or repeated name, a
  // malformed hash, a file named while another's bytes are unfinished, the caps on files per
  // submission and bytes per submission. A file too large, unreadable or undecodable is not an
  // error here: the rows naming it are quarantined.
  [[nodiscard]] absl::Status AddFile(const microwork::v1::MediaFile& file);
  // INVALID_ARGUMENT for bytes of a file that is not the one expected, more bytes than it
  // claimed, or (at `last`) bytes whose size or SHA-256 differ from the claim.
  [[nodiscard]] absl::Status AddChunk(const microwork::v1::MediaChunk& chunk);
  // INVALID_ARGUMENT when a file's bytes were left unfinished. Call before splitting rows.
  [[nodiscard]] absl::Status Close();

  // For each media field of `input` in `item`: sets its Media, or returns why the row is refused
  // ("photo: \"r12.jpg\" is audio; expected an image"). "" when the row is kept.
  std::string Attach(const microwork::v1::Input& input, microwork::v1::Item* item) const;

  uint64_t files() const { return by_name_.size(); }
  uint64_t received_bytes() const { return received_bytes_; }  // bytes sent, not found on the shelf

 private:
  struct Known {
    uint64_t bytes = 0;                         // as claimed, and checked
    std::optional<microwork::v1::Media> media;  // decoded, on the shelf
    std::string refused;                        // why not, when not
  };
  MediaShelf* const shelf_;
  const MediaCaps caps_;
  const bool keep_;
  absl::flat_hash_map<std::string, std::string> by_name_;  // name -> sha256 ("" if unreadable)
  absl::flat_hash_map<std::string, Known> by_sha_;
  absl::flat_hash_map<std::string, std::string> unreadable_;  // name -> the client's reason
  uint64_t total_bytes_ = 0;
  uint64_t received_bytes_ = 0;
  // The file whose bytes are arriving.
  std::string pending_sha_;
  std::string pending_name_;
  uint64_t pending_bytes_ = 0;
  std::string buffer_;
  // A file the shelf had when it was named: bytes the client may still send are dropped.
  std::string discard_sha_;
  uint64_t discard_left_ = 0;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_MEDIA_RECEIVER_H_
