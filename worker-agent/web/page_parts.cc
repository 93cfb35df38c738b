#include "worker-agent/web/page_parts.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/common/money.h"
#include "engine/common/words.h"
#include "engine/dispatch/answers.h"
#include "qa/shapes.h"
#include "qa/spans.h"
#include "worker-agent/web/html.h"

namespace mw::agent::web {

Html Hidden(absl::string_view name, absl::string_view value) {
  return HtmlCat("<input type=\"hidden\" name=\"", Escape(name), "\" value=\"", Escape(value),
                 "\">");
}

std::string LocalMoney(const std::string& lang, int64_t minor, const std::string& currency) {
  std::string text = FormatMoney(minor, currency);
  const std::string separator = Messages::Get().Text(lang, "decimal_separator");
  if (separator != "." && !separator.empty()) {
    if (const size_t dot = text.find('.'); dot != std::string::npos) {
      text.replace(dot, 1, separator);
    }
  }
  return text;
}

std::string LocalDate(const std::string& lang, int64_t ms) {
  const Messages& m = Messages::Get();
  const absl::CivilMinute t = absl::ToCivilMinute(absl::FromUnixMillis(ms), absl::LocalTimeZone());
  const std::vector<std::string> months =
      absl::StrSplit(m.Text(lang, "months"), ' ', absl::SkipEmpty());
  const std::string month = months.size() == 12 ? months[t.month() - 1] : absl::StrCat(t.month());
  return m.Text(lang, "date_format",
                {{"day", absl::StrCat(t.day())},
                 {"month", month},
                 {"time", absl::StrFormat("%02d:%02d", t.hour(), t.minute())}});
}

Html WebServer::Call::FormToken() const {
  return form_token.empty() ? Html() : Hidden(kFormTokenField, form_token);
}

namespace {

using dispatch::FieldNamed;
using dispatch::FieldValue;

// Labels to pick, then the text's words as buttons carrying their place in code points: tap the
// first word of a span and then its last. The marked spans are listed with a button to remove
// each, and kept in the hidden field "spans" in qa/spans.h's text form.
Html SpanFields(const v1::SpanLabels& schema, const v1::Item& item, const Messages& m,
                const std::string& lang) {
  Html out = HtmlCat("<div class=\"spans\" data-remove=\"", Escape(m.Text(lang, "span_remove")),
                     "\"><p>", Escape(m.Text(lang, "spans_help")), "</p><fieldset>");
  for (int i = 0; i < schema.labels_size(); ++i) {
    out.Append("<label class=\"opt\"><input type=\"radio\" name=\"span_label\" value=\"",
               Escape(schema.labels(i)), "\"", i == 0 ? Html(" checked") : Html(), "> ",
               Escape(schema.labels(i)), "</label>");
  }
  out.Append("</fieldset><p class=\"words\">");
  for (const Word& w : SplitWords(FieldValue(item, schema.field()))) {
    out.Append("<button type=\"button\" class=\"w\" data-s=\"", w.start, "\" data-e=\"", w.end,
               "\">", Escape(w.text), "</button> ");
  }
  out.Append("</p><h3>", Escape(m.Text(lang, "spans_marked")),
             "</h3><ol class=\"marked\"></ol><input type=\"hidden\" name=\"spans\" "
             "value=\"\"></div>");
  return out;
}

Html PairFields(const v1::PairComparison& schema, const v1::Item& item, const Messages& m,
                const std::string& lang) {
  Html out = "<div class=\"pair\">";
  for (const auto& [side, field] :
       {std::pair{"a", &schema.a_field()}, std::pair{"b", &schema.b_field()}}) {
    out.Append("<div class=\"card\" id=\"version-", Escape(side), "\"><h3>",
               Escape(m.Text(lang, absl::StrCat("version_", side))), "</h3><p>",
               Escape(FieldValue(item, *field)),
               "</p><label class=\"opt\"><input type=\"radio\" name=\"pick\" value=\"",
               Escape(side), "\" required> ", Escape(m.Text(lang, absl::StrCat("pick_", side))),
               "</label></div>");
  }
  out.Append("</div>");
  if (schema.ask_reason()) {
    const uint32_t max = schema.max_reason_length() ? schema.max_reason_length() : 500;
    out.Append("<label>", Escape(m.Text(lang, "pick_reason")),
               "<textarea name=\"pick_reason\" rows=\"3\" maxlength=\"", max,
               "\"></textarea></label>");
  }
  return out;
}

// Each option with a place to choose, none chosen at first (a form sent untouched is refused,
// never counted as the contract's order); no script needed, and a keyboard reaches every one.
Html RankFields(const v1::Ranking& schema, const v1::Item& item, const Messages& m,
                const std::string& lang) {
  Html out = HtmlCat("<p>", Escape(m.Text(lang, "rank_help")), "</p>");
  const int n = schema.fields_size();
  for (int i = 0; i < n; ++i) {
    out.Append("<div class=\"card\"><p>", Escape(FieldValue(item, schema.fields(i))), "</p><label>",
               Escape(m.Text(lang, "rank_place")), " <select name=\"rank_", i,
               "\" required><option value=\"\">&mdash;</option>");
    for (int place = 1; place <= n; ++place) out.Append("<option>", place, "</option>");
    out.Append("</select></label></div>");
  }
  return out;
}

// A spans answer being judged: its text with each span marked and its label after it.
Html MarkedSpans(const std::string& text, const std::vector<qa::LabelledSpan>& spans) {
  // Byte offset of every code point, and of the end.
  std::vector<size_t> at;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) at.push_back(i);
  }
  at.push_back(text.size());
  auto bytes = [&](uint32_t point) { return at[std::min<size_t>(point, at.size() - 1)]; };
  Html out = "<p class=\"judged\">";
  size_t from = 0;
  for (const qa::LabelledSpan& s : spans) {
    const size_t start = std::max(from, bytes(s.start)), end = std::max(start, bytes(s.end));
    out.Append(Escape(text.substr(from, start - from)), "<mark>",
               Escape(text.substr(start, end - start)), "</mark><sub>", Escape(s.label), "</sub>");
    from = end;
  }
  out.Append(Escape(text.substr(from)), "</p>");
  return out;
}

