#include "testing/file_server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"

namespace mw::testing {

FileServer::FileServer() : server_(std::make_unique<httplib::Server>()) {
  server_->Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    ++hits_[req.path];
    if (auto it = redirects_.find(req.path); it != redirects_.end()) {
      res.set_redirect(it->second);
    } else if (auto body = bodies_.find(req.path); body != bodies_.end()) {
      res.set_content(body->second, "application/octet-stream");
    } else {
      res.status = 404;
    }
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  httplib::Server* server = server_.get();
  thread_ = std::thread([server] { server->listen_after_bind(); });
  // httplib 0.11 loses a stop() that comes before its accept loop runs; wait for the loop.
  while (!server->is_running()) std::this_thread::yield();
}

FileServer::~FileServer() {
  server_->stop();
  thread_.join();
}

void FileServer::Serve(const std::string& path, std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  bodies_[path] = std::move(body);
}

void FileServer::Redirect(const std::string& path, const std::string& location) {
  std::lock_guard<std::mutex> lock(mu_);
  redirects_[path] = location;
}

std::string FileServer::Url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

int FileServer::Hits(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hits_.find(path);
  return it == hits_.end() ? 0 : it->second;
}

}  // namespace mw::testing
