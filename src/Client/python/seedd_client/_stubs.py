"""The gRPC stubs, generated from protos/ on first use (never edited by hand, never committed).

They are written to a cache keyed by the protos' content ($SEEDD_STUB_CACHE, default
~/.cache/seedd_client) with protoc and grpc_python_plugin when installed (Debian:
protobuf-compiler, protobuf-compiler-grpc), else with grpcio-tools (pip). The protos are found in
$SEEDD_PROTOS, a packaged copy, or the repository this package sits in.
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

_HERE = pathlib.Path(__file__).resolve().parent


def _protos():
    candidates = [os.environ.get("SEEDD_PROTOS"), _HERE / "protos", _HERE.parents[3] / "protos"]
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "seeddaemon" / "v1" / "seed_service.proto").exists():
            return pathlib.Path(candidate)
    raise RuntimeError("seedd_client: protos/seeddaemon/v1/*.proto not found; set SEEDD_PROTOS to the protos folder")


def _googleapis():
    """google/api/annotations.proto (the HTTP bindings): $SEEDD_GOOGLEAPIS_PROTOS, or the copy NuGet
    restores with Google.Api.CommonProtos. Returns None when the googleapis-common-protos Python
    package is installed (then nothing needs generating) and nothing is found."""
    candidates = [os.environ.get("SEEDD_GOOGLEAPIS_PROTOS")]
    nuget = pathlib.Path(os.environ.get("NUGET_PACKAGES") or pathlib.Path.home() / ".nuget" / "packages") / "google.api.commonprotos"
    candidates += sorted(nuget.glob("*/content/protos"), reverse=True) if nuget.exists() else []
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "google" / "api" / "annotations.proto").exists():
            return pathlib.Path(candidate)
    return None


def _generate(protos, files, out):
    out.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(dir=out.parent))
    googleapis = _googleapis()
    includes = [f"-I{protos}"]
    if googleapis is not None:
        includes.append(f"-I{googleapis}")
        try:
            import google.api.annotations_pb2  # noqa: F401  (googleapis-common-protos is installed)
        except ImportError:
            files = list(files) + [googleapis / "google" / "api" / "annotations.proto", googleapis / "google" / "api" / "http.proto"]
    args = includes + [f"--python_out={work}", f"--grpc_python_out={work}"] + [str(f) for f in files]
    plugin = shutil.which("grpc_python_plugin")
    if shutil.which("protoc") and plugin:
        system_args = [a.replace("--grpc_python_out", "--grpc_out") for a in args]
        subprocess.run(["protoc", "-I/usr/include", f"--plugin=protoc-gen-grpc={plugin}"] + system_args, check=True)
    else:
        try:
            from grpc_tools import protoc
            import grpc_tools
        except ImportError:
            raise RuntimeError("seedd_client: install grpcio-tools, or protoc and grpc_python_plugin, to generate the stubs") from None
        # Well-known types: grpc_tools' own copy (pip) or the system's.
        includes = [f"-I{d}" for d in (pathlib.Path(grpc_tools.__file__).parent / "_proto", pathlib.Path("/usr/include"))
                    if (d / "google" / "protobuf" / "timestamp.proto").exists()]
        if protoc.main(["protoc"] + includes + args) != 0:
            raise RuntimeError("seedd_client: grpc_tools.protoc failed to compile protos/")
    try:
        work.rename(out)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another process generated them first


def load():
    """Imports and returns the generated modules (seed, audit)."""
    protos = _protos()
    files = sorted((protos / "seeddaemon" / "v1").glob("*.proto"))
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]
    cache = pathlib.Path(os.environ.get("SEEDD_STUB_CACHE") or pathlib.Path.home() / ".cache" / "seedd_client")
    out = cache / digest
    if not (out / "seeddaemon" / "v1" / "seed_service_pb2_grpc.py").exists():
        _generate(protos, files, out)
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    from seeddaemon.v1 import seed_service_pb2, seed_service_pb2_grpc
    return seed_service_pb2, seed_service_pb2_grpc
