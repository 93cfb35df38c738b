#include "engine/contract/contract_file.h"

#include <yaml-cpp/yaml.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/contract/csv_reader.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace mw::contract {
namespace {

using nlohmann::json;

// A plain (unquoted) YAML scalar typed as YAML 1.2's core schema would: null, bool, integer,
// float, else string. Quoted scalars are always strings.
json TypedScalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  int64_t i;
  if (absl::SimpleAtoi(s, &i)) return i;
  double d;
  if (s.find_first_of(".eE") != std::string::npos && absl::SimpleAtod(s, &d)) return d;
  return s;
}

absl::StatusOr<json> ToJson(const YAML::Node& node, absl::string_view filename) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Scalar:
      return TypedScalar(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& child : node) {
        auto v = ToJson(child, filename);
        if (!v.ok()) return v.status();
        out.push_back(*std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrCat(filename, ":", kv.first.Mark().line + 1,
                                                         ": a mapping key must be a name"));
        }
        const std::string key = kv.first.Scalar();
        if (out.contains(key)) {
          return absl::InvalidArgumentError(absl::StrCat(filename, ":", kv.first.Mark().line + 1,
                                                         ": field \"", key, "\" appears twice"));
        }
        auto v = ToJson(kv.second, filename);
        if (!v.ok()) return v.status();
        out[key] = *std::move(v);
      }
      return out;
    }
  }
  return json(nullptr);
}

// Finds the 1-based line of `path` ("stages[1].human.piece_rate_minor") in the YAML tree, trying
// both the proto and the JSON spelling of each name. nullopt when it cannot be found.
std::optional<int> LineOf(const YAML::Node& root, absl::string_view path) {
  YAML::Node node = root;
  int line = root.Mark().line + 1;
  for (absl::string_view part : absl::StrSplit(path, '.', absl::SkipEmpty())) {
    std::string name(part);
    std::optional<size_t> index;
    if (const size_t b = part.find('['); b != absl::string_view::npos) {
      name = std::string(part.substr(0, b));
      size_t i;
      if (absl::SimpleAtoi(part.substr(b + 1, part.size() - b - 2), &i)) index = i;
    }
    if (!node.IsMap()) return line;
    YAML::Node next;
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      std::string snake;
      for (char c : key) {
        if (c >= 'A' && c <= 'Z') {
          snake += '_';
          snake += static_cast<char>(c - 'A' + 'a');
        } else {
          snake += c;
        }
      }
      if (key == name || snake == name) {
        next = kv.second;
        line = kv.first.Mark().line + 1;
        break;
      }
    }
    if (!next.IsDefined()) return line;
    if (index.has_value()) {
      if (!next.IsSequence() || *index >= next.size()) return line;
      next = next[*index];
      line = next.Mark().line + 1;
    }
    node = next;
  }
  return line;
}

// "A, B or C": the names an enum `type` ("microwork.v1.SplitBy") accepts, its unspecified zero
// left out.
std::string EnumNames(const std::string& type) {
  const size_t at = type.find("microwork.v1.");
  const std::string name = at == std::string::npos ? type : type.substr(at);
  const google::protobuf::EnumDescriptor* e =
      google::protobuf::DescriptorPool::generated_pool()->FindEnumTypeByName(name);
  if (e == nullptr) return absl::StrCat("the names of ", type.substr(type.rfind('.') + 1));
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() != 0) names.push_back(e->value(i)->name());
  }
  if (names.size() < 2) return absl::StrJoin(names, "");
  const std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " or ", last);
}

// yaml-cpp's terse messages, in words an operator can act on.
std::string ExplainYaml(const std::string& msg) {
  static constexpr struct {
    const char* msg;
    const char* words;
  } kHints[] = {
      {"unknown token",
       "a character YAML does not expect here (a tab used to indent, or a value starting with "
       "@, ` or % that needs quotes)"},
      {"end of sequence flow not found", "a list opened with [ is not closed with ]"},
      {"end of map flow not found", "a mapping opened with { is not closed with }"},
      {"end of map not found", "the indentation of this block does not line up"},
      {"end of sequence not found", "the indentation of this list does not line up"},
      {"illegal map value",
       "a colon where a value was expected: quote a value that contains \": \""},
      {"illegal block entry",
       "a \"- \" list entry where a field was expected: check the indentation"},
      {"illegal EOF in scalar", "a quote is opened and never closed"},
      {"illegal flow end", "a ] or } without its opening [ or {"},
  };
  for (const auto& h : kHints) {
    if (msg == h.msg) return absl::StrCat(msg, ": ", h.words);
  }
  return msg;
}

