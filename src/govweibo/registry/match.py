"""Vectorised term matching: account texts joined against the rule lexicon.

Each text (verified reason, screen name, description) is cut into 2-character windows;
a window is joined to the lexicon terms starting with those two characters, and a term
matches where the text continues with the rest of it. A match inside a longer match of
the same text is dropped (大兴 inside 大兴安岭, 新闻 inside 新闻办). The per-account
aggregates then give the signals the decision step combines. Everything is Ibis, so the
same expressions run on DuckDB or Spark; no regex over thousands of names (RE2 falls
back to a slow path with such patterns).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

# Field codes and how many characters of each are searched.
REASON, NAME, DESC = 0, 1, 2
MAX_CHARS = {REASON: 48, NAME: 30, DESC: 60}


def find_hits(base: ir.Table, lexicon: ir.Table) -> ir.Table:
    """Every lexicon term found in every text: one row per (account k, field, position)."""
    parts = []
    for code, col in ((REASON, "r"), (NAME, "n"), (DESC, "d")):
        part = base.select(
            k=base.k,
            f=ibis.literal(code, "int8"),
            txt=base[col],
            tl=ibis.least(base[col].length(), MAX_CHARS[code]),
        )
        parts.append(part.filter(part.tl >= 2))
    texts = ibis.union(*parts)
    windows = texts.mutate(s=ibis.range(0, texts.tl - 1).unnest())
    windows = windows.mutate(pre=windows.txt.substr(windows.s, 2))
    joined = windows.join(lexicon, windows.pre == lexicon.lpre)
    hits = joined.filter(joined.txt.substr(joined.s, joined.ln) == joined.term)
    return hits.select(
        "k",
        "f",
        "s",
        "ln",
        "term",
        "plevel",
        "pprov",
        "sector",
        "sprio",
        "neg",
        "organ",
        "mark",
        "title",
        "central",
        "county",
        e=hits.s + hits.ln,
    )


def drop_contained(hits: ir.Table) -> ir.Table:
    """Matches not inside a longer match of the same text (longest match wins)."""
    outer = hits.select(k2=hits.k, f2=hits.f, s2=hits.s, e2=hits.e, ln2=hits.ln)
    return hits.anti_join(
        outer,
        [
            hits.k == outer.k2,
            hits.f == outer.f2,
            outer.s2 <= hits.s,
            outer.e2 >= hits.e,
            outer.ln2 > hits.ln,
        ],
    )


def aggregate_signals(m: ir.Table) -> ir.Table:
    """Per-account signals from the matches (terms kept for the evidence string)."""
    rn = m.f < DESC
    is_place = m.plevel.notnull()
    # Priority, then the rightmost (head) keyword; reason and name can tie on both, so then
    # the longer term, then the reason: argmax of a tie is whatever row the engine sees
    # first, which differs between DuckDB and Spark.
    sector_key = m.sprio * 1_000_000 + m.s * 1000 + m.ln * 2 + (m.f == REASON).cast("int32")
    aggs: dict[str, Any] = {}
    for code, tag in ((REASON, "r"), (NAME, "n")):
        in_f = m.f == code
        aggs[f"plevel_{tag}"] = m.plevel.max(where=in_f)
        aggs[f"pterm_{tag}"] = m.term.argmax(m.plevel * 1000 - m.s, where=in_f & is_place)
        has_prov = in_f & m.pprov.notnull()
        aggs[f"prov_{tag}"] = m.pprov.argmin(m.s, where=has_prov)
        aggs[f"provterm_{tag}"] = m.term.argmin(m.s, where=has_prov)
        aggs[f"county_{tag}"] = m.term.argmin(m.s, where=in_f & m.county)
        aggs[f"central_{tag}"] = m.term.argmin(m.s, where=in_f & m.central)
    aggs.update(
        sector_rn=m.sector.argmax(sector_key, where=rn & m.sector.notnull()),
        sterm_rn=m.term.argmax(sector_key, where=rn & m.sector.notnull()),
        sprio_rn=m.sprio.max(where=rn & m.sector.notnull()),
        sector_d=m.sector.argmax(sector_key, where=(m.f == DESC) & m.sector.notnull()),
        sterm_d=m.term.argmax(sector_key, where=(m.f == DESC) & m.sector.notnull()),
        organ_rn=m.term.argmin(m.f * 1000 + m.s, where=rn & m.organ),
        organ_d=m.term.argmin(m.s, where=(m.f == DESC) & m.organ),
        title_rn=m.term.argmin(m.f * 1000 + m.s, where=rn & m.title),
        mark_any=m.term.argmin(m.f * 1000 + m.s, where=m.mark),
        mark_d=m.term.argmin(m.s, where=(m.f == DESC) & m.mark),
        neginst_rn=m.term.argmin(
            m.f * 1000 + m.s, where=rn & m.neg.notnull() & (m.neg != "person")
        ),
        negperson_rn=m.term.argmin(m.f * 1000 + m.s, where=rn & (m.neg == "person")),
        neg_d=m.term.argmin(m.s, where=(m.f == DESC) & m.neg.notnull()),
    )
    return m.group_by("k").aggregate(**aggs)
