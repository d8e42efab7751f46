"""google/api/annotations.proto and http.proto, which seedd's protos import for their HTTP bindings.

When the googleapis-common-protos package is installed, its modules are used, so that a process
that also imports them holds one copy of each descriptor; otherwise the copies generated beside
this file are imported.
"""
try:
    from google.api import annotations_pb2, http_pb2  # noqa: F401
except ImportError:
    pass
