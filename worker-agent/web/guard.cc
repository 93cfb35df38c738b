#include "worker-agent/web/guard.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/common/sha256.h"
#include "worker-agent/web/html.h"

namespace mw::agent::web {

httplib::Headers SecurityHeaders() {
  const std::string policy = absl::StrCat(
      "default-src 'none'; script-src 'sha256-", absl::Base64Escape(Sha256(PageScript())),
      "'; style-src 'sha256-", absl::Base64Escape(Sha256(PageStyle())),
      "'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri "
      "'none'");
  return {{"Content-Security-Policy", policy},
          {"X-Frame-Options", "DENY"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "same-origin"}};
}

std::string CrossSiteReason(const httplib::Request& req) {
  if (req.has_header("Origin")) {
    const std::string sent = req.get_header_value("Origin");
    absl::string_view origin = sent;
    const std::string host = req.get_header_value("Host");
    if (!absl::ConsumePrefix(&origin, "http://")) absl::ConsumePrefix(&origin, "https://");
    if (host.empty() || origin != host) {
      return absl::StrCat("Origin ", req.get_header_value("Origin"), " is not this page (", host,
                          ")");
    }
  }
  const std::string site = req.get_header_value("Sec-Fetch-Site");
  if (site == "cross-site" || site == "same-site") {
    return absl::StrCat("Sec-Fetch-Site is ", site);
  }
  return "";
}

int64_t SignInThrottle::WaitLocked(const Window& w, uint32_t limit, int64_t now_ms) const {
  if (now_ms - w.start_ms >= limits_.window_ms || w.failures < limit) return 0;
  return w.start_ms + limits_.window_ms - now_ms;
}

int64_t SignInThrottle::WaitMs(const std::string& address, int64_t now_ms) {
  absl::MutexLock l(&mu_);
  int64_t wait = WaitLocked(overall_, limits_.overall, now_ms);
  if (auto it = by_address_.find(address); it != by_address_.end()) {
    wait = std::max(wait, WaitLocked(it->second, limits_.per_address, now_ms));
  }
  return wait;
}

void SignInThrottle::Failed(const std::string& address, int64_t now_ms) {
  absl::MutexLock l(&mu_);
  auto count = [&](Window& w) {
    if (now_ms - w.start_ms >= limits_.window_ms) w = {.start_ms = now_ms, .failures = 0};
    ++w.failures;
  };
  count(overall_);
  if (!by_address_.contains(address) && by_address_.size() >= 10'000) {
    absl::erase_if(by_address_, [&](const auto& kv) {
      return now_ms - kv.second.start_ms >= limits_.window_ms;
    });
  }
  auto [it, added] = by_address_.try_emplace(address, Window{.start_ms = now_ms, .failures = 0});
  count(it->second);
}

}  // namespace mw::agent::web
