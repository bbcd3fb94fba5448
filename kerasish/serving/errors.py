"""Errors with TF Serving's status codes, and the HTTP status TF Serving answers for each.

The mapping is TF Serving's ``ToHTTPStatusCode`` (model_servers/http_server.cc): the canonical
code of the failure decides the HTTP status; the body is ``{"error": message}``.
"""

HTTP_STATUS = {
    "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404, "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429, "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501, "INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ServingError(Exception):
    """A failed request: ``code`` is a canonical error code (``"NOT_FOUND"``, ...)."""

    def __init__(self, code, message):
        if code not in HTTP_STATUS:
            raise ValueError(f"Unknown error code. Expected one of {sorted(HTTP_STATUS)}. "
                             f"Received: code={code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self):
        return HTTP_STATUS[self.code]


def invalid_argument(message):
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message):
    return ServingError("NOT_FOUND", message)


def unavailable(message):
    return ServingError("UNAVAILABLE", message)
