"""Client: the dispatcher's operator API in the domain's words.

    client = Client("127.0.0.1:7070", token_file="/tmp/mw/operator.token")
    report = client.check("contract.yaml")        # the dispatcher's verdict and price, no job
    job = client.submit("contract.yaml", inputs={"reviews": frame})
    for progress in client.watch(job.id): ...
    results = client.results_frame(job.id)        # one row per item, as mw results export

Every call carries the operator's token and a deadline; a refused call raises MicroworkError
with the server's message and gRPC code. Calls that change something carry an idempotency key
made here (or given), and are retried with the same key when the dispatcher is unavailable or
busy, so a lost reply never acts twice.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Union

import grpc

from microwork import audit, contract as contracts, exports, media as media_files
from microwork._proto import (contract_pb2, dispatch_pb2, ledger_pb2, services_pb2,
                              services_pb2_grpc)
from microwork.errors import ContractError, LedgerError, MicroworkError, from_rpc

CHUNK_BYTES = 256 * 1024  # as mw streams inputs
MAX_REPLY_BYTES = 64 << 20  # the largest reply accepted, as mw and the dispatcher allow
STREAM_SECONDS = 24 * 3600  # the deadline of watches, exports and ledger reads, as mw's
_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", MAX_REPLY_BYTES),
                    ("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 1000)]
_STATES = {
    dispatch_pb2.JOB_RUNNING: "running",
    dispatch_pb2.JOB_PAUSED: "paused",
    dispatch_pb2.JOB_CANCELLED: "cancelled",
    dispatch_pb2.JOB_COMPLETED: "completed",
    dispatch_pb2.JOB_BUDGET_EXHAUSTED: "waiting for funds",
    dispatch_pb2.JOB_DEADLINE_PASSED: "deadline passed",
}

InputSource = Union[str, os.PathLike, bytes, Any]  # a path, CSV/JSONL bytes or a DataFrame
ContractSource = Union[str, os.PathLike, Mapping[str, Any], contract_pb2.Contract]


@dataclass(frozen=True)
class Progress:
    """A job at one moment: `done` of `total` over every stage, an item counting once in each
    stage it passes (a 30-item job of three stages is done at 90 of 90)."""

    job: dispatch_pb2.Job
    final: bool

    @property
    def state(self) -> str:
        return _STATES.get(self.job.state, "unknown")

    @property
    def done(self) -> int:
        return sum(s.done for s in self.job.stages)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.job.stages)


@dataclass(frozen=True)
class Submitted:
    """A submission's outcome. `existing`: this contract with these inputs (or this key) was
    submitted before, and `job` is that job, in its state now."""

    job: dispatch_pb2.Job
    existing: bool
    quarantined: List[services_pb2.QuarantinedRow]
    quarantined_total: int
    plan: services_pb2.ContractCost

    @property
    def id(self) -> str:
        return self.job.id


@dataclass(frozen=True)
class CheckReport:
    """The dispatcher's verdict on a contract without making a job: the items it would make,
    the rows it would refuse and what the work costs, in minor units of `currency`."""

    items: int
    currency: str
    quarantined: List[services_pb2.QuarantinedRow]
    quarantined_total: int
    plan: services_pb2.ContractCost


@dataclass(frozen=True)
class Invoice:
    """A client's invoice for a job, recomputed from the verified ledger (minor units)."""

    job_id: str
    currency: str
    funded: int
    wages: int
    topups: int
    fees: int
    centre_shares: int
    charged: int
    reserved: int
    refunded: int
    remaining: int

    def __str__(self) -> str:
        m = lambda v: audit.format_money(v, self.currency)  # noqa: E731
        rows = [("funded by the client", self.funded), ("wages for work done", self.wages),
                ("top-ups to the wage floor", self.topups), ("platform fees", self.fees),
                ("centres' shares", self.centre_shares), ("charged", self.charged),
                ("reserved for answers under review", self.reserved),
                ("refunded", self.refunded), ("remaining in escrow", self.remaining)]
        lines = [f"Invoice for {self.job_id} (recomputed from the verified ledger)"]
        lines += [f"  {name:<36} {m(v):>14}" for name, v in rows]
        return "\n".join(lines)


