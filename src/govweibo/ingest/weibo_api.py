"""Sina Weibo open-API JSON: statuses, comments and users; lines, arrays, pages, .gz.

The file is read in runs of whole lines. A run of plain status lines is mapped by the
native scan (sina_fast); any other run is cut into numbered lines in Python and parsed
and mapped by DuckDB (see weibo_sql). Only the rare broken line is looked at again in
Python, to say exactly what is wrong with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model
from govweibo.errors import IngestError
from govweibo.ingest import sina_fast, weibo_sql
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.lines import LineChunk, LongLine, chunk_from_bytes, iter_bodies
from govweibo.ingest.sina_ids import ids_to_mids
from govweibo.model import Batch, Reject

# A whole-file JSON document (an array or a pretty-printed page) is parsed in
# memory; larger inputs must be JSON lines, which stream.
MAX_DOCUMENT_BYTES = 512 << 20


class WeiboApiReader:
    name = "weibo-api"
    description = "Sina Weibo open-API JSON (statuses, comments, users; lines, arrays, pages)"

    def detect(self, path: Path, head: bytes) -> bool:
        name = path.name.lower()
        if not (name.endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz"))):
            return False
        text = head.decode("utf-8", errors="ignore")
        return any(m in text for m in ('"created_at"', '"screen_name"', '"idstr"', '"statuses"'))

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            # Give freed chunk memory back at once: without this, RSS creeps up by tens
            # of MB a chunk although DuckDB holds nothing between chunks.
            con.execute("SET allocator_flush_threshold = '8MB'")
            con.execute("SET allocator_bulk_deallocation_flush_threshold = '8MB'")
            for macro in weibo_sql.MACROS:
                con.execute(macro)
            reader = source.open()
            first = reader.read(min(opts.chunk_bytes, 1 << 16))
            if _may_be_document(first):
                # Decided by evidence: a document only if the file parses as one.
                doc = _whole_document(source, _Prefixed(first, reader), opts)
                if doc is not None:
                    yield from self._document_batches(con, source, opts, *doc)
                    return
                reader.close()
                reader = source.open()  # read it again, line by line, from the start
                first = b""
            gb = 0
            kinds = ChunkKinds()
            line_no = 1
            spare: list[bytearray] = []
            limit = opts.max_line_bytes
            for body in iter_bodies(
                reader, opts.chunk_bytes, head=first, spare=spare, max_line=limit
            ):
                if isinstance(body, LongLine):
                    yield Batch(
                        rejects=[body.reject(line_no, limit)],
                        records_read=1,
                        bytes_read=body.size,
                    )
                    line_no += 1
                    continue
                fast = sina_fast.scan(body) if opts.native else None
                if fast is not None:
                    line_no += fast.records + fast.empty
                    size = len(body)
                    if isinstance(body, memoryview) and isinstance(body.obj, bytearray):
                        spare[:] = [body.obj]  # the native path copied what it keeps
                    yield _fast_batch(fast, size, source, opts)
                    continue
                chunk, lines = chunk_from_bytes(body, line_no)
                line_no += lines
                gb += chunk.gb18030_lines
                yield from map_safely(con, chunk, source, opts, kinds)
            if gb:
                source.notes["gb18030_lines"] = gb
        finally:
            con.close()

    def _document_batches(
        self,
        con: duckdb.DuckDBPyConnection,
        source: Source,
        opts: ReadOptions,
        items: list[object],
        size: int,
    ) -> Iterator[Batch]:
        lines = [json.dumps(it, ensure_ascii=False) for it in items]
        try:
            text = pa.array(lines, pa.large_string())
        except UnicodeEncodeError:
            # A lone surrogate (an escape json.loads accepts): kept as its escape, which
            # the JSON engine refuses, so the item is quarantined as in a file of lines.
            text = pa.array(
                [_utf8_or_escaped(it, line) for it, line in zip(items, lines, strict=True)]
            )
        # Items of a document are located by their index; line 0 means "whole file".
        table = pa.table(
            {
                "line": pa.array([0] * len(lines), pa.int64()),
                "text": text.cast(pa.large_string()),
                "item": pa.array(range(len(lines)), pa.int64()),
            }
        )
        chunk = LineChunk(table=table, bytes_read=size)
        yield from map_safely(con, chunk, source, opts)


def _utf8_or_escaped(item: object, line: str) -> str:
    try:
        line.encode("utf-8")
        return line
    except UnicodeEncodeError:
        return json.dumps(item, ensure_ascii=True)


def _whole_document(
    source: Source, rest: _Prefixed, opts: ReadOptions
) -> tuple[list[object], int] | None:
    """The items of a file that parses as one JSON document, and its size; None when it
    does not (it is then read line by line). A document is parsed in memory, so one over
    MAX_DOCUMENT_BYTES is read as lines too, unless it is an array, which cannot be."""
    parts: list[bytes] = []
    size = 0
    is_array = False
    while True:
        try:
            block = rest.read(opts.chunk_bytes)
        except IngestError:  # a damaged stream: read as lines, which keeps what came first
            return None
        if not block:
            break
        if not parts:
            is_array = block.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")
        size += len(block)
        if size > MAX_DOCUMENT_BYTES:
            if is_array:
                raise IngestError(
                    f"{source.path}: a single JSON document over {MAX_DOCUMENT_BYTES >> 20} MB; "
                    "convert it to JSON lines (one object per line) to stream it"
                )
            return None
        parts.append(block)
    raw = b"".join(parts)
    encoding = None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            return None
        encoding = "gb18030"
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        # Not one document (or one Python cannot hold: nesting too deep, an integer of
        # thousands of digits): its lines are judged one by one.
        return None
    if encoding:
        source.notes["encoding"] = encoding
    return _document_items(doc), len(raw)


class _Prefixed:
    """A reader that first replays bytes already read for sniffing."""

    def __init__(self, first: bytes, reader: object):
        self._first = first
        self._reader = reader

    def read(self, size: int) -> bytes:
        if self._first:
            out, self._first = self._first, b""
            return out
        return self._reader.read(size)  # type: ignore[attr-defined,no-any-return]


def _may_be_document(first: bytes) -> bool:
    """Whether the file may be one JSON document (an array, a pretty-printed page): it
    starts like one and its first line is not a whole JSON value by itself."""
    stripped = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return True
    if not stripped.startswith(b"{"):
        return False
    line = stripped.split(b"\n", 1)[0]
    try:
        json.loads(line)
        return False
    except (ValueError, RecursionError):
        return True


def _document_items(doc: object) -> list[object]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in weibo_sql.PAGE_KEYS:
            if isinstance(doc.get(key), list):
                return list(doc[key])
        return [doc]
    return [doc]


def map_chunk(
    con: duckdb.DuckDBPyConnection,
    chunk: LineChunk,
    source: Source,
    opts: ReadOptions,
    kinds: ChunkKinds | None = None,
) -> Batch:
    batch = Batch(rejects=list(chunk.rejects), empty=chunk.empty, bytes_read=chunk.bytes_read)
    kinds = kinds if kinds is not None else ChunkKinds()
    if not kinds.seen and chunk.table.num_rows:
        # A file's first record is a good guess of what the file holds (user dumps,
        # comment dumps, API pages): start from it rather than map the chunk twice.
        kinds.widen(ChunkKinds.guess(chunk.table.column("text")[0].as_py()))
    kinds.seen = True
    # Items of a JSON document are numbered by the reader; lines of a file are item 0.
    item = "item" if "item" in chunk.table.column_names else "0"
    # Record batches of a few thousand rows let DuckDB scan the chunk on every core.
    table = chunk.table
    con.register("chunk", pa.Table.from_batches(table.to_batches(4096), schema=table.schema))
    try:
        # Comment objects, bare user objects and API pages are rare in status dumps;
        # they are mapped only when a chunk holds one. Each chunk starts from what the
        # file's earlier chunks held; a kind first seen (by the markers of the mapping,
        # or a record that maps as a user) means mapping the chunk again.
        # Lines are mapped as they are; only when one is not JSON (which fails the whole
        # statement) are the bad lines found and set aside.
        empty = batch.empty
        invalid: list[tuple[int, int, str]] = []
        bad_lines: list[int] = []
        while True:
            batch.empty = empty  # _records_sql counts empty pages anew on each pass
            try:
                source_sql, summary = _map(con, item, kinds, batch, bad_lines)
            except duckdb.InvalidInputException:
                if bad_lines:
                    raise
                invalid = con.execute(
                    f"SELECT line, ({item})::BIGINT, text FROM chunk WHERE NOT json_valid(text)"
                ).fetchall()
                if not invalid:
                    raise
                bad_lines = [line for line, _, _ in invalid]
                continue
            records, problems, comments, users, pages = summary
            if not kinds.widen(ChunkKinds(comments=comments, users=users, pages=pages)):
                break
        for line, it, raw in invalid:
            if raw.strip():
                batch.rejects.append(_malformed(line, it, raw))
            else:
                batch.empty += 1
        batch.records_read = (
            records + sum(1 for _, _, raw in invalid if raw.strip()) + len(chunk.rejects)
        )
        if problems:
            for line, it, problem, raw in con.execute(
                f"SELECT m.line, m.item, m.problem, r.text FROM mapped AS m "
                f"JOIN ({source_sql}) AS r USING (line, item) "
                "WHERE m.problem IS NOT NULL ORDER BY m.line, m.item"
            ).fetchall():
                batch.rejects.append(
                    Reject(
                        line=line, item=it, reason=problem, field=_field_of(problem), raw=raw[:2000]
                    )
                )
        _entities_into(con, batch, source, opts, kinds.comments, kinds.users)
    finally:
        con.unregister("chunk")
        con.execute("DROP TABLE IF EXISTS mapped")
        con.execute("DROP TABLE IF EXISTS recs")
    return batch


@dataclass
class ChunkKinds:
    """Which rare kinds of record a file's chunks have held so far."""

    comments: bool = False
    users: bool = False
    pages: bool = False
    seen: bool = False  # has a chunk of the file been mapped yet

    @staticmethod
    def guess(text: str) -> ChunkKinds:
        """What one record's text says (a key's name anywhere in it means maybe)."""
        return ChunkKinds(
            comments=any(f'"{k}"' in text for k in weibo_sql.COMMENT_KEYS),
            users='"text"' not in text,
            pages=any(f'"{k}"' in text for k in weibo_sql.PAGE_KEYS),
        )

    def widen(self, seen: ChunkKinds) -> bool:
        """Add the kinds seen; True if one was new."""
        before = (self.comments, self.users, self.pages)
        self.comments |= seen.comments
        self.users |= seen.users
        self.pages |= seen.pages
        return (self.comments, self.users, self.pages) != before


