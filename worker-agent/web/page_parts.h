// Parts shared by the workers' pages (web_server.cc) and the manager's pages (manager_pages.cc):
// one request's context, and the form helpers both use. Internal to worker-agent/web.
#ifndef MW_WORKER_AGENT_WEB_PAGE_PARTS_H_
#define MW_WORKER_AGENT_WEB_PAGE_PARTS_H_

#include <httplib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/media/phone_image.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/dispatch.pb.h"
#include "worker-agent/web/html.h"
#include "worker-agent/web/messages.h"
#include "worker-agent/web/web_server.h"

namespace mw::agent::web {

struct WebServer::Call {
  const httplib::Request& req;
  httplib::Response& res;
  std::string lang = "en";
  std::string token;
  Session session;
  bool signed_in = false;
  // A manager whose code someone else issued: until they choose their own, the page offers
  // only that, and no decision is taken in their name.
  bool must_renew = false;
  Html notice;
  // The session's form token (WebServer::FormTokenOf), "" before sign-in. Every form a signed-in
  // person sees carries it and every POST of theirs must: a page on another site cannot read it.
  std::string form_token;

  void Redirect(const std::string& to) { res.set_redirect(to, 303); }
  // The hidden field that carries form_token ("" before sign-in); goes inside every POST form.
  Html FormToken() const;
};

// The values of form field `name`, from a URL-encoded body or query (req.params) or from a
// multipart body (req.files, fields without a file name): both reach the same handlers.
std::vector<std::string> FormValues(const httplib::Request& req, const std::string& name);
// The first of them, or "".
std::string FormValue(const httplib::Request& req, const std::string& name);

// A hidden form field, escaped.
Html Hidden(absl::string_view name, absl::string_view value);
// An amount as FormatMoney writes it, with the decimal separator of `lang` ("0,15 USD" in
// French), from its message file's decimal_separator.
std::string LocalMoney(const std::string& lang, int64_t minor, const std::string& currency);
// A moment in the centre's local time as `lang` writes a date: "3 Dec 14:05" in English,
// "3 دسمبر 14:05" in Urdu, from its message file's months and date_format.
std::string LocalDate(const std::string& lang, int64_t ms);

// How a page shows media: images at the size served to phones, and the clip buttons' labels.
struct MediaView {
  media::PhoneImageOptions phone;
  std::string replay;  // the buttons' labels, in the worker's language
  std::string slower;
  std::string prefix = "/media/";  // where the page gets a file: prefix + its sha256
};

// The answer form's fields for `schema` and the task's `item`: radio buttons, check boxes, a
// text area or a number; the item's text as words to tap for spans (the page script marks them
// into the form's hidden field "spans"); the item's image to draw shapes on (into "shapes"; with
// no `view`, a text field for them); two versions side by side to pick from ("pick", and
// "pick_reason"); the options to rank, each with its place ("rank_<i>").
Html AnswerFields(const v1::AnswerSchema& schema, const v1::Item& item, const Messages& m,
                  const std::string& lang, const MediaView* view = nullptr);

// The item's fields the task lists: those the stage shows (all when it names none), less those
// the answer's own widget shows (FieldsShownByAnswer).
// With `view`, a media field shows its image (served at that size) or an audio player with
// replay and a slower speed, from /media/<sha256>; without, the file's name. Judging shapes,
// the image is shown once with them drawn on it, and listed.
Html ItemFields(const v1::HumanStage& stage, const v1::Item& item, const MediaView* view = nullptr);

// The answer the form carries for `item`, in the schema's shape; INVALID_ARGUMENT says what is
// missing or wrong (CheckAnswer's words).
absl::StatusOr<v1::Answer> ParseAnswer(const httplib::Request& req, const v1::AnswerSchema& schema,
                                       const v1::Item& item);

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_PAGE_PARTS_H_
