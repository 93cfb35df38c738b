// Helpers the `mw` commands share.
#ifndef MW_CLI_COMMON_H_
#define MW_CLI_COMMON_H_

#include <cstdio>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "cli/client.h"
#include "engine/common/plain_text.h"
#include "engine/ledger/auditor.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/sync_stream.h"

namespace mw::cli {

// Streams the whole ledger from the dispatcher into `auditor` and checks it.
// Returns the first violation (DATA_LOSS / FAILED_PRECONDITION) or the RPC's error.
[[nodiscard]] absl::Status AuditRemoteLedger(Client& client, ledger::Auditor* auditor);

// Reads `reader`'s pages to the end, each into an arena of its own that is freed in one go once
// `each` has seen it: an export of a million rows is not millions of frees.
template <typename Page>
void ForEachPage(grpc::ClientReaderInterface<Page>* reader,
                 const std::function<void(const Page&)>& each) {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  while (true) {
    google::protobuf::Arena arena(options);
    Page* page = google::protobuf::Arena::CreateMessage<Page>(&arena);
    if (!reader->Read(page)) return;
    each(*page);
  }
}

// Removes a file written as "<out>.partial" (and renamed into place once whole) on every way
// out: once renamed there is nothing left to remove, and a command that failed (an unknown job,
// a lost connection, a full disk) leaves no half-written file beside `out`.
class RemovedAtExit {
 public:
  explicit RemovedAtExit(std::string path) : path_(std::move(path)) {}
  ~RemovedAtExit() { std::remove(path_.c_str()); }
  RemovedAtExit(const RemovedAtExit&) = delete;
  RemovedAtExit& operator=(const RemovedAtExit&) = delete;

 private:
  std::string path_;
};

}  // namespace mw::cli

#endif  // MW_CLI_COMMON_H_
