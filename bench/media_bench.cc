// media_bench: the figures of media work, on real parts.
//
//   page_bytes      the task page a worker opens for a 12-megapixel photo plus the image it
//                   shows, as a real agent web server serves them from its media cache (the
//                   photo re-encoded for phones);
//   prefetch_ratio  bytes per second the agent's media cache fetched from a real mw-dispatcher
//                   (the binary, holding --files photos) through a TCP proxy that holds the link
//                   to --link-bytes-per-second, divided by that rate.
//
// Ends with one line: media page_bytes=N prefetch_ratio=R (goals: N <= 153600, R >= 0.8).
//
//   build/bin/media_bench [--files 4] [--link-bytes-per-second 1000000]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vips/vips.h>

#include <httplib.h>
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/clock.h"
#include "engine/common/sha256.h"
#include "engine/media/inspect.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "worker-agent/dispatcher_link.h"
#include "worker-agent/media/media_cache.h"
#include "worker-agent/state/agent_state.h"
#include "worker-agent/web/web_server.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "media_bench: %s\n", what.c_str());
  std::exit(1);
}

// A camera-like 4000 x 3000 JPEG (quality 90): three bands of blurred noise over a gradient,
// which compresses like a photo rather than like a flat test card. `seed` varies it.
std::string Photo(int seed) {
  VipsImage *noise = nullptr, *blurred = nullptr, *ramp = nullptr, *sum = nullptr,
            *pixels = nullptr;
  if (vips_gaussnoise(&noise, 4000, 3000, "sigma", 60.0, "mean", 0.0, "seed", seed, nullptr) ||
      vips_gaussblur(noise, &blurred, 1.5, nullptr) || vips_xyz(&ramp, 4000, 3000, nullptr)) {
    Die("cannot draw a photo");
  }
  VipsImage* x = nullptr;
  VipsImage* bands[3] = {nullptr, nullptr, nullptr};
  if (vips_extract_band(ramp, &x, 0, nullptr) || vips_linear1(x, &bands[0], 0.05, 40.0, nullptr) ||
      vips_add(blurred, bands[0], &sum, nullptr) ||
      vips_linear1(sum, &bands[1], 1.0, 60.0, nullptr) ||
      vips_bandjoin_const1(bands[1], &bands[2], 0, nullptr)) {
    Die("cannot draw a photo");
  }
  VipsImage* rgb = nullptr;
  VipsImage* three[3] = {bands[1], sum, bands[0]};
  if (vips_bandjoin(three, &rgb, 3, nullptr) || vips_cast_uchar(rgb, &pixels, nullptr)) {
    Die("cannot draw a photo");
  }
  void* buf = nullptr;
  size_t len = 0;
  if (vips_jpegsave_buffer(pixels, &buf, &len, "Q", 90, nullptr)) Die("cannot encode a photo");
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  for (VipsImage* i : {noise, blurred, ramp, sum, pixels, x, bands[0], bands[1], bands[2], rgb}) {
    if (i != nullptr) g_object_unref(i);
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

v1::Media Inspected(const std::string& bytes) {
  absl::StatusOr<v1::Media> m = media::InspectMedia(bytes, media::MediaLimits());
  if (!m.ok()) Die(m.status().ToString());
  m->set_sha256(ToHex(Sha256(bytes)));
  return *m;
}

// ---- page_bytes: a real agent web server, in process ----

uint64_t PageBytes(const testing::TempDir& dir, const std::string& photo) {
  auto state = centre::AgentState::Open(dir.Sub("agent-db"), SystemClock::Get());
  if (!state.ok()) Die(state.status().ToString());
  agent::MediaCache cache({.dir = dir.Sub("agent-media")});
  if (!cache.Open().ok()) Die("cannot open the media cache");
  const v1::Media media = Inspected(photo);
  absl::Status fetched =
      cache.Fetch(media, [&](const v1::Media&, uint64_t, const agent::MediaCache::Sink& sink) {
        sink(photo, true);
        return absl::OkStatus();
      });
  if (!fetched.ok()) Die(fetched.ToString());

  v1::RosterEntry e;
  e.set_name("Amina");
  e.add_languages("en");
  auto worker = (*state)->AddWorker(e);
  auto code = (*state)->IssueSignInCode(worker->pseudonym());
  v1::LeaseReply lease;
  v1::Assignment* a = lease.add_assignments();
  a->set_task_id("job-1/total/0");
  a->set_assignment_id("job-1/total/0@" + worker->pseudonym());
  a->set_job_id("job-1");
  a->set_stage("total");
  a->set_worker(worker->pseudonym());
  a->set_epoch(1);
  a->set_piece_rate_minor(5);
  a->set_currency("USD");
  a->set_lease_expires_at_ms(SystemClock::Get()->NowMs() + 3'600'000);
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"id", "R-000123"},
                                    {"photo", "scans/receipt-000123.jpg"}}) {
    v1::Field* f = a->mutable_item()->add_fields();
    f->set_name(name);
    f->set_value(value);
    if (name == "photo") *f->mutable_media() = media;
  }
  v1::StageSpec* spec = lease.add_specs();
  spec->set_job_id("job-1");
  spec->set_stage("total");
  spec->set_currency("USD");
  v1::HumanStage* h = spec->mutable_human();
  (*h->mutable_instructions())["en"] =
      "Read the receipt in the photo and type its total, as printed, with its decimals.";
  h->mutable_answer()->mutable_text()->set_max_length(20);
  h->set_piece_rate_minor(5);
  h->set_estimated_seconds(30);
  if (!(*state)->SaveLease(lease).ok()) Die("cannot hold the task");

  agent::web::Hooks hooks;
  hooks.set_on_duty = [](const std::string&, bool) {};
  hooks.answer_saved = [] {};
  hooks.roster_changed = [] {};
  hooks.online = [] { return true; };
  auto web = agent::web::WebServer::Start(
      state->get(), SystemClock::Get(), hooks,
      {.listen = "127.0.0.1:0", .manager_code = "bench-manager-code", .media = &cache});
  if (!web.ok()) Die(web.status().ToString());
  httplib::Client client("127.0.0.1", (*web)->port());
  auto signin = client.Get("/signin");
  std::string cookie = signin->get_header_value("Set-Cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  std::string token = cookie.substr(cookie.find('=') + 1);
  auto in = client.Post(
      "/signin", httplib::Headers{{"Cookie", cookie}},
      httplib::Params{{"code", *code}, {agent::web::WebServer::kFormTokenField, token}});
  cookie = in->get_header_value("Set-Cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  token = agent::web::WebServer::FormTokenOf(cookie.substr(cookie.find('=') + 1));
  auto started = client.Post("/task/start", httplib::Headers{{"Cookie", cookie}},
                             httplib::Params{{"aid", a->assignment_id()},
                                             {agent::web::WebServer::kFormTokenField, token}});
  if (!started || started->status != 303) Die("cannot start the task");
  auto page = client.Get("/task", httplib::Headers{{"Cookie", cookie}});
  auto image = client.Get("/media/" + media.sha256(), httplib::Headers{{"Cookie", cookie}});
  if (!page || page->status != 200 || !image || image->status != 200) Die("cannot open the task");
  if (page->body.find("/media/" + media.sha256()) == std::string::npos) {
    Die("the task page does not show its photo");
  }
  const v1::Media served = Inspected(image->body);
  std::printf(
      "page: task page %zu bytes + image %zu bytes (%ux%u JPEG, from a %ux%u photo of %zu "
      "bytes)\n",
      page->body.size(), image->body.size(), served.width(), served.height(), media.width(),
      media.height(), photo.size());
  return page->body.size() + image->body.size();
}

// ---- prefetch_ratio: a real dispatcher behind a throttled link ----

// Forwards one listening port to `upstream` (127.0.0.1), holding what flows back to the client
// to `rate` bytes per second (a token bucket over the whole run).
class ThrottledLink {
 public:
  ThrottledLink(int upstream, double rate) : upstream_(upstream), rate_(rate) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listener_, 8) != 0) {
      Die("the proxy cannot listen");
    }
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_ = std::thread([this] { Accept(); });
  }
  ~ThrottledLink() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    accept_.join();
    for (auto& t : pumps_) t.join();
  }
  int port() const { return port_; }

 private:
  void Accept() {
    for (;;) {
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(upstream_);
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(client);
        continue;
      }
      pumps_.emplace_back([this, client, server] { Pump(client, server, false); });
      pumps_.emplace_back([this, client, server] { Pump(server, client, true); });
    }
  }
  void Pump(int from, int to, bool throttled) {
    char buf[16 * 1024];
    for (;;) {
      const ssize_t n = read(from, buf, sizeof(buf));
      if (n <= 0) break;
      if (throttled) {
        // A token bucket of 16 KiB: the link carries n bytes in n / rate seconds, and idle time
        // earns no more than one bucket of burst.
        Clock::time_point at;
        {
          std::lock_guard<std::mutex> l(mu_);
          const Clock::time_point now = Clock::now();
          const auto burst = std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(16 * 1024 / rate_));
          next_ = std::max(next_, now - burst) +
                  std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(n) / rate_));
          at = next_;
        }
        std::this_thread::sleep_until(at);
      }
      for (ssize_t at = 0; at < n;) {
        const ssize_t w = write(to, buf + at, static_cast<size_t>(n - at));
        if (w <= 0) return;
        at += w;
      }
    }
    shutdown(to, SHUT_WR);
  }

  const int upstream_;
  const double rate_;
  std::mutex mu_;
  Clock::time_point next_ = Clock::now();  // when the link has carried what it was given
  int listener_ = -1;
  int port_ = 0;
  std::thread accept_;
  std::vector<std::thread> pumps_;
};