// Rewrites protobuf's "(a.b) c: Cannot find field." into "a.b.c: unknown field", and
// "(a.b): invalid value x for type TYPE_INT64" into "a.b: expected an integer (int64), got x".
std::pair<std::string, std::string> Explain(absl::string_view message) {
  std::string path, rest(message);
  if (absl::StartsWith(message, "(")) {
    const size_t close = message.find(')');
    if (close != absl::string_view::npos) {
      path = std::string(message.substr(1, close - 1));
      rest = std::string(absl::StripLeadingAsciiWhitespace(message.substr(close + 1)));
    }
  }
  if (absl::EndsWith(rest, ": Cannot find field.")) {
    const std::string field = rest.substr(0, rest.size() - strlen(": Cannot find field."));
    return {path.empty() ? field : absl::StrCat(path, ".", field), "unknown field"};
  }
  if (absl::StartsWith(rest, ": ")) rest = rest.substr(2);
  static constexpr struct {
    const char* type;
    const char* expected;
  } kTypes[] = {{"TYPE_INT64", "an integer (int64)"},
                {"TYPE_UINT32", "a non-negative integer"},
                {"TYPE_UINT64", "a non-negative integer"},
                {"TYPE_INT32", "an integer"},
                {"TYPE_STRING", "a string (quote it in YAML)"},
                {"TYPE_BOOL", "true or false"},
                {"TYPE_DOUBLE", "a number"}};
  const size_t at = rest.find(" for type ");
  if (absl::StartsWith(rest, "invalid value ") && at != std::string::npos) {
    const std::string value = rest.substr(strlen("invalid value "), at - strlen("invalid value "));
    const std::string type = rest.substr(at + strlen(" for type "));
    std::string expected = absl::StrCat("a value of type ", type);
    for (const auto& t : kTypes) {
      if (type == t.type) expected = t.expected;
    }
    if (absl::StrContains(type, "microwork.v1.")) {
      expected = absl::StrCat("one of ", EnumNames(type));
    }
    if (absl::StartsWith(value, "oneof field")) {
      return {path,
              "more than one kind is set; a stage has exactly one of split, human, "
              "verify, iterate, merge"};
    }
    return {path, absl::StrCat("expected ", expected, ", got ", value)};
  }
  return {path, rest};
}

absl::StatusOr<microwork::v1::Contract> ParseUtf8Contract(absl::string_view text,
                                                          absl::string_view filename) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": ", ExplainYaml(e.msg)));
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": expected a mapping of contract fields at the top level"));
  }
  auto as_json = ToJson(root, filename);
  if (!as_json.ok()) return as_json.status();

  microwork::v1::Contract contract;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(as_json->dump(), &contract, options);
  if (!status.ok()) {
    auto [path, what] = Explain(std::string(status.message()));
    std::string where(filename);
    if (auto line = LineOf(root, path); line.has_value()) absl::StrAppend(&where, ":", *line);
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", path.empty() ? "" : absl::StrCat(path, ": "), what));
  }
  return contract;
}

}  // namespace

absl::StatusOr<microwork::v1::Contract> ParseContract(absl::string_view text,
                                                      absl::string_view filename) {
  // Found by the contract fuzzer: invalid UTF-8 made the JSON step throw. Refuse it first, by
  // line, and turn anything the YAML and JSON libraries throw into an error, never a crash.
  if (!IsValidUtf8(text)) {
    const size_t good = ValidUtf8Prefix(text);
    size_t line = 1;
    for (size_t i = 0; i < good; ++i) line += text[i] == '\n';
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":", line, ": the file is not valid UTF-8"));
  }
  try {
    return ParseUtf8Contract(text, filename);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": ", ExplainYaml(e.msg)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ": ", e.what()));
  }
}

absl::StatusOr<microwork::v1::Contract> LoadContractFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the contract file"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseContract(text.str(), path);
}

absl::Status LocatedErrors(absl::string_view text, absl::string_view filename,
                           const std::vector<ContractError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception&) {
    // It parsed before it was validated; without a tree the errors keep only the file's name.
  }
  std::vector<std::string> lines;
  for (const ContractError& e : errors) {
    std::string where(filename);
    if (root.IsMap()) {
      if (auto line = LineOf(root, e.path); line.has_value()) absl::StrAppend(&where, ":", *line);
    }
    lines.push_back(
        absl::StrCat(where, ": ", e.path.empty() ? "" : absl::StrCat(e.path, ": "), e.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace mw::contract
