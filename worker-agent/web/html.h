// HTML for the server-rendered pages, safe by construction, and the page frame every page shares
// (one inline stylesheet sized for a small phone screen, no external files).
//
// An Html value is made only of markup written in the code (string literals), numbers, and text
// that went through Escape. A std::string cannot become Html any other way, so a page that puts
// a worker's answer, a name or a message into the page without escaping it does not compile.
//
//   Html row = HtmlCat("<td>", Escape(worker.name()), "</td><td>", count, "</td>");
//   HtmlCat("<td>", worker.name(), "</td>");  // does not compile: a string is not markup
#ifndef MW_WORKER_AGENT_WEB_HTML_H_
#define MW_WORKER_AGENT_WEB_HTML_H_

#include <cstddef>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mw::agent::web {

class Html;

// What HtmlCat takes: Html, a char array (a literal), or a number (not char, not bool).
template <typename T>
inline constexpr bool kIsHtmlPart = std::is_same_v<T, Html> ||
                                    (std::is_array_v<T> &&
                                     std::is_same_v<std::remove_extent_t<T>, char>) ||
                                    (std::is_arithmetic_v<T> && !std::is_same_v<T, char> &&
                                     !std::is_same_v<T, bool>);

template <typename... Parts, typename = std::enable_if_t<(kIsHtmlPart<Parts> && ...)>>
Html HtmlCat(const Parts&... parts);

class Html {
 public:
  Html() = default;
  // Markup written in the code: a string literal (or a constant char array) is trusted.
  template <size_t N>
  Html(const char (&markup)[N]) : s_(markup, N - 1) {}  // NOLINT: implicit by design

  const std::string& str() const { return s_; }
  bool empty() const { return s_.empty(); }
  size_t size() const { return s_.size(); }

  // Appends each part as HtmlCat does.
  template <typename... Parts, typename = std::enable_if_t<(kIsHtmlPart<Parts> && ...)>>
  Html& Append(const Parts&... parts) {
    s_ += HtmlCat(parts...).s_;
    return *this;
  }

  friend bool operator==(const Html& a, const Html& b) { return a.s_ == b.s_; }

 private:
  friend Html Escape(absl::string_view text);
  template <typename... Parts, typename>
  friend Html HtmlCat(const Parts&... parts);
  struct Trusted {};
  Html(Trusted, std::string s) : s_(std::move(s)) {}

  std::string s_;
};

// Text made safe for HTML element content and quoted attribute values.
Html Escape(absl::string_view text);

namespace html_internal {

inline void Put(std::string* out, const Html& h) { out->append(h.str()); }
template <size_t N>
void Put(std::string* out, const char (&markup)[N]) {
  out->append(markup, N - 1);
}
// Numbers are safe as they are (not char, whose value would be a character, nor bool).
template <typename T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, char> &&
                                           !std::is_same_v<T, bool>,
                                       int> = 0>
void Put(std::string* out, T number) {
  absl::StrAppend(out, number);
}

}  // namespace html_internal

// The parts one after another: Html values, literals and numbers; nothing else compiles.
template <typename... Parts, typename>
Html HtmlCat(const Parts&... parts) {
  std::string out;
  (html_internal::Put(&out, parts), ...);
  return Html(Html::Trusted{}, std::move(out));
}

struct Frame {
  std::string lang = "en";
  std::string dir = "ltr";  // "rtl" for a language written right to left: the layout mirrors
  std::string title;
  Html nav;
  Html notice;              // shown above the body
  int refresh_seconds = 0;  // >0: the page reloads itself (waiting for work)
};

// A whole page: doctype, head, the nav bar, the notice and `body`. Its only script and
// stylesheet are these two constants, which the Content-Security-Policy names by hash (guard.h):
// no other script runs, no inline handler, no style attribute.
std::string Page(const Frame& frame, const Html& body);
absl::string_view PageScript();
absl::string_view PageStyle();

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_HTML_H_