def _map(
    con: duckdb.DuckDBPyConnection, item: str, kinds: ChunkKinds, batch: Batch, bad_lines: list[int]
) -> tuple[str, tuple[int, int, bool, bool, bool]]:
    """Map the chunk's records into the temp table `mapped`; return their source SQL and
    (records, records with a problem, any comment, any user record, any API page)."""
    source_sql = _records_sql(con, item, bad_lines, kinds.pages, batch)
    # The wide mapped table stays inside DuckDB: converting it to Arrow cost more
    # than mapping it. Only the rows of each table leave (_entities_into).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE mapped AS "
        + weibo_sql.mapped_query(kinds.comments, kinds.users, source_sql)
    )
    row = con.execute(
        "SELECT count(*), count(problem), coalesce(bool_or(comment_mark), false), "
        "coalesce(bool_or(kind = 'user'), false), coalesce(bool_or(page_mark), false) "
        "FROM mapped"
    ).fetchone()
    assert row is not None
    return source_sql, (int(row[0]), int(row[1]), bool(row[2]), bool(row[3]), bool(row[4]))


def _records_sql(
    con: duckdb.DuckDBPyConnection, item: str, bad_lines: list[int], has_pages: bool, batch: Batch
) -> str:
    """SQL for the records of a chunk: (line, item, text), pages expanded, bad JSON left out."""
    where = ""
    if bad_lines:
        con.register("bad_json", pa.table({"line": pa.array(bad_lines, pa.int64())}))
        where = "WHERE line NOT IN (SELECT line FROM bad_json)"
    plain = f"SELECT line, ({item})::BIGINT AS item, text FROM chunk {where}"
    if not has_pages:
        return plain
    page_test = " OR ".join(f"json_type(text, '$.{k}') = 'ARRAY'" for k in weibo_sql.PAGE_KEYS)
    page_items = " || ".join(
        f"coalesce(json_extract(text, '$.{k}[*]'), [])" for k in weibo_sql.PAGE_KEYS
    )
    # Pages are rare: materialise the expanded records once.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE recs AS
        SELECT line, item, text FROM ({plain}) WHERE NOT coalesce({page_test}, false)
        UNION ALL
        SELECT line, unnest(range(len(arr)))::BIGINT AS item, unnest(arr)::VARCHAR AS text
        FROM (SELECT line, {page_items} AS arr FROM ({plain}) WHERE {page_test})"""
    )
    batch.empty += _scalar(
        con, f"SELECT count(*) FROM ({plain}) WHERE ({page_test}) AND len({page_items}) = 0"
    )
    return "SELECT line, item, text FROM recs"


def _fast_batch(fast: sina_fast.FastChunk, size: int, source: Source, opts: ReadOptions) -> Batch:
    batch = Batch(records_read=fast.records, empty=fast.empty, bytes_read=size)
    _fill(batch, source, opts, (fast.posts, fast.reposted), fast.users, None)
    return batch


def _entities_into(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    source: Source,
    opts: ReadOptions,
    comments: bool,
    users: bool,
) -> None:
    def fetch(kind: str) -> pa.Table | None:
        sql = weibo_sql.entity_query(kind, comments, users)
        if sql is None:
            return None
        return con.execute(sql).to_arrow_table()

    posts = fetch("posts")
    if posts is not None:
        is_record = pc.equal(posts.column("role"), "p")
        posts = posts.append_column("mid", ids_to_mids(posts.column("post_id")))
        split = (posts.filter(is_record), posts.filter(pc.invert(is_record)))
    _fill(
        batch,
        source,
        opts,
        split if posts is not None else None,
        fetch("users"),
        fetch("interactions"),
    )


def _fill(
    batch: Batch,
    source: Source,
    opts: ReadOptions,
    posts: tuple[pa.Table, pa.Table] | None,
    people: pa.Table | None,
    interactions: pa.Table | None,
) -> None:
    """Put a chunk's mapped rows (columns of weibo_sql.entity_query) into the batch; posts
    with their `mid`, split into the records themselves and the posts they carry."""
    when = source.observed_at

    def stamp(data: pa.Table, *cols: str) -> pa.Table:
        for col in cols:
            data = data.append_column(col, model.constant(when, model.TS, data.num_rows))
        return data.append_column("platform", model.constant("weibo", pa.string(), data.num_rows))

    def split(data: pa.Table, primary_role: str) -> tuple[pa.Table, pa.Table]:
        is_primary = pc.equal(data.column("role"), primary_role)
        return data.filter(is_primary), data.filter(pc.invert(is_primary))

    if posts is not None:
        primary, secondary = (stamp(p, "counts_observed_at") for p in posts)
        if primary.num_rows:
            batch.primary["posts"] = primary
            if opts.timeline:
                batch.secondary["timeline_sightings"] = pa.table(
                    {
                        "platform": primary.column("platform"),
                        "account_id": primary.column("author_id"),
                        "post_id": primary.column("post_id"),
                        "observed_at": model.constant(when, model.TS, primary.num_rows),
                    }
                ).filter(primary.column("author_id").is_valid())
        if secondary.num_rows:
            batch.secondary["posts"] = secondary
    if people is not None and people.num_rows:
        people = stamp(people, "profile_observed_at", "observed_at")
        batch.secondary["accounts"] = people.drop_columns(["created_at"]).append_column(
            "created_at", people.column("created_at")
        )
        counted = people.filter(people.column("followers").is_valid())
        primary, secondary = split(counted, "u")
        if primary.num_rows:
            batch.primary["account_observations"] = primary
        if secondary.num_rows:
            batch.secondary["account_observations"] = secondary
    if interactions is not None and interactions.num_rows:
        primary, secondary = split(stamp(interactions), "p")
        if primary.num_rows:
            batch.primary["interactions"] = primary
        if secondary.num_rows:
            batch.secondary["interactions"] = secondary


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _field_of(problem: str) -> str | None:
    if problem.startswith("field '"):
        return problem.split("'", 2)[1]
    return None


def _malformed(line: int, item: int, text: str) -> Reject:
    try:
        json.loads(text)
        # Python's parser takes what DuckDB's refuses only in a few corners.
        reason = (
            "malformed JSON: a lone surrogate escape (\\ud800-\\udfff without its pair)"
            if _LONE_SURROGATE.search(text)
            else "malformed JSON"
        )
    except json.JSONDecodeError as exc:
        reason = f"malformed JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        reason = "malformed JSON: nested too deeply"
    except ValueError as exc:  # an integer of more digits than Python converts
        reason = f"malformed JSON: {' '.join(str(exc).split())[:200]}"
    return Reject(line=line, item=item, reason=reason, raw=text[:2000])


_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# DuckDB's errors that concern the data of a chunk (not the SQL): a chunk that raises one
# is mapped again in halves, down to the one record that does, which is quarantined.
_DATA_ERRORS = (
    duckdb.InvalidInputException,
    duckdb.OutOfMemoryException,
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
)


def map_safely(
    con: duckdb.DuckDBPyConnection,
    chunk: LineChunk,
    source: Source,
    opts: ReadOptions,
    kinds: ChunkKinds | None = None,
) -> Iterator[Batch]:
    """map_chunk, with a chunk that fails in DuckDB (out of memory on a huge record, a
    value its JSON reader refuses although json_valid passed it) mapped again in halves,
    so that only the record at fault is quarantined, with DuckDB's reason."""
    kinds = kinds if kinds is not None else ChunkKinds()
    try:
        yield map_chunk(con, chunk, source, opts, kinds)
        return
    except _DATA_ERRORS as exc:
        error = exc
    table = chunk.table
    if table.num_rows <= 1:
        reject = [_unmappable(table, error)] if table.num_rows else []
        yield Batch(
            rejects=chunk.rejects + reject,
            records_read=len(chunk.rejects) + len(reject),
            empty=chunk.empty,
            bytes_read=chunk.bytes_read,
        )
        return
    half = table.num_rows // 2
    first = LineChunk(
        table=table.slice(0, half),
        empty=chunk.empty,
        bytes_read=chunk.bytes_read,
        rejects=chunk.rejects,
    )
    yield from map_safely(con, first, source, opts, kinds)
    yield from map_safely(con, LineChunk(table=table.slice(half)), source, opts, kinds)


def _unmappable(table: pa.Table, error: Exception) -> Reject:
    row = table.slice(0, 1).to_pylist()[0]
    message = " ".join(str(error).split())[:300]
    return Reject(
        line=int(row["line"]),
        item=int(row.get("item") or 0),
        reason=f"record cannot be mapped: {message}",
        raw=str(row["text"])[:2000],
    )
