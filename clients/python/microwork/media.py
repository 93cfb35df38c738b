"""The media files a contract's rows name, found in the media folder beside the contract, hashed
and streamed before the rows as `mw contract submit` sends them (cli/media_files.h): each file
named once, with its SHA-256 and size, its bytes only when the dispatcher lacks them (FindMedia),
once per content. A file that cannot be read is named with the reason, in mw's words, so the
dispatcher quarantines the rows that name it, and the same contract from mw or from here is one
job. Archives and URLs are read by mw only: here their rows are quarantined saying so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional

from microwork._proto import contract_pb2, services_pb2

CHUNK_BYTES = 256 * 1024


@dataclass
class LocalMedia:
    file: services_pb2.MediaFile  # as sent
    path: str = ""                # where it is here
    bad_name: bool = False        # the dispatcher refuses the name itself: not sent


def name_problem(name: str) -> str:
    """Why `name` cannot name a media file (engine/contract/validate.h MediaNameProblem), or ""."""
    raw = name.encode("utf-8", "surrogatepass")
    if not name:
        return "is empty"
    if len(raw) > 255:
        return f"is {len(raw)} bytes, more than 255"
    if any(ord(c) < 0x20 or c in "\x7f\\" for c in name):
        return ("has a control character or a backslash: expected a relative path with / "
                "between folders")
    if name.startswith("/"):
        return "is an absolute path: expected one relative to the contract"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return 'has an empty, "." or ".." part: expected a path that stays inside its folder'
    return ""


def _is_url(value: str) -> bool:
    lower = value[:8].lower()
    return lower.startswith("http://") or lower.startswith("https://")


def _rows(spec: contract_pb2.Input, chunks: Callable[[], Iterator[bytes]]) -> Iterator[dict]:
    text = b"".join(chunks()).decode("utf-8", "replace")
    if spec.format == contract_pb2.FORMAT_CSV:
        yield from csv.DictReader(io.StringIO(text))
    elif spec.format == contract_pb2.FORMAT_JSONL:
        for line in text.splitlines():
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # the dispatcher quarantines it, with the reason
                if isinstance(row, dict):
                    yield {k: v if isinstance(v, str) else json.dumps(v) for k, v in row.items()}


def collect(loaded, sources: Dict[str, Callable[[], Iterator[bytes]]]) -> List[LocalMedia]:
    """Every file the rows of each input with media fields name, in the order mw names them
    (inputs in the contract's order, rows in order, a row's media fields in the contract's
    order), sized and hashed."""
    found: List[LocalMedia] = []
    seen: Dict[str, LocalMedia] = {}
    for spec in loaded.contract.inputs:
        if not spec.media or spec.name not in sources:
            continue
        folder = os.path.join(loaded.base_dir, spec.media_folder)
        archive = os.path.isfile(folder)
        for row in _rows(spec, sources[spec.name]):
            for m in spec.media:
                name = row.get(m.field) or ""
                if not name or name in seen:
                    continue
                item = LocalMedia(services_pb2.MediaFile(name=name))
                seen[name] = item
                found.append(item)
                if _is_url(name):
                    item.file.unreadable = ("is a URL: the Python client fetches none; submit "
                                            "with mw contract submit")
                    continue
                why = name_problem(name)
                if why:
                    item.file.unreadable = f"the name {why}"
                    item.bad_name = True
                    continue
                if archive:
                    item.file.unreadable = (f"is in the archive {spec.media_folder}: the Python "
                                            "client reads none; submit with mw contract submit")
                    continue
                shown = os.path.normpath(os.path.join(spec.media_folder, name))
                _hash(item, os.path.join(folder, name), folder, shown)
    return found


def _hash(item: LocalMedia, path: str, folder: str, shown: str) -> None:
    if not os.path.exists(path) or not os.path.isfile(path):
        what = "no such file" if not os.path.exists(path) else "not a regular file"
        item.file.unreadable = f"{what} (looked for {shown})"
        return
    real, inside = os.path.realpath(path), os.path.realpath(folder) + os.sep
    if not real.startswith(inside):
        item.file.unreadable = f"leads out of the media folder through a link ({shown})"
        return
    h, size = hashlib.sha256(), 0
    try:
        with open(real, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                size += len(chunk)
    except OSError:
        item.file.unreadable = f"cannot be read ({shown})"
        return
    item.path = real
    item.file.sha256 = h.hexdigest()
    item.file.bytes = size


def requests(media: List[LocalMedia], missing: set,
             max_file_bytes: int) -> Iterator[services_pb2.SubmitContractRequest]:
    """Each file named (bad names left out), its bytes after it when the dispatcher lacks
    them, once per content."""
    missing = set(missing)
    for m in media:
        if m.bad_name:
            continue
        yield services_pb2.SubmitContractRequest(media_file=m.file)
        if m.file.sha256 not in missing or m.file.bytes > max_file_bytes:
            continue
        missing.discard(m.file.sha256)
        sent = 0
        with open(m.path, "rb") as f:
            while True:
                chunk = f.read(CHUNK_BYTES)
                sent += len(chunk)
                if sent > m.file.bytes or (not chunk and sent < m.file.bytes):
                    raise OSError(f"{m.path}: the file changed while it was being sent; "
                                  "submit again")
                last = sent == m.file.bytes
                yield services_pb2.SubmitContractRequest(media_chunk=services_pb2.MediaChunk(
                    sha256=m.file.sha256, data=chunk, last=last))
                if last:
                    break


def ask_missing(find: Callable, media: List[LocalMedia]) -> tuple:
    """Which files the dispatcher lacks (FindMedia, a thousand at a time) and the largest it
    takes."""
    missing, largest = set(), 0
    hashes = [m.file.sha256 for m in media if m.file.sha256]
    for i in range(0, max(len(hashes), 1), 1000):
        reply = find(services_pb2.FindMediaRequest(sha256=hashes[i:i + 1000]))
        missing.update(reply.missing)
        largest = reply.max_file_bytes
    return missing, largest


def key_bytes(media: List[LocalMedia]) -> Iterator[bytes]:
    """What the idempotency key covers of the media, as mw's ContentKey: each file's message."""
    for m in media:
        if not m.bad_name:
            yield m.file.SerializeToString(deterministic=True)
