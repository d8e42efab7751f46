#!/usr/bin/python3
"""Regenerates the gRPC stubs that seedd_client carries (seedd_client/_proto/*_pb2*.py).

    /usr/bin/python3 src/Client/python/generate_stubs.py [--out DIR] [--googleapis DIR]

They are generated from protos/seeddaemon/v1/*.proto with Debian's protoc and grpc_python_plugin
(packages protobuf-compiler, protobuf-compiler-grpc; well-known types from libprotobuf-dev) and
committed, so that an installed seedd_client needs nothing but grpcio and protobuf. The
google/api (HTTP annotations) and google/rpc (error details) files they import come from the
Google.Api.CommonProtos NuGet package that `dotnet build` restores, and are generated too.

Imports are rewritten to point inside the package: `seeddaemon.v1` becomes
`seedd_client._proto`, `google.api` and `google.rpc` become `seedd_client._proto.google_api` and
`.google_rpc` (which prefer an installed googleapis-common-protos, so a process holds one copy).
The test suite runs this script into a temporary folder and fails when the result differs from
the committed files: change protos/, run it, commit what it wrote.
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
PROTOS = REPO / "protos"
GOOGLEAPIS_VERSION = "2.17.0"  # Directory.Packages.props pins Google.Api.CommonProtos to this version
GOOGLE_FILES = ["google/api/annotations.proto", "google/api/http.proto", "google/rpc/status.proto", "google/rpc/error_details.proto"]
PROTOC = "/usr/bin/protoc"
PLUGIN = "/usr/bin/grpc_python_plugin"
WELL_KNOWN = "/usr/include"

REWRITES = [
    (re.compile(r"^from seeddaemon\.v1 import ", re.M), "from seedd_client._proto import "),
    (re.compile(r"^from google\.api import ", re.M), "from seedd_client._proto.google_api import "),
    (re.compile(r"^from google\.rpc import ", re.M), "from seedd_client._proto.google_rpc import "),
]
# Where each proto package's modules go inside _proto/.
PLACES = {"seeddaemon/v1": "", "google/api": "google_api", "google/rpc": "google_rpc"}


def default_googleapis():
    packages = pathlib.Path(os.environ.get("NUGET_PACKAGES") or pathlib.Path.home() / ".nuget" / "packages")
    return packages / "google.api.commonprotos" / GOOGLEAPIS_VERSION / "content" / "protos"


def generate(out, googleapis):
    """Writes the generated modules under out (as they sit under seedd_client/_proto); returns their relative paths."""
    for tool, package in ((PROTOC, "protobuf-compiler"), (PLUGIN, "protobuf-compiler-grpc"), (WELL_KNOWN + "/google/protobuf/descriptor.proto", "libprotobuf-dev")):
        if not pathlib.Path(tool).exists():
            sys.exit(f"generate_stubs: {tool} is missing: apt-get install {package}")
    for name in GOOGLE_FILES:
        if not (googleapis / name).exists():
            sys.exit(f"generate_stubs: {googleapis / name} is missing: run 'dotnet build' once (it restores Google.Api.CommonProtos {GOOGLEAPIS_VERSION}), or pass --googleapis")
    protos = sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / "seeddaemon" / "v1").glob("*.proto"))
    with tempfile.TemporaryDirectory() as raw:
        subprocess.run(
            [PROTOC, f"-I{PROTOS}", f"-I{googleapis}", f"-I{WELL_KNOWN}", f"--python_out={raw}", f"--grpc_out={raw}",
             f"--plugin=protoc-gen-grpc={PLUGIN}", *protos, *GOOGLE_FILES],
            check=True, cwd=REPO)
        written = []
        for source in sorted(pathlib.Path(raw).rglob("*.py")):
            relative = source.relative_to(raw)
            folder = PLACES[relative.parent.as_posix()]
            if folder and relative.name.endswith("_pb2_grpc.py"):
                continue  # google/api and google/rpc define messages only: their service modules are empty
            text = source.read_text(encoding="utf-8")
            for pattern, replacement in REWRITES:
                text = pattern.sub(replacement, text)
            target = pathlib.Path(folder) / relative.name
            (out / target).parent.mkdir(parents=True, exist_ok=True)
            (out / target).write_text(text, encoding="utf-8")
            written.append(target.as_posix())
        return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "seedd_client" / "_proto", help="default: the package's own _proto folder")
    parser.add_argument("--googleapis", type=pathlib.Path, default=default_googleapis(), help="folder holding google/api and google/rpc protos")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in list(args.out.rglob("*_pb2.py")) + list(args.out.rglob("*_pb2_grpc.py")):
        stale.unlink()
    for path in generate(args.out, args.googleapis):
        print(path)
    shutil.rmtree(args.out / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
