#include "worker-agent/web/messages.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mw::agent::web {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MessagesTest, EveryLanguageHasEveryTextEnglishHas) {
  // Get() aborts on a bad catalogue; Parse is what it runs.
  const Messages& m = Messages::Get();
  EXPECT_THAT(m.languages(), ElementsAre("en", "fr", "sw", "ur"));
  EXPECT_EQ(m.Text("sw", "tasks_count", {{"n", "3"}}), "kazi 3");
  EXPECT_EQ(m.Text("en", "tasks_count", {{"n", "3"}}), "3 tasks");
  EXPECT_EQ(m.Text("fr", "tasks_count", {{"n", "3"}}), "3 tâches");
  EXPECT_EQ(m.Text("ur", "text_direction"), "rtl");  // Urdu is laid out right to left
  EXPECT_EQ(m.Text("fr", "text_direction"), "ltr");
  EXPECT_EQ(m.Text("de", "sign_in"), "Sign in");          // an unknown language falls back
  EXPECT_EQ(m.Text("sw", "no_such_key"), "no_such_key");  // a gap shows, never crashes
}

TEST(MessagesTest, AFileMissingAKeyIsNamed) {
  auto m = Messages::Parse({{"en", R"({"a": "A", "b": "B"})"}, {"sw", R"({"a": "A"})"}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "messages/sw.json: b: missing (en.json has it)");
  auto bad = Messages::Parse({{"en", R"({"a": 1})"}});
  EXPECT_EQ(bad.status().message(), "messages/en.json: a: expected a string");
  auto broken = Messages::Parse({{"en", "{"}});
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr("not a JSON object"));
}

}  // namespace
}  // namespace mw::agent::web
