#include "worker-agent/web/html.h"

#include <string>
#include <type_traits>

#include "gtest/gtest.h"

namespace mw::agent::web {
namespace {

// Whether HtmlCat takes these parts: the proof that forgetting Escape does not compile.
template <typename, typename... Parts>
struct Takes : std::false_type {};
template <typename... Parts>
struct Takes<std::void_t<decltype(HtmlCat(std::declval<const Parts&>()...))>, Parts...>
    : std::true_type {};

static_assert(Takes<void, Html>::value);
static_assert(Takes<void, char[4], int, Html>::value);
static_assert(!Takes<void, std::string>::value, "a string is not markup");
static_assert(!Takes<void, const char*>::value, "nor a pointer to one");
static_assert(!Takes<void, absl::string_view>::value);
static_assert(!Takes<void, char>::value);
static_assert(!std::is_convertible_v<std::string, Html>, "no way in but Escape");
static_assert(!std::is_convertible_v<const char*, Html>);

TEST(HtmlTest, TextIsEscapedAndMarkupKept) {
  const std::string answer = "<script>alert('x')</script> & \"quoted\"";
  const Html row = HtmlCat("<td title=\"", Escape(answer), "\">", 42, "</td>");
  EXPECT_EQ(row.str(),
            "<td title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
            "&quot;quoted&quot;\">42</td>");
  Html page = "<p>";
  page.Append(Escape("a<b"), "</p>");
  EXPECT_EQ(page.str(), "<p>a&lt;b</p>");
  EXPECT_TRUE(Html().empty());
}

}  // namespace
}  // namespace mw::agent::web
