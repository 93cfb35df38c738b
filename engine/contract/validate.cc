#include "engine/contract/validate.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/common/ids.h"
#include "engine/common/money.h"
#include "engine/contract/csv_reader.h"

namespace mw::contract {

namespace {

// The longest text answers TEXT_MEDOID compares (edit distance is quadratic in length), and
// how many it compares (each with each).
constexpr uint32_t kMaxMedoidLength = 300;
constexpr uint32_t kMaxMedoidAnswers = 7;
constexpr uint32_t kMaxShapeAnswers = 7;

using microwork::v1::AnswerSchema;
using microwork::v1::Contract;
using microwork::v1::HumanStage;
using microwork::v1::Stage;

class Validator {
 public:
  Validator(const Contract& c, const Limits& limits) : c_(c), limits_(limits) {}

  std::vector<ContractError> Run() {
    Top();
    Inputs();
    Stages();
    return std::move(errors_);
  }

 private:
  void Error(std::string path, std::string message) {
    errors_.push_back({std::move(path), std::move(message)});
  }

  void Top() {
    if (c_.name().empty() || c_.name().size() > 80) {
      Error("name", "must be 1 to 80 characters");
    }
    if (c_.client().empty()) Error("client", "must name the client");
    if (!IsCurrencyCode(c_.currency())) {
      Error("currency",
            absl::StrCat("expected an ISO 4217 code such as USD, got \"", c_.currency(), "\""));
    }
    if (c_.budget_minor() <= 0) {
      Error("budget_minor",
            absl::StrCat("must be a positive amount in minor units, got ", c_.budget_minor()));
    }
    if (!c_.deadline().empty()) {
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, c_.deadline(), &t, &err)) {
        Error("deadline", absl::StrCat("expected an RFC 3339 time such as "
                                       "2026-12-31T18:00:00Z, got \"",
                                       c_.deadline(), "\""));
      }
    }
    std::set<std::string> rated;
    for (int i = 0; i < c_.exchange_rates_size(); ++i) {
      const auto& r = c_.exchange_rates(i);
      const std::string p = absl::StrCat("exchange_rates[", i, "]");
      if (!IsCurrencyCode(r.currency()) || r.currency() == c_.currency()) {
        Error(p + ".currency",
              absl::StrCat("expected the ISO 4217 code of a centre's currency other than the "
                           "contract's, got \"",
                           r.currency(), "\""));
      } else if (!rated.insert(r.currency()).second) {
        Error(p + ".currency", absl::StrCat("a rate for ", r.currency(), " is agreed already"));
      } else if (IsCurrencyCode(c_.currency())) {
        auto parsed = ParseFxRate(c_.currency(), r.currency(), r.rate(), "");
        if (!parsed.ok()) Error(p + ".rate", std::string(parsed.status().message()));
      }
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, r.agreed_at(), &t, &err)) {
        Error(p + ".agreed_at", absl::StrCat("expected the RFC 3339 time it was agreed, got \"",
                                             r.agreed_at(), "\""));
      }
      if (r.agreed_by().empty()) Error(p + ".agreed_by", "must name who agreed the rate");
    }
    if (c_.platform_fee_per_mille() > 500) {
      Error("platform_fee_per_mille",
            absl::StrCat("expected 0 to 500 (thousandths of each wage), got ",
                         c_.platform_fee_per_mille()));
    }
    if (c_.caps().max_items() > limits_.max_items) {
      Error("caps.max_items",
            absl::StrCat("may not exceed the installation's cap of ", limits_.max_items));
    }
    if (c_.caps().max_depth() > limits_.max_depth) {
      Error("caps.max_depth",
            absl::StrCat("may not exceed the installation's cap of ", limits_.max_depth));
    }
  }

  void Inputs() {
    if (c_.inputs().empty()) Error("inputs", "at least one input is required");
    for (int i = 0; i < c_.inputs_size(); ++i) {
      const auto& in = c_.inputs(i);
      const std::string p = absl::StrCat("inputs[", i, "]");
      if (!IsSimpleName(in.name())) {
        Error(p + ".name", absl::StrCat("expected 1-40 characters of a-z, 0-9, _ or -, got \"",
                                        in.name(), "\""));
      } else if (!input_names_.insert(in.name()).second) {
        Error(p + ".name", absl::StrCat("\"", in.name(), "\" is used by an earlier input"));
      }
      if (in.format() == microwork::v1::INPUT_FORMAT_UNSPECIFIED) {
        Error(p + ".format", "expected FORMAT_CSV, FORMAT_JSONL or FORMAT_TEXT");
      }
      if (in.source_case() == microwork::v1::Input::SOURCE_NOT_SET) {
        Error(p, "needs a path or inline_text");
      } else if (in.source_case() == microwork::v1::Input::kPath && in.path().empty()) {
        Error(p + ".path", "must not be empty");
      }
      Media(in, p);
    }
  }

  // Media fields name files the client sends before the input, so the input must be one it
  // reads from a file, made of rows with fields.
  void Media(const microwork::v1::Input& in, const std::string& p) {
    if (!in.media_folder().empty()) {
      if (std::string why = MediaNameProblem(in.media_folder()); !why.empty()) {
        Error(p + ".media_folder", why);
      }
    }
    if (in.media().empty()) return;
    if (in.source_case() != microwork::v1::Input::kPath) {
      Error(p + ".media", "media files come with an input read from a file (path), not inline");
    }
    if (in.format() == microwork::v1::FORMAT_TEXT) {
      Error(p + ".media", "media fields need rows with fields: FORMAT_CSV or FORMAT_JSONL");
    }
    std::set<std::string> fields;
    for (int j = 0; j < in.media_size(); ++j) {
      const auto& m = in.media(j);
      const std::string q = absl::StrCat(p, ".media[", j, "]");
      if (m.field().empty()) {
        Error(q + ".field", "expected the name of a field whose values name files");
      } else if (!fields.insert(m.field()).second) {
        Error(q + ".field", absl::StrCat("\"", m.field(), "\" is named by an earlier media field"));
      }
      if (m.kind() != microwork::v1::MEDIA_IMAGE && m.kind() != microwork::v1::MEDIA_AUDIO) {
        Error(q + ".kind", "expected MEDIA_IMAGE or MEDIA_AUDIO");
      }
    }
  }

  void Stages() {
    if (c_.stages().empty()) {
      Error("stages", "at least one stage is required");
      return;
    }
    if (c_.stages_size() > static_cast<int>(limits_.max_stages)) {
      // Nothing more is checked: the rest of the work grows with the count.
      Error("stages",
            absl::StrCat("at most ", limits_.max_stages, " stages, got ", c_.stages_size()));
      return;
    }
    std::map<std::string, int> index;
    bool refs_ok = true;  // names unique and every `after` resolves: the DAG can be checked
    for (int i = 0; i < c_.stages_size(); ++i) {
      const Stage& s = c_.stages(i);
      const std::string p = absl::StrCat("stages[", i, "]");
      if (!IsSimpleName(s.name())) {
        Error(p + ".name",
              absl::StrCat("expected 1-40 characters of a-z, 0-9, _ or -, got \"", s.name(), "\""));
      } else if (!index.emplace(s.name(), i).second) {
        Error(p + ".name", absl::StrCat("\"", s.name(), "\" is used by an earlier stage"));
        refs_ok = false;
      }
    }
    for (int i = 0; i < c_.stages_size(); ++i) {
      const Stage& s = c_.stages(i);
      for (int j = 0; j < s.after_size(); ++j) {
        if (!index.count(s.after(j))) {
          Error(absl::StrCat("stages[", i, "].after[", j, "]"),
                absl::StrCat("no stage is named \"", s.after(j), "\""));
          refs_ok = false;
        } else if (index.at(s.after(j)) == i) {
          Error(absl::StrCat("stages[", i, "].after[", j, "]"), "a stage cannot follow itself");
          refs_ok = false;
        }
      }
      StageKind(i, s);
    }
    if (refs_ok) Dag(index);
  }

  void StageKind(int i, const Stage& s) {
    const std::string p = absl::StrCat("stages[", i, "]");
    switch (s.kind_case()) {
      case Stage::kSplit: {
        const auto& sp = s.split();
        if (!s.after().empty()) Error(p + ".after", "a split reads an input, not a stage");
        if (!input_names_.count(sp.input())) {
          Error(p + ".split.input", absl::StrCat("no input is named \"", sp.input(), "\""));
        }
        const microwork::v1::Input* input = nullptr;
        for (const auto& in : c_.inputs()) {
          if (in.name() == sp.input()) input = &in;
        }
        using microwork::v1::InputFormat;
        InputFormat want = microwork::v1::INPUT_FORMAT_UNSPECIFIED;
        switch (sp.by()) {
          case microwork::v1::SPLIT_ROWS:
            want = microwork::v1::FORMAT_CSV;
            break;
          case microwork::v1::SPLIT_RECORDS:
            want = microwork::v1::FORMAT_JSONL;
            break;
          case microwork::v1::SPLIT_LINES:
          case microwork::v1::SPLIT_CHARS:
            want = microwork::v1::FORMAT_TEXT;
            if (sp.chunk_size() == 0) Error(p + ".split.chunk_size", "must be at least 1");
            break;
          default:
            Error(p + ".split.by",
                  "expected SPLIT_ROWS, SPLIT_RECORDS, SPLIT_LINES or SPLIT_CHARS");
        }
        if (input != nullptr && want != microwork::v1::INPUT_FORMAT_UNSPECIFIED &&
            input->format() != want) {
          Error(p + ".split.by",
                absl::StrCat(
                    microwork::v1::SplitBy_Name(sp.by()), " needs an input in ",
                    microwork::v1::InputFormat_Name(want), ", but \"", input->name(), "\" is ",
                    microwork::v1::InputFormat_Name(input->format()),
                    input->format() == microwork::v1::FORMAT_CSV     ? ": split it by SPLIT_ROWS"
                    : input->format() == microwork::v1::FORMAT_JSONL ? ": split it by SPLIT_RECORDS"
                    : input->format() == microwork::v1::FORMAT_TEXT
                        ? ": split it by SPLIT_LINES or SPLIT_CHARS"
                        : ""));
        }
        break;
      }
      case Stage::kHuman:
        if (s.after_size() == 0) Error(p + ".after", "a human stage consumes at least one stage");
        Human(p + ".human", s.human());
        // A gold input's tasks belong to one stage: their known answers are in its answer kind.
        for (int j = 0; j < i && !s.human().gold_input().empty(); ++j) {
          if (c_.stages(j).has_human() &&
              c_.stages(j).human().gold_input() == s.human().gold_input()) {
            Error(p + ".human.gold_input",
                  absl::StrCat("input \"", s.human().gold_input(),
                               "\" is already the gold input of stage \"", c_.stages(j).name(),
                               "\"; give each stage its own"));
          }
        }
        if (!s.human().judged_field().empty() || !s.human().previous_field().empty() ||
            s.human().has_judged_answer()) {
          Error(p + ".human",
                "judged_field, previous_field and judged_answer are set by the dispatcher only");
        }
        break;
      case Stage::kMerge: {
        if (s.after_size() == 0) Error(p + ".after", "a merge consumes at least one stage");
        const auto& m = s.merge();
        if ((m.mode() == microwork::v1::GROUP_BY_KEY || m.mode() == microwork::v1::PICK_WINNER) &&
            m.key_field().empty()) {
          Error(p + ".merge.key_field",
                absl::StrCat(microwork::v1::MergeMode_Name(m.mode()),
                             " needs the field to group by: an input column or a stage's name"));
        }
        if (m.separator().size() > 40) Error(p + ".merge.separator", "at most 40 characters");
        break;
      }
      case Stage::kVerify: {
        if (s.after_size() != 1) Error(p + ".after", "a verify stage consumes exactly one stage");
        const auto& v = s.verify();
        const std::string target =
            v.target().empty() && s.after_size() == 1 ? s.after(0) : v.target();
        const Stage* judged = nullptr;
        for (const Stage& t : c_.stages()) {
          if (t.name() == target) judged = &t;
        }
        if (s.after_size() == 1 && target != s.after(0)) {
          Error(p + ".verify.target", absl::StrCat("expected the stage it is after, \"", s.after(0),
                                                   "\", got \"", target, "\""));
        } else if (judged != nullptr && !judged->has_human()) {
          Error(p + ".verify.target",
                absl::StrCat("\"", target,
                             "\" is not a human stage; only human stages' answers "
                             "are verified (an iterate stage votes on its own)"));
        }
        Judge(p + ".verify", v);
        break;
      }
      case Stage::kIterate: {
        if (s.after_size() == 0) {
          Error(p + ".after", "an iterate stage consumes at least one stage");
        }
        const auto& it = s.iterate();
        Human(p + ".iterate.improve", it.improve());
        if (!it.improve().answer().has_text()) {
          Error(p + ".iterate.improve.answer", "an improvement is a text answer");
        }
        if (it.improve().overlap() > 1) {
          Error(p + ".iterate.improve.overlap", "one worker improves each round: expected 1");
        }
        if (!it.improve().gold_input().empty()) {
          Error(p + ".iterate.improve.gold_input", "gold tasks are for human stages");
        }
        Judge(p + ".iterate.vote", it.vote());
        if (it.max_rounds() == 0 || it.max_rounds() > 10) {
          Error(p + ".iterate.max_rounds", absl::StrCat("expected 1 to 10, got ", it.max_rounds()));
        }
        break;
      }
      case Stage::kGather:
        if (s.after_size() == 0) Error(p + ".after", "a gather consumes at least one stage");
        if (s.gather().field().empty() && s.after_size() > 1) {
          Error(p + ".gather.field",
                "a gather after several stages needs the pieces' field to gather: a stage's "
                "name");
        }
        break;
      case Stage::KIND_NOT_SET:
        Error(p, "needs exactly one of split, human, verify, iterate, merge, gather");
        break;
    }
    if (s.has_pieces()) {
      const uint32_t cap =
          std::min(c_.caps().max_pieces() != 0 ? c_.caps().max_pieces() : 100u, 1000u);
      if (!s.has_human()) {
        Error(p + ".pieces", "only a human stage cuts an item into pieces");
      } else {
        if (!s.human().answer().has_text()) {
          Error(p + ".human.answer", "a stage that cuts pieces has a text answer, one per line");
        }
        if (s.human().overlap() > 1 || s.human().qa().max_overlap() > 1) {
          Error(p + ".human.overlap",
                "one worker cuts each item into pieces: expected 1 (a verify after it can "
                "check each piece)");
        }
      }
      if (s.pieces().max() == 0 || s.pieces().max() > cap) {
        Error(p + ".pieces.max", absl::StrCat("expected 1 to ", cap, ", got ", s.pieces().max()));
      }
      if (s.pieces().expected() > s.pieces().max()) {
        Error(p + ".pieces.expected", absl::StrCat("at most pieces.max (", s.pieces().max(),
                                                   "), got ", s.pieces().expected()));
      }
    }
    // A gather's readiness counts its pieces (Pieces() checks its quorum).
    if (s.readiness() == microwork::v1::QUORUM && !s.has_gather() &&
        (s.quorum() == 0 || s.quorum() > static_cast<uint32_t>(s.after_size()))) {
      Error(p + ".quorum", absl::StrCat("QUORUM readiness needs a quorum of 1 to the ",
                                        s.after_size(), " stages it is after, got ", s.quorum()));
    }
    if (s.barrier()) {
      Error(p + ".barrier", "stage-wide barriers are not supported by this dispatcher yet");
    }
  }

  void Human(const std::string& p, const HumanStage& h) {
    auto en = h.instructions().find("en");
    if (en == h.instructions().end() || en->second.empty()) {
      Error(p + ".instructions", "needs instructions in English (key \"en\")");
    }
    Answer(p + ".answer", h.answer());
    Work(p, h.piece_rate_minor(), h.estimated_seconds(), h.overlap());
    const auto& qa = h.qa();
    if (qa.confidence_target() < 0 || qa.confidence_target() >= 1) {
      Error(p + ".qa.confidence_target", "expected a probability in [0, 1)");
    }
    if (qa.confidence_target() > 0 && qa.max_overlap() < h.overlap()) {
      Error(p + ".qa.max_overlap", "dynamic overlap needs max_overlap >= overlap");
    }
    if (qa.gold_per_thousand() > 500) {
      Error(p + ".qa.gold_per_thousand", "expected 0 to 500");
    }
    if (qa.gold_per_thousand() > 0 && h.gold_input().empty()) {
      Error(p + ".gold_input", "gold_per_thousand needs an input of gold tasks");
    }
    if (qa.training_tasks() > 0 && h.gold_input().empty()) {
      Error(p + ".gold_input", "training_tasks needs an input of gold tasks to train on");
    }
    if (qa.training_tasks() > 1000) Error(p + ".qa.training_tasks", "expected 0 to 1000");
    if (qa.training_accuracy_percent() > 100) {
      Error(p + ".qa.training_accuracy_percent", "expected 1 to 100 (0 means 80)");
    }
    if (!h.gold_input().empty()) {
      const microwork::v1::Input* gold = nullptr;
      for (const auto& in : c_.inputs()) {
        if (in.name() == h.gold_input()) gold = &in;
      }
      const microwork::v1::Input* split = nullptr;
      for (const auto& s : c_.stages()) {
        if (!s.has_split()) continue;
        for (const auto& in : c_.inputs()) {
          if (in.name() == s.split().input()) split = &in;
        }
      }
      if (gold == nullptr) {
        Error(p + ".gold_input", absl::StrCat("no input is named \"", h.gold_input(), "\""));
      } else if (split != nullptr && gold->name() == split->name()) {
        Error(p + ".gold_input", "gold tasks need their own input, not the one being split");
      } else if (split != nullptr && gold->format() != split->format()) {
        Error(p + ".gold_input", absl::StrCat("gold tasks must be in the split input's format, ",
                                              microwork::v1::InputFormat_Name(split->format())));
      }
    }
    if (h.answer().has_shapes() && std::max(h.overlap(), qa.max_overlap()) > kMaxShapeAnswers) {
      // Every answer's shapes are matched against the others' on each verdict: bounded work.
      Error(p + ".qa.max_overlap", absl::StrCat("shapes are compared across at most ",
                                                kMaxShapeAnswers, " answers a task"));
    }
    if (!h.gold_input().empty() && h.answer().has_shapes()) {
      // Gold is marked right only when equal to its answer, which drawn shapes never are.
      Error(p + ".gold_input",
            "shapes are not checked against gold tasks: check them with a verify stage");
    }
    const bool choice = h.answer().has_single_choice() || h.answer().has_multi_choice() ||
                        h.answer().has_comparison();
    switch (qa.method()) {
      case microwork::v1::AGGREGATION_UNSPECIFIED:
        break;
      case microwork::v1::MAJORITY_VOTE:
      case microwork::v1::WEIGHTED_VOTE:
        if (!choice && !h.answer().has_text()) {
          Error(p + ".qa.method",
                "MAJORITY_VOTE and WEIGHTED_VOTE need a choice, comparison or text answer (spans, "
                "rankings and shapes have their own aggregation: leave qa.method out)");
        }
        break;
      case microwork::v1::MEDIAN:
      case microwork::v1::MEAN:
        if (!h.answer().has_number())
          Error(p + ".qa.method", "MEDIAN and MEAN need a number answer");
        break;
      case microwork::v1::TEXT_AGREEMENT:
      case microwork::v1::TEXT_MEDOID:
        if (!h.answer().has_text()) {
          Error(p + ".qa.method",
                absl::StrCat(microwork::v1::Aggregation_Name(qa.method()), " needs a text answer"));
        } else if (qa.method() == microwork::v1::TEXT_MEDOID) {
          // Edit distances between every two answers, under the dispatcher's lock: bounded work
          // per verdict (at most 7 x 7 comparisons of 300 characters).
          if (h.answer().text().max_length() == 0 ||
              h.answer().text().max_length() > kMaxMedoidLength) {
            Error(p + ".answer.text.max_length",
                  absl::StrCat("TEXT_MEDOID needs a max_length of 1 to ", kMaxMedoidLength));
          }
          if (std::max(h.overlap(), qa.max_overlap()) > kMaxMedoidAnswers) {
            Error(p + ".qa.max_overlap", absl::StrCat("TEXT_MEDOID compares at most ",
                                                      kMaxMedoidAnswers, " answers a task"));
          }
        }
        break;
      default:
        Error(p + ".qa.method",
              "expected MAJORITY_VOTE, WEIGHTED_VOTE, TEXT_AGREEMENT, TEXT_MEDOID, MEDIAN or MEAN");
    }
    for (auto [field, list] : {std::pair{"skills", &h.skills()},
                               {"languages", &h.languages()},
                               {"regions", &h.regions()}}) {
      for (int i = 0; i < list->size(); ++i) {
        if (list->Get(i).empty() || list->Get(i).size() > 40) {
          Error(absl::StrCat(p, ".", field, "[", i, "]"), "expected 1 to 40 characters");
        }
      }
    }
  }

  // What every kind of task states: its pay, its estimated time and how many answer it.
  void Work(const std::string& p, int64_t piece_rate_minor, uint32_t estimated_seconds,
            uint32_t overlap) {
    if (piece_rate_minor <= 0) {
      Error(p + ".piece_rate_minor",
            absl::StrCat("must be a positive amount in minor units, got ", piece_rate_minor));
    }
    if (estimated_seconds == 0 || estimated_seconds > limits_.max_estimated_seconds) {
      Error(p + ".estimated_seconds", absl::StrCat("expected 1 to ", limits_.max_estimated_seconds,
                                                   ", got ", estimated_seconds));
    }
    if (overlap == 0 || overlap > limits_.max_overlap) {
      Error(p + ".overlap", absl::StrCat("expected 1 to ", limits_.max_overlap, ", got ", overlap));
    }
  }

  // A verify stage, or an iterate stage's vote: people judge another stage's answer.
  void Judge(const std::string& p, const microwork::v1::VerifyStage& v) {
    Work(p, v.piece_rate_minor(), v.estimated_seconds(), v.overlap());
    for (const auto& [lang, text] : v.instructions()) {
      if (text.empty()) Error(absl::StrCat(p, ".instructions[", lang, "]"), "must not be empty");
    }
  }

  // An item field an answer is about: named, and short enough to be a column.
  void FieldName(const std::string& p, const std::string& name) {
    if (name.empty() || name.size() > 200)
      Error(p, "expected an item field's name (1 to 200 bytes)");
  }

  // Labels of spans or shapes: 1 to 20, each 1 to 40 characters without the text forms'
  // separators, none twice.
  void Labels(const std::string& lp,
              const google::protobuf::RepeatedPtrField<std::string>& labels) {
    if (labels.empty() || labels.size() > 20) Error(lp, "expected 1 to 20 labels");
    std::set<std::string> seen;
    for (int i = 0; i < labels.size(); ++i) {
      const std::string& l = labels.Get(i);
      const std::string at = absl::StrCat(lp, "[", i, "]");
      if (l.empty() || l.size() > 40 || l.front() == ' ' || l.back() == ' ') {
        Error(at, "expected 1 to 40 characters, without spaces at either end");
      } else if (l.find_first_of(";:>|,\"") != std::string::npos ||
                 std::any_of(l.begin(), l.end(),
                             [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
        Error(at, "expected letters, digits, spaces and _-. (not ; : > | , or quotes)");
      }
      if (!seen.insert(l).second) Error(at, absl::StrCat("\"", l, "\" repeats"));
    }
  }

  // Whether some input declares `field` an image (Input.media, MEDIA_IMAGE).
  bool IsImageField(const std::string& field) const {
    for (const auto& in : c_.inputs()) {
      for (const auto& m : in.media()) {
        if (m.field() == field && m.kind() == microwork::v1::MEDIA_IMAGE) return true;
      }
    }
    return false;
  }

  void Answer(const std::string& p, const AnswerSchema& a) {
    auto options = [&](const std::string& op, const auto& list) {
      if (list.size() < 2) Error(op, "needs at least two options");
      std::set<std::string> seen;
      for (int i = 0; i < list.size(); ++i) {
        if (list.Get(i).empty()) Error(absl::StrCat(op, "[", i, "]"), "must not be empty");
        if (!seen.insert(list.Get(i)).second) {
          Error(absl::StrCat(op, "[", i, "]"), absl::StrCat("\"", list.Get(i), "\" repeats"));
        }
      }
    };
    switch (a.kind_case()) {
      case AnswerSchema::kSingleChoice:
        options(p + ".single_choice.options", a.single_choice().options());
        break;
      case AnswerSchema::kMultiChoice:
        options(p + ".multi_choice.options", a.multi_choice().options());
        if (a.multi_choice().max_selected() != 0 &&
            a.multi_choice().max_selected() < a.multi_choice().min_selected()) {
          Error(p + ".multi_choice.max_selected", "must be at least min_selected");
        }
        break;
      case AnswerSchema::kText:
        if (a.text().max_length() > limits_.max_text_length) {
          Error(p + ".text.max_length", absl::StrCat("at most ", limits_.max_text_length));
        }
        if (a.text().max_length() != 0 && a.text().max_length() < a.text().min_length()) {
          Error(p + ".text.max_length", "must be at least min_length");
        }
        break;
      case AnswerSchema::kNumber:
        if (a.number().max() < a.number().min()) {
          Error(p + ".number.max", "must be at least min");
        }
        break;
      case AnswerSchema::kSpans: {
        const auto& sp = a.spans();
        FieldName(p + ".spans.field", sp.field());
        Labels(p + ".spans.labels", sp.labels());
        const uint32_t max = sp.max_count() == 0 ? 50 : sp.max_count();
        if (max > 50) Error(p + ".spans.max_count", "expected 0 to 50 (0 means 50)");
        if (sp.min_count() > max) Error(p + ".spans.min_count", "must be at most max_count");
        break;
      }
      case AnswerSchema::kShapes: {
        const auto& sh = a.shapes();
        FieldName(p + ".shapes.field", sh.field());
        if (!sh.field().empty() && !IsImageField(sh.field())) {
          Error(p + ".shapes.field",
                absl::StrCat("\"", sh.field(),
                             "\" is no input's image: expected a field of an input's media with "
                             "kind MEDIA_IMAGE"));
        }
        if (sh.kind() != microwork::v1::SHAPE_BOX && sh.kind() != microwork::v1::SHAPE_POINT &&
            sh.kind() != microwork::v1::SHAPE_POLYGON) {
          Error(p + ".shapes.kind", "expected SHAPE_BOX, SHAPE_POINT or SHAPE_POLYGON");
        }
        if (sh.max_vertices() != 0 && sh.kind() != microwork::v1::SHAPE_POLYGON) {
          Error(p + ".shapes.max_vertices",
                absl::StrCat("this stage draws ", microwork::v1::ShapeKind_Name(sh.kind()),
                             ": only a SHAPE_POLYGON stage has corners to count (leave it out)"));
        } else if (sh.max_vertices() != 0 && (sh.max_vertices() < 3 || sh.max_vertices() > 20)) {
          Error(p + ".shapes.max_vertices", "expected 3 to 20 corners (0 means 12)");
        }
        if (!sh.start_field().empty()) {
          FieldName(p + ".shapes.start_field", sh.start_field());
          if (sh.start_field() == sh.field()) {
            Error(p + ".shapes.start_field",
                  "expected the field holding the shapes to start from, not the image");
          }
        }
        Labels(p + ".shapes.labels", sh.labels());
        const uint32_t max = sh.max_count() == 0 ? 50 : sh.max_count();
        if (max > 50) Error(p + ".shapes.max_count", "expected 0 to 50 (0 means 50)");
        if (sh.min_count() > max) Error(p + ".shapes.min_count", "must be at most max_count");
        if (sh.match_radius() > 10000) {
          Error(p + ".shapes.match_radius", "expected 0 to 10000 pixels (0 means 20)");
        }
        break;
      }
      case AnswerSchema::kComparison: {
        const auto& c = a.comparison();
        FieldName(p + ".comparison.a_field", c.a_field());
        FieldName(p + ".comparison.b_field", c.b_field());
        if (!c.a_field().empty() && c.a_field() == c.b_field()) {
          Error(p + ".comparison.b_field", "must differ from a_field");
        }
        if (c.max_reason_length() > limits_.max_text_length) {
          Error(p + ".comparison.max_reason_length",
                absl::StrCat("at most ", limits_.max_text_length));
        }
        break;
      }
      case AnswerSchema::kRanking: {
        const auto& fields = a.ranking().fields();
        if (fields.size() < 2 || fields.size() > 8) {
          Error(p + ".ranking.fields", "expected 2 to 8 fields to rank");
        }
        std::set<std::string> seen;
        for (int i = 0; i < fields.size(); ++i) {
          const std::string at = absl::StrCat(p, ".ranking.fields[", i, "]");
          FieldName(at, fields.Get(i));
          if (fields.Get(i).find('>') != std::string::npos) Error(at, "must not hold '>'");
          if (!seen.insert(fields.Get(i)).second) {
            Error(at, absl::StrCat("\"", fields.Get(i), "\" repeats"));
          }
        }
        break;
      }
      case AnswerSchema::KIND_NOT_SET:
        Error(p,
              "needs one of single_choice, multi_choice, text, number, spans, comparison, "
              "ranking, shapes");
        break;
    }
  }

  void Dag(const std::map<std::string, int>& index) {
    // Kahn's algorithm, no recursion: each stage is placed once all it is after are placed, and
    // its depth is one more than theirs. Stages never placed lie on or behind a cycle.
    const int n = c_.stages_size();
    std::vector<std::vector<int>> followers(n);
    std::vector<int> waiting(n, 0), depth(n, 1);
    for (int v = 0; v < n; ++v) {
      for (const auto& dep : c_.stages(v).after()) {
        followers[index.at(dep)].push_back(v);
        ++waiting[v];
      }
    }
    std::vector<int> ready;
    for (int v = 0; v < n; ++v) {
      if (waiting[v] == 0) ready.push_back(v);
    }
    int placed = 0;
    std::vector<int> order;
    while (!ready.empty()) {
      const int u = ready.back();
      ready.pop_back();
      ++placed;
      order.push_back(u);
      for (int v : followers[u]) {
        depth[v] = std::max(depth[v], depth[u] + 1);
        if (--waiting[v] == 0) ready.push_back(v);
      }
    }
    if (placed < n) {
      // Every stage left waits on another left: following the first such from any of them comes
      // round to a cycle within n steps; name a stage on it and the one it is after.
      auto first_waiting_dep = [&](int v) {
        for (const auto& dep : c_.stages(v).after()) {
          if (waiting[index.at(dep)] != 0) return index.at(dep);
        }
        return v;  // not reached: a waiting stage is after a waiting stage
      };
      int v = 0;
      while (waiting[v] == 0) ++v;
      for (int step = 0; step < n; ++step) v = first_waiting_dep(v);
      Error(absl::StrCat("stages[", v, "].after"),
            absl::StrCat("\"", c_.stages(v).name(), "\" and \"",
                         c_.stages(first_waiting_dep(v)).name(),
                         "\" form a cycle; stages must form a DAG"));
      return;
    }
    const uint32_t cap = c_.caps().max_depth() != 0 ? c_.caps().max_depth() : limits_.max_depth;
    for (int v = 0; v < n; ++v) {
      if (static_cast<uint32_t>(depth[v]) > cap) {
        Error(absl::StrCat("stages[", v, "]"),
              absl::StrCat("is ", depth[v], " stages deep; the cap is ", cap));
        break;
      }
    }
    // The shape this dispatcher runs: one split, a chain of human, verify and iterate stages,
    // at most one merge at the end.
    int splits = 0, merges = 0;
    for (int v = 0; v < n; ++v) {
      splits += c_.stages(v).has_split();
      merges += c_.stages(v).has_merge();
      if (!c_.stages(v).has_merge()) continue;
      for (int w : followers[v]) {
        Error(absl::StrCat("stages[", w, "].after"), "nothing may follow a merge");
      }
    }
    if (splits != 1) Error("stages", "needs exactly one split stage");
    for (int v = 0; v < n; ++v) {
      const Stage& s = c_.stages(v);
      if ((s.has_verify() || s.has_merge()) && s.after_size() == 1 &&
          c_.stages(index.at(s.after(0))).has_split()) {
        Error(absl::StrCat("stages[", v, "].after"),
              "the stage after a split must be a human or iterate stage");
      }
    }
    if (merges > 1) Error("stages", "at most one merge stage");
    Pieces(index, order);
    Rejections(index);
    // A stage takes items from the split or waits for other stages, not both, and names each
    // stage it waits for once.
    for (int v = 0; v < n; ++v) {
      const Stage& s = c_.stages(v);
      std::set<std::string> seen;
      bool from_split = false;
      for (const auto& dep : s.after()) {
        if (!seen.insert(dep).second) {
          Error(absl::StrCat("stages[", v, "].after"),
                absl::StrCat("\"", dep, "\" is named twice"));
        }
        from_split |= c_.stages(index.at(dep)).has_split();
      }
      if (from_split && s.after_size() > 1) {
        Error(absl::StrCat("stages[", v, "].after"),
              "a stage after the split is after nothing else: it takes every item as it comes");
      }
    }
  }

  // Scopes: which items each stage works on. A stage after a cutting stage works on its pieces;
  // a gather takes them back, and the stages after it see the parent again. Every stage a
  // stage waits for must hand it the same items, nothing but a gather may take pieces out of
  // their scope, and cutting nests at most caps.max_piece_depth (2) deep.
  void Pieces(const std::map<std::string, int>& index, const std::vector<int>& order) {
    const int n = c_.stages_size();
    sees_.assign(n, -1);
    bool any = false;
    for (const Stage& s : c_.stages()) any |= s.has_pieces() || s.has_gather();
    if (!any) return;
    if (n > 64) Error("stages", absl::StrCat("at most 64 stages with pieces, got ", n));
    // Per stage: the cutting stage whose pieces it sees (-1: the job's items), and the scope of
    // the items it hands on; the nesting depth of both.
    std::vector<int>& sees = sees_;
    std::vector<int> hands(n, -1), depth(n, 0), hands_depth(n, 0);
    std::vector<int> cut_scope(n, -1);  // a cutting stage: the scope it cuts in
    const uint32_t max_depth =
        std::min(c_.caps().max_piece_depth() != 0 ? c_.caps().max_piece_depth() : 2u, 2u);
    std::vector<int> gathers_of(n, 0);
    for (int v : order) {
      const Stage& s = c_.stages(v);
      const std::string p = absl::StrCat("stages[", v, "]");
      bool first = true;
      for (const auto& dep : s.after()) {
        const int d = index.at(dep);
        if (first) {
          sees[v] = hands[d];
          depth[v] = hands_depth[d];
          first = false;
        } else if (hands[d] != sees[v]) {
          Error(p + ".after",
                absl::StrCat("\"", s.after(0), "\" and \"", dep,
                             "\" hand on different items (pieces of different stages, or "
                             "pieces and whole items); a stage waits for stages of one kind"));
        }
      }
      hands[v] = sees[v];
      hands_depth[v] = depth[v];
      if (s.has_pieces() && s.has_human()) {
        cut_scope[v] = sees[v];
        hands[v] = v;
        hands_depth[v] = depth[v] + 1;
        if (static_cast<uint32_t>(hands_depth[v]) > max_depth) {
          Error(p + ".pieces", absl::StrCat("cuts pieces ", hands_depth[v],
                                            " levels deep; the cap is ", max_depth));
        }
      }
      if (s.has_gather()) {
        auto from = index.find(s.gather().from());
        if (from == index.end() || !c_.stages(from->second).has_pieces()) {
          Error(p + ".gather.from",
                absl::StrCat("expected a stage that cuts pieces, got \"", s.gather().from(), "\""));
          hands[v] = -1;  // what was meant: whole items again (no second error for it)
          continue;
        }
        if (sees[v] != from->second) {
          Error(p + ".after", absl::StrCat("a gather of \"", s.gather().from(),
                                           "\" comes after stages that work on its pieces"));
          continue;
        }
        if (!s.gather().field().empty()) {
          // A stage on the pieces, or a gather of pieces of pieces (it hands on the pieces).
          auto field = index.find(s.gather().field());
          const bool on_pieces =
              field != index.end() &&
              (c_.stages(field->second).has_gather() ? hands[field->second]
                                                     : sees[field->second]) == from->second;
          if (!on_pieces) {
            Error(p + ".gather.field",
                  absl::StrCat("expected a stage that works on the pieces of \"", s.gather().from(),
                               "\", got \"", s.gather().field(), "\""));
          }
        }
        const uint32_t most = c_.stages(from->second).pieces().max();
        if (s.readiness() == microwork::v1::QUORUM && (s.quorum() == 0 || s.quorum() > most)) {
          Error(p + ".quorum",
                absl::StrCat("a gather's QUORUM counts the pieces that succeeded: expected 1 to "
                             "pieces.max of \"",
                             s.gather().from(), "\" (", most, "), got ", s.quorum()));
        }
        ++gathers_of[from->second];
        hands[v] = cut_scope[from->second];
        hands_depth[v] = depth[v] - 1;
      }
      if (s.has_merge() && sees[v] != -1) {
        Error(p + ".after",
              "a merge comes after stages that work on whole items: gather the "
              "pieces first");
      }
    }
    for (int v = 0; v < n; ++v) {
      if (c_.stages(v).has_pieces() && gathers_of[v] != 1) {
        Error(absl::StrCat("stages[", v, "].pieces"),
              absl::StrCat("needs exactly one gather stage to take its pieces back, has ",
                           gathers_of[v]));
      }
    }
  }

  // What a verify or iterate stage does with an item it rejects (OnReject): only they reject;
  // only a verify sends to a person; KEEP_PREVIOUS names the previous version (on pieces it may
  // leave it to the piece as cut), an input column or a stage before it.
  void Rejections(const std::map<std::string, int>& index) {
    const int n = c_.stages_size();
    // Whether stage `k` is before stage `v` on some path: a walk back from `v`, only for the
    // stages that keep another stage's field.
    auto before = [&](int k, int v) {
      std::vector<bool> seen(n, false);
      std::vector<int> todo = {v};
      while (!todo.empty()) {
        const int u = todo.back();
        todo.pop_back();
        for (const auto& dep : c_.stages(u).after()) {
          const int d = index.at(dep);
          if (d == k) return true;
          if (!seen[d]) {
            seen[d] = true;
            todo.push_back(d);
          }
        }
      }
      return false;
    };
    for (int v = 0; v < n; ++v) {
      const Stage& s = c_.stages(v);
      const std::string p = absl::StrCat("stages[", v, "]");
      if (s.on_reject() == microwork::v1::ON_REJECT_UNSPECIFIED && s.keep().empty()) continue;
      if (!microwork::v1::OnReject_IsValid(s.on_reject())) {
        Error(p + ".on_reject",
              absl::StrCat("expected STOP_ITEM, KEEP_PREVIOUS or SEND_TO_REVIEW, got ",
                           s.on_reject()));
        continue;
      }
      if (!s.has_verify() && !s.has_iterate()) {
        Error(p + (s.on_reject() == microwork::v1::ON_REJECT_UNSPECIFIED ? ".keep" : ".on_reject"),
              "only verify and iterate stages reject items: set it on the stage that judges");
        continue;
      }
      if (s.on_reject() == microwork::v1::SEND_TO_REVIEW && s.has_iterate()) {
        Error(p + ".on_reject",
              "SEND_TO_REVIEW is for verify stages (an iteration that ends with no version leaves "
              "a person nothing to judge): expected STOP_ITEM or KEEP_PREVIOUS");
      }
      // On pieces, KEEP_PREVIOUS is the default: a keep alone says which field.
      const bool keeps = s.on_reject() == microwork::v1::KEEP_PREVIOUS ||
                         (s.on_reject() == microwork::v1::ON_REJECT_UNSPECIFIED && sees_[v] != -1);
      if (!keeps) {
        if (!s.keep().empty()) Error(p + ".keep", "only on_reject: KEEP_PREVIOUS keeps a field");
        continue;
      }
      if (s.keep().empty()) {
        if (sees_[v] == -1) {
          Error(p + ".keep",
                "KEEP_PREVIOUS on whole items needs the field that holds the previous version: "
                "an input column or a stage before this one");
        }
        continue;
      }
      if (s.keep().size() > 200) {
        Error(p + ".keep", absl::StrCat("at most 200 characters, got ", s.keep().size()));
        continue;
      }
      const std::string target = !s.has_verify()               ? s.name()
                                 : s.verify().target().empty() ? s.after(0)
                                                               : s.verify().target();
      if (s.keep() == target) {
        Error(p + ".keep", absl::StrCat("\"", target,
                                        "\" holds the version turned down: expected the field "
                                        "that holds the one before it"));
        continue;
      }
      auto k = index.find(s.keep());
      if (k != index.end() &&
          (!(c_.stages(k->second).has_human() || c_.stages(k->second).has_iterate()) ||
           !before(k->second, v))) {
        Error(p + ".keep", absl::StrCat("expected an input column or a human or iterate stage "
                                        "before this one, got \"",
                                        s.keep(), "\""));
      }
    }
  }

  const Contract& c_;
  const Limits& limits_;
  std::vector<int> sees_;  // Pieces: the cutting stage whose pieces each stage sees; -1: none
  std::set<std::string> input_names_;
  std::vector<ContractError> errors_;
};

}  // namespace

