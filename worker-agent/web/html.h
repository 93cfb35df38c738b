// Small helpers for the server-rendered pages: escaping, and the page frame every page shares
// (one inline stylesheet sized for a small phone screen, no external files).
#ifndef MW_WORKER_AGENT_WEB_HTML_H_
#define MW_WORKER_AGENT_WEB_HTML_H_

#include <string>

#include "absl/strings/string_view.h"

namespace mw::agent::web {

// Text made safe for HTML element content and quoted attribute values.
std::string Escape(absl::string_view text);

struct Frame {
  std::string lang = "en";
  std::string title;
  std::string nav;          // already HTML
  std::string notice;       // already HTML; shown above the body
  int refresh_seconds = 0;  // >0: the page reloads itself (waiting for work)
};

// A whole page: doctype, head, the nav bar, the notice and `body` (already HTML). Its only
// script and stylesheet are these two constants, which the Content-Security-Policy names by hash
// (guard.h): no other script runs, no inline handler, no style attribute.
std::string Page(const Frame& frame, const std::string& body);
absl::string_view PageScript();
absl::string_view PageStyle();

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_HTML_H_
