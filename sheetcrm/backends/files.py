"""Local workbook files handled safely: atomic replace, our own leftovers, locks, identity.

Every write of a local file goes through :func:`atomic_write`: the new bytes go to a
temporary file in the same folder (named so that only sheetcrm's own leftovers are ever
cleaned up), are flushed to disk, get the old file's mode and owner, and replace the file
by a rename — unless the file changed since the write began (someone saved it), in which
case nothing is replaced. A symlink is written through to its target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sheetcrm.exceptions import (
    Phrase,
    WorkbookBusyError,
    WorkbookChangedError,
    WorkbookFormatError,
    WorkbookWriteError,
)
from sheetcrm.i18n import N_

#: Our temporary files: ``.NAME.sheetcrm-PID-RANDOM.tmp`` beside NAME.
_TMP = re.compile(r"^\.(?P<name>.+)\.sheetcrm-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Messages the .xlsx backend says too; {path} is the path quoted (shown() or repr).
IS_A_FOLDER = N_("{path} is a folder; expected an .xlsx file")
CANNOT_OPEN = N_("cannot open {path}: {reason}")
PERMISSION_DENIED = N_("permission denied")
_SOMEONE = Phrase(N_("someone"))
READ_ONLY = N_("cannot write {path}: the file or its folder is read-only; nothing was changed")


def real_path(path: Path) -> Path:
    """The file a path leads to: a symlink's target (so writes go through the link)."""
    try:
        return Path(os.path.realpath(path))
    except OSError:
        return path


def temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.sheetcrm-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(target: Path) -> list[Path]:
    """Remove temporary files a killed sheetcrm left beside ``target``: only files named
    like ours, for this workbook, whose process is gone. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP.match(entry.name)
        if not m or m["name"] != target.name or _alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


@dataclass(frozen=True)
class Identity:
    """What says a file is still the one that was read: inode, size and modification time."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Identity | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def who_has_it_open(path: Path) -> Phrase | None:
    """Who holds ``path`` open in Excel or LibreOffice, as a phrase for a message, or None.

    Looks for Excel's owner file ``~$NAME``, LibreOffice's ``.~lock.NAME#`` and a POSIX
    lock held on the file by another process.
    """
    folder, name = path.parent, path.name
    excel = folder / f"~${name[2:] if len(name) > 2 else name}"
    for candidate in (folder / f"~${name}", excel):
        if candidate.exists():
            user = _excel_owner(candidate)
            return Phrase(N_("{user} in Excel (owner file {file})"), {"user": user or _SOMEONE, "file": candidate.name})
    office = folder / f".~lock.{name}#"
    if office.exists():
        holder = _office_owner(office)
        return Phrase(N_("{user} in LibreOffice (lock file {file})"), {"user": holder or _SOMEONE, "file": office.name})
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: a file open in Excel refuses to be opened
        return None
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return Phrase(N_("another program (it holds a lock on the file)"))
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return None


def _excel_owner(owner_file: Path) -> str | None:
    """The user name Excel writes at the start of ``~$NAME``: a length byte, then the name
    in the ANSI code page; the same name in UTF-16 at byte 54."""
    try:
        data = owner_file.read_bytes()[:200]
    except OSError:
        return None
    if len(data) >= 56:
        n = int.from_bytes(data[54:56], "little")
        wide = data[56 : 56 + 2 * n]
        if n and len(wide) == 2 * n:
            with contextlib.suppress(UnicodeDecodeError):
                return wide.decode("utf-16-le").strip() or None
    if data:
        with contextlib.suppress(UnicodeDecodeError):
            return data[1 : 1 + data[0]].decode("cp1252").strip() or None
    return None


def _office_owner(lock_file: Path) -> Phrase | str | None:
    """LibreOffice's lock file is one line: ``Full Name,system user,host,date,url;`` (the
    order of svl's LOCKFILE_*_ID fields; the full name is often blank)."""
    try:
        fields = lock_file.read_text(encoding="utf-8", errors="replace").split(",")
    except OSError:
        return None
    name = fields[0].strip() if fields else ""
    user = fields[1].strip() if len(fields) > 1 else ""
    host = fields[2].strip() if len(fields) > 2 else ""
    who = name or user
    return Phrase(N_("{who} on {host}"), {"who": who, "host": host}) if who and host else who or None


def check_not_open(path: Path, force: bool) -> None:
    """Refuse to write a workbook that Excel or LibreOffice has open, unless ``force``."""
    if force:
        return
    who = who_has_it_open(path)
    if who:
        raise WorkbookBusyError(
            Phrase(
                N_(
                    "{path} is open by {who}; close it there and run again, or pass --force to write anyway "
                    "(changes made there and saved later would overwrite sheetcrm's)"
                ),
                {"path": repr(str(path)), "who": who},
            )
        )