// An image with shapes drawn over it in its original's pixels (an SVG the size of the image,
// scaled with it): `shapes` server-side, or none for the page script to draw into.
Html Drawing(const v1::Field& image, const MediaView& view,
             const std::vector<qa::LabelledShape>& shapes) {
  const uint32_t w = image.media().width(), h = image.media().height();
  const auto [sw, sh] = media::PhoneSize(w, h, view.phone.long_side);
  const std::string src = absl::StrCat(view.prefix, image.media().sha256());
  Html out =
      HtmlCat("<div class=\"draw\"><img src=\"", Escape(src), "\" width=\"", sw, "\" height=\"", sh,
              "\" alt=\"", Escape(image.value()), "\"><svg viewBox=\"0 0 ", w, " ", h,
              "\" preserveAspectRatio=\"none\" aria-hidden=\"true\">");
  const uint32_t radius = std::max<uint32_t>(2, std::max(w, h) / 60);
  for (const qa::LabelledShape& s : shapes) {
    if (s.point) {
      out.Append("<circle cx=\"", s.x0, "\" cy=\"", s.y0, "\" r=\"", radius, "\"></circle>");
    } else if (!s.polygon.empty()) {
      out.Append("<polygon points=\"", Escape(absl::StrJoin(s.polygon, ",")), "\"></polygon>");
    } else {
      out.Append("<rect x=\"", s.x0, "\" y=\"", s.y0, "\" width=\"", s.x1 - s.x0, "\" height=\"",
                 s.y1 - s.y0, "\"></rect>");
    }
  }
  out.Append("</svg></div>");
  return out;
}

// Shapes listed in words, for a screen reader and for checking: "car (10,20)-(110,90)", a
// polygon by its corners "field (10,20) (60,20) (30,70)".
Html ShapeList(const std::vector<qa::LabelledShape>& shapes) {
  Html out = "<ol class=\"marked\">";
  for (const qa::LabelledShape& s : shapes) {
    out.Append("<li>", Escape(s.label));
    for (size_t i = 0; i + 1 < s.polygon.size(); i += 2) {
      out.Append(" (", s.polygon[i], ",", s.polygon[i + 1], ")");
    }
    if (s.polygon.empty()) out.Append(" (", s.x0, ",", s.y0, ")");
    if (!s.point && s.polygon.empty()) out.Append("&ndash;(", s.x1, ",", s.y1, ")");
    out.Append("</li>");
  }
  out.Append("</ol>");
  return out;
}

