"""Contracts from YAML or JSON files, or from dicts, into `microwork.v1.Contract` messages.

The file maps one to one onto the message through protobuf's JSON mapping, read with the rules
`mw` uses (engine/contract/contract_file.cc): a plain YAML scalar is typed by YAML 1.2's core
schema (null, true/false, integers, numbers with a '.', 'e' or 'E'; anything else a string),
a quoted one is always a string; unknown fields, wrong types and repeated keys are errors naming
the file, the line and the field path:

    contract.yaml:27: stages[1].human.piece_rate_minor: expected an integer (int64), got "five"

The dispatcher's own checks come back as "path: what" lines; `locate` gives them their lines in
the same file.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import yaml
from google.protobuf import descriptor as _descriptor

from microwork._proto import contract_pb2
from microwork.errors import ContractError

# What a contract file may be before it is read: bigger is refused unread.
MAX_CONTRACT_BYTES = 1 << 20

# Aliases can make a small file expand without bound, and nesting can exhaust the stack: both
# are capped.
MAX_NODES = 200_000
MAX_DEPTH = 64
_ASCII_SPACE = " \t\n\r\f\v"

_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_FD = _descriptor.FieldDescriptor

_EXPECTED = {
    _FD.TYPE_INT64: "an integer (int64)",
    _FD.TYPE_SINT64: "an integer (int64)",
    _FD.TYPE_SFIXED64: "an integer (int64)",
    _FD.TYPE_INT32: "an integer",
    _FD.TYPE_SINT32: "an integer",
    _FD.TYPE_SFIXED32: "an integer",
    _FD.TYPE_UINT32: "a non-negative integer",
    _FD.TYPE_FIXED32: "a non-negative integer",
    _FD.TYPE_UINT64: "a non-negative integer",
    _FD.TYPE_FIXED64: "a non-negative integer",
    _FD.TYPE_STRING: "a string (quote it in YAML)",
    _FD.TYPE_BOOL: "true or false",
    _FD.TYPE_DOUBLE: "a number",
    _FD.TYPE_FLOAT: "a number",
    _FD.TYPE_BYTES: "base64 text",
}
_RANGES = {
    _FD.TYPE_INT64: (-(1 << 63), (1 << 63) - 1),
    _FD.TYPE_SINT64: (-(1 << 63), (1 << 63) - 1),
    _FD.TYPE_SFIXED64: (-(1 << 63), (1 << 63) - 1),
    _FD.TYPE_INT32: (-(1 << 31), (1 << 31) - 1),
    _FD.TYPE_SINT32: (-(1 << 31), (1 << 31) - 1),
    _FD.TYPE_SFIXED32: (-(1 << 31), (1 << 31) - 1),
    _FD.TYPE_UINT32: (0, (1 << 32) - 1),
    _FD.TYPE_FIXED32: (0, (1 << 32) - 1),
    _FD.TYPE_UINT64: (0, (1 << 64) - 1),
    _FD.TYPE_FIXED64: (0, (1 << 64) - 1),
}


@dataclass
class _Node:
    """A value of the source with the line it starts on (None when it has none: a dict)."""

    kind: str  # "map", "seq" or "scalar"
    value: Any  # map: [(key, key_line, _Node)], seq: [_Node], scalar: None/bool/int/float/str
    line: Optional[int]


@dataclass
class Loaded:
    """A parsed contract: the message, where it came from, and the source tree for locating the
    dispatcher's errors."""

    contract: contract_pb2.Contract
    filename: str
    base_dir: str
    root: Optional[_Node] = None
    input_paths: Dict[str, str] = field(default_factory=dict)  # input name -> resolved path


def _typed_scalar(node: yaml.ScalarNode) -> Any:
    s = node.value
    if node.style is not None:  # quoted (or a block scalar): text as written
        return s
    if s in ("", "~", "null", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    t = s.strip(_ASCII_SPACE)
    if _INT.fullmatch(t):
        value = int(t)
        if -(1 << 63) <= value < (1 << 63):
            return value
    if any(c in s for c in ".eE") and _FLOAT.fullmatch(t):
        return float(t)
    return s


def _from_yaml(node: yaml.Node, filename: str, budget: List[int], depth: int = 0) -> _Node:
    line = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise ContractError([(filename, line, "", f"more than {MAX_NODES} values (aliases "
                                                  "expanding?)")])
    if depth > MAX_DEPTH:
        raise ContractError([(filename, line, "", f"nested more than {MAX_DEPTH} deep")])
    if isinstance(node, yaml.ScalarNode):
        return _Node("scalar", _typed_scalar(node), line)
    if isinstance(node, yaml.SequenceNode):
        return _Node("seq", [_from_yaml(child, filename, budget, depth + 1)
                             for child in node.value], line)
    entries: List[Tuple[str, int, _Node]] = []
    seen = set()
    for key, value in node.value:
        key_line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode):
            raise ContractError([(filename, key_line, "", "a mapping key must be a name")])
        if key.value in seen:
            raise ContractError(
                [(filename, key_line, "", f'field "{key.value}" appears twice')])
        seen.add(key.value)
        entries.append((key.value, key_line, _from_yaml(value, filename, budget, depth + 1)))
    return _Node("map", entries, line)


