"""Generic CSV and JSON-lines files, mapped onto a canonical table by a TOML mapping file.

A mapping names the target table and, for each canonical column, where its value comes from:

    table = "posts"
    platform = "weibo"                  # every row's platform (a column may override it)
    [columns]
    post_id = "id"                      # a column of the file (a top-level key in JSON)
    reposts = {path = "counts.0"}       # a nested path: keys (and list indexes) by dots
    text = {path = "retweet.text", optional = true}   # may be absent from a record
    is_truncated = {const = false}      # the same value for every row
    parent_post_id = {path = "reply_url", pattern = '/(\\d+)$', optional = true}
    author_id = {from = "filename", pattern = '^(\\d+)_'}    # group 1 of the match
    source = {from = "folder"}          # the name of the folder holding the file
    [times]
    format = "%Y-%m-%d %H:%M:%S"        # strptime; else ISO 8601, epoch, Sina and Weibo's shown
    utc_offset_hours = 8                # for times that carry no offset
    crawl_time = "crawled_at"           # where the crawl time is (any column form above)

`from` is "filename", "stem" (the name without its suffix) or "folder". `pattern` is a
regular expression searched in that name or in a path's value; the value is its first
group, else the whole match (a record whose value does not match is quarantined, a file
whose name does not fails). A column or path the file lacks (its header; its first record
for JSON lines) fails the file with an error naming the file and the field, unless marked
optional: a typo must not load as nulls.

Times a crawler saved as Weibo showed them (`6小时前`, `昨天 18:12`, `12-16`) are resolved by
`weibo_time.resolve_time` against the crawl time: the record's mapped crawl time, else
`--observed-at`, else the file's modification time; which one is noted in the run
(`time_basis`). Ids (key columns and every `*_id` column) are stripped of white space.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from govweibo import model
from govweibo.errors import ConfigError, IngestError
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.weibo_time import EXACT, TimeFormatError, resolve_time
from govweibo.model import Batch, Reject

ROWS_PER_BATCH = 100_000
_TABLES = ("accounts", "account_observations", "posts", "interactions")
_FROM = ("filename", "stem", "folder")
_MISSING = object()
_OBSERVED = ("observed_at", "counts_observed_at", "profile_observed_at")


class FieldError(ValueError):
    """A value that cannot be read; carries the source field it came from."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Spec:
    """Where one canonical column's value comes from."""

    kind: str  # "column", "path", "const", or one of _FROM
    name: str = ""  # the column or path
    value: Any = None  # the constant
    pattern: re.Pattern[str] | None = None
    optional: bool = False

    @property
    def label(self) -> str:
        """The source field, as quarantine rows and errors name it."""
        if self.kind in ("column", "path"):
            return self.name
        return self.kind if self.kind != "const" else "(constant)"

    def per_file(self) -> bool:
        return self.kind not in ("column", "path")


