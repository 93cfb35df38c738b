"""The generated protobuf and gRPC modules (`microwork.v1`), made from the repository's proto/
at build time: by `pip install` (setup.py), or by the CMake build into build/python for use
from a checkout with PYTHONPATH=clients/python:build/python."""

try:
    from microwork.v1 import contract_pb2, dispatch_pb2, ledger_pb2, records_pb2  # noqa: F401
    from microwork.v1 import services_pb2, services_pb2_grpc  # noqa: F401
except ImportError as e:  # pragma: no cover - only without a build
    raise ImportError(
        "microwork.v1 (the generated protobuf modules) is missing: install the package with "
        "`pip install ./clients/python`, or build the repository (make build) and put "
        "build/python on PYTHONPATH beside clients/python") from e
