#include "worker-agent/web/messages.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace mw::agent::web {

// Generated from messages/*.json by CMake (web_messages_data.cc).
extern const std::map<std::string, std::string>& MessageFiles();

const Messages& Messages::Get() {
  static const Messages* const messages = [] {
    auto m = Parse(MessageFiles());
    if (!m.ok()) std::abort();
    return new Messages(*std::move(m));
  }();
  return *messages;
}

absl::StatusOr<Messages> Messages::Parse(const std::map<std::string, std::string>& files) {
  Messages m;
  for (const auto& [lang, text] : files) {
    const std::string file = absl::StrCat("messages/", lang, ".json");
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object())
      return absl::InvalidArgumentError(absl::StrCat(file, ": not a JSON object"));
    auto& texts = m.texts_[lang];
    for (const auto& [key, value] : j.items()) {
      if (!value.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(file, ": ", key, ": expected a string"));
      }
      texts[key] = value.get<std::string>();
    }
  }
  auto en = m.texts_.find("en");
  if (en == m.texts_.end()) return absl::InvalidArgumentError("messages/en.json: missing");
  m.languages_.push_back("en");
  for (const auto& [lang, texts] : m.texts_) {
    if (lang == "en") continue;
    for (const auto& [key, text] : en->second) {
      if (texts.count(key) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("messages/", lang, ".json: ", key, ": missing (en.json has it)"));
      }
    }
    m.languages_.push_back(lang);
  }
  return m;
}

std::string Messages::Text(const std::string& lang, const std::string& key,
                           const std::vector<std::pair<std::string, std::string>>& args) const {
  auto l = texts_.find(lang);
  if (l == texts_.end()) l = texts_.find("en");
  auto t = l->second.find(key);
  if (t == l->second.end()) return key;
  std::vector<std::pair<std::string, std::string>> subs;
  for (const auto& [name, value] : args) subs.emplace_back(absl::StrCat("{", name, "}"), value);
  return absl::StrReplaceAll(t->second, subs);
}

}  // namespace mw::agent::web