@dataclass(frozen=True)
class LedgerReport:
    """A verified ledger: its size and, per job, its escrow's totals."""

    transfers: int
    accounts: int
    time_bounds_checked: int
    time_bounds_missing: int
    jobs: Dict[str, audit.JobTotals]


def _retryable(error: grpc.RpcError) -> bool:
    """UNAVAILABLE, or the dispatcher's own backpressure (RESOURCE_EXHAUSTED with a retry hint;
    not a reply too large, which a retry cannot help)."""
    code = error.code()
    return code == grpc.StatusCode.UNAVAILABLE or (
        code == grpc.StatusCode.RESOURCE_EXHAUSTED and "retry after" in (error.details() or ""))


def _is_loopback(server: str) -> bool:
    host = server.rsplit(":", 1)[0] if not server.startswith("[") else server[1:server.find("]")]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _frame_bytes(frame, fmt: int) -> bytes:
    """A DataFrame as the contract's input format says: CSV with its columns as the header, or
    JSONL one object per row. A named index is kept as columns (reset_index)."""
    if not (frame.index.name is None and frame.index.names == [None]):
        frame = frame.reset_index()
    if fmt == contract_pb2.FORMAT_CSV:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, lineterminator="\n")
        return buffer.getvalue().encode("utf-8")
    if fmt == contract_pb2.FORMAT_JSONL:
        text = frame.to_json(orient="records", lines=True, force_ascii=False)
        return (text if text.endswith("\n") else text + "\n").encode("utf-8")
    raise MicroworkError("a DataFrame input needs a FORMAT_CSV or FORMAT_JSONL input, not "
                         f"{contract_pb2.InputFormat.Name(fmt)}")


