// The page's defences against its neighbours on the centre's Wi-Fi, as OWASP ASVS level 2 asks
// of a small server-rendered site: response headers that let the browser run only the page's own
// script and style and never frame it, a refusal of state-changing requests sent from another
// site, and a throttle on wrong sign-in codes.
#ifndef MW_WORKER_AGENT_WEB_GUARD_H_
#define MW_WORKER_AGENT_WEB_GUARD_H_

#include <httplib.h>

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace mw::agent::web {

// Headers for every response: Content-Security-Policy (the page's one script and one stylesheet
// by their SHA-256, nothing else; forms post only here; no framing), X-Frame-Options DENY,
// X-Content-Type-Options nosniff and Referrer-Policy same-origin (with no-referrer, Chromium sends
// "Origin: null" on the page's own forms).
httplib::Headers SecurityHeaders();

// A POST from another site (cross-site request forgery): its Origin names another host than the
// one it was sent to (or is "null"), or the browser marks it Sec-Fetch-Site cross-site or
// same-site. A request that carries neither header (an old browser, a script) passes: the session
// cookie is SameSite=Strict. Returns "" to let it through, or what was wrong.
std::string CrossSiteReason(const httplib::Request& req);

// Wrong sign-in codes, counted per client address and over all addresses in fixed windows. Past
// either limit, sign-in is refused (429) until the window ends, for right codes too: a guesser
// learns nothing more. Memory is bounded: expired windows are dropped as new addresses come.
// Thread-safe; time comes from the caller (the agent's injected clock).
class SignInThrottle {
 public:
  struct Limits {
    uint32_t per_address = 5;  // wrong codes one address may send per window
    uint32_t overall = 50;     // wrong codes all addresses together may send per window
    int64_t window_ms = 15 * 60 * 1000;
  };
  explicit SignInThrottle(Limits limits) : limits_(limits) {}

  // 0 when `address` may try a code at `now_ms`; otherwise how long it must wait, in ms.
  int64_t WaitMs(const std::string& address, int64_t now_ms);
  // A wrong code from `address`.
  void Failed(const std::string& address, int64_t now_ms);

 private:
  struct Window {
    int64_t start_ms = 0;
    uint32_t failures = 0;
  };
  int64_t WaitLocked(const Window& w, uint32_t limit, int64_t now_ms) const;

  const Limits limits_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Window> by_address_ ABSL_GUARDED_BY(mu_);
  Window overall_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_GUARD_H_