def _from_python(value: Any, depth: int = 0) -> _Node:
    if depth > MAX_DEPTH:
        raise ContractError([("<dict>", None, "", f"nested more than {MAX_DEPTH} deep")])
    if isinstance(value, Mapping):
        return _Node("map", [(str(k), None, _from_python(v, depth + 1))
                             for k, v in value.items()], None)
    if isinstance(value, (list, tuple)):
        return _Node("seq", [_from_python(v, depth + 1) for v in value], None)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # a numpy scalar (from a DataFrame) as its Python value
    return _Node("scalar", value, None)


def _shown(value: Any) -> str:
    if isinstance(value, _Node):
        return {"map": "a mapping", "seq": "a list"}.get(value.kind) or _shown(value.value)
    return json.dumps(value, ensure_ascii=False, default=repr)


class _Reader:
    """Fills messages from a _Node tree, raising ContractError at the first problem."""

    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, line: Optional[int], path: str, what: str):
        raise ContractError([(self.filename, line, path, what)])

    def message(self, msg, node: _Node, path: str) -> None:
        if node.kind != "map":
            self.fail(node.line, path, f"expected a mapping of fields, got {_shown(node)}")
        fields = msg.DESCRIPTOR.fields_by_name
        by_json = {f.json_name: f for f in msg.DESCRIPTOR.fields}
        for key, key_line, value in node.value:
            f = fields.get(key) or by_json.get(key)
            where = f"{path}.{key}" if path else key
            if f is None:
                self.fail(key_line, where, "unknown field")
            where = f"{path}.{f.name}" if path else f.name
            line = key_line if key_line is not None else value.line
            if value.kind == "scalar" and value.value is None:
                continue  # null: the default, as in JSON
            if f.containing_oneof is not None:
                chosen = msg.WhichOneof(f.containing_oneof.name)
                if chosen is not None and chosen != f.name:
                    names = [x.name for x in f.containing_oneof.fields]
                    kind = re.sub(r"(?<!^)([A-Z])", r" \1", msg.DESCRIPTOR.name).lower()
                    self.fail(node.line if node.line is not None else line, path,
                              f"more than one kind is set; a {kind} has exactly one of "
                              f"{', '.join(names)}")
            if f.message_type is not None and f.message_type.GetOptions().map_entry:
                self.map_field(msg, f, value, where, line)
            elif f.label == _FD.LABEL_REPEATED:
                if value.kind != "seq":
                    self.fail(line, where, f"expected a list, got {_shown(value)}")
                target = getattr(msg, f.name)
                for i, element in enumerate(value.value):
                    if element.kind == "scalar" and element.value is None:
                        continue
                    at = f"{where}[{i}]"
                    el_line = element.line if element.line is not None else line
                    if f.message_type is not None:
                        self.message(target.add(), element, at)
                    else:
                        target.append(self.scalar(f, element, at, el_line))
            elif f.message_type is not None:
                sub = getattr(msg, f.name)
                sub.SetInParent()
                self.message(sub, value, where)
            else:
                setattr(msg, f.name, self.scalar(f, value, where, line))

    def map_field(self, msg, f, node: _Node, path: str, line: Optional[int]) -> None:
        if node.kind != "map":
            self.fail(line, path, f"expected a mapping, got {_shown(node)}")
        key_field = f.message_type.fields_by_name["key"]
        value_field = f.message_type.fields_by_name["value"]
        target = getattr(msg, f.name)
        for key, key_line, value in node.value:
            if value.kind == "scalar" and value.value is None:
                continue
            at = f"{path}.{key}"
            at_line = key_line if key_line is not None else line
            k = self.scalar(key_field, _Node("scalar", key, at_line), at, at_line)
            if value_field.message_type is not None:
                self.message(target[k], value, at)
            else:
                target[k] = self.scalar(value_field, value, at, at_line)

    def scalar(self, f, node: _Node, path: str, line: Optional[int]) -> Any:
        v = node.value if node.kind == "scalar" else None
        t = f.type
        bad = node.kind != "scalar"
        if not bad and t == _FD.TYPE_ENUM:
            enum = f.enum_type
            if isinstance(v, str) and v in enum.values_by_name:
                return enum.values_by_name[v].number
            if isinstance(v, int) and not isinstance(v, bool) and -(1 << 31) <= v < (1 << 31):
                return v  # an open enum takes any number
            names = [e.name for e in enum.values if e.number != 0]
            listed = names[0] if len(names) < 2 else ", ".join(names[:-1]) + " or " + names[-1]
            self.fail(line, path, f"expected one of {listed}, got {_shown(node)}")
        if not bad and t in _RANGES:
            if isinstance(v, str) and _INT.fullmatch(v):
                v = int(v)
            elif isinstance(v, float) and v.is_integer():
                v = int(v)
            lo, hi = _RANGES[t]
            if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
                return v
            bad = True
        elif not bad and t in (_FD.TYPE_DOUBLE, _FD.TYPE_FLOAT):
            if isinstance(v, str) and (_FLOAT.fullmatch(v) or
                                       v in ("NaN", "Infinity", "-Infinity")):
                return float(v.replace("Infinity", "inf"))
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
            bad = True
        elif not bad and t == _FD.TYPE_BOOL:
            if isinstance(v, bool):
                return v
            if v in ("true", "false"):
                return v == "true"
            bad = True
        elif not bad and t == _FD.TYPE_STRING:
            if isinstance(v, str):
                try:  # JSON escapes of a surrogate pair arrive as two halves: join them
                    return v.encode("utf-16", "surrogatepass").decode("utf-16")
                except UnicodeError:
                    self.fail(line, path, "expected valid Unicode text (a lone surrogate)")
            bad = True
        elif not bad and t == _FD.TYPE_BYTES:
            if isinstance(v, bytes):
                return v
            try:
                return base64.b64decode(v, validate=True)
            except (TypeError, ValueError):
                bad = True
        self.fail(line, path, f"expected {_EXPECTED.get(t, 'a value')}, got {_shown(node)}")