def _input_bytes(source: InputSource) -> Callable[[], Iterator[bytes]]:
    """A function giving the chunks of an input: a file's or bytes'."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        return lambda: (data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES))
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)

        def read():
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(CHUNK_BYTES)
                    if not chunk:
                        return
                    yield chunk
        return read
    raise TypeError(f"an input is a path, bytes or a DataFrame, not {type(source).__name__}")


class Client:
    """A connection to one dispatcher as an operator (or a staff account's token)."""

    def __init__(self, server: Optional[str] = None, token_file: Optional[str] = None, *,
                 token: Optional[str] = None,
                 tls: Union[None, bool, str, Mapping[str, str]] = None,
                 timeout: float = 30.0, retries: int = 5):
        """`server` is host:port (default $MW_SERVER); the token comes from `token` or
        `token_file` (default $MW_TOKEN_FILE). `tls`: None or False for plaintext, allowed only
        to a loopback address; True for TLS with gRPC's default roots; the path of the PEM CA
        that signed the dispatcher's certificate; or {"ca": PATH, "cert": PATH, "key": PATH}
        for mutual TLS (deploy/tls/make-certs.sh makes all three). `retries`: attempts after
        UNAVAILABLE or RESOURCE_EXHAUSTED, with the same idempotency key."""
        server = server or os.environ.get("MW_SERVER")
        if not server:
            raise MicroworkError("no server: give Client(server) or set MW_SERVER")
        token_file = token_file or os.environ.get("MW_TOKEN_FILE")
        if token is None:
            if not token_file:
                raise MicroworkError("no token: give token_file= (or token=) or set "
                                     "MW_TOKEN_FILE")
            try:
                with open(token_file, "rb") as f:
                    token = f.read(64 * 1024).decode("utf-8").strip()
            except OSError as e:
                raise MicroworkError(f"{token_file}: cannot read the token ({e.strerror})")
            except UnicodeDecodeError:
                raise MicroworkError(f"{token_file}: the token is not UTF-8 text") from None
        if not token or any(c in token for c in "\r\n"):
            raise MicroworkError("the token is empty or spans lines")
        if tls is not None and tls is not False and not tls:
            raise MicroworkError('tls: expected True, a CA path, or {"ca", "cert", "key"} paths')
        if not tls:
            if not _is_loopback(server):
                raise MicroworkError(f"{server}: plaintext is allowed only to a loopback "
                                     "address; give tls=True or tls=CA_PEM_PATH")
            self._channel = grpc.insecure_channel(server, options=_CHANNEL_OPTIONS)
        else:
            files = {"ca": tls} if isinstance(tls, (str, os.PathLike)) else \
                dict(tls) if isinstance(tls, Mapping) else {}
            unknown = set(files) - {"ca", "cert", "key"}
            if unknown or ("cert" in files) != ("key" in files):
                raise MicroworkError('tls: expected True, a CA path, or {"ca", "cert", "key"} '
                                     "paths (cert and key together)")
            pem = {}
            for what, path in files.items():
                try:
                    with open(path, "rb") as f:
                        pem[what] = f.read(1 << 20)
                except OSError as e:
                    raise MicroworkError(f"{path}: cannot read the TLS {what} ({e.strerror})")
            credentials = grpc.ssl_channel_credentials(pem.get("ca"), pem.get("key"),
                                                       pem.get("cert"))
            self._channel = grpc.secure_channel(server, credentials, options=_CHANNEL_OPTIONS)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._timeout = timeout
        self._retries = retries
        self._ops = services_pb2_grpc.OperatorServiceStub(self._channel)
        self._ledger = services_pb2_grpc.LedgerServiceStub(self._channel)

    def disconnect(self) -> None:
        """Closes the connection (`close(job_id)` is the job's, not the connection's)."""
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()

    # -- plumbing --------------------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], Any]) -> Any:
        """`attempt()`, again after UNAVAILABLE or the dispatcher's backpressure (the request,
        and so its idempotency key, unchanged), with growing pauses; the last error is raised
        as grpc.RpcError."""
        pause = 0.2
        for _ in range(self._retries):
            try:
                return attempt()
            except grpc.RpcError as e:
                if not _retryable(e):
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        return attempt()

    def _call(self, method, request, *, timeout: Optional[float] = None):
        """One unary call, retried as `_retrying` says; a refusal raises MicroworkError."""
        try:
            return self._retrying(lambda: method(request, timeout=timeout or self._timeout,
                                                 metadata=self._metadata))
        except grpc.RpcError as e:
            raise from_rpc(e) from None

    def _stream(self, method, request) -> Iterator[Any]:
        try:
            yield from method(request, timeout=STREAM_SECONDS, metadata=self._metadata)
        except grpc.RpcError as e:
            raise from_rpc(e) from None

    # -- contracts -------------------------------------------------------------------------

    def _prepare(self, contract: ContractSource, inputs: Optional[Mapping[str, InputSource]],
                 base_dir: Optional[str]):
        loaded = contracts.load(contract, base_dir)
        given = dict(inputs or {})
        sources: Dict[str, Callable[[], Iterator[bytes]]] = {}
        problems = []
        names = [i.name for i in loaded.contract.inputs]
        for name in given:
            if name not in names:
                problems.append((loaded.filename, contracts.line_of(loaded.root, "inputs"),
                                 "inputs", f'no input named "{name}" (the contract has '
                                 f'{", ".join(names) or "none"})'))
        for i, spec in enumerate(loaded.contract.inputs):
            if spec.name in given:
                source = given[spec.name]
                if spec.WhichOneof("source") != "path":
                    spec.path = f"<{spec.name} from Python>"  # the data comes as chunks
                if hasattr(source, "to_csv") and hasattr(source, "to_json"):  # a DataFrame
                    source = _frame_bytes(source, spec.format)
                elif isinstance(source, (str, os.PathLike)):
                    path = os.fspath(source)  # relative to the working directory
                    if not os.access(path, os.R_OK) or os.path.isdir(path):
                        problems.append((loaded.filename, None, f"inputs[{i}]",
                                         f'cannot read "{path}" given for input {spec.name}'))
                        continue
                sources[spec.name] = _input_bytes(source)
                continue
            if spec.WhichOneof("source") != "path" or not spec.path:
                continue
            resolved = os.path.join(loaded.base_dir, spec.path)
            if not os.access(resolved, os.R_OK) or os.path.isdir(resolved):
                problems.append((loaded.filename, contracts.line_of(loaded.root,
                                                                    f"inputs[{i}].path"),
                                 f"inputs[{i}].path",
                                 f'cannot read "{spec.path}" (looked for {resolved})'))
                continue
            sources[spec.name] = _input_bytes(resolved)
        if problems:
            raise ContractError(problems)
        return loaded, sources

    def _send(self, loaded, sources, header: services_pb2.ContractHeader, media=()):
        missing, largest = set(), 0
        if media:
            missing, largest = media_files.ask_missing(
                lambda request: self._call(self._ops.FindMedia, request), media)

        def requests():
            yield services_pb2.SubmitContractRequest(header=header)
            yield from media_files.requests(media, missing, largest)
            for name in sorted(sources):
                previous = None
                for chunk in sources[name]():
                    if previous is not None:
                        yield services_pb2.SubmitContractRequest(
                            chunk=services_pb2.InputChunk(input=name, data=previous))
                    previous = chunk
                yield services_pb2.SubmitContractRequest(
                    chunk=services_pb2.InputChunk(input=name, data=previous or b"", last=True))

        try:  # the stream is made anew for each attempt
            return self._retrying(lambda: self._ops.SubmitContract(
                requests(), timeout=STREAM_SECONDS, metadata=self._metadata))
        except grpc.RpcError as e:
            if e.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                            grpc.StatusCode.FAILED_PRECONDITION):
                raise contracts.locate(loaded, e.details() or "", e.code()) from None
            raise from_rpc(e) from None

    @staticmethod
    def content_key(loaded, sources, media=()) -> str:
        """The idempotency key mw derives: SHA-256 of the contract's deterministic bytes, each
        media file's name, hash and size, and each input's name and data, in name order. The
        same contract and inputs from mw or from here is one job."""
        h = hashlib.sha256(loaded.contract.SerializeToString(deterministic=True))
        for b in media_files.key_bytes(media):
            h.update(b)
        for name in sorted(sources):
            h.update(name.encode("utf-8"))
            for chunk in sources[name]():
                h.update(chunk)
        return "sha256:" + h.hexdigest()

    def check(self, contract: ContractSource, *,
              inputs: Optional[Mapping[str, InputSource]] = None,
              base_dir: Optional[str] = None, wait_for_centres: bool = False) -> CheckReport:
        """A dry run at the dispatcher: the contract and its inputs are validated, split,
        priced and routed exactly as a submission would be, and nothing is kept. Raises
        ContractError, each problem with its file and line, when it would be refused."""
        loaded, sources = self._prepare(contract, inputs, base_dir)
        media = media_files.collect(loaded, sources)
        header = services_pb2.ContractHeader(contract=loaded.contract, dry_run=True,
                                             wait_for_centres=wait_for_centres)
        reply = self._send(loaded, sources, header, media)
        return CheckReport(reply.job.items, reply.job.currency, list(reply.quarantined),
                           reply.quarantined_total, reply.plan)

    def submit(self, contract: ContractSource, *,
               inputs: Optional[Mapping[str, InputSource]] = None,
               base_dir: Optional[str] = None, key: Optional[str] = None,
               wait_for_centres: bool = False) -> Submitted:
        """Submits a contract: a YAML/JSON path, a dict shaped like the file, or a Contract.
        `inputs` gives an input's data by name in place of the contract's path: a path (from
        the working directory), bytes, or a pandas DataFrame (sent as the input's format says:
        CSV with the columns as its header, or JSONL; a named index becomes columns; a whole-
        number column with a missing value is sent as pandas writes floats, 12.0). The key
        defaults to the one mw derives from the contract and its inputs, so submitting the
        same twice makes one job (the second reply says `existing`). The media files the rows
        name (an input's `media`) are sent from the media folder as mw sends them
        (microwork.media)."""
        loaded, sources = self._prepare(contract, inputs, base_dir)
        media = media_files.collect(loaded, sources)
        header = services_pb2.ContractHeader(
            idempotency_key=key or self.content_key(loaded, sources, media),
            contract=loaded.contract, wait_for_centres=wait_for_centres)
        reply = self._send(loaded, sources, header, media)
        return Submitted(reply.job, reply.existing, list(reply.quarantined),
                         reply.quarantined_total, reply.plan)

    # -- jobs ------------------------------------------------------------------------------

    def job(self, job_id: str) -> dispatch_pb2.Job:
        return self._call(self._ops.GetJob, services_pb2.GetJobRequest(job_id=job_id))

    def jobs(self) -> List[dispatch_pb2.Job]:
        return list(self._call(self._ops.ListJobs, services_pb2.ListJobsRequest()).jobs)

    def watch(self, job_id: str, *, progress_bar: Optional[bool] = None) -> Iterator[Progress]:
        """Yields the job's progress each time it changes, until it ends (the last one has
        `final`). With tqdm installed (and progress_bar not False) a bar follows it."""
        bar = None
        if progress_bar is not False:
            try:
                from tqdm.auto import tqdm
                bar = tqdm(total=0, unit="step", desc=job_id, leave=True)
            except ImportError:
                if progress_bar:
                    raise ImportError("progress_bar=True needs tqdm (Debian: python3-tqdm)")
        final = False
        try:
            for event in self._stream(self._ops.WatchJob,
                                      services_pb2.GetJobRequest(job_id=job_id)):
                p = Progress(event.job, event.final)
                if bar is not None:
                    bar.total = p.total
                    bar.n = p.done
                    bar.set_postfix_str(p.state, refresh=False)
                    bar.refresh()
                final = p.final
                yield p
        finally:
            if bar is not None:
                bar.close()
        if not final:
            raise MicroworkError("the dispatcher ended the watch before the job ended",
                                 grpc.StatusCode.UNAVAILABLE)

    def wait(self, job_id: str, *, progress_bar: Optional[bool] = None) -> dispatch_pb2.Job:
        """Watches until the job ends; returns it as it ended."""
        last = None
        for last in self.watch(job_id, progress_bar=progress_bar):
            pass
        return last.job

    def _control(self, job_id: str, action, name: str, key: Optional[str]) -> dispatch_pb2.Job:
        # A key per call, kept across its retries: a retry never acts twice, and pause, resume,
        # pause in quick succession each act (mw's key per minute would make the second pause
        # return the first one's reply).
        key = key or f"{name}:{job_id}:{uuid.uuid4()}"
        return self._call(self._ops.ControlJob, services_pb2.ControlJobRequest(
            idempotency_key=key, job_id=job_id, action=action))

    def pause(self, job_id: str, *, key: Optional[str] = None) -> dispatch_pb2.Job:
        """Leases nothing new; work out on lease goes on."""
        return self._control(job_id, dispatch_pb2.JOB_PAUSE, "pause", key)

    def resume(self, job_id: str, *, key: Optional[str] = None) -> dispatch_pb2.Job:
        return self._control(job_id, dispatch_pb2.JOB_RESUME, "resume", key)

    def cancel(self, job_id: str, *, key: Optional[str] = None) -> dispatch_pb2.Job:
        """Stops for good: answers in are paid, leased work is paid when it comes in, the rest
        of the escrow is refunded."""
        return self._control(job_id, dispatch_pb2.JOB_CANCEL, "cancel", key)

    def close(self, job_id: str, *, key: Optional[str] = None) -> dispatch_pb2.Job:
        """Returns a finished job's unspent escrow to the client (cancels an unfinished one)."""
        return self._control(job_id, dispatch_pb2.JOB_CLOSE, "close", key)

    def fund(self, job_id: str, amount_minor: int, *,
             key: Optional[str] = None) -> dispatch_pb2.Job:
        """Adds `amount_minor` to the job's escrow. Give `key` (one per payment received) to
        make a repeat of the same payment harmless across runs; without it each call is a new
        payment (retries within the call keep its key)."""
        if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or \
                amount_minor <= 0:
            raise MicroworkError(f"amount_minor: expected a positive integer, got "
                                 f"{amount_minor!r}")
        return self._call(self._ops.FundJob, services_pb2.FundJobRequest(
            idempotency_key=key or f"fund:{job_id}:{uuid.uuid4()}", job_id=job_id,
            amount_minor=amount_minor))

    # -- results ---------------------------------------------------------------------------

    def result_records(self, job_id: str) -> Iterator[dispatch_pb2.ResultRecord]:
        """The job's results as the dispatcher streams them (pieces nested in their parent)."""
        for page in self._stream(self._ops.ExportResults,
                                 services_pb2.ExportResultsRequest(job_id=job_id)):
            yield from page.results

    def results(self, job_id: str) -> Iterator[Dict[str, Any]]:
        """One dict per row of `mw results export --format csv`, typed (exports.result_rows)."""
        for rec in self.result_records(job_id):
            yield from exports.result_rows(rec)

    def results_frame(self, job_id: str):
        """The results as a pandas DataFrame, one row per item (and piece)."""
        records = list(self.result_records(job_id))
        rows = [row for rec in records for row in exports.result_rows(rec)]
        columns = exports.result_columns(records[0]) if records else exports.RESULT_TAIL
        return exports.frame(rows, columns)

    def answer_rows(self, job_id: str) -> Iterator[dispatch_pb2.AnswerRow]:
        for page in self._stream(self._ops.ExportAnswers,
                                 services_pb2.ExportAnswersRequest(job_id=job_id)):
            yield from page.answers

    def answers(self, job_id: str) -> Iterator[Dict[str, Any]]:
        """Every answer: task, stage, item, worker (a pseudonym), centre, answer, seconds, pay
        and how it counted; the columns of `mw results answers`."""
        for a in self.answer_rows(job_id):
            yield exports.answer_row(a)

    def answers_frame(self, job_id: str):
        return exports.frame(self.answers(job_id), exports.ANSWER_COLUMNS)

    def export_results(self, job_id: str, path: str, format: str = "csv") -> int:
        """Writes the file `mw results export JOB --format FORMAT --out PATH` writes (through
        PATH.partial, renamed once whole). Returns the records written.

        The dispatcher writes the text (ExportResultsRequest.format) and this writes it out; the
        rows a dispatcher from before sends are written here alike."""
        if format not in ("csv", "jsonl"):
            raise MicroworkError(f"format: expected csv or jsonl, got {format!r}")
        request = services_pb2.ExportResultsRequest(
            job_id=job_id,
            format=services_pb2.EXPORT_CSV if format == "csv" else services_pb2.EXPORT_JSONL)
        count = 0

        def write(out):
            nonlocal count
            first = True
            for page in self._stream(self._ops.ExportResults, request):
                out.write(page.text)
                count += page.rows
                for line in self._result_lines(page.results, format, header=first):
                    out.write((line + "\n").encode("utf-8"))
                count += len(page.results)
                first = first and not page.results

        self._publish(path, write)
        return count

    def export_answers(self, job_id: str, path: str, format: str = "csv") -> int:
        """Writes the file `mw results answers JOB --format FORMAT --out PATH` writes."""
        return self._export(path, format, self.answer_rows(job_id), self._answer_lines)

    @staticmethod
    def _result_lines(records, format: str, header: bool = True) -> Iterator[str]:
        """The lines of `records` in the file `mw results export` writes; the CSV header before
        the first when `header`."""
        first = header
        for rec in records:
            if format == "csv":
                if first:
                    yield exports.result_header(rec)
                    first = False
                yield from exports.result_csv_lines(rec)
            else:
                yield exports.json_line(exports.result_json(rec))

    @staticmethod
    def _answer_lines(rows, format: str) -> Iterator[str]:
        if format == "csv":
            yield ",".join(exports.ANSWER_COLUMNS)
        for a in rows:
            row = exports.answer_row(a)
            yield exports.answer_csv_line(row) if format == "csv" else exports.json_line(row)

    @staticmethod
    def _export(path: str, format: str, records, lines) -> int:
        if format not in ("csv", "jsonl"):
            raise MicroworkError(f"format: expected csv or jsonl, got {format!r}")
        count = 0

        def counted():
            nonlocal count
            for r in records:
                count += 1
                yield r

        def write(out):
            for line in lines(counted(), format):
                out.write((line + "\n").encode("utf-8"))

        Client._publish(path, write)
        return count

    @staticmethod
    def _publish(path: str, write) -> None:
        """`write(out)` into PATH.partial (binary), renamed to PATH once whole; on an error the
        partial file is removed and the error goes on."""
        partial = path + ".partial"
        try:
            with open(partial, "wb") as out:
                write(out)
            os.replace(partial, path)
        except BaseException:
            if os.path.exists(partial):
                os.remove(partial)
            raise

    # -- money -----------------------------------------------------------------------------

    def statement(self, *, centre: Optional[str] = None, worker: Optional[str] = None,
                  job: Optional[str] = None) -> ledger_pb2.Statement:
        """The pay statement of a centre's workers, one worker account, or a job."""
        given = [(k, v) for k, v in (("centre", centre), ("worker_account", worker),
                                     ("job_id", job)) if v]
        if len(given) != 1:
            raise MicroworkError("statement: give exactly one of centre=, worker=, job=")
        return self._call(self._ledger.GetStatement, services_pb2.StatementRequest(**dict(given)))

    def statement_frame(self, **subject):
        rows = [{"account": l.account, "currency": l.currency, "answers": l.contributions,
                 "active_seconds": l.active_seconds, "posted_minor": l.posted_minor,
                 "pending_minor": l.pending_minor, "checks": l.gold_total,
                 "checks_right": l.gold_correct, "agreed": l.agreed,
                 "disagreed": l.disagreed, "skill": l.skill,
                 "skills": {f"{k.skill or '*'}/{k.language or '*'}": k.estimate
                            for k in l.skills}}
                for l in self.statement(**subject).lines]
        return exports.frame(rows, ["account", "currency", "answers", "active_seconds",
                                    "posted_minor", "pending_minor", "checks", "checks_right",
                                    "agreed", "disagreed", "skill", "skills"])

    def _audit(self) -> audit.Auditor:
        auditor = audit.Auditor()
        for rec in self._stream(self._ledger.ReadLedger, services_pb2.ReadLedgerRequest()):
            kind = rec.WhichOneof("record")
            if kind == "account":
                auditor.add_account(rec.account)
            elif kind == "transfer":
                auditor.add_transfer(rec.transfer)
            elif kind == "time_bound":
                auditor.add_time_bound(rec.time_bound)
        auditor.finish()
        return auditor

    def ledger_verify(self) -> LedgerReport:
        """Reads the whole ledger and checks it here, as `mw ledger verify` does: the hash
        chain, every balance refolded, debits = credits, each job's escrow, top-ups within the
        wage floor. Raises LedgerError naming the first violation."""
        a = self._audit()
        return LedgerReport(a.transfers, len(a.stored), a.time_bounds_checked,
                            a.time_bounds_missing, dict(a.jobs))

    def invoice(self, job_id: str) -> Invoice:
        """The client's invoice for a job, recomputed here from the verified ledger."""
        try:
            a = self._audit()
        except LedgerError as e:
            raise LedgerError(f"the ledger does not verify: {e.message}") from None
        j = a.jobs.get(job_id)
        if j is None:
            raise MicroworkError(f"no ledger for {job_id}", grpc.StatusCode.NOT_FOUND)
        return Invoice(job_id, j.currency, j.funding, j.wages, j.topups, j.fees, j.shares,
                       j.charged, j.pending, j.refunds, j.remaining)