std::vector<ContractError> ValidateContract(const Contract& contract, const Limits& limits) {
  return Validator(contract, limits).Run();
}

std::string MediaNameProblem(absl::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > 255) return absl::StrCat("is ", name.size(), " bytes, more than 255");
  if (!IsValidUtf8(name)) return "is not valid UTF-8";
  for (unsigned char ch : name) {
    if (ch < 0x20 || ch == 0x7f || ch == '\\') {
      return "has a control character or a backslash: expected a relative path with / between "
             "folders";
    }
  }
  if (name.front() == '/') return "is an absolute path: expected one relative to the contract";
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return "has an empty, \".\" or \"..\" part: expected a path that stays inside its folder";
    }
  }
  return "";
}

bool IsMediaUrl(absl::string_view value) {
  return absl::StartsWithIgnoreCase(value, "http://") ||
         absl::StartsWithIgnoreCase(value, "https://");
}

std::string MediaValueProblem(absl::string_view value) {
  if (!IsMediaUrl(value)) return MediaNameProblem(value);
  if (value.size() > 2048)
    return absl::StrCat("is a URL of ", value.size(), " bytes, more than 2048");
  for (unsigned char ch : value) {
    if (ch <= 0x20 || ch == 0x7f) {
      return "is a URL with a space or control character: expected one percent-encoded";
    }
  }
  if (!IsValidUtf8(value)) return "is not valid UTF-8";
  const absl::string_view rest = value.substr(value.find("://") + 3);
  if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#') {
    return "is a URL without a host";
  }
  return "";
}

absl::Status ErrorsToStatus(const std::vector<ContractError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const auto& e : errors) {
    lines.push_back(e.path.empty() ? e.message : absl::StrCat(e.path, ": ", e.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

std::vector<int> TopologicalOrder(const Contract& contract) {
  // Kahn's algorithm; among stages ready at once, the lower index first.
  const int n = contract.stages_size();
  std::map<std::string, int> index;
  for (int i = 0; i < n; ++i) index[contract.stages(i).name()] = i;
  std::vector<std::vector<int>> followers(n);
  std::vector<int> waiting(n, 0);
  for (int v = 0; v < n; ++v) {
    for (const auto& dep : contract.stages(v).after()) {
      auto it = index.find(dep);
      if (it == index.end()) continue;
      followers[it->second].push_back(v);
      ++waiting[v];
    }
  }
  std::set<int> ready;
  for (int v = 0; v < n; ++v) {
    if (waiting[v] == 0) ready.insert(v);
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int u = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(u);
    for (int v : followers[u]) {
      if (--waiting[v] == 0) ready.insert(v);
    }
  }
  return order;  // shorter than n on a cycle: REQUIRES says this does not happen
}

}  // namespace mw::contract
