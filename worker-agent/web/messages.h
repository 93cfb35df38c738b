// Messages: the texts of the workers' page in every language it speaks, from the message files
// in worker-agent/web/messages/ (one JSON object per language, compiled into the binary). Every
// file must have exactly the keys of en.json; a text may hold {name} placeholders.
//
//   const Messages& m = Messages::Get();
//   m.Text("sw", "tasks_count", {{"n", "3"}});   // "kazi 3"
#ifndef MW_WORKER_AGENT_WEB_MESSAGES_H_
#define MW_WORKER_AGENT_WEB_MESSAGES_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mw::agent::web {

class Messages {
 public:
  // The compiled-in catalogue; aborts at start-up if a message file is malformed (a build error
  // that the messages test catches first).
  static const Messages& Get();
  // Parses the files (language code -> JSON text). INVALID_ARGUMENT names the file and key when
  // one is not an object of strings or lacks a key that English has.
  static absl::StatusOr<Messages> Parse(const std::map<std::string, std::string>& files);

  // The text for `key` in `lang` (English when the language is unknown), with each {name}
  // replaced by its value. An unknown key comes back as itself, so a gap shows, never crashes.
  std::string Text(const std::string& lang, const std::string& key,
                   const std::vector<std::pair<std::string, std::string>>& args = {}) const;
  // Language codes, English first.
  const std::vector<std::string>& languages() const { return languages_; }
  bool Has(const std::string& lang) const { return texts_.count(lang) > 0; }

 private:
  std::map<std::string, std::map<std::string, std::string>> texts_;
  std::vector<std::string> languages_;
};

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_MESSAGES_H_