def check_workbook_file(path: Path) -> None:
    """Refuse files sheetcrm cannot write as an .xlsx: macro-enabled and encrypted ones."""
    if path.suffix.lower() == ".xlsm":
        raise WorkbookFormatError(
            Phrase(
                N_(
                    "{path} is a macro-enabled workbook (.xlsm); sheetcrm works on .xlsx only: "
                    "save a copy as Excel Workbook (.xlsx)"
                ),
                {"path": repr(str(path))},
            )
        )
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except IsADirectoryError:
        raise WorkbookFormatError(Phrase(IS_A_FOLDER, {"path": repr(str(path))})) from None
    except PermissionError:
        raise WorkbookWriteError(
            Phrase(CANNOT_OPEN, {"path": repr(str(path)), "reason": Phrase(PERMISSION_DENIED)})
        ) from None
    except OSError as exc:
        raise WorkbookWriteError(
            Phrase(CANNOT_OPEN, {"path": repr(str(path)), "reason": exc.strerror or type(exc).__name__})
        ) from None
    if head == _CFB_MAGIC:
        raise WorkbookFormatError(
            Phrase(
                N_(
                    "{path} is password-protected (or an old .xls); remove the password or save it as "
                    "Excel Workbook (.xlsx) first"
                ),
                {"path": repr(str(path))},
            )
        )


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _os_message(exc: OSError) -> Phrase | str:
    """Why a write failed, told in the reader's language for the usual causes; else the
    system's own (English) words."""
    if exc.errno == errno.ENOSPC:
        return Phrase(N_("the disk is full"))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Phrase(PERMISSION_DENIED)
    if exc.errno == errno.EROFS:
        return Phrase(N_("the file system is read-only"))
    if exc.errno == errno.ENOENT:
        return Phrase(N_("the folder does not exist"))
    return exc.strerror or type(exc).__name__


@contextlib.contextmanager
def atomic_write(
    path: Path, *, expect: Identity | None = None, check: bool = False, on_written: Callable[[], None] | None = None
) -> Iterator[IO[bytes]]:
    """Write a new version of ``path`` (through a symlink to its target) atomically.

    Yields a binary file to write into. On leaving: flush and fsync, keep the old file's
    mode and owner (a new file gets the usual mode), and rename over the file. With
    ``check``, the rename happens only if the file is still ``expect`` (its identity when
    the write began; None: it did not exist): otherwise the temporary file is removed and
    :class:`WorkbookChangedError` says someone saved it meanwhile. Any OS error becomes a
    one-line :class:`WorkbookWriteError`; the old file is never touched.
    """
    target = real_path(path)
    folder = target.parent
    if not folder.is_dir():
        raise WorkbookWriteError(
            Phrase(
                N_("cannot write {path}: the folder {folder} does not exist"),
                {"path": repr(str(path)), "folder": repr(str(folder))},
            )
        )
    clean_leftovers(target)
    tmp = temp_name(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise WorkbookWriteError(
            Phrase(
                N_("cannot write {path}: {reason}; the workbook was left as it was"),
                {"path": repr(str(path)), "reason": _os_message(exc)},
            )
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
            try:
                st = os.stat(target)
            except FileNotFoundError:
                os.fchmod(fh.fileno(), _default_mode())
            else:
                os.fchmod(fh.fileno(), st.st_mode & 0o7777)
                if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):
                        os.fchown(fh.fileno(), st.st_uid, st.st_gid)
        if on_written is not None:
            on_written()
        if check and Identity.of(target) != expect:
            raise WorkbookChangedError(
                Phrase(
                    N_(
                        "{path} was saved by someone else while sheetcrm was writing it; nothing was written "
                        "(their changes are kept): run sync again"
                    ),
                    {"path": repr(str(path))},
                )
            )
        os.replace(tmp, target)
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        raise WorkbookWriteError(
            Phrase(
                N_("could not save {path} ({reason}); the workbook was left as it was"),
                {"path": repr(str(path)), "reason": _os_message(exc)},
            )
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def copy_file(source: Path, to: Path) -> Path:
    """A byte copy of ``source`` at ``to``, written atomically."""
    with atomic_write(to) as out, open(source, "rb") as src:
        while chunk := src.read(1 << 20):
            out.write(chunk)
    return to


def write_bytes(data: bytes, to: Path) -> Path:
    """``data`` saved at ``to`` atomically."""
    with atomic_write(to) as out:
        out.write(data)
    return to
