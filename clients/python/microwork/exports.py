"""Results and answers as rows: the columns and the text `mw results export` and
`mw results answers` write (cli/job_cmd.cc), so a file written here is the file mw writes.

A results row holds the item's fields (input columns, then each stage's verdict), its status,
the last verdict's confidence, votes and workers, every verdict on the way ("provenance"), and
the item's id and its parent's (for a piece); pieces follow their parent as rows of their own.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, Iterable, Iterator, List

from microwork._proto import dispatch_pb2

ANSWER_COLUMNS = [
    "task", "stage", "item", "worker", "centre", "answer", "skipped", "active_seconds",
    "credited_seconds", "wage_minor", "currency", "late", "counted", "check", "check_correct",
    "withheld", "answered_at_ms",
]
RESULT_TAIL = ["status", "confidence", "votes", "workers", "provenance", "item", "parent"]

_PLAIN_NUMBER = re.compile(r"^[+\-.0-9eE]+$")


def _replace_controls(v: str) -> str:
    out = []
    for ch in v:
        o = ord(ch)
        if (o < 0x20 and ch not in "\t\n\r") or o == 0x7F or 0x80 <= o <= 0x9F:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def _plain_number(v: str) -> bool:
    if not _PLAIN_NUMBER.fullmatch(v):
        return False
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def csv_field(v: str) -> str:
    """One CSV field as mw writes it: a value a spreadsheet would run as a formula is shown as
    text (a leading '), and a value with a comma, quote, newline or ' is quoted."""
    text = _replace_controls(v)
    if text and text[0] in "=+-@\t\r" and not _plain_number(text):
        text = "'" + text
    if not any(c in text for c in ",\"\n\r'"):
        return text
    return '"' + text.replace('"', '""') + '"'


def answer_text(a) -> str:
    kind = a.WhichOneof("value")
    if kind == "choice":
        return a.choice
    if kind == "choices":
        return "|".join(a.choices.options)
    if kind == "text":
        return a.text
    if kind == "number":
        return a.number
    if kind == "spans":
        return ";".join(f"{s.start}-{s.end}:{s.label}" for s in a.spans.spans)
    if kind == "shapes":  # qa/shapes.h's text form: a point has no second corner, an outline
        return ";".join(  # its corners
            f"{s.label}:{','.join(str(v) for v in s.polygon)}" if s.polygon
            else f"{s.label}:{s.x0},{s.y0}" if s.x1 == 0 and s.y1 == 0
            else f"{s.label}:{s.x0},{s.y0},{s.x1},{s.y1}" for s in a.shapes.shapes)
    if kind == "pick":
        return f"{a.pick.winner}: {a.pick.reason}" if a.pick.reason else a.pick.winner
    if kind == "ranking":
        return ">".join(a.ranking.options)
    return ""


def _c_bool(v: bool) -> str:
    return "1" if v else "0"  # absl::StrCat(bool), as mw writes it


def result_rows(rec: dispatch_pb2.ResultRecord) -> Iterator[Dict[str, Any]]:
    """`rec` as rows (its own, then each of its pieces', depth first), typed: the item's fields
    as text, confidence a float, votes and item ints, parent an int or None. An item field named
    like one of the last columns (status, item...) is kept as "fields.NAME"."""
    row: Dict[str, Any] = {}
    for f in rec.item.fields:
        row[f"fields.{f.name}" if f.name in RESULT_TAIL else f.name] = f.value
    row.update({
        "status": rec.status,
        "confidence": rec.confidence,
        "votes": rec.votes,
        "workers": ";".join(rec.workers),
        "provenance": _provenance(rec),
        "item": rec.item_index,
        "parent": rec.item.parent if rec.item.cut_by else None,
    })
    yield row
    for child in rec.children:
        yield from result_rows(child)


def _provenance(rec) -> str:
    return " | ".join(f"{p.stage}={p.answer} ({p.confidence:.2f}; {';'.join(p.workers)})"
                      for p in rec.provenance)


def result_columns(rec: dispatch_pb2.ResultRecord) -> List[str]:
    """The row keys of an export whose first record is `rec` (the CSV header, but for a field
    renamed as result_rows says)."""
    return [f"fields.{f.name}" if f.name in RESULT_TAIL else f.name
            for f in rec.item.fields] + RESULT_TAIL


def result_header(rec: dispatch_pb2.ResultRecord) -> str:
    """The CSV header line of an export whose first record is `rec`."""
    return ",".join([csv_field(f.name) for f in rec.item.fields] + RESULT_TAIL)


def result_csv_lines(rec: dispatch_pb2.ResultRecord) -> Iterator[str]:
    """`rec`'s CSV lines (without newlines): its own, then each of its pieces'."""
    cells = [csv_field(f.value) for f in rec.item.fields]
    cells += [
        csv_field(rec.status), f"{rec.confidence:.4f}", str(rec.votes),
        csv_field(";".join(rec.workers)), csv_field(_provenance(rec)), str(rec.item_index),
        str(rec.item.parent) if rec.item.cut_by else "",
    ]
    yield ",".join(cells)
    for child in rec.children:
        yield from result_csv_lines(child)


def result_json(rec: dispatch_pb2.ResultRecord) -> Dict[str, Any]:
    """`rec` as the JSON object of mw's JSONL export; pieces nest under "children"."""
    j: Dict[str, Any] = {"item": rec.item_index, "line": rec.item.source_line}
    if rec.item.cut_by:
        j.update(parent=rec.item.parent, position=rec.item.position, cut_by=rec.item.cut_by)
    j["fields"] = {f.name: f.value for f in rec.item.fields}
    j.update(status=rec.status, stage=rec.stage, answer=answer_text(rec.answer),
             confidence=rec.confidence, votes=rec.votes, workers=list(rec.workers))
    if rec.merged_items:
        j["merged_items"] = list(rec.merged_items)
    j["provenance"] = [{"stage": p.stage, "answer": p.answer, "confidence": p.confidence,
                        "workers": list(p.workers), "answers": list(p.answers)}
                       for p in rec.provenance]
    if rec.children:
        j["children"] = [result_json(c) for c in rec.children]
    return j


def answer_row(a: dispatch_pb2.AnswerRow) -> Dict[str, Any]:
    """One answer: who answered what, in how long, and what it paid (typed)."""
    return {
        "task": a.task_id, "stage": a.stage, "item": a.item_index, "worker": a.worker,
        "centre": a.centre,
        "answer": a.answer.skip_reason if a.answer.skipped else answer_text(a.answer),
        "skipped": a.answer.skipped, "active_seconds": a.active_seconds,
        "credited_seconds": a.credited_seconds, "wage_minor": a.wage_minor,
        "currency": a.currency, "late": a.late, "counted": a.counted, "check": a.check,
        "check_correct": a.check_correct, "withheld": a.withheld,
        "answered_at_ms": a.answered_at_ms,
    }


def answer_csv_line(row: Dict[str, Any]) -> str:
    cells = []
    for name in ANSWER_COLUMNS:
        v = row[name]
        if isinstance(v, bool):
            cells.append(_c_bool(v))
        elif isinstance(v, str):
            cells.append(csv_field(v))
        else:
            cells.append(str(v))
    return ",".join(cells)


def _finite(value: Any) -> Any:
    """NaN and infinities as null, as nlohmann's dump writes them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def json_line(value: Dict[str, Any]) -> str:
    return json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def frame(rows: Iterable[Dict[str, Any]], columns: List[str]):
    """A pandas DataFrame of `rows` (ImportError naming python3-pandas when it is missing)."""
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("DataFrames need pandas (Debian: python3-pandas)") from e
    return pd.DataFrame.from_records(list(rows), columns=columns)