def parse_spec(where: str, target: str, raw: Any) -> Spec:
    """One `[columns]` entry: a column name, or a table with path / const / from."""
    if isinstance(raw, str) and raw:
        return Spec("column", raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: column '{target}' must be a name or a table, not {raw!r}")
    optional = bool(raw.get("optional", False))
    forms = [k for k in ("path", "const", "from") if k in raw]
    extra = set(raw) - {"path", "const", "from", "pattern", "optional"}
    if len(forms) != 1 or extra:
        raise ConfigError(
            f"{where}: column '{target}' needs exactly one of path, const, from "
            f"(got {', '.join(sorted(raw))})"
        )
    if forms == ["const"]:
        if "pattern" in raw:
            raise ConfigError(f"{where}: column '{target}': a constant takes no pattern")
        return Spec("const", value=raw["const"])
    pattern = None
    if "pattern" in raw:
        try:
            pattern = re.compile(str(raw["pattern"]))
        except re.error as exc:
            raise ConfigError(f"{where}: column '{target}': bad pattern: {exc}") from None
    if forms == ["path"]:
        if not isinstance(raw["path"], str) or not raw["path"]:
            raise ConfigError(f"{where}: column '{target}': path must be a non-empty string")
        return Spec("path", raw["path"], pattern=pattern, optional=optional)
    source = raw["from"]
    if source not in _FROM:
        raise ConfigError(f"{where}: column '{target}': from must be one of {', '.join(_FROM)}")
    return Spec(source, pattern=pattern)


def walk(rec: Any, path: str) -> Any:
    """The value at a dotted path (keys, and list indexes), or _MISSING."""
    if isinstance(rec, dict) and path in rec:  # flattened exports name columns "user.id"
        return rec[path]
    value = rec
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _is_id(column: str, table: str) -> bool:
    return column in model.key_of(table) or column.endswith("_id") or column == "mid"


class Mapping:
    def __init__(self, path: Path):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"mapping file {path}: {exc}") from None
        where = f"mapping file {path}"
        table = data.get("table")
        if table not in _TABLES:
            raise ConfigError(f"{where}: 'table' must be one of {', '.join(_TABLES)}")
        self.path = path
        self.table: str = table
        self.platform = str(data.get("platform", "weibo"))
        raw_columns = data.get("columns", {})
        if not isinstance(raw_columns, dict):
            raise ConfigError(f"{where}: [columns] must be a table")
        self.columns: dict[str, Spec] = {
            target: parse_spec(where, target, raw) for target, raw in raw_columns.items()
        }
        schema = model.schema_of(self.table)
        unknown = [c for c in self.columns if c not in schema.names]
        if unknown:
            raise ConfigError(f"{where}: unknown {self.table} column(s) {unknown}")
        keys = model.key_of(self.table)
        missing = [k for k in keys if k != "platform" and k not in self.columns]
        if missing and not (self.table == "account_observations" and missing == ["observed_at"]):
            raise ConfigError(f"{where}: key column(s) {missing} not mapped")
        times = data.get("times", {})
        self.time_format: str | None = times.get("format")
        self.tz = timezone(timedelta(hours=float(times.get("utc_offset_hours", 8))))
        crawl = times.get("crawl_time")
        self.crawl: Spec | None = parse_spec(where, "crawl_time", crawl) if crawl else None
        self.schema = schema
        self.keys = keys
        # Records with a relative time, by whether their own crawl time resolved it.
        self.relative: dict[bool, int] = {}

    def check(self, source: Path, fields: list[str] | dict[str, Any]) -> None:
        """Fail the file if it lacks a column or path the mapping names (not optional):
        `fields` is a CSV header or the first JSON record."""
        specs = [(t, s) for t, s in self.columns.items()]
        if self.crawl is not None:
            specs.append(("crawl time", self.crawl))
        for target, spec in specs:
            if spec.optional or spec.per_file():
                continue
            if isinstance(fields, dict):
                found = walk(fields, spec.name) is not _MISSING
                what = "first record"
            else:
                found = spec.name in fields
                what = "header"
            if not found:
                raise IngestError(
                    f"{source}: the mapping {self.path.name} names {spec.kind} "
                    f"'{spec.name}' (for {target}), which the {what} lacks"
                )

    def file_values(self, source: Path) -> dict[str, Any]:
        """The values a file gives every row: constants and what its name says."""
        return {
            target: _file_value(source, target, spec)
            for target, spec in self.columns.items()
            if spec.per_file()
        }

    def file_crawl_time(self, source: Path) -> datetime | None:
        """The crawl time the file's name (or a constant) gives, if the mapping says so."""
        if self.crawl is None or not self.crawl.per_file():
            return None
        value = _file_value(source, "crawl_time", self.crawl)
        try:
            return self._time(self.crawl.label, value, None)[0]
        except FieldError as exc:
            raise IngestError(f"{source}: crawl time: {exc}") from None

    def convert(
        self, rec: dict[str, Any], observed_at: datetime, fixed: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], bool]:
        """One record as a row of the table, and whether a time in it was resolved
        against the record's own crawl time. `observed_at` is the crawl time where the
        record maps none; it and the record's crawl time stamp the row's observations."""
        crawled = observed_at
        own_crawl = False
        if self.crawl is not None and not self.crawl.per_file():
            raw = self._value(rec, self.crawl)
            if raw is not _MISSING and raw not in (None, ""):
                crawled, _ = self._time(self.crawl.label, raw, None)
                own_crawl = True
        out: dict[str, Any] = {"platform": self.platform}
        relative = False
        for target, spec in self.columns.items():
            if fixed is not None and target in fixed:
                value = fixed[target]
            else:
                value = self._value(rec, spec)
            if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
                if target in self.keys:
                    raise FieldError(
                        spec.label, f"field '{spec.label}': missing (maps to {target})"
                    )
                continue
            if isinstance(value, dict | list) and not pa.types.is_list(
                self.schema.field(target).type
            ):
                raise FieldError(spec.label, f"field '{spec.label}': an object, not a value")
            if spec.pattern is not None and spec.kind == "path":
                m = spec.pattern.search(str(value))
                if m is None:
                    raise FieldError(
                        spec.label,
                        f"field '{spec.label}': {str(value)[:60]!r} does not match "
                        f"{spec.pattern.pattern!r}",
                    )
                value = m.group(1) if m.re.groups else m.group(0)
            if pa.types.is_timestamp(self.schema.field(target).type):
                out[target], how = self._time(spec.label, value, crawled)
                relative = relative or how != EXACT
            else:
                out[target] = self._cast(target, spec.label, value)
        for ts in _OBSERVED:
            if ts in self.schema.names and ts not in out:
                out[ts] = crawled
        if relative:
            self.relative[own_crawl] = self.relative.get(own_crawl, 0) + 1
        return out, own_crawl

    @staticmethod
    def _value(rec: dict[str, Any], spec: Spec) -> Any:
        if spec.kind == "column":
            return rec.get(spec.name, _MISSING)
        return walk(rec, spec.name)

    def _cast(self, target: str, label: str, value: Any) -> Any:
        typ = self.schema.field(target).type
        try:
            if _is_id(target, self.table):
                return _id(value)
            if pa.types.is_integer(typ):
                return int(value)
            if pa.types.is_boolean(typ):
                return str(value).strip().lower() in ("1", "true", "yes", "y", "t")
            if pa.types.is_list(typ):
                return value if isinstance(value, list) else [str(value)]
            return str(value)
        except (TypeError, ValueError) as exc:
            raise FieldError(
                label, f"field '{label}': cannot read {str(value)[:40]!r} as {typ} ({exc})"
            ) from None

    def _time(self, label: str, value: Any, crawled: datetime | None) -> tuple[datetime, str]:
        """A time and how exact it is (weibo_time's EXACT, RELATIVE or DAY)."""
        try:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC), EXACT
            text = str(value).strip()
            if self.time_format:
                try:
                    when = datetime.strptime(text, self.time_format)
                    return (when if when.tzinfo else when.replace(tzinfo=self.tz)), EXACT
                except ValueError:
                    pass  # a crawler writes recent posts' times as Weibo shows them
            else:
                try:
                    when = datetime.fromisoformat(text)
                    return (when if when.tzinfo else when.replace(tzinfo=self.tz)), EXACT
                except ValueError:
                    pass
            return resolve_time(text, crawled)
        except (TimeFormatError, ValueError, OverflowError, OSError) as exc:
            raise FieldError(label, f"field '{label}': not a time: {exc}") from None


