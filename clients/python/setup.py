"""Builds the microwork Python client. Its protobuf and gRPC modules (microwork.v1) are generated
here from the repository's proto/ with Debian's protoc and grpc_python_plugin (packages
protobuf-compiler and protobuf-compiler-grpc); nothing generated is committed.

    python3 -m venv --system-site-packages /tmp/venv   # grpcio, protobuf, yaml from Debian
    /tmp/venv/bin/pip install ./clients/python
"""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))
PROTOS = ["contract", "dispatch", "ledger", "records", "services"]


class BuildWithProtos(build_py):
    """build_py, then protoc into the build folder: microwork/v1/*_pb2.py and the gRPC stubs."""

    def run(self):
        super().run()
        protoc = shutil.which("protoc")
        plugin = shutil.which("grpc_python_plugin")
        if protoc is None or plugin is None:
            raise SystemExit("microwork: protoc and grpc_python_plugin are needed to build "
                             "(Debian: protobuf-compiler protobuf-compiler-grpc)")
        files = [os.path.join(PROTO, "microwork", "v1", p + ".proto") for p in PROTOS]
        for f in files:
            if not os.path.exists(f):
                raise SystemExit(f"microwork: {f} is missing: build from the repository's "
                                 "clients/python, beside its proto/")
        out = os.path.join(self.build_lib, "microwork", "v1")
        os.makedirs(out, exist_ok=True)
        subprocess.check_call([protoc, f"--python_out={self.build_lib}",
                               f"--grpc_python_out={self.build_lib}",
                               f"--plugin=protoc-gen-grpc_python={plugin}", "-I", PROTO] + files)
        open(os.path.join(out, "__init__.py"), "a").close()


setup(
    name="microwork",
    version="0.1.0",
    description="Python client for the microwork dispatcher (impact sourcing middleware)",
    packages=["microwork"],
    python_requires=">=3.9",
    install_requires=["grpcio", "protobuf", "PyYAML"],
    extras_require={"pandas": ["pandas"], "progress": ["tqdm"]},
    cmdclass={"build_py": BuildWithProtos},
)