double PrefetchRatio(const testing::TempDir& dir, int files, double rate) {
  const std::string bin = MW_BIN_DIR;
  std::filesystem::create_directories(dir.Sub("scans"));
  std::vector<v1::Media> photos;
  std::string rows = "id,photo\n";
  for (int i = 0; i < files; ++i) {
    const std::string photo = Photo(100 + i);
    WriteFile(dir.Sub(absl::StrCat("scans/p", i, ".jpg")), photo);
    photos.push_back(Inspected(photo));
    absl::StrAppend(&rows, i, ",p", i, ".jpg\n");
  }
  WriteFile(dir.Sub("rows.csv"), rows);
  WriteFile(dir.Sub("contract.yaml"), R"(name: Receipts
client: acme
currency: USD
budget_minor: 100000
inputs:
  - {name: rows, format: FORMAT_CSV, path: rows.csv, media_folder: scans,
     media: [{field: photo, kind: MEDIA_IMAGE}]}
stages:
  - name: rows
    split: {input: rows, by: SPLIT_ROWS}
  - name: total
    after: [rows]
    human:
      instructions: {en: "The receipt's total?"}
      answer: {text: {max_length: 20}}
      piece_rate_minor: 5
      estimated_seconds: 30
      overlap: 1
)");
  testing::Subprocess dispatcher({bin + "/mw-dispatcher", "--data-dir", dir.Sub("d"), "--listen",
                                  "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
                                 dir.Sub("d.log"));
  const std::string server = testing::ReadyField(dispatcher.ReadLineContaining("ready"), "grpc");
  auto mw = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {bin + "/mw", "--server", server, "--token-file",
                                     dir.Sub("d/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::CommandResult r = testing::Run(argv);
    if (r.exit_code != 0) Die(absl::StrCat("mw ", args[0], ": ", r.err));
    return r;
  };
  mw({"centre", "add", "--id", "nairobi", "--region", "KE", "--currency", "USD", "--floor-minor",
      "100", "--credential-out", dir.Sub("n.cred")});
  mw({"contract", "submit", dir.Sub("contract.yaml")});
  std::ifstream cred_in(dir.Sub("n.cred"));
  std::string credential;
  std::getline(cred_in, credential);

  ThrottledLink link(std::stoi(server.substr(server.rfind(':') + 1)), rate);
  auto dispatcher_link = agent::DispatcherLink::Connect(
      {.target = absl::StrCat("127.0.0.1:", link.port())}, credential, absl::Seconds(60));
  if (!dispatcher_link.ok()) Die(dispatcher_link.status().ToString());
  // A lease names the photos, each with this centre's token for it (the agent's own way in).
  v1::RegisterRequest reg;
  reg.add_workers()->set_worker("w-bench");
  if (auto r = (*dispatcher_link)->Register(reg); !r.ok()) Die(r.status().ToString());
  v1::LeaseRequest ask;
  ask.set_idempotency_key("bench-lease");
  v1::WorkerCredit* credit = ask.add_credits();
  credit->set_worker("w-bench");
  credit->set_count(static_cast<uint32_t>(files));
  auto lease = (*dispatcher_link)->Lease(ask);
  if (!lease.ok()) Die(lease.status().ToString());
  photos.clear();
  for (const v1::Assignment& a : lease->assignments()) {
    for (const v1::Field& f : a.item().fields()) {
      if (f.has_media()) photos.push_back(f.media());
    }
  }
  if (static_cast<int>(photos.size()) != files) {
    Die(absl::StrCat("the lease named ", photos.size(), " of ", files, " photos"));
  }
  agent::MediaCache cache({.dir = dir.Sub("cache")});
  if (!cache.Open().ok()) Die("cannot open the cache");
  uint64_t bytes = 0;
  const Clock::time_point start = Clock::now();
  for (const v1::Media& m : photos) {
    absl::Status s = cache.Fetch(
        m, [&](const v1::Media& file, uint64_t offset, const agent::MediaCache::Sink& sink) {
          return (*dispatcher_link)->FetchMedia(file, offset, sink);
        });
    if (!s.ok()) Die(s.ToString());
    bytes += m.bytes();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "prefetch: %d photos, %llu bytes in %.2f s over a link of %.0f bytes/s: %.0f bytes/s\n",
      files, static_cast<unsigned long long>(bytes), seconds, rate, bytes / seconds);
  return bytes / seconds / rate;
}

}  // namespace
}  // namespace mw

int main(int argc, char** argv) {
  CLI::App app("media_bench: page bytes of a photo task and the agent's prefetch over a slow link");
  int files = 4;
  double rate = 1'000'000;
  app.add_option("--files", files, "Photos the agent prefetches")->check(CLI::Range(1, 100));
  app.add_option("--link-bytes-per-second", rate, "The throttled link's rate")
      ->check(CLI::Range(10'000.0, 1e9));
  CLI11_PARSE(app, argc, argv);
  if (VIPS_INIT(argv[0]) != 0) mw::Die("cannot start libvips");
  mw::testing::TempDir dir;
  const uint64_t page = mw::PageBytes(dir, mw::Photo(7));
  const double ratio = mw::PrefetchRatio(dir, files, rate);
  std::printf("media page_bytes=%llu prefetch_ratio=%.3f\n", static_cast<unsigned long long>(page),
              ratio);
  return 0;
}
