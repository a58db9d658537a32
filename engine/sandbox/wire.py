"""The sandbox's wire protocol, shared by the parent (``pool``) and the worker (``worker``):
length-prefixed JSON frames and the error classes an answer may name.

Its own module so the parent reads frames without importing the worker, which imports the
sandbox (``environment``), which asks the parent to run code: no import cycle.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

from engine.errors import SandboxViolationError, ScriptError, ScriptTimeoutError, TaskDataError

HEADER = struct.Struct(">I")
#: Bytes a request or an answer may take beyond its data budget (source text, error texts, framing).
REQUEST_SLACK = 256 * 1024
#: The errors a worker's answer may name, by class name.
ERRORS = {
    cls.__name__: cls for cls in (ScriptError, SandboxViolationError, ScriptTimeoutError, TaskDataError)
}


def read_message(stream: BinaryIO, max_bytes: int) -> Any:
    """One framed JSON message, or None at end of stream; refuses frames over ``max_bytes``."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (length,) = HEADER.unpack(head)
    if length > max_bytes:
        raise ValueError(f"message of {length:,} bytes is over the {max_bytes:,} byte frame limit")
    body = stream.read(length)
    if len(body) < length:
        return None
    return json.loads(body)


def frame(message: Any) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    return HEADER.pack(len(body)) + body
