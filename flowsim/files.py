"""Writing what users keep: output paths checked first, results never half-written or mixed.

- ``check_folder`` and ``check_file`` tell whether an output path can be used (a folder where a
  folder is meant, a file where a file is meant, somewhere writable) without creating anything,
  so the CLI can refuse a bad ``--out`` before a simulation starts.
- ``write_atomically`` writes one file under a temporary name and renames it into place.
- ``write_unit`` writes a set of files that belong together (a run's tables and ``run.json``)
  into a folder that may also hold the user's own files, and ``read_unit`` reads such a set back
  only if it is whole.

How a unit is written. The folder may hold the user's other files (or be ``--out .``), so it
cannot be swapped for a new one. Instead the new files are written into a temporary hidden
sibling folder, ``.flowsim-staging~…``, with a manifest (``run.json`` or ``experiment.json``)
that records each file's SHA-256. One rename of that folder to ``.flowsim-committed-run.json``
(or ``-experiment.json``) commits the new set; its files are then moved over the old ones and
the folder is removed. A save killed before the commit leaves the old set untouched (the next
save removes the staging folder); one killed after it is completed by the next reader or
writer, as SQLite completes a journal. The checksums catch what no rename can prevent: a file
replaced by hand, copied from another run, truncated by a full disk or a power cut. Nothing
else in the folder is touched.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowsim.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
"""Permissions of written files: rw for everyone the umask allows (usually 0o644)."""
DIR_MODE = 0o777 & ~_UMASK
"""Permissions of folders made under a temporary name (``mkdtemp`` alone makes them private)."""
COMMITTED = ".flowsim-committed-{manifest}"
"""Name of a committed unit's folder until its files are moved into place (one name per kind of
unit, so that a run and an experiment may share a folder)."""


# -- checking output paths before any work ---------------------------------------------------


def check_folder(path: str | Path, field: str = "--out") -> Path:
    """``path`` if it is, or can be created as, a folder this process may write into.

    Nothing is created. Raises an InputError naming ``field`` (the CLI option) otherwise.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(None, field, str(out), "a folder (this is a file)")
    _check_writable(out, out, field, "a folder")
    return out


def check_file(path: str | Path, field: str = "--out") -> Path:
    """``path`` if a file can be written there (its folder exists or can be created).

    Nothing is created. Raises an InputError naming ``field`` (the CLI option) otherwise.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(None, field, str(target), "a file name (this is a folder)")
    _check_writable(target.parent, target, field, "a file")
    return target


def _check_writable(folder: Path, shown: Path, field: str, what: str) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(None, field, str(shown), f"{what} in a folder ({existing} is a file)")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise InputError(None, field, str(shown),
                         f"{what} where you may write ({existing} cannot be written: "
                         f"{err.strerror})") from None


def output_folder(path: str | Path, field: str = "--out") -> Path:
    """``path`` as an existing folder (created if needed); else an InputError naming ``field``."""
    out = check_folder(path, field)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(None, field, str(out),
                         f"a folder that can be created ({err.strerror})") from None
    return out


# -- one file --------------------------------------------------------------------------------


def write_atomically(path: str | Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)``, then rename the result to ``path``.

    Temporary files that a killed writer left beside ``path`` are removed first.
    """
    path = Path(path)
    remove_leftovers(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path.name))
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


# -- a set of files written and read as one unit ---------------------------------------------


def write_unit(folder: str | Path, files: dict[str, Callable[[Path], object]],
               manifest: str, meta: dict[str, Any]) -> list[Path]:
    """Write ``files`` (name → function writing that file) and the JSON ``manifest`` as one unit.

    The manifest holds ``meta`` plus ``"files"``: the SHA-256 of each file. Files of the
    previous unit that the new one lacks are removed; nothing else in ``folder`` is touched.

    Returns:
        The paths written, the manifest last.
    """
    out = output_folder(folder)
    finish_unit(out, manifest)
    remove_leftovers(out)
    for name in (*files, manifest):  # left by saves that wrote one file at a time (flowsim 0.1)
        for p in out.glob(f".{glob.escape(name)}.????????.tmp"):
            p.unlink(missing_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=temporary_prefix("flowsim-staging"), dir=out))
    try:
        sums = {}
        for name, write in files.items():
            write(staging / name)
            sums[name] = sha256(staging / name)
        (staging / manifest).write_text(
            json.dumps({**meta, "files": sums}, indent=2, ensure_ascii=False, default=str),
            "utf-8")
        for p in staging.iterdir():
            os.chmod(p, FILE_MODE)
        # the commit: from here on the new unit is the result
        os.rename(staging, out / COMMITTED.format(manifest=manifest))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finish_unit(out, manifest)
    return [out / name for name in (*files, manifest)]


