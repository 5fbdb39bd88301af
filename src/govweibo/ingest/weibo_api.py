"""Sina Weibo open-API JSON: statuses, comments and users; lines, arrays, pages, .gz.

Python cuts the file into numbered lines; DuckDB parses and maps the JSON (see
weibo_sql). Only the rare broken line is looked at again in Python, to say
exactly what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.errors import IngestError
from govweibo.ingest import weibo_sql
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.lines import LineChunk, iter_line_chunks
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
            for macro in weibo_sql.MACROS:
                con.execute(macro)
            reader = source.open()
            first = reader.read(min(opts.chunk_bytes, 1 << 16))
            is_document = _looks_like_document(first)
            rest = _Prefixed(first, reader)
            if is_document:
                yield from self._read_document(con, source, rest, opts)
                return
            gb = 0
            for chunk in iter_line_chunks(rest, opts.chunk_bytes):  # type: ignore[arg-type]
                gb += chunk.gb18030_lines
                yield map_chunk(con, chunk, source, opts)
            if gb:
                source.notes["gb18030_lines"] = gb
        finally:
            con.close()

    def _read_document(
        self, con: duckdb.DuckDBPyConnection, source: Source, rest: _Prefixed, opts: ReadOptions
    ) -> Iterator[Batch]:
        parts = []
        size = 0
        while block := rest.read(opts.chunk_bytes):
            size += len(block)
            if size > MAX_DOCUMENT_BYTES:
                raise IngestError(
                    f"{source.path}: a single JSON document over {MAX_DOCUMENT_BYTES >> 20} MB; "
                    "convert it to JSON lines (one object per line) to stream it"
                )
            parts.append(block)
        raw = b"".join(parts)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030", errors="strict")
            source.notes["encoding"] = "gb18030"
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Batch(
                rejects=[
                    Reject(
                        line=exc.lineno,
                        item=0,
                        reason=f"malformed JSON document: {exc.msg} (line {exc.lineno}, "
                        f"column {exc.colno})",
                        raw=text[:2000],
                    )
                ],
                records_read=1,
                bytes_read=len(raw),
            )
            return
        items = _document_items(doc)
        lines = [json.dumps(it, ensure_ascii=False) for it in items]
        # Items of a document are located by their index; line 0 means "whole file".
        table = pa.table(
            {
                "line": pa.array([0] * len(lines), pa.int64()),
                "text": pa.array(lines, pa.large_string()),
            }
        )
        chunk = LineChunk(table=table, bytes_read=len(raw))
        yield map_chunk(con, chunk, source, opts, item_index=True)


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


def _looks_like_document(first: bytes) -> bool:
    stripped = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return True
    if not stripped.startswith(b"{"):
        return False
    line = stripped.split(b"\n", 1)[0]
    try:
        json.loads(line)
        return False
    except (json.JSONDecodeError, UnicodeDecodeError):
        return b"\n" in stripped  # a pretty-printed object spans lines


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
    *,
    item_index: bool = False,
) -> Batch:
    batch = Batch(rejects=list(chunk.rejects), empty=chunk.empty, bytes_read=chunk.bytes_read)
    con.register("chunk", chunk.table)
    item = "row_number() OVER () - 1" if item_index else "0"
    text = chunk.table.column("text")
    # Most files hold no API pages; only look for them where a page key occurs.
    # Comment objects are rare in status dumps; their branches are parsed only when
    # a chunk may hold one.
    comments = any(
        pc.any(pc.match_substring(text, k)).as_py() for k in ('"status"', '"reply_comment"')
    )
    has_pages = any(pc.any(pc.match_substring(text, f'"{k}"')).as_py() for k in weibo_sql.PAGE_KEYS)
    page_test = " OR ".join(f"json_type(text, '$.{k}') = 'ARRAY'" for k in weibo_sql.PAGE_KEYS)
    page_items = " || ".join(
        f"coalesce(json_extract(text, '$.{k}[*]'), [])" for k in weibo_sql.PAGE_KEYS
    )
    valid = "json_valid(text) AND trim(text) <> ''"
    if has_pages:
        recs = f"""SELECT line, ({item})::BIGINT AS item, text FROM chunk
            WHERE {valid} AND NOT ({page_test})
            UNION ALL
            SELECT line, unnest(range(len(arr)))::BIGINT AS item, unnest(arr)::VARCHAR AS text
            FROM (SELECT line, {page_items} AS arr FROM chunk WHERE {valid} AND ({page_test}))"""
    else:
        recs = f"SELECT line, ({item})::BIGINT AS item, text FROM chunk WHERE {valid}"
    counts = con.execute(
        f"""SELECT count(*) FILTER (WHERE trim(text) = ''),
                   count(*) FILTER (WHERE trim(text) <> '' AND NOT json_valid(text))
            {
            f", count(*) FILTER (WHERE {valid} AND ({page_test}) AND len({page_items}) = 0)"
            if has_pages
            else ", 0"
        }
            FROM chunk"""
    ).fetchone()
    assert counts is not None
    batch.empty += int(counts[0]) + int(counts[2])
    if counts[1]:
        for line, it, raw in con.execute(
            f"SELECT line, ({item})::BIGINT, text FROM chunk "
            "WHERE trim(text) <> '' AND NOT json_valid(text) ORDER BY line"
        ).fetchall():
            batch.rejects.append(_malformed(line, it, raw))
    # One materialisation: parse once, classify, check.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE v AS
        SELECT line, item, s, kind, {weibo_sql.problem_expr(comments)} AS problem FROM (
            SELECT line, item, s, {weibo_sql.kind_expr(comments)} AS kind FROM (
                SELECT line, item,
                       json_transform(text, '{weibo_sql.top_structure(comments)}') AS s
                FROM ({recs})))"""
    )
    batch.records_read = _scalar(con, "SELECT count(*) FROM v") + len(batch.rejects)
    for line, it, problem, text in con.execute(
        f"SELECT v.line, v.item, v.problem, recs.text FROM v JOIN ({recs}) AS recs "
        "USING (line, item) WHERE v.problem IS NOT NULL ORDER BY v.line, v.item"
    ).fetchall():
        batch.rejects.append(
            Reject(line=line, item=it, reason=problem, field=_field_of(problem), raw=text[:2000])
        )
    params = {"observed_at": source.observed_at}
    for table, parts in weibo_sql.output_queries(opts.timeline, comments).items():
        for role in ("primary", "secondary"):
            if not parts[role]:
                continue
            sql = " UNION ALL ".join(f"({q})" for q in parts[role])
            data = con.execute(sql, params if "$observed_at" in sql else {}).to_arrow_table()
            if data.num_rows:
                target = batch.primary if role == "primary" else batch.secondary
                target[table] = data
    con.execute("DROP TABLE IF EXISTS v")
    con.unregister("chunk")
    return batch


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
        reason = "malformed JSON"
    except json.JSONDecodeError as exc:
        reason = f"malformed JSON: {exc.msg} at column {exc.colno}"
    return Reject(line=line, item=item, reason=reason, raw=text[:2000])
