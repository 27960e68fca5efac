"""One build at a time per warehouse, and no export in the middle of one.

DuckDB allows one writer, but dbt opens the warehouse only after it has parsed the project
(several seconds): a second `clientele build` or a `clientele export` started in that window
passes DuckDB's own check, and the build that loses the race then ends in pages of
tracebacks. So `clientele build` holds an exclusive advisory lock on `<db>.lock` for as long
as dbt runs, and `clientele export` a shared one while it reads; whoever comes second is
told in one line. Plain `dbt build` does not take the lock (DuckDB's own check still applies).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clientele.errors import UserError


def is_duckdb_file(path: Path) -> bool:
    """True when `path` starts like a DuckDB database (magic bytes 'DUCK' at offset 8)."""
    with open(path, "rb") as fh:
        return fh.read(12)[8:12] == b"DUCK"


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextmanager
def hold(db: Path, *, build: bool) -> Iterator[None]:
    """Hold the warehouse `db` for a build (exclusive) or a reader (shared), or say in one
    line who holds it. A folder where the lock file cannot be written (a read-only share)
    is not locked: DuckDB's check is then the only one."""
    if db.is_file() and not is_duckdb_file(db):  # before a lock file lands next to it
        raise UserError(f"{db}: not a DuckDB database; give --db the warehouse .duckdb file "
                        "(new or built)")
    path = lock_path(db)
    try:
        handle = open(path, "a+")  # noqa: SIM115 - held for the whole block
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(handle, (fcntl.LOCK_EX if build else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            who = f"a build (process {holder})" if holder else "an export"
            then = "wait for it to finish or build into another --db" if build else \
                "export when it has finished"
            raise UserError(f"{db}: in use by {who}; {then}") from None
        if build:  # readers do not write: an empty file while held means an export
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
        try:
            yield
        finally:
            if build:
                handle.truncate(0)
                handle.flush()
    finally:
        handle.close()