// The shapes a task starts from (ShapeLabels.start_field: pre-annotations to correct): in the
// text form, of the stage's kind and labels, and within the image (CheckedLabel, as an answer
// is checked). Empty when the stage has none or the item's is empty; nullopt when the item lacks
// the field or its value is not such shapes.
std::optional<std::string> StartShapes(const v1::ShapeLabels& schema, const v1::Item& item) {
  if (schema.start_field().empty()) return std::string();
  const v1::Field* start = FieldNamed(item, schema.start_field());
  if (start == nullptr) return std::nullopt;  // the contract names a field its rows lack
  if (start->value().empty()) return std::string();
  v1::AnswerSchema as_answer;
  *as_answer.mutable_shapes() = schema;
  as_answer.mutable_shapes()->set_min_count(0);
  if (!dispatch::CheckedLabel(as_answer, start->value(), &item).ok()) return std::nullopt;
  return start->value();
}

// Labels to pick, then the image to draw on: a box dragged across it or tapped corner by
// corner, a point tapped, a polygon tapped corner by corner and closed on its first; a shape
// chosen from the list moves when dragged (a box resizes by its corners), or with the arrow keys
// (Shift: a box's size). The shapes are kept in the hidden field "shapes" in qa/shapes.h's text
// form, starting from the item's pre-drawn shapes (StartShapes). Without the image at hand (no
// `view`), a text field for that form.
Html ShapeFields(const v1::ShapeLabels& schema, const v1::Item& item, const Messages& m,
                 const std::string& lang, const MediaView* view) {
  const std::string kind = schema.kind() == v1::SHAPE_POINT     ? "point"
                           : schema.kind() == v1::SHAPE_POLYGON ? "polygon"
                                                                : "box";
  const v1::Field* image = FieldNamed(item, schema.field());
  const std::optional<std::string> start = StartShapes(schema, item);
  const Html started =
      !start.has_value()
          ? HtmlCat("<p class=\"notice\">", Escape(m.Text(lang, "shapes_start_unreadable")), "</p>")
      : start->empty()
          ? Html()
          : HtmlCat("<p class=\"notice\">", Escape(m.Text(lang, "shapes_started")), "</p>");
  if (view == nullptr || image == nullptr || image->media().kind() != v1::MEDIA_IMAGE) {
    const std::string size =
        image != nullptr ? absl::StrCat(image->media().width(), "x", image->media().height()) : "?";
    return HtmlCat(
        started, "<label>",
        Escape(m.Text(lang, absl::StrCat("shapes_written_", kind),
                      {{"size", size}, {"labels", absl::StrJoin(schema.labels(), ", ")}})),
        "<input type=\"text\" name=\"shapes\" value=\"", Escape(start.value_or("")),
        "\" autocomplete=\"off\"></label>");
  }
  Html out =
      HtmlCat(started, "<div class=\"shapes\" data-kind=\"", Escape(kind), "\" data-w=\"",
              image->media().width(), "\" data-h=\"", image->media().height(), "\" data-max=\"",
              schema.max_count() == 0 ? 50u : schema.max_count(), "\" data-corners=\"",
              schema.max_vertices() == 0 ? 12u : schema.max_vertices(), "\" data-remove=\"",
              Escape(m.Text(lang, "span_remove")), "\" data-start=\"", Escape(start.value_or("")),
              "\"><p>", Escape(m.Text(lang, absl::StrCat("shapes_help_", kind))), "</p><fieldset>");
  for (int i = 0; i < schema.labels_size(); ++i) {
    out.Append("<label class=\"opt\"><input type=\"radio\" name=\"shape_label\" value=\"",
               Escape(schema.labels(i)), "\"", i == 0 ? Html(" checked") : Html(), "> ",
               Escape(schema.labels(i)), "</label>");
  }
  out.Append("</fieldset>", Drawing(*image, *view, {}),
             schema.kind() == v1::SHAPE_POLYGON
                 ? HtmlCat("<button type=\"button\" class=\"close\">",
                           Escape(m.Text(lang, "shapes_close")), "</button>")
                 : Html(),
             "<button type=\"button\" class=\"add\">", Escape(m.Text(lang, "shapes_add")),
             "</button><h3>", Escape(m.Text(lang, "spans_marked")),
             "</h3><ol class=\"marked\"></ol><input type=\"hidden\" name=\"shapes\" "
             "value=\"\"></div>");
  return out;
}

}  // namespace

