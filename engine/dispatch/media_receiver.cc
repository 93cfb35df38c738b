#include "engine/dispatch/media_receiver.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/contract/csv_reader.h"
#include "engine/contract/validate.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;

namespace {

// At most `max` bytes of `s`, cut on a character boundary (a reply must stay valid UTF-8).
std::string Cut(absl::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s.substr(0, contract::ValidUtf8Prefix(s)));
  return absl::StrCat(s.substr(0, contract::ValidUtf8Prefix(s.substr(0, max))), "…");
}

// The file's name, quoted and cut to 80 bytes for a message.
std::string Quoted(absl::string_view name) { return absl::StrCat("\"", Cut(name, 80), "\""); }

}  // namespace

MediaReceiver::MediaReceiver(MediaShelf* shelf, MediaCaps caps, bool keep)
    : shelf_(shelf), caps_(caps), keep_(keep) {}

absl::Status MediaReceiver::AddFile(const v1::MediaFile& file) {
  const std::string where = absl::StrCat("media_file ", Quoted(file.name()));
  MW_RETURN_IF_ERROR(Close());
  discard_sha_.clear();
  if (std::string why = contract::MediaValueProblem(file.name()); !why.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": the name ", why));
  }
  if (by_name_.contains(file.name())) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": named twice"));
  }
  if (by_name_.size() >= caps_.max_files) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": more than ", caps_.max_files, " media files in one submission"));
  }
  if (file.sha256().empty()) {
    if (file.unreadable().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected a sha256, or why the file could not be read"));
    }
    by_name_[file.name()] = "";
    unreadable_[file.name()] = Cut(file.unreadable(), 200);
    return absl::OkStatus();
  }
  if (!IsSha256Hex(file.sha256())) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": sha256 must be 64 lower-case hex digits"));
  }
  if (auto again = by_sha_.find(file.sha256()); again != by_sha_.end()) {
    if (again->second.bytes != file.bytes()) {  // the same bytes, named again: the same size
      return absl::InvalidArgumentError(absl::StrCat(where, ": claimed ", file.bytes(),
                                                     " bytes; the file with its sha256 has ",
                                                     again->second.bytes));
    }
    by_name_[file.name()] = file.sha256();
    return absl::OkStatus();
  }
  by_name_[file.name()] = file.sha256();

  if (file.bytes() > caps_.max_bytes - total_bytes_) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": the media files come to more than ",
                                                   caps_.max_bytes, " bytes in one submission"));
  }
  total_bytes_ += file.bytes();
  Known& known = by_sha_[file.sha256()];
  known.bytes = file.bytes();
  if (file.bytes() > caps_.file.max_file_bytes) {
    known.refused = absl::StrFormat("the file is %d bytes, more than the %d allowed", file.bytes(),
                                    caps_.file.max_file_bytes);
    return absl::OkStatus();  // its bytes are not sent
  }
  MW_ASSIGN_OR_RETURN(known.media, shelf_->FindMedia(file.sha256()));
  if (known.media.has_value()) {
    if (known.media->bytes() == file.bytes()) {
      // Its bytes may still follow: the client asked FindMedia before another submission kept
      // the file. They are read and dropped.
      discard_sha_ = file.sha256();
      discard_left_ = file.bytes();
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(where, ": claimed ", file.bytes(),
                                                   " bytes; the file with its sha256 has ",
                                                   known.media->bytes()));
  }
  pending_sha_ = file.sha256();
  pending_name_ = file.name();
  pending_bytes_ = file.bytes();
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status MediaReceiver::AddChunk(const v1::MediaChunk& chunk) {
  if (pending_sha_.empty() && !discard_sha_.empty() && chunk.sha256() == discard_sha_ &&
      chunk.data().size() <= discard_left_) {
    discard_left_ -= chunk.data().size();
    if (chunk.last()) discard_sha_.clear();
    return absl::OkStatus();
  }
  if (pending_sha_.empty() || chunk.sha256() != pending_sha_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "media_chunk of ", chunk.sha256().substr(0, 64), ": ",
        pending_sha_.empty() ? "no media file is waiting for its bytes"
                             : absl::StrCat("expected the bytes of ", Quoted(pending_name_))));
  }
  const std::string where = absl::StrCat("media_file ", Quoted(pending_name_));
  if (buffer_.size() + chunk.data().size() > pending_bytes_) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": more bytes arrived than the ", pending_bytes_, " it claimed"));
  }
  buffer_.append(chunk.data());
  received_bytes_ += chunk.data().size();
  if (!chunk.last()) return absl::OkStatus();
  if (buffer_.size() != pending_bytes_) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", buffer_.size(), " bytes arrived, it claimed ", pending_bytes_));
  }
  if (ToHex(Sha256(buffer_)) != pending_sha_) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": the bytes that arrived do not have the sha256 it claimed"));
  }
  Known& known = by_sha_[pending_sha_];
  absl::StatusOr<v1::Media> media = media::InspectMedia(buffer_, caps_.file);
  if (media.ok()) {
    media->set_sha256(pending_sha_);
    if (keep_) MW_RETURN_IF_ERROR(shelf_->StoreMedia(*media, buffer_));
    known.media = *std::move(media);
  } else {
    known.refused = std::string(media.status().message());
  }
  pending_sha_.clear();
  pending_name_.clear();
  buffer_ = std::string();
  return absl::OkStatus();
}

absl::Status MediaReceiver::Close() {
  if (pending_sha_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("media_file ", Quoted(pending_name_), ": ",
                                                 buffer_.size(), " of its ", pending_bytes_,
                                                 " bytes arrived before the next part"));
}

std::string MediaReceiver::Attach(const v1::Input& input, v1::Item* item) const {
  for (const v1::MediaField& m : input.media()) {
    v1::Field* field = nullptr;
    for (v1::Field& f : *item->mutable_fields()) {
      if (f.name() == m.field()) field = &f;
    }
    if (field == nullptr) return absl::StrCat(m.field(), ": the row has no such field");
    const std::string& name = field->value();
    const std::string what = absl::StrCat(m.field(), ": ", Quoted(name));
    if (name.empty()) return absl::StrCat(m.field(), ": empty, expected a file's name");
    if (std::string why = contract::MediaValueProblem(name); !why.empty()) {
      return absl::StrCat(what, ": the name ", why);
    }
    auto named = by_name_.find(name);
    if (named == by_name_.end()) return absl::StrCat(what, " was not sent with the contract");
    if (named->second.empty()) {
      return absl::StrCat(what, " could not be read: ", unreadable_.at(name));
    }
    const Known& known = by_sha_.at(named->second);
    if (!known.media.has_value()) return absl::StrCat(what, ": ", known.refused);
    if (known.media->kind() != m.kind()) {
      return absl::StrCat(what, " is ", media::MediaKindWord(known.media->kind()), "; expected ",
                          m.kind() == v1::MEDIA_IMAGE ? "an image" : "audio");
    }
    *field->mutable_media() = *known.media;
  }
  return "";
}

}  // namespace mw::dispatch
