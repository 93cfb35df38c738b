"""The errors the client raises: every failure is a MicroworkError carrying the server's message
and, for a refused call, its gRPC status code."""

from __future__ import annotations

from typing import Optional

import grpc


class MicroworkError(Exception):
    """A call failed. `code` is the gRPC status code (None for a local error), `message` the
    server's words (or ours), which name what was wrong and where."""

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None):
        super().__init__(message if code is None else f"{code.name}: {message}")
        self.message = message
        self.code = code


class ContractError(MicroworkError):
    """A contract was refused, locally or by the dispatcher. `problems` holds one
    (file, line, path, message) per problem; the message has one "FILE:LINE: path: what" line
    each, the format `mw contract check` prints."""

    def __init__(self, problems, code: Optional[grpc.StatusCode] = None):
        self.problems = list(problems)
        lines = []
        for file, line, path, what in self.problems:
            where = file if line is None else f"{file}:{line}"
            lines.append(f"{where}: {path + ': ' if path else ''}{what}")
        super().__init__("\n".join(lines), code)
        self.args = (self.message,)  # the located lines alone: the code is in `code`


class LedgerError(MicroworkError):
    """The ledger read from the dispatcher does not verify: the first violation found."""


def from_rpc(error: grpc.RpcError) -> MicroworkError:
    """The MicroworkError for a failed gRPC call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    return MicroworkError(details or str(code), code)
