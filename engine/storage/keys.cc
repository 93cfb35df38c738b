#include "engine/storage/keys.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mw::storage::keys {

// Big-endian, so that byte order is numeric order. Written with one append each: keys are made
// for every answer and transfer under the dispatcher's lock, and byte by byte (a capacity check
// and a possible growth each) they were half of keys::Task's instructions.
void AppendU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (24 - 8 * i));
  out->append(b, sizeof(b));
}

void AppendU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  out->append(b, sizeof(b));
}

void AppendString(std::string* out, absl::string_view s) {
  AppendU32(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}

namespace {

// Room for a key of a length-prefixed string and `more` bytes after it, allocated once.
std::string KeyFor(absl::string_view s, size_t more) {
  std::string k;
  k.reserve(4 + s.size() + more);
  return k;
}

}  // namespace

bool KeyReader::ReadU32(uint32_t* v) {
  if (in_.size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<uint8_t>(in_[i]);
  in_.remove_prefix(4);
  *v = r;
  return true;
}

bool KeyReader::ReadU64(uint64_t* v) {
  if (in_.size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<uint8_t>(in_[i]);
  in_.remove_prefix(8);
  *v = r;
  return true;
}

bool KeyReader::ReadString(std::string* s) {
  uint32_t len;
  if (!ReadU32(&len) || in_.size() < len) return false;
  s->assign(in_.data(), len);
  in_.remove_prefix(len);
  return true;
}

std::optional<std::string> PrefixSuccessor(absl::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xff) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return std::nullopt;
}

std::string Meta(absl::string_view name) { return std::string(name); }

std::string StaffPrefix() { return std::string("staff\0", 6); }

std::string Staff(absl::string_view name) {
  std::string k = StaffPrefix();
  AppendString(&k, name);
  return k;
}

std::string Centre(absl::string_view centre_id) {
  std::string k;
  AppendString(&k, centre_id);
  return k;
}

std::string Job(absl::string_view job_id) {
  std::string k;
  AppendString(&k, job_id);
  return k;
}

std::string JobPrefix(absl::string_view job_id) { return Job(job_id); }

std::string Item(absl::string_view job_id, uint64_t item) {
  std::string k = KeyFor(job_id, 8);
  AppendString(&k, job_id);
  AppendU64(&k, item);
  return k;
}

std::string StagePrefix(absl::string_view job_id, uint32_t stage) {
  std::string k = Job(job_id);
  AppendU32(&k, stage);
  return k;
}

uint32_t RoundStage(uint32_t stage_index, uint32_t round, bool vote) {
  // Contracts have at most a few dozen stages and iterations at most a few dozen rounds.
  return (uint32_t{1} << 24) + stage_index * 256 + round * 2 + (vote ? 1 : 0);
}

std::string Task(absl::string_view job_id, uint32_t stage, uint64_t item) {
  std::string k = KeyFor(job_id, 4 + 8);
  AppendString(&k, job_id);
  AppendU32(&k, stage);
  AppendU64(&k, item);
  return k;
}

std::string Contribution(absl::string_view job_id, uint32_t stage, uint64_t item,
                         absl::string_view worker) {
  std::string k = KeyFor(job_id, 4 + 8 + 4 + worker.size());
  AppendString(&k, job_id);
  AppendU32(&k, stage);
  AppendU64(&k, item);
  AppendString(&k, worker);
  return k;
}

std::string ResultId(absl::string_view centre_id, absl::string_view result_id) {
  std::string k;
  k.reserve(1 + result_id.size() + centre_id.size() + 4);
  k.push_back(kResultIdTag);
  k.append(result_id.data(), result_id.size());
  k.append(centre_id.data(), centre_id.size());
  AppendU32(&k, static_cast<uint32_t>(centre_id.size()));
  return k;
}

std::string CentreFirstResultId(absl::string_view centre_id, absl::string_view result_id) {
  std::string k = KeyFor(centre_id, 4 + result_id.size());
  AppendString(&k, centre_id);
  AppendString(&k, result_id);
  return k;
}

std::string Idempotency(absl::string_view principal, absl::string_view key) {
  std::string k;
  AppendString(&k, principal);
  AppendString(&k, key);
  return k;
}

std::string Account(absl::string_view account_id) { return std::string(account_id); }

std::string Transfer(uint64_t seq) {
  std::string k;
  AppendU64(&k, seq);
  return k;
}

std::string TransferId(absl::string_view transfer_id) { return std::string(transfer_id); }

namespace {

// Appends `text` with each run of digits written as its length (a byte below ' ') and the
// digits, and each byte below ' ' after a zero byte.
void AppendNaturalOrder(absl::string_view text, std::string* k) {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    // What is neither a digit nor a low byte goes as it is, a span at a time (made twice for
    // every wage: a byte at a time, 7% of ledger_bench's producer).
    const char* plain = p;
    while (p < end && !absl::ascii_isdigit(*p) && static_cast<unsigned char>(*p) >= ' ') ++p;
    k->append(plain, p - plain);
    if (p == end) break;
    if (!absl::ascii_isdigit(*p)) {
      k->push_back('\0');
      k->push_back(*p++);
      continue;
    }
    const char* run = p;
    while (p < end && p - run < static_cast<ptrdiff_t>(kMaxDigitRun) && absl::ascii_isdigit(*p))
      ++p;
    k->push_back(static_cast<char>(p - run));
    k->append(run, p - run);
  }
}

// Reads what AppendNaturalOrder wrote, from key[*i] to the end or to a zero byte followed by
// `stop` (then *i is at that zero byte). nullopt when it is not such text.
std::optional<std::string> ReadNaturalOrder(absl::string_view key, size_t* i,
                                            std::optional<char> stop) {
  std::string text;
  text.reserve(key.size() - *i);
  while (*i < key.size()) {
    const unsigned char c = static_cast<unsigned char>(key[*i]);
    if (c == 0) {
      if (*i + 1 == key.size()) return std::nullopt;
      if (stop.has_value() && key[*i + 1] == *stop) return text;
      if (static_cast<unsigned char>(key[*i + 1]) >= ' ') return std::nullopt;
      text.push_back(key[*i + 1]);  // a byte below ' ', escaped
      *i += 2;
    } else if (c < ' ') {  // a run of c digits
      if (c > kMaxDigitRun || *i + 1 + c > key.size()) return std::nullopt;
      const absl::string_view run = key.substr(*i + 1, c);
      if (!std::all_of(run.begin(), run.end(), absl::ascii_isdigit)) return std::nullopt;
      text.append(run.data(), run.size());
      *i += 1 + c;
    } else if (absl::ascii_isdigit(c)) {
      return std::nullopt;  // digits come in runs
    } else {
      text.push_back(key[*i]);
      ++*i;
    }
  }
  return text;
}

}  // namespace

std::string TransferIdIndex(absl::string_view transfer_id) {
  std::string k;
  k.reserve(transfer_id.size() + 6);
  k.push_back(kTransferIdTag);
  const size_t colon = transfer_id.find(':');
  if (colon == absl::string_view::npos) {
    AppendNaturalOrder(transfer_id, &k);
    return k;
  }
  AppendNaturalOrder(transfer_id.substr(colon + 1), &k);
  k.push_back('\0');
  k.push_back(kTransferKindMark);
  k.append(transfer_id.data(), colon);
  return k;
}

std::optional<std::string> ParseTransferIdIndex(absl::string_view key) {
  if (key.empty() || key[0] != kTransferIdTag) return std::nullopt;
  size_t i = 1;
  std::optional<std::string> rest = ReadNaturalOrder(key, &i, kTransferKindMark);
  if (!rest.has_value()) return std::nullopt;
  if (i == key.size()) return rest;  // an id without a kind
  const absl::string_view kind = key.substr(i + 2);
  if (absl::StrContains(kind, ':')) return std::nullopt;  // the kind ends at the id's first ':'
  return absl::StrCat(kind, ":", *rest);
}

std::string WholeIdTransferIdIndex(absl::string_view transfer_id) {
  std::string k;
  k.reserve(transfer_id.size() + 4);
  k.push_back(kWholeIdTransferIdTag);
  AppendNaturalOrder(transfer_id, &k);
  return k;
}

std::optional<std::string> ParseWholeIdTransferIdIndex(absl::string_view key) {
  if (key.empty() || key[0] != kWholeIdTransferIdTag) return std::nullopt;
  size_t i = 1;
  return ReadNaturalOrder(key, &i, std::nullopt);
}

std::string TransferInBlock(uint64_t first_seq, uint64_t seq) {
  std::string k;
  AppendU64(&k, first_seq);
  AppendU64(&k, seq);
  return k;
}

std::string Withholding(absl::string_view centre_id, absl::string_view assignment_id) {
  return CentreFirstResultId(centre_id, assignment_id);
}

std::string WorkerJob(absl::string_view worker_account, absl::string_view job_id) {
  std::string k(worker_account);
  k.push_back('\0');
  k.append(job_id.data(), job_id.size());
  return k;
}

std::optional<std::pair<std::string, std::string>> ParseWorkerJob(absl::string_view key) {
  const size_t nul = key.find('\0');
  if (nul == absl::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(key.substr(0, nul)), std::string(key.substr(nul + 1)));
}

std::string Payout(absl::string_view batch_id) { return std::string(batch_id); }

std::string MediaInfo(absl::string_view sha256_hex) { return absl::StrCat(sha256_hex, "/i"); }

std::string MediaChunk(absl::string_view sha256_hex, uint32_t index) {
  std::string k = absl::StrCat(sha256_hex, "/c");
  AppendU32(&k, index);
  return k;
}

std::optional<TaskKey> ParseTask(absl::string_view key) {
  KeyReader r(key);
  TaskKey out;
  if (!r.ReadString(&out.job_id) || !r.ReadU32(&out.stage) || !r.ReadU64(&out.item) || !r.AtEnd()) {
    return std::nullopt;
  }
  return out;
}

std::optional<uint64_t> ParseItem(absl::string_view key) {
  KeyReader r(key);
  std::string job;
  uint64_t item;
  if (!r.ReadString(&job) || !r.ReadU64(&item) || !r.AtEnd()) return std::nullopt;
  return item;
}

std::optional<uint64_t> ParseTransfer(absl::string_view key) {
  KeyReader r(key);
  uint64_t seq;
  if (!r.ReadU64(&seq) || !r.AtEnd()) return std::nullopt;
  return seq;
}

std::optional<std::pair<uint64_t, uint64_t>> ParseTransferInBlock(absl::string_view value) {
  KeyReader r(value);
  uint64_t first, seq;
  if (!r.ReadU64(&first) || !r.ReadU64(&seq) || !r.AtEnd() || seq < first) return std::nullopt;
  return std::make_pair(first, seq);
}

std::string Roster(absl::string_view pseudonym) {
  std::string k;
  AppendString(&k, pseudonym);
  return k;
}

std::string CachedAssignment(absl::string_view assignment_id) {
  std::string k;
  AppendString(&k, assignment_id);
  return k;
}

std::string Outbox(uint64_t seq) { return Transfer(seq); }

std::string Quarantine(absl::string_view result_id) { return CachedAssignment(result_id); }

std::optional<uint64_t> ParseOutbox(absl::string_view key) { return ParseTransfer(key); }

std::string Earning(absl::string_view pseudonym, int64_t answered_at_ms,
                    absl::string_view result_id) {
  std::string k = EarningsPrefix(pseudonym);
  AppendU64(&k, static_cast<uint64_t>(std::max<int64_t>(answered_at_ms, 0)));
  AppendString(&k, result_id);
  return k;
}

std::string EarningsPrefix(absl::string_view pseudonym) {
  std::string k;
  AppendString(&k, pseudonym);
  return k;
}

std::string WebSessionPrefix() { return "web-session/"; }

std::string ReservationPrefix() { return "reservation/"; }

std::string Reservation(absl::string_view id) { return absl::StrCat(ReservationPrefix(), id); }

std::string TeamPrefix() { return "team/"; }

std::string Team(absl::string_view name) { return absl::StrCat(TeamPrefix(), name); }

std::string RatingPrefix() { return "voice-rating/"; }

std::string Rating(absl::string_view job_id, absl::string_view worker) {
  std::string k = RatingPrefix();
  AppendString(&k, job_id);
  AppendString(&k, worker);
  return k;
}

std::string FlagPrefix() { return "voice-flag/"; }

std::string Flag(absl::string_view task_id, absl::string_view worker) {
  std::string k = FlagPrefix();
  AppendString(&k, task_id);
  AppendString(&k, worker);
  return k;
}

std::string ComplaintPrefix() { return "voice-complaint/"; }

std::string Complaint(absl::string_view centre, absl::string_view id) {
  std::string k = ComplaintPrefix();
  AppendString(&k, centre);
  AppendString(&k, id);
  return k;
}

std::string CentreManagerPrefix() { return "centre-manager/"; }

std::string CentreManager(absl::string_view name) {
  return absl::StrCat(CentreManagerPrefix(), name);
}

std::string WebSession(absl::string_view token_sha256) {
  return absl::StrCat(WebSessionPrefix(), token_sha256);
}

}  // namespace mw::storage::keys
