"""Generic CSV and JSON-lines files, mapped onto a canonical table by a TOML mapping file.

A mapping names the target table and, for each canonical column, the source
column (or a constant) and, for times, the format and the offset to assume:

    table = "posts"
    platform = "weibo"            # constant for every row
    [columns]
    post_id = "id"
    author_id = "uid"
    created_at = "time"
    text = "content"
    [times]
    format = "%Y-%m-%d %H:%M:%S"  # strptime; ISO 8601 when absent
    utc_offset_hours = 8          # for times that carry no offset
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from govweibo import model
from govweibo.errors import ConfigError
from govweibo.ingest.base import ReadOptions, Source
from govweibo.model import Batch, Reject

ROWS_PER_BATCH = 100_000
_TABLES = ("accounts", "account_observations", "posts", "interactions")


class Mapping:
    def __init__(self, path: Path):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"mapping file {path}: {exc}") from None
        table = data.get("table")
        if table not in _TABLES:
            raise ConfigError(f"mapping file {path}: 'table' must be one of {', '.join(_TABLES)}")
        self.table: str = table
        self.platform = str(data.get("platform", "weibo"))
        self.columns: dict[str, str] = dict(data.get("columns", {}))
        schema = model.schema_of(self.table)
        unknown = [c for c in self.columns if c not in schema.names]
        if unknown:
            raise ConfigError(f"mapping file {path}: unknown {self.table} column(s) {unknown}")
        missing = [k for k in model.key_of(self.table) if k != "platform" and k not in self.columns]
        if missing and not (self.table == "account_observations" and missing == ["observed_at"]):
            raise ConfigError(f"mapping file {path}: key column(s) {missing} not mapped")
        times = data.get("times", {})
        self.time_format: str | None = times.get("format")
        self.tz = timezone(timedelta(hours=float(times.get("utc_offset_hours", 8))))
        self.schema = schema

    def convert(self, rec: dict[str, Any], observed_at: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"platform": self.platform}
        for target, src in self.columns.items():
            value = rec.get(src)
            if value is None or value == "":
                if target in model.key_of(self.table):
                    raise ValueError(f"field '{src}': missing (maps to {target})")
                continue
            out[target] = self._cast(target, src, value)
        for ts in ("observed_at", "counts_observed_at", "profile_observed_at"):
            if ts in self.schema.names and ts not in out:
                out[ts] = observed_at
        return out

    def _cast(self, target: str, src: str, value: Any) -> Any:
        typ = self.schema.field(target).type
        try:
            if pa.types.is_timestamp(typ):
                return self._time(value)
            if pa.types.is_integer(typ):
                return int(value)
            if pa.types.is_boolean(typ):
                return str(value).strip().lower() in ("1", "true", "yes", "y", "t")
            if pa.types.is_list(typ):
                return value if isinstance(value, list) else [str(value)]
            return str(value)
        except (TypeError, ValueError):
            raise ValueError(f"field '{src}': cannot read {str(value)[:40]!r} as {typ}") from None

    def _time(self, value: Any) -> datetime:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        text = str(value).strip()
        when = (
            datetime.strptime(text, self.time_format)
            if self.time_format
            else datetime.fromisoformat(text)
        )
        return when if when.tzinfo else when.replace(tzinfo=self.tz)


class _TabularReader:
    name = ""
    description = ""
    suffixes: tuple[str, ...] = ()

    def detect(self, path: Path, head: bytes) -> bool:
        return False  # generic formats are only used when asked for with --format

    def files(self, path: Path) -> list[Path]:
        return [path]

    def rows(self, text: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        raise NotImplementedError

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        if opts.mapping is None:
            raise ConfigError(f"{source.path}: format '{self.name}' needs --mapping FILE.toml")
        mapping = Mapping(opts.mapping)
        text, size = source.read_text()
        batch, rows = Batch(bytes_read=size), []
        for line, rec, rawline in self.rows(text):
            if rec is None and not rawline.strip():
                batch.empty += 1
                continue
            batch.records_read += 1
            try:
                if rec is None:
                    raise ValueError("malformed record")
                rows.append(mapping.convert(rec, source.observed_at))
            except ValueError as exc:
                batch.rejects.append(Reject(line=line, item=0, reason=str(exc), raw=rawline[:2000]))
            if len(rows) >= ROWS_PER_BATCH:
                batch.primary[mapping.table] = pa.Table.from_pylist(rows, schema=mapping.schema)
                yield batch
                batch, rows = Batch(), []
        if rows:
            batch.primary[mapping.table] = pa.Table.from_pylist(rows, schema=mapping.schema)
        yield batch


class CsvReader(_TabularReader):
    name = "csv"
    description = "Any CSV file, with a --mapping file"

    def rows(self, text: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        lines = text.splitlines()
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for rec in reader:
            line = reader.line_num
            rawline = lines[line - 1] if 0 < line <= len(lines) else ""
            if not any((v or "").strip() for v in rec.values() if isinstance(v, str)):
                yield line, None, ""
                continue
            yield line, rec, rawline


class JsonlReader(_TabularReader):
    name = "jsonl"
    description = "Any JSON-lines file, with a --mapping file"

    def rows(self, text: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        for line, rawline in enumerate(text.splitlines(), start=1):
            if not rawline.strip():
                yield line, None, ""
                continue
            try:
                rec = json.loads(rawline)
            except json.JSONDecodeError:
                yield line, None, rawline
                continue
            yield line, rec if isinstance(rec, dict) else None, rawline
