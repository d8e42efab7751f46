"""google/rpc/status.proto and error_details.proto, to read the field a refused request names.

When the googleapis-common-protos package is installed, its modules are used, so that a process
that also imports them holds one copy of each descriptor; otherwise the copies generated beside
this file are imported.
"""
try:
    from google.rpc import error_details_pb2, status_pb2  # noqa: F401
except ImportError:
    pass
