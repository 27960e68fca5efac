"""Writing a raw folder (the contract) so that a reader never sees half of it.

Tables are written, possibly in chunks, into a hidden sibling folder; only when
every table is complete is that folder swapped in place of the target. If
anything fails, the partial folder is removed and the previous raw folder, if
any, is left untouched.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clientele.contract import TABLES, TABLES_BY_NAME
from clientele.errors import UserError

log = logging.getLogger(__name__)

REPORT_FILE = "_load_report.json"


class ContractError(UserError):
    """Data handed to the writer does not fit the raw contract."""


def to_contract_table(name: str, data: pd.DataFrame | pa.Table) -> pa.Table:
    """Cast a frame to the contract's schema for `name` (columns in order, types exact)."""
    table = TABLES_BY_NAME[name]
    if isinstance(data, pa.Table):
        data = data.to_pandas()
    missing = [c for c in table.column_names if c not in data.columns]
    if missing:
        raise ContractError(f"table {name}: missing columns {missing}")
    arrays = []
    for column in table.columns:
        values = data[column.name]
        if pa.types.is_string(column.type):
            try:
                arrays.append(pa.array(values, type=column.type, from_pandas=True))
                continue
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                # Mixed values (numbers among text): keep nulls, make the rest text.
                values = values.astype(object).where(values.notna(), None)
                values = values.map(lambda v: v if v is None or isinstance(v, str) else str(v))
        elif pa.types.is_date32(column.type):
            values = pd.to_datetime(values).dt.date
        elif pa.types.is_boolean(column.type):
            values = values.astype(object).where(values.notna(), None)
        try:
            arrays.append(pa.array(values, type=column.type, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise ContractError(f"table {name}, column {column.name}: {exc}") from exc
    return pa.Table.from_arrays(arrays, schema=table.schema)


class ParquetFolderWriter:
    """Context manager writing Parquet tables into `out` atomically.

    Use `write(table, frame)` as often as needed (chunks are appended). The
    schema of a table is fixed by its first chunk; subclasses may impose one.
    """

    def __init__(self, out: str | os.PathLike[str], compression: str = "zstd") -> None:
        self.out = Path(out)
        self.compression = compression
        self._partial = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows_written: dict[str, int] = {}

    def __enter__(self) -> Self:
        if self._partial.exists():
            shutil.rmtree(self._partial)
        self._partial.mkdir(parents=True)
        return self

    @property
    def partial_path(self) -> Path:
        """Folder being written; files placed here are published with the tables."""
        return self._partial

    def to_arrow(self, name: str, data: pd.DataFrame | pa.Table) -> pa.Table:
        """The chunk as Arrow, in the table's schema once the table has one."""
        writer = self._writers.get(name)
        if isinstance(data, pa.Table):
            table = data
        else:
            schema = writer.schema if writer is not None else None
            table = pa.Table.from_pandas(data, schema=schema, preserve_index=False)
        if writer is None:
            # A column all null in the first chunk is text in later ones.
            fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                      for f in table.schema]
            table = table.cast(pa.schema(fields))
        return table

    def write(self, name: str, data: pd.DataFrame | pa.Table) -> None:
        arrow = self.to_arrow(name, data)
        writer = self._writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(
                self._partial / f"{name}.parquet", arrow.schema.remove_metadata(),
                compression=self.compression,
            )
            self._writers[name] = writer
        writer.write_table(arrow.cast(writer.schema))
        self.rows_written[name] = self.rows_written.get(name, 0) + arrow.num_rows

    def before_publish(self) -> None:
        """Last writes into the partial folder, once every chunk is in."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for writer in self._writers.values():
            writer.close()
        if exc_type is not None:
            shutil.rmtree(self._partial, ignore_errors=True)
            return
        try:
            self.before_publish()
        except BaseException:
            shutil.rmtree(self._partial, ignore_errors=True)
            raise
        publish_folder(self._partial, self.out)


class RawFolderWriter(ParquetFolderWriter):
    """Writes the raw contract: chunks cast to the contract's schema, and every
    table the data lacks written empty with the contract's columns.

    A required table left without rows (a header-only export, a filter that kept
    nothing) is refused and the previous raw folder kept, unless `allow_empty`
    (`clientele init` writes an empty contract on purpose).
    """

    def __init__(self, out: str | os.PathLike[str], compression: str = "zstd",
                 allow_empty: bool = False) -> None:
        super().__init__(out, compression)
        self.allow_empty = allow_empty

    def to_arrow(self, name: str, data: pd.DataFrame | pa.Table) -> pa.Table:
        return to_contract_table(name, data)

    def write_report(self, report: dict[str, Any]) -> None:
        report = {**report, "rows_written": dict(self.rows_written)}
        (self._partial / REPORT_FILE).write_text(json.dumps(report, indent=2, default=_json_default))

    def before_publish(self) -> None:
        empty = [t.name for t in TABLES if t.required and not self.rows_written.get(t.name)]
        if empty and not self.allow_empty:
            raise ContractError(
                f"{', '.join(empty)}: no rows to write; nothing written, {self.out} left as it was")
        for table in TABLES:
            if table.name not in self._writers:
                pq.write_table(table.schema.empty_table(), self._partial / f"{table.name}.parquet")
                self.rows_written.setdefault(table.name, 0)


def publish_folder(partial: Path, out: Path) -> None:
    """Swap `partial` in place of `out` with renames, so `out` is always whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = out.parent / f".{out.name}.previous-{os.getpid()}"
    if out.exists():
        os.rename(out, previous)
    os.rename(partial, out)
    if previous.exists():
        shutil.rmtree(previous)
    log.info("published %s", out)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)
