"""Every file sasscrawl writes, written one way: inside its folder, whole or not at all, and durable.

A file is written to a fresh temporary name in its own folder (``.<name>.<16 hex>.tmp``,
created with ``O_CREAT|O_EXCL|O_NOFOLLOW``, so nothing planted there, be it a link,
a hard link or a pipe, is ever opened), flushed to disk, renamed over the target
(a link found at the target is replaced, never followed) and the folder flushed
too: a reader or a kill sees the old file or the new one, and a power cut keeps
whichever the last completed write made. A failure removes the temporary file and
leaves the old file as it was; a kill can leave one, which :func:`remove_leftovers`
clears from folders only sasscrawl writes in.

Several files that belong together (an export's formats and its card) are written as one
:class:`FileBatch`: each whole under its temporary name first, then all renamed, in order, once
every one is complete (:func:`replacing_files`).

The folder is reached from ``root`` (DATA_DIR, or the folder of a file the user
names) one component at a time, each opened relative to the one above without
following links, and every file operation is relative to the last one opened: a
symbolic link anywhere below ``root``, planted before the run or while it runs,
is refused with :class:`WriteRefused`, never followed. ``root`` itself is taken as
the user gave it (DATA_DIR may well be a link to a larger disk); it is created
when missing, as are the folders below it.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_MODE = 0o666  # the user's umask decides, as for any file they create
_NAME_BYTES_KEPT = 200  # of the target's name in a temporary name: it stays under the 255-byte limit
_TEMPORARY = re.compile(rb"\.(?P<target>.*)\.[0-9a-f]{16}\.tmp", re.DOTALL)


class WriteRefused(OSError):
    """A write that would leave its root: through a symbolic link, a file taken for a folder, or ``..``."""


def replace_file(root: str | os.PathLike, relative: str | os.PathLike, data: bytes) -> None:
    """Replace ``root/relative`` with ``data``, atomically and durably (see the module's docstring)."""
    with replacing_file(root, relative) as out:
        out.write(data)


@contextmanager
def replacing_file(root: str | os.PathLike, relative: str | os.PathLike) -> Iterator[BinaryIO]:
    """A file to stream ``root/relative``'s new content into; it replaces the old file when the block ends.

    If the block raises, the temporary file is removed and the old file is left as it was.
    """
    with replacing_files() as batch:
        yield batch.stream(root, relative)


@contextmanager
def building_file(root: str | os.PathLike, relative: str | os.PathLike) -> Iterator[Path]:
    """A path to a new, empty file beside ``root/relative``, for a writer that opens its file by name (SQLite);
    it replaces ``root/relative`` when the block ends, as :func:`replacing_file` does, or is removed if the
    block raises.
    """
    with replacing_files() as batch:
        yield batch.build(root, relative)


@dataclass
class _Pending:
    folder: int
    """The target's folder, open (every operation is relative to it)."""
    temporary: bytes
    name: str
    shown: Path
    out: BinaryIO | None
    """The open file of :meth:`FileBatch.stream`; None for :meth:`FileBatch.build`."""


class FileBatch:
    """New contents of several files, each written whole under a temporary name; :func:`replacing_files` puts them
    in place together, in the order they were begun, once every one is complete."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []

    def stream(self, root: str | os.PathLike, relative: str | os.PathLike) -> BinaryIO:
        """An open file to stream ``root/relative``'s new content into (the batch flushes and closes it)."""
        pending, fd = self._begin(root, relative)
        pending.out = os.fdopen(fd, "wb")
        return pending.out

    def build(self, root: str | os.PathLike, relative: str | os.PathLike) -> Path:
        """A path to a new, empty file beside ``root/relative``, for a writer that opens its file by name (SQLite).

        The path leads through the folder's open descriptor (``/proc/self/fd/N/<temporary>``, Linux), not
        through the folders' names: a link swapped in on the way while the writer works is never followed.
        The writer must have closed the file when the batch ends.
        """
        pending, fd = self._begin(root, relative)
        os.close(fd)
        return Path(f"/proc/self/fd/{pending.folder}") / os.fsdecode(pending.temporary)

    def write(self, root: str | os.PathLike, relative: str | os.PathLike, data: bytes) -> None:
        """``data`` as ``root/relative``'s new content."""
        self.stream(root, relative).write(data)

    def _begin(self, root: str | os.PathLike, relative: str | os.PathLike) -> tuple[_Pending, int]:
        *folders, name = _parts(relative)
        folder = _open_folders(Path(root), folders)
        try:
            temporary, fd = _create_temporary(folder, name)
        except BaseException:
            os.close(folder)
            raise
        pending = _Pending(folder, temporary, name, Path(root, relative), None)
        self._pending.append(pending)
        return pending, fd

    def _put_in_place(self) -> None:
        """Every file flushed to disk; then, if no target is a folder, each renamed over its target, and the folders
        flushed. Only a rename failing after the check (rare: the disk itself failing) leaves the earlier ones done."""
        for pending in self._pending:
            if pending.out is not None:
                sync(pending.out)
                pending.out.close()
            else:
                fd = os.open(pending.temporary, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pending.folder)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        for pending in self._pending:
            with suppress(FileNotFoundError):
                if stat.S_ISDIR(os.stat(pending.name, dir_fd=pending.folder, follow_symlinks=False).st_mode):
                    raise IsADirectoryError(errno.EISDIR, "a folder stands where the file goes", str(pending.shown))
        for pending in self._pending:
            os.replace(pending.temporary, pending.name, src_dir_fd=pending.folder, dst_dir_fd=pending.folder)
            pending.temporary = b""  # in place: nothing left to remove
        for pending in self._pending:
            os.fsync(pending.folder)

    def _close(self) -> None:
        """Close what is open and remove the temporary files not put in place."""
        for pending in self._pending:
            if pending.out is not None:
                with suppress(OSError):
                    pending.out.close()
            if pending.temporary:
                with suppress(OSError):
                    os.unlink(pending.temporary, dir_fd=pending.folder)
            os.close(pending.folder)


@contextmanager
def replacing_files() -> Iterator[FileBatch]:
    """A :class:`FileBatch` whose files replace their targets together when the block ends, after every one of them
    is whole and on the disk; if the block (or a check before the first rename) raises, every temporary file is
    removed and every target left as it was."""
    batch = FileBatch()
    try:
        yield batch
        batch._put_in_place()
    finally:
        batch._close()


def rename_into_place(root: str | os.PathLike, made: str, name: str) -> None:
    """Put ``root/made``, a whole file another writer made (SQLite's rebuild of the journal), in place of
    ``root/name``, as :func:`replacing_file` puts its temporary file: flushed, renamed, the folder flushed.

    Neither name is followed if it is a link.
    """
    folder = _open_folders(Path(root), [])
    try:
        fd = os.open(made, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(made, name, src_dir_fd=folder, dst_dir_fd=folder)
        os.fsync(folder)
    finally:
        os.close(folder)


def keep_copy(root: str | os.PathLike, name: str, copy: str) -> None:
    """Keep ``root/name`` as it is now under the name ``copy`` too (a hard link), durably; never through a link.

    A later replacement of ``name`` (a rename over it) leaves the copy as it was.
    Raises FileExistsError when ``copy`` exists.
    """
    folder = _open_folders(Path(root), [])
    try:
        os.link(name, copy, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
        os.fsync(folder)
    finally:
        os.close(folder)


def create_file(root: str | os.PathLike, relative: str | os.PathLike) -> BinaryIO:
    """A new, empty ``root/relative`` for a writer that appends as it goes (a WARC file); never an existing file.

    The folder is flushed at once, so the file's name survives a power cut; its content is the
    writer's to flush (:func:`sync`) when it is complete.
    """
    *folders, name = _parts(relative)
    folder = _open_folders(Path(root), folders)
    try:
        fd = os.open(name, _NEW_FILE_FLAGS, _FILE_MODE, dir_fd=folder)
        try:
            os.fsync(folder)
            return os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
    finally:
        os.close(folder)


def sync(out: BinaryIO) -> None:
    """Everything written to ``out`` so far, on the disk."""
    out.flush()
    os.fsync(out.fileno())


def refuse_links(root: str | os.PathLike, names: Iterable[str]) -> None:
    """Raise :class:`WriteRefused` if any of ``names`` directly in ``root`` is a symbolic link.

    Lets a run refuse a linked folder (or file) before it starts, in one clear message,
    rather than image by image at its writes there.
    """
    for name in names:
        path = Path(root) / name
        if path.is_symlink():
            raise _refusal(path, errno.ELOOP)


def remove_leftovers(root: str | os.PathLike, folder: str | None = None, targets: Iterable[str] | None = None) -> int:
    """Remove the temporary files a kill left in ``root`` (or its ``folder``); how many. A missing folder has none.

    Only for folders whose every file sasscrawl names: elsewhere (the image mirror) a
    file may carry a temporary-looking name of its own. In a folder shared with other
    files, ``targets`` names the files sasscrawl writes there: only their temporaries go.
    """
    kept = None if targets is None else {os.fsencode(target)[:_NAME_BYTES_KEPT] for target in targets}
    try:
        fd = _open_folders(Path(root), _parts(folder) if folder else [], create=False)
    except FileNotFoundError:
        return 0
    removed = 0
    try:
        for name in os.listdir(fd):
            if (temporary := _TEMPORARY.fullmatch(os.fsencode(name))) and (kept is None or temporary["target"] in kept):
                with suppress(OSError):  # unlink removes a link itself; a folder of that name stays
                    os.unlink(name, dir_fd=fd)
                    removed += 1
    finally:
        os.close(fd)
    return removed


def _parts(relative: str | os.PathLike) -> list[str]:
    path = PurePosixPath(relative)
    if not path.parts or path.is_absolute() or ".." in path.parts:
        raise WriteRefused(errno.EINVAL, f"refusing to write outside the folder: {str(relative)!r}")
    return list(path.parts)


def _open_folders(root: Path, folders: list[str], create: bool = True) -> int:
    """A descriptor of ``root/folders``, each folder below ``root`` opened without following a link."""
    if create:
        os.makedirs(root, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for depth, name in enumerate(folders):
            child = _open_folder(fd, name, root.joinpath(*folders[:depth + 1]), create)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_folder(parent: int, name: str, shown: Path, create: bool) -> int:
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as error:
        raise _refusal_of(error, parent, name, shown) from None
    try:
        os.mkdir(name, dir_fd=parent)
        os.fsync(parent)  # the new folder's name survives a power cut with the file about to be written in it
    except FileExistsError:
        pass  # made meanwhile; if as a link, the open below refuses it
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except OSError as error:
        raise _refusal_of(error, parent, name, shown) from None


def _refusal_of(error: OSError, parent: int, name: str, shown: Path) -> OSError:
    if error.errno not in (errno.ELOOP, errno.ENOTDIR):
        return error
    with suppress(OSError):
        if stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
            return _refusal(shown, errno.ELOOP)
    return WriteRefused(errno.ENOTDIR, f"{shown} is not a directory")


def _refusal(path: Path, code: int) -> WriteRefused:
    return WriteRefused(code, f"{path} is a symbolic link, and sasscrawl never writes through one: "
                             "put the real directory or file in its place")


def _create_temporary(folder: int, name: str) -> tuple[bytes, int]:
    """A new file beside ``name`` under a name nobody can guess in advance, so nobody can plant anything there."""
    kept = os.fsencode(name)[:_NAME_BYTES_KEPT]
    while True:
        temporary = b"." + kept + b"." + secrets.token_hex(8).encode("ascii") + b".tmp"
        try:
            return temporary, os.open(temporary, _NEW_FILE_FLAGS, _FILE_MODE, dir_fd=folder)
        except FileExistsError:
            continue  # a one in 2**64 chance: draw again