def parse(text: str, filename: str = "<contract>") -> Tuple[contract_pb2.Contract, _Node]:
    """Parses contract text (YAML or JSON) into a Contract and its located source tree."""
    if text.lstrip(_ASCII_SPACE + "\ufeff").startswith("{"):
        # JSON: a tab is whitespace there (and cannot appear raw inside a string), but YAML
        # refuses tabs; spaces keep every line and column.
        text = text.replace("\t", " ")
    try:
        first = None
        for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
            first = document  # the first document, as mw reads it
            break
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        column = f"column {mark.column + 1}: " if mark is not None else ""
        raise ContractError([(filename, line, "", f"{column}{e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise ContractError([(filename, None, "", str(e))]) from None
    if not isinstance(first, yaml.MappingNode):
        raise ContractError(
            [(filename, None, "", "expected a mapping of contract fields at the top level")])
    root = _from_yaml(first, filename, [MAX_NODES])
    contract = contract_pb2.Contract()
    _Reader(filename).message(contract, root, "")
    return contract, root


def from_dict(value: Mapping[str, Any], filename: str = "<dict>"):
    """A Contract from a dict shaped like the file (the same names and rules)."""
    root = _from_python(value)
    contract = contract_pb2.Contract()
    _Reader(filename).message(contract, root, "")
    return contract, root


def line_of(root: Optional[_Node], path: str) -> Optional[int]:
    """The line of `path` ("stages[1].human.piece_rate_minor") in the source, or of its nearest
    parent found; None when the source has no lines."""
    if root is None:
        return None
    node, line = root, root.line
    for part in [p for p in path.split(".") if p]:
        name, index = part, None
        if "[" in part and part.endswith("]"):
            name = part[: part.index("[")]
            try:
                index = int(part[part.index("[") + 1 : -1])
            except ValueError:
                index = None
        if node.kind != "map":
            return line
        found = None
        for key, key_line, value in node.value:
            snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)
            if key == name or snake == name:
                found, line = value, key_line if key_line is not None else line
                break
        if found is None:
            return line
        if index is not None:
            if found.kind != "seq" or index >= len(found.value):
                return line
            found = found.value[index]
            line = found.line if found.line is not None else line
        node = found
    return line


def locate(loaded: Loaded, message: str, code=None) -> ContractError:
    """The dispatcher's "path: what" lines, each given its file and line."""
    problems = []
    for text in message.splitlines() or [message]:
        path, sep, what = text.partition(": ")
        if sep and re.match(r"^[A-Za-z_][A-Za-z0-9_.\[\]]*$", path):
            problems.append((loaded.filename, line_of(loaded.root, path), path, what))
        else:
            problems.append((loaded.filename, None, "", text))
    return ContractError(problems, code)


def load(contract: Union[str, os.PathLike, Mapping[str, Any], contract_pb2.Contract],
         base_dir: Optional[str] = None) -> Loaded:
    """Reads `contract`: a path to a YAML or JSON file, a dict shaped like one, or a Contract.
    Path inputs resolve against the file's folder (or `base_dir`)."""
    if isinstance(contract, contract_pb2.Contract):
        return Loaded(contract, "<contract>", base_dir or os.getcwd())
    if isinstance(contract, Mapping):
        message, root = from_dict(contract)
        return Loaded(message, "<dict>", base_dir or os.getcwd(), root)
    filename = os.fspath(contract)
    try:
        size = os.path.getsize(filename)
        if size > MAX_CONTRACT_BYTES:
            raise ContractError([(filename, None, "",
                                  f"the file is {size} bytes; a contract may be at most "
                                  f"{MAX_CONTRACT_BYTES}")])
        with open(filename, "rb") as f:
            raw = f.read(MAX_CONTRACT_BYTES + 1)
    except OSError as e:
        raise ContractError([(filename, None, "", f"cannot read the contract file ({e.strerror})")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ContractError([(filename, line, "", "the file is not valid UTF-8")]) from None
    message, root = parse(text, filename)
    folder = base_dir or os.path.dirname(os.path.abspath(filename))
    return Loaded(message, filename, folder, root)