def _file_value(source: Path, target: str, spec: Spec) -> Any:
    if spec.kind == "const":
        return spec.value
    text = {
        "filename": source.name,
        "stem": source.stem,
        "folder": source.resolve().parent.name,
    }[spec.kind]
    if spec.pattern is None:
        return text
    m = spec.pattern.search(text)
    if m is None:
        raise IngestError(
            f"{source}: the {spec.kind} {text!r} does not match the mapping's "
            f"pattern {spec.pattern.pattern!r} (for {target})"
        )
    return m.group(1) if m.re.groups else m.group(0)


def _id(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("a boolean is no id")
    if isinstance(value, float):
        # JSON numbers past 2**53 have lost digits: such an id is no longer the post's.
        if not value.is_integer() or abs(value) >= 2**53:
            raise ValueError("a float id (its digits may be lost)")
        value = int(value)
    text = str(value).strip()
    if not text:
        raise ValueError("blank id")
    return text


class _TabularReader:
    name = ""
    description = ""
    suffixes: tuple[str, ...] = ()
    needs_mapping = True

    def detect(self, path: Path, head: bytes) -> bool:
        return False  # generic formats are only used when asked for with --format

    def files(self, path: Path) -> list[Path]:
        return [path]

    def rows(
        self, text: str, mapping: Mapping, path: Path
    ) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        raise NotImplementedError

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        if opts.mapping is None:
            raise ConfigError(f"{source.path}: format '{self.name}' needs --mapping FILE.toml")
        mapping = Mapping(opts.mapping)
        fixed = mapping.file_values(source.path)
        file_crawl = mapping.file_crawl_time(source.path)
        crawled = file_crawl or source.observed_at
        text, size = source.read_text()
        batch, rows = Batch(bytes_read=size), []
        for line, rec, rawline in self.rows(text, mapping, source.path):
            if rec is None and not rawline.strip():
                batch.empty += 1
                continue
            batch.records_read += 1
            try:
                if rec is None:
                    raise FieldError("record", "malformed record")
                rows.append(mapping.convert(rec, crawled, fixed)[0])
            except FieldError as exc:
                batch.rejects.append(
                    Reject(line=line, item=0, reason=str(exc), field=exc.field, raw=rawline[:2000])
                )
            if len(rows) >= ROWS_PER_BATCH:
                batch.primary[mapping.table] = pa.Table.from_pylist(rows, schema=mapping.schema)
                yield batch
                batch, rows = Batch(), []
        if rows:
            batch.primary[mapping.table] = pa.Table.from_pylist(rows, schema=mapping.schema)
        if mapping.relative:
            # Which crawl time the relative times were resolved against, and how many.
            if file_crawl is not None:
                fallback = f"crawl_time from the {mapping.crawl.kind}"  # type: ignore[union-attr]
            elif opts.observed_at is not None:
                fallback = "--observed-at"
            else:
                fallback = "file mtime"
            own = f"crawl_time field '{mapping.crawl.label}'" if mapping.crawl else ""
            parts = [
                f"{own if is_own else fallback} ({n})"
                for is_own, n in sorted(mapping.relative.items(), reverse=True)
            ]
            source.notes["time_basis"] = ", ".join(parts)
        yield batch


class CsvReader(_TabularReader):
    name = "csv"
    description = "Any CSV file, with a --mapping file"

    def rows(
        self, text: str, mapping: Mapping, path: Path
    ) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        lines = text.splitlines()
        reader = csv.DictReader(io.StringIO(text, newline=""))
        # Header names stripped too: exports pad them ("id\t", " uid").
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        mapping.check(path, header)
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

    def rows(
        self, text: str, mapping: Mapping, path: Path
    ) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        checked = False
        for line, rawline in enumerate(text.splitlines(), start=1):
            if not rawline.strip():
                yield line, None, ""
                continue
            try:
                rec = json.loads(rawline)
            except json.JSONDecodeError:
                yield line, None, rawline
                continue
            if not isinstance(rec, dict):
                yield line, None, rawline
                continue
            if not checked:
                mapping.check(path, rec)
                checked = True
            yield line, rec, rawline
