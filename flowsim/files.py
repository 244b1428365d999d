"""Writing what users keep: output folders named in errors, files replaced atomically.

A file is written under a temporary name in its folder and renamed into place, so a failure
never leaves a half-written file nor removes the one it would have replaced. Files get the
ordinary permissions of the user's umask (``mkstemp`` alone would make them private).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from flowsim.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
"""Permissions of written files: rw for everyone the umask allows (usually 0o644)."""


def output_folder(path: str | Path, field: str = "--out") -> Path:
    """``path`` as an existing folder (created if needed); else an InputError naming ``field``."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(None, field, str(out),
                         f"a folder that can be created ({err.strerror})") from None
    if not out.is_dir():
        raise InputError(None, field, str(out), "a folder (this is a file)")
    return out


def write_atomically(path: str | Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)``, then rename the result to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_atomically(path, lambda tmp: Path(tmp).write_text(text, "utf-8"))