Html MediaField(const v1::Field& f, const MediaView& view) {
  const std::string src = absl::StrCat(view.prefix, f.media().sha256());
  if (f.media().kind() == v1::MEDIA_IMAGE) {
    // The size it is served at, so the page does not jump as it loads; tapping it opens it alone
    // to pinch and pan.
    const auto [w, h] =
        media::PhoneSize(f.media().width(), f.media().height(), view.phone.long_side);
    return HtmlCat("<a href=\"", Escape(src), "\"><img class=\"photo\" src=\"", Escape(src),
                   "\" width=\"", w, "\" height=\"", h, "\" alt=\"", Escape(f.value()), "\"></a>");
  }
  return HtmlCat("<div class=\"clip\"><audio controls preload=\"metadata\" src=\"", Escape(src),
                 "\"></audio><button type=\"button\" class=\"replay\" aria-label=\"",
                 Escape(view.replay), "\" title=\"", Escape(view.replay),
                 "\">&#8634;</button><button type=\"button\" class=\"slower\" aria-label=\"",
                 Escape(view.slower), "\" title=\"", Escape(view.slower),
                 "\">0.75&#215;</button></div>");
}

Html ItemFields(const v1::HumanStage& stage, const v1::Item& item, const MediaView* view) {
  Html out = "<dl>";
  const auto& show = stage.show_fields();
  std::vector<std::string> own = dispatch::FieldsShownByAnswer(stage.answer());
  // Judging spans: the text is shown once, with the spans marked on it.
  std::optional<std::vector<qa::LabelledSpan>> judged;
  const bool has_text = std::any_of(item.fields().begin(), item.fields().end(), [&](const auto& f) {
    return f.name() == stage.judged_answer().spans().field();
  });
  if (stage.judged_answer().has_spans() && has_text) {
    judged = qa::ParseSpans(FieldValue(item, stage.judged_field()));
    if (judged.has_value()) {
      own.push_back(stage.judged_field());
      own.push_back(stage.judged_answer().spans().field());
    }
  }
  // Judging shapes: the image once, with the shapes drawn on it, and listed.
  std::optional<std::vector<qa::LabelledShape>> shapes;
  const v1::Field* drawn_on = FieldNamed(item, stage.judged_answer().shapes().field());
  if (stage.judged_answer().has_shapes() && drawn_on != nullptr && drawn_on->has_media() &&
      view != nullptr) {
    shapes = qa::ParseShapes(FieldValue(item, stage.judged_field()));
    if (shapes.has_value()) {
      own.push_back(stage.judged_field());
      own.push_back(drawn_on->name());
    }
  }
  for (const auto& f : item.fields()) {
    if (!show.empty() && std::find(show.begin(), show.end(), f.name()) == show.end()) continue;
    if (std::find(own.begin(), own.end(), f.name()) != own.end()) continue;
    if (f.has_media() && view != nullptr) {
      out.Append("<dt>", Escape(f.name()), "</dt><dd>", MediaField(f, *view), "</dd>");
      continue;
    }
    out.Append("<dt>", Escape(f.name()), "</dt><dd>", Escape(f.value()), "</dd>");
  }
  out.Append("</dl>");
  if (judged.has_value()) {
    out.Append(MarkedSpans(FieldValue(item, stage.judged_answer().spans().field()), *judged));
  }
  if (shapes.has_value()) out.Append(Drawing(*drawn_on, *view, *shapes), ShapeList(*shapes));
  return out;
}

