"""Error fingerprints: one short hash for every occurrence of the same failure.

Two records share a fingerprint when they have the same exception type, the same message once
the values that vary between occurrences (numbers, UUIDs, hex digests and addresses, quoted
values) are normalised away, and the same innermost frame of this package. A record without an
exception is fingerprinted by its logger name and normalised message instead.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

PACKAGE_DIR = Path(__file__).parents[1]
PACKAGE_NAME = PACKAGE_DIR.name
# As imported and as resolved: a traceback names a file the way its module was imported.
_PACKAGE_PREFIXES = tuple({f"{PACKAGE_DIR.as_posix()}/", f"{PACKAGE_DIR.resolve().as_posix()}/"})
MAX_FRAMES = 40
MAX_MESSAGE = 500

_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b")
# Memory addresses, and digests or request ids long enough to be ids rather than words.
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b")
_NUMBER = re.compile(r"\d+(?:[.,_:]\d+)*")
_SPACE = re.compile(r"\s+")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def normalize_message(text: str) -> str:
    """Return ``text`` with the parts that vary between occurrences replaced by placeholders."""
    text = _QUOTED.sub("<str>", text)
    text = _UUID.sub("<uuid>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()[:MAX_MESSAGE]


def exception_type_name(exc_type: type[BaseException]) -> str:
    """Return the dotted name of an exception class (bare for built-ins)."""
    module = exc_type.__module__
    name = exc_type.__qualname__
    return name if module == "builtins" else f"{module}.{name}"


def _short_path(filename: str) -> str:
    """A path that does not depend on where the code is installed."""
    text = filename.replace("\\", "/")
    for prefix in _PACKAGE_PREFIXES:
        if text.startswith(prefix):
            return f"{PACKAGE_NAME}/{text[len(prefix) :]}"
    marker = "site-packages/"
    return text.split(marker, 1)[1] if marker in text else text


@dataclass(frozen=True)
class Frame:
    file: str
    line: int | None
    function: str

    @property
    def ours(self) -> bool:
        return self.file.startswith(f"{PACKAGE_NAME}/")

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}


def frames_of(tb: TracebackType | None) -> list[Frame]:
    """Return the traceback's frames, outermost first, with installation-independent paths."""
    return [
        Frame(_short_path(summary.filename), summary.lineno, summary.name)
        # No source lines: the exception text has them, and reading files here is wasted work.
        for summary in traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False)
    ]


def innermost_own_frame(frames: list[Frame]) -> Frame | None:
    """Return the deepest frame in this package, else the deepest frame at all."""
    for frame in reversed(frames):
        if frame.ours:
            return frame
    return frames[-1] if frames else None


def fingerprint(kind: str, message: str, location: str) -> str:
    """Return a 16-hex-digit hash of a failure's kind, normalised message and location."""
    key = f"{kind}\n{normalize_message(message)}\n{location}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


def describe(exc_info: ExcInfo | None, *, message: str, logger: str) -> dict[str, Any]:
    """Return the context fields of a stored error: fingerprint, exception type and stack."""
    if exc_info is None:
        return {"fingerprint": fingerprint("", message, logger)}
    exc_type, exc, tb = exc_info
    frames = frames_of(tb)
    where = innermost_own_frame(frames)
    location = f"{where.file}:{where.function}" if where else logger
    type_name = exception_type_name(exc_type)
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not lose the record
        text = ""
    return {
        "fingerprint": fingerprint(type_name, text, location),
        "exception_type": type_name,
        "exception_message": text[:MAX_MESSAGE],
        "location": location,
        # The innermost frames are the ones that say where it broke.
        "stack": [frame.to_dict() for frame in frames[-MAX_FRAMES:]],
    }