def finish_unit(folder: Path, manifest: str) -> None:
    """Complete a committed unit that a killed process left in ``folder``, if any.

    Its files are moved into place (the manifest last) and the files of the previous unit that
    the committed one lacks are removed.
    """
    committed = folder / COMMITTED.format(manifest=manifest)
    if not committed.is_dir():
        return
    new = _manifest_files(committed / manifest)
    old = _manifest_files(folder / manifest)
    if new is None:  # a commit without its manifest is not one flowsim wrote
        return
    for name in [*new, manifest]:
        try:
            os.replace(committed / name, folder / name)
        except FileNotFoundError:  # moved already (by a run that was stopped)
            pass
    for name in set(old or ()) - set(new):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(committed, ignore_errors=True)


def read_unit(folder: str | Path, manifest: str, what: str) -> dict[str, Any]:
    """The manifest of the unit in ``folder`` after checking every file against its checksum.

    ``what`` says what the folder should be ("a results folder written by 'flowsim run
    --out'"). A folder written before checksums were recorded is read as it is.

    Raises:
        InputError: the folder is not such a unit, or a file is missing, changed or damaged.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(None, "folder", str(folder), f"an existing folder: {what}")
    try:
        finish_unit(folder, manifest)
    except OSError as err:
        raise InputError(folder, COMMITTED.format(manifest=manifest), err.strerror,
                         f"{what}, whose last save can be completed here") from None
    path = folder / manifest
    if not path.is_file():
        raise InputError(folder, "files", f"{manifest} missing", what)
    try:
        meta = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError):
        meta = None
    if not isinstance(meta, dict):
        raise InputError(path, "file", "(not the JSON flowsim writes)",
                         f"{what}; this {manifest} is damaged")
    sums = meta.get("files")
    if sums is None:
        return meta
    if not isinstance(sums, dict):
        raise InputError(path, "files", sums, f"{what}; this {manifest} is damaged")
    for name, digest in sums.items():
        if not (folder / name).is_file():
            raise InputError(folder, "files", f"{name} missing",
                             f"{what}; this folder is incomplete (run again)")
        if sha256(folder / name) != digest:
            raise InputError(folder / name, "checksum", "(differs from " + manifest + ")",
                             f"the file saved with {manifest}; it was changed, damaged or "
                             "copied from another run since (run again)")
    return meta


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_files(path: Path) -> list[str] | None:
    try:
        files = json.loads(path.read_text("utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    return list(files) if isinstance(files, dict) else None


# -- leftovers of killed writers -------------------------------------------------------------
#
# Every temporary file or folder is named ``.<stem>~<host>.<pid>~<random>``: a later writer on
# the same host removes those whose process is gone.

_LEFTOVER = re.compile(r"^\.(?P<stem>.+)~(?P<host>[^~.]+)\.(?P<pid>\d+)~[^~]*$")


def temporary_prefix(stem: str) -> str:
    """Prefix for ``tempfile.mkstemp``/``mkdtemp``: ``.<stem>~<host>.<pid>~``."""
    host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"
    return f".{stem}~{host}.{os.getpid()}~"


def remove_leftovers(folder: Path) -> None:
    """Remove the temporary files and folders in ``folder`` whose writer (on this host) is gone.

    Writers on other hosts (a shared folder on a cluster) are left alone: a pid means nothing
    on another node.
    """
    host = temporary_prefix("x").split("~")[1].partition(".")[0]
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for p in entries:
        m = _LEFTOVER.match(p.name)
        if m is None or m["host"] != host or _alive(int(m["pid"])):
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