// The answer form's fields for the stage's schema.
Html AnswerFields(const v1::AnswerSchema& schema, const v1::Item& item, const Messages& m,
                  const std::string& lang, const MediaView* view) {
  Html out;
  switch (schema.kind_case()) {
    case v1::AnswerSchema::kSpans:
      return SpanFields(schema.spans(), item, m, lang);
    case v1::AnswerSchema::kShapes:
      return ShapeFields(schema.shapes(), item, m, lang, view);
    case v1::AnswerSchema::kComparison:
      return PairFields(schema.comparison(), item, m, lang);
    case v1::AnswerSchema::kRanking:
      return RankFields(schema.ranking(), item, m, lang);
    case v1::AnswerSchema::kSingleChoice:
      for (const auto& o : schema.single_choice().options()) {
        out.Append("<label class=\"opt\"><input type=\"radio\" name=\"choice\" value=\"", Escape(o),
                   "\" required> ", Escape(o), "</label>");
      }
      break;
    case v1::AnswerSchema::kMultiChoice:
      for (const auto& o : schema.multi_choice().options()) {
        out.Append("<label class=\"opt\"><input type=\"checkbox\" name=\"choices\" value=\"",
                   Escape(o), "\"> ", Escape(o), "</label>");
      }
      break;
    case v1::AnswerSchema::kText: {
      const uint32_t max = schema.text().max_length() > 0 ? schema.text().max_length() : 2000;
      out.Append("<p>",
                 Escape(m.Text(lang, "answer_text_limits",
                               {{"min", absl::StrCat(schema.text().min_length())},
                                {"max", absl::StrCat(max)}})),
                 "</p><textarea name=\"text\" rows=\"4\" maxlength=\"", max, "\" minlength=\"",
                 schema.text().min_length(), "\" required></textarea>");
      break;
    }
    case v1::AnswerSchema::kNumber: {
      const auto& n = schema.number();
      out.Append("<p>",
                 Escape(m.Text(lang, "answer_number_limits",
                               {{"min", absl::StrCat(n.min())}, {"max", absl::StrCat(n.max())}})),
                 "</p><input type=\"number\" name=\"number\" inputmode=\"decimal\" step=\"",
                 n.integer() ? Html("1") : Html("any"), "\" min=\"", n.min(), "\" max=\"", n.max(),
                 "\" required>");
      break;
    }
    default:
      break;
  }
  return out;
}

std::vector<std::string> FormValues(const httplib::Request& req, const std::string& name) {
  std::vector<std::string> out;
  for (auto [it, end] = req.params.equal_range(name); it != end; ++it) out.push_back(it->second);
  for (auto [it, end] = req.files.equal_range(name); it != end; ++it) {
    out.push_back(it->second.content);
  }
  return out;
}

std::string FormValue(const httplib::Request& req, const std::string& name) {
  std::vector<std::string> values = FormValues(req, name);
  return values.empty() ? "" : std::move(values[0]);
}

absl::StatusOr<v1::Answer> ParseAnswer(const httplib::Request& req, const v1::AnswerSchema& schema,
                                       const v1::Item& item) {
  v1::Answer a;
  switch (schema.kind_case()) {
    case v1::AnswerSchema::kSpans:
      // The page script writes them as AnswerLabel does: read and checked as one.
      return dispatch::CheckedLabel(schema, FormValue(req, "spans"), &item);
    case v1::AnswerSchema::kShapes:
      return dispatch::CheckedLabel(schema, FormValue(req, "shapes"), &item);
    case v1::AnswerSchema::kComparison:
      if (FormValue(req, "pick").empty()) return absl::InvalidArgumentError("choose A or B");
      a.mutable_pick()->set_winner(FormValue(req, "pick"));
      a.mutable_pick()->set_reason(FormValue(req, "pick_reason"));
      break;
    case v1::AnswerSchema::kRanking: {
      // Each option's place, 1 to n; each place taken once.
      const int n = schema.ranking().fields_size();
      std::vector<std::string> order(n);
      for (int i = 0; i < n; ++i) {
        int place = 0;
        if (!absl::SimpleAtoi(FormValue(req, absl::StrCat("rank_", i)), &place) || place < 1 ||
            place > n || !order[place - 1].empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("give each option its own place, 1 to ", n));
        }
        order[place - 1] = schema.ranking().fields(i);
      }
      for (std::string& f : order) a.mutable_ranking()->add_options(std::move(f));
      break;
    }
    case v1::AnswerSchema::kSingleChoice:
      if (FormValue(req, "choice").empty()) {
        return absl::InvalidArgumentError("choose one of the options");
      }
      a.set_choice(FormValue(req, "choice"));
      break;
    case v1::AnswerSchema::kMultiChoice: {
      auto* set = a.mutable_choices();
      for (std::string& v : FormValues(req, "choices")) set->add_options(std::move(v));
      break;
    }
    case v1::AnswerSchema::kText:
      a.set_text(FormValue(req, "text"));
      break;
    case v1::AnswerSchema::kNumber:
      if (FormValue(req, "number").empty()) return absl::InvalidArgumentError("give a number");
      a.set_number(FormValue(req, "number"));
      break;
    default:
      return absl::FailedPreconditionError("this task has no answer schema");
  }
  if (absl::Status s = dispatch::CheckAnswer(schema, a, &item); !s.ok()) return s;
  return a;
}

}  // namespace mw::agent::web
