#include "bench/bench_support.h"

#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "echo.grpc.pb.h"
#include "engine/storage/store.h"

namespace mw::bench {
namespace {

class EchoService final : public mwbench::Echo::Service {
  grpc::Status Stream(grpc::ServerContext*,
                      grpc::ServerReaderWriter<mwbench::Blob, mwbench::Blob>* stream) override {
    mwbench::Blob blob;
    while (stream->Read(&blob)) {
      if (!stream->Write(blob)) break;
    }
    return grpc::Status::OK;
  }
};

}  // namespace

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

double RawSyncedPutsPerSecond(const std::string& dir, int batch, double seconds) {
  auto store = storage::Store::Open(dir, storage::Schema::kDispatcher);
  if (!store.ok()) return -1;
  const std::string value(100, 'x');
  uint64_t n = 0;
  const auto start = SteadyClock::now();
  while (Seconds(start, SteadyClock::now()) < seconds) {
    storage::Batch b;
    for (int i = 0; i < batch; ++i) b.Put(storage::Cf::kMeta, absl::StrCat("k", n++), value);
    if (!(*store)->Write(std::move(b), storage::Durability::kSynced).ok()) return -1;
  }
  return n / Seconds(start, SteadyClock::now());
}

double GrpcEchoMessagesPerSecond(int message_bytes, double seconds) {
  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return -1;
  auto stub = mwbench::Echo::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Stream(&context);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> echoed{0};
  std::thread reader([&] {
    mwbench::Blob blob;
    while (stream->Read(&blob)) echoed.fetch_add(1, std::memory_order_relaxed);
  });
  mwbench::Blob blob;
  blob.set_data(std::string(message_bytes, 'x'));
  const auto start = SteadyClock::now();
  uint64_t sent = 0;
  while (!stop.load()) {
    if (!stream->Write(blob)) break;
    if (++sent % 256 == 0 && Seconds(start, SteadyClock::now()) >= seconds) stop = true;
  }
  const uint64_t done = echoed.load();
  const double elapsed = Seconds(start, SteadyClock::now());
  stream->WritesDone();
  reader.join();
  (void)stream->Finish();
  server->Shutdown();
  return done / elapsed;
}

double PeakRssMb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

double ProcessCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

double ThreadsCpuSeconds(const std::string& prefix) {
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind(prefix, 0) != 0) continue;
    // stat: "pid (comm) state ..." with utime and stime the 14th and 15th fields; the name
    // may hold spaces, so the fields are counted from its closing parenthesis.
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::strtod(field.c_str(), nullptr);
      if (i == 15) stime = std::strtod(field.c_str(), nullptr);
    }
    total += (utime + stime) / tick;
  }
  return total;
}

double StatusMb(absl::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::atol(line.c_str() + field.size() + 1) / 1024.0;  // kB
    }
  }
  return -1;
}

double RssMb() { return StatusMb("VmRSS"); }

std::string ReceiptsContract(int overlap, const std::string& more_stages) {
  return absl::StrCat(R"(
name: Dispatch bench
client: acme
currency: USD
budget_minor: 900000000000
caps: {max_items: 10000000}
inputs: [{name: rows, format: FORMAT_CSV, path: rows.csv}]
stages:
  - {name: split, split: {input: rows, by: SPLIT_ROWS}}
  - name: check
    after: [split]
    human:
      instructions: {en: "Does the receipt total match?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 2
      estimated_seconds: 10
      overlap: )",
                      overlap, "\n", more_stages);
}

absl::StatusOr<std::string> AddCentre(dispatch::Engine* engine, const std::string& id,
                                      uint32_t capacity, const std::vector<std::string>& workers) {
  microwork::v1::AddCentreRequest add;
  add.set_idempotency_key(id);
  add.mutable_centre()->set_id(id);
  add.mutable_centre()->set_region("KE");
  add.mutable_centre()->set_currency("USD");
  add.mutable_centre()->set_wage_floor_minor_per_hour(600);
  add.mutable_centre()->add_languages("en");
  add.mutable_centre()->set_capacity(capacity);
  auto added = engine->AddCentre(add);
  if (!added.ok()) return added.status();
  microwork::v1::RegisterRequest reg;
  for (const auto& w : workers) reg.add_workers()->set_worker(w);
  if (auto r = engine->Register(id, reg); !r.ok()) return r.status();
  return added->credential();
}

microwork::v1::SubmitResultsRequest AnswerAll(const microwork::v1::LeaseReply& leased) {
  microwork::v1::SubmitResultsRequest submit;
  for (const auto& a : leased.assignments()) {
    microwork::v1::Result* r = submit.add_results();
    r->set_result_id(absl::StrCat("r-", a.assignment_id(), "-", a.epoch()));
    r->set_assignment_id(a.assignment_id());
    r->set_epoch(a.epoch());
    r->set_worker(a.worker());
    r->mutable_answer()->set_choice(a.item().index() % 7 == 0 ? "no" : "yes");
    r->set_active_seconds(9);
  }
  return submit;
}

absl::StatusOr<microwork::v1::SubmitContractReply> SubmitGeneratedCsv(
    dispatch::Engine* engine, const microwork::v1::ContractHeader& header, const std::string& input,
    const std::string& first_line, uint64_t rows,
    const std::function<void(uint64_t, std::string*)>& row) {
  auto sub = engine->BeginSubmission(header);
  if (!sub.ok()) return sub.status();
  std::string chunk = first_line + "\n";
  for (uint64_t i = 0; i < rows; ++i) {
    row(i, &chunk);
    if (chunk.size() >= 256 * 1024 || i + 1 == rows) {
      microwork::v1::InputChunk c;
      c.set_input(input);
      c.set_data(std::move(chunk));
      c.set_last(i + 1 == rows);
      if (absl::Status s = (*sub)->AddChunk(c); !s.ok()) return s;
      chunk.clear();
    }
  }
  return (*sub)->Finish();
}

}  // namespace mw::bench
