"""Atomic writes for :func:`gradkit.io.save`: a temporary file beside the target, flushed
and fsynced, then renamed over it with ``os.replace``.

The temporary file is named ``.<name>.<pid>.<random>.gradkit-tmp`` and created with mode
``0o666`` (the umask applies, as for any new file); a file that is replaced keeps its mode.
Each save first sweeps the temporary files that killed saves to the same path left behind
(those whose process is gone).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from typing import Any, BinaryIO, Union

__all__: list[str] = []

_TMP_SUFFIX = ".gradkit-tmp"
_TMP_STALE_S = 24 * 3600  # without process ids (Windows): sweep temporary files older than this
PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]


def _save_with(write: Any, f: PathOrFile) -> None:
    if hasattr(f, "write"):
        write(f)
        return
    path = os.fspath(f)
    if os.path.islink(path):  # write through a link, as open(path, "wb") would, not over it
        path = os.path.realpath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _sweep_temporaries(directory, base)
    fd, tmp = _create_temporary(directory, base)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        _keep_mode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _create_temporary(directory: str, base: str) -> tuple[int, str]:
    """A new file beside the target, named so that a later save can tell it was orphaned.

    Created with mode 0o666 so that the kernel applies the umask, as for any new file
    (``tempfile.mkstemp`` would give 0o600).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(6)}{_TMP_SUFFIX}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue


def _keep_mode(path: str, tmp: str) -> None:
    # NOTE: replacing a file keeps its permissions, as overwriting it in place would
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        return
    os.chmod(tmp, mode)


def _sweep_temporaries(directory: str, base: str) -> None:
    """Remove the temporary files of earlier saves to ``base`` whose process is gone."""
    prefix = f".{base}."
    try:
        entries = [
            e for e in os.scandir(directory) if e.name.startswith(prefix) and e.name.endswith(_TMP_SUFFIX)
        ]
    except OSError:
        return
    for entry in entries:
        pid, sep, rand = entry.name[len(prefix) : -len(_TMP_SUFFIX)].partition(".")
        if not (sep and pid.isdigit() and re.fullmatch("[0-9a-f]{12}", rand)):
            continue
        if _writer_alive(int(pid), entry):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            pass


def _writer_alive(pid: int, entry: os.DirEntry) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    if os.name == "nt":  # NOTE: os.kill(pid, 0) would terminate the process on Windows
        try:
            return time.time() - entry.stat().st_mtime < _TMP_STALE_S
        except OSError:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _fsync_dir(directory: str) -> None:
    # NOTE: makes the rename itself durable; not possible on every platform, so best effort.
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
