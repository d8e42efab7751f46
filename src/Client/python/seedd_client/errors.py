"""What can go wrong when asking seedd, as exceptions that name the problem (never a raw gRPC repr)."""
import grpc


class SeeddError(Exception):
    """A call to seedd failed. `code` is the gRPC status name ("NOT_FOUND", ...), `address` the daemon
    that answered (or did not), `field` the request field a refusal names, when it names one."""

    def __init__(self, message, code=None, address=None, field=None):
        super().__init__(message)
        self.code = code
        self.address = address
        self.field = field


class SeeddUnavailableError(SeeddError):
    """No daemon answered within the retry window (not running, unreachable, or stopping)."""


class SeeddAuthenticationError(SeeddError):
    """The daemon requires a bearer token and got none, or a wrong one (UNAUTHENTICATED)."""


class SeeddPermissionError(SeeddError):
    """The token's role may not call this method (PERMISSION_DENIED)."""


class ExperimentNotFoundError(SeeddError):
    """The experiment does not exist (NOT_FOUND)."""


class InvalidArgumentError(SeeddError):
    """A request field breaks its rule (INVALID_ARGUMENT); `field` names it, e.g. "library"."""


class AlreadyExistsError(SeeddError):
    """The experiment exists with another root (ALREADY_EXISTS)."""


class FailedPreconditionError(SeeddError):
    """The daemon cannot do this in its current state (FAILED_PRECONDITION), e.g. a new key on a frozen experiment."""


class ResourceExhaustedError(SeeddError):
    """The daemon's database disk is full, or the message is too large (RESOURCE_EXHAUSTED)."""


class SeedVerificationError(SeeddError):
    """The daemon's answer differs from seedseq-v1 derived here, or uses another scheme."""


class LibraryNotInstalledError(RuntimeError):
    """A helper needs an optional library (jax, torch, numpy, ...) that this Python cannot import."""

    def __init__(self, library, purpose):
        super().__init__(f"{purpose} needs {library}, which is not installed in this Python ({library!r} cannot be imported)")
        self.library = library


_BY_CODE = {
    grpc.StatusCode.UNAVAILABLE: SeeddUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: SeeddUnavailableError,
    grpc.StatusCode.UNAUTHENTICATED: SeeddAuthenticationError,
    grpc.StatusCode.PERMISSION_DENIED: SeeddPermissionError,
    grpc.StatusCode.NOT_FOUND: ExperimentNotFoundError,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
}

_HINTS = {
    grpc.StatusCode.UNAUTHENTICATED: " Set SEEDD_TOKEN (or pass token=) to a token the daemon knows.",
}


def from_rpc_error(error, address):
    """The SeeddError for a failed call: the daemon's own message, its code, the field it names."""
    code = error.code()
    details = error.details() or code.name
    message = f"seedd at {address} answered {code.name}: {details}{_HINTS.get(code, '')}"
    return _BY_CODE.get(code, SeeddError)(message, code.name, address, _field(error))


def _field(error):
    """The field a google.rpc.BadRequest detail names (the daemon attaches one to INVALID_ARGUMENT)."""
    try:
        trailers = dict(error.trailing_metadata() or ())
    except Exception:  # a call that never reached a server has no trailers
        return None
    raw = trailers.get("grpc-status-details-bin")
    if not raw:
        return None
    from ._proto.google_rpc import error_details_pb2, status_pb2
    status = status_pb2.Status.FromString(raw)
    for detail in status.details:
        request = error_details_pb2.BadRequest()
        if detail.Unpack(request) and request.field_violations:
            return request.field_violations[0].field
    return None
