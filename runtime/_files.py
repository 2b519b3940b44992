"""File arguments of multipart uploads: bytes, a path, or a binary file object, streamed."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import IO, Any, Union, cast

from ._errors import ValidationError

__all__ = ["FileInput", "check_file", "open_file"]

#: What an upload's file argument takes: the content as ``bytes``, a path (``str`` or
#: ``os.PathLike``) to stream from, or an open binary file object (sent whole, from its start,
#: and read in chunks, so a large file is never loaded at once).
FileInput = Union[bytes, str, "os.PathLike[str]", IO[bytes]]


def check_file(op_id: str, field: str, value: Any) -> None:
    """Refuse what cannot be uploaded, before anything is sent. Raises ``ValidationError``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return
    if isinstance(value, (str, os.PathLike)):
        try:
            path = Path(cast("str | os.PathLike[str]", value))
            shown = str(path) if len(str(path)) <= 200 else str(path)[:197] + "..."
            readable = path.is_file() and os.access(path, os.R_OK)
        except (OSError, ValueError, TypeError) as exc:  # too long, a NUL byte, not text...
            problem = type(exc).__name__
        else:
            if readable:
                return
            raise ValidationError(
                f"{op_id}: {field}: no readable file at {shown!r}; nothing was sent", field=field
            )
        raise ValidationError(
            f"{op_id}: {field}: not a usable file path ({problem}); nothing was sent", field=field
        )
    if callable(getattr(value, "read", None)):
        if getattr(value, "closed", False):
            raise ValidationError(
                f"{op_id}: {field}: the file object is closed; nothing was sent", field=field
            )
        return
    raise ValidationError(
        f"{op_id}: {field}: expected bytes, a path or a binary file object, got {type(value).__name__}; "
        "nothing was sent",
        field=field,
    )


def open_file(field: str, value: Any) -> tuple[tuple[str, Any, str], IO[bytes] | None]:
    """The httpx file tuple for one attempt, and the file this call opened (to close afterwards).

    Paths are opened for each attempt and streamed; httpx rewinds a file object before sending it.
    """
    opened: IO[bytes] | None = None
    content: Any
    if isinstance(value, (bytes, bytearray, memoryview)):
        name, content = field, bytes(cast("bytes | bytearray | memoryview[int]", value))
    elif isinstance(value, (str, os.PathLike)):
        path = Path(cast("str | os.PathLike[str]", value))
        opened = path.open("rb")
        name, content = path.name, opened
    else:
        name = os.path.basename(str(getattr(value, "name", "") or field))
        content = value
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return (name, content, content_type), opened
