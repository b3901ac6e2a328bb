"""The data directory is private to its user: the directory 0700, every file in it 0600.

It holds the SQLite database (with every app's data), the generated secret key (which signs
JWTs and derives the key that encrypts webhook secrets) and the VAPID private key. A umask
alone is not enough: a directory made by an older release, or by hand, keeps its modes, so
every start tightens what is already there too.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlparse

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# Whatever this process creates (SQLite's -wal/-shm/-journal, temp files, logs) is its user's only.
PRIVATE_UMASK = 0o077
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def make_process_private() -> None:
    """Set the umask so that files and directories this process creates start private."""
    os.umask(PRIVATE_UMASK)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (missing parents get the usual modes) or tighten it to 0700; returns it."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)
    return path


def write_private_once(path: Path, text: str) -> str:
    """Create a secret file 0600 from its first byte (never a moment at the umask's mode) unless
    it exists; returns what the file holds. Two processes generating the same key at once
    agree on the first one written (a hard link cannot replace an existing name)."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text().strip()
        return text
    finally:
        tmp.unlink(missing_ok=True)


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a sqlite:/// URL (None for PostgreSQL)."""
    parsed = urlparse(database_url)
    if parsed.scheme != "sqlite":
        return None
    return Path(parsed.path if not parsed.netloc else parsed.netloc + parsed.path)


def secure_data_dir(data_dir: Path, database_url: str) -> list[Path]:
    """Make the data directory 0700 and its files 0600, and the SQLite database (wherever it
    is) with its -wal/-shm 0600. Returns what was tightened, for the start-up log."""
    changed = []
    ensure_private_dir(data_dir)
    for entry in data_dir.iterdir():
        # Only regular files of our own: never follow a symlink out of the directory.
        if entry.is_file() and not entry.is_symlink() and _tighten(entry, PRIVATE_FILE):
            changed.append(entry)
    database = sqlite_path(database_url)
    if database is not None:
        for candidate in (database, *(database.with_name(database.name + s) for s in _SQLITE_SIDECARS)):
            if candidate.is_file() and not candidate.is_symlink() and _tighten(candidate, PRIVATE_FILE):
                changed.append(candidate)
    return changed


def _tighten(path: Path, mode: int) -> bool:
    """chmod to `mode` if it is looser (True when changed). Files owned by someone else are left
    alone: chmod would fail, and they are not ours to change."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & ~mode == 0:
        return False
    path.chmod(stat.S_IMODE(info.st_mode) & mode)
    return True
