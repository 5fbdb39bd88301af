"""Decide, per account, whether it is government and what kind, sector, level and place.

The decision is Ibis expressions over the accounts table (see `match.py` for the term
matching; the caller materialises the prepared accounts and the term hits once), so it
runs vectorised on DuckDB, or on Spark through Ibis.
Decision order (first that applies), recorded as `rule=` in the evidence:

1. verified_type 1 (Sina: government)                       -> government
2. verified_type 2-7 (enterprise, media, campus, website, …) -> not government
3. a media / school / enterprise / NGO word in reason or name -> not government
4. a post title plus an organ or sector word (副局长 + 公安局) -> government (official);
   with a personal role such as 律师 present, only a named organ counts
5. a personal non-government role (演员, 教授, 人大代表)      -> not government
6. an organ word or organ suffix in reason or name            -> government (agency)
7. a family name pattern with a place or sector (平安北京)     -> government
   (7b. no verified_type, a place or central marker and a specific sector word in the
   name or reason, e.g. 上海高院 or 中国维和警察                -> government)
8. description says "<organ> 官方微博" and nothing non-government -> government
9. otherwise                                                   -> not government
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from govweibo.reference import provinces
from govweibo.registry.english import EnglishRules, decide_en
from govweibo.registry.match import aggregate_signals, drop_contained
from govweibo.registry.ruleset import RuleSet

GOV_RULES = (
    "verified_type_gov",
    "official_title",
    "organ_name",
    "family_name",
    "place_sector_name",
    "description",
)
STRONG_SECTOR = 70  # a keyword this specific, with a place, names an organ
NONGOV_TYPES = (2, 3, 4, 5, 6, 7)
LEVEL_NAMES = {1: "provincial", 2: "prefecture", 3: "county"}
OUTPUT_COLUMNS = (
    "platform",
    "account_id",
    "is_government",
    "confidence",
    "evidence",
    "kind",
    "sector",
    "level",
    "province",
    "region",
    "family",
)


def _col(t: ir.Table, name: str, typ: str) -> ir.Value:
    return t[name].cast(typ) if name in t.columns else ibis.null(typ)


def prepare(accounts: ir.Table, order_by: Sequence[str] = ()) -> ir.Table:
    """The columns the classifier reads, and a row key `k` (materialise before reuse).

    Texts are only null-filled: case and whitespace do not matter to the matcher (ASCII
    terms are in the lexicon in both cases), and string functions cost ~1 s per column
    per million accounts on DuckDB.

    `k` numbers the rows in `order_by` (columns of `accounts`, e.g. an input position),
    else by the natural key (one row per account is assumed). An unordered row_number()
    is whatever order the engine scans in (on Spark it changes with the partitioning),
    and the output is sorted by `k`, so it must not depend on the engine.
    """

    def text(name: str) -> ir.StringValue:
        return _col(accounts, name, "string").fill_null("")

    t = accounts.select(
        *[accounts[c] for c in order_by],
        platform=_col(accounts, "platform", "string"),
        account_id=_col(accounts, "account_id", "string"),
        vt=_col(accounts, "verified_type", "int32"),
        r=text("verified_reason"),
        n=text("screen_name"),
        d=text("description"),
        u=text("url"),  # for the English rules (a Mastodon account's home instance)
        pcode=_col(accounts, "province_code", "string"),
        loc=_col(accounts, "location", "string"),
    )
    keys = list(order_by) or ["platform", "account_id"]
    # Nulls last, spelled out: DuckDB and Spark default to opposite ends (a missing
    # platform column is all nulls).
    t = t.mutate(k=ibis.row_number().over(order_by=[ibis.asc(c, nulls_first=False) for c in keys]))
    return t.drop(*order_by)


def _level_of(rank: ir.Value) -> ir.Value:
    return rank.cases(*LEVEL_NAMES.items(), else_=ibis.null("string"))


def _part(label: str, value: ir.Value, detail: ir.Value | None = None) -> ir.StringValue:
    """'label=value <- detail; ' or '' when value is null."""
    text = ibis.literal(label + "=") + value.cast("string")
    if detail is not None:
        text = text + ibis.ifelse(detail.isnull(), "", " <- " + detail.cast("string"))
    return (text + "; ").fill_null("")


def decide(base: ir.Table, sig: ir.Table, rules: RuleSet) -> ir.Table:
    """Join the signals to the accounts and apply the decision order.

    Built in stages (each `mutate` refers to the previous stage's columns) so that the
    generated SQL computes every regex and CASE once.
    """
    t = base.left_join(sig, base.k == sig.k)
    t = t.drop(*[c for c in ("k_right",) if c in t.columns])
    n = t.n.strip()
    fam_cases = []
    for f in rules.families:
        affix = f.prefix or f.suffix or ""
        cond = n.startswith(affix) if f.prefix else n.endswith(affix)
        fam_cases.append((cond & (n.length() > len(affix)), f.name))
    suffix = rules.scalar("agency", "suffix_regex")

    def lvl(code: str) -> ir.Value:
        place, county = t[f"plevel_{code}"].cast("int32"), t[f"county_{code}"]
        return ibis.cases((county.notnull() & (place.isnull() | (place < 3)), 3), else_=place)

    t = t.mutate(
        lvl_r=lvl("r"),
        lvl_n=lvl("n"),
        family=ibis.cases(*fam_cases, else_=ibis.null("string"))
        if fam_cases
        else ibis.null("string"),
        rcore=t.r.strip().re_replace(rules.scalar("agency", "mark_strip_regex"), ""),
        n_suffix=n.re_search(suffix),
    )
    fam_sector_map = {f.name: f.sector for f in rules.families if f.sector}
    t = t.mutate(
        place_any=t.lvl_r.notnull() | t.lvl_n.notnull(),
        r_suffix=t.rcore.re_search(suffix),
        fam_sector=t.family.substitute(fam_sector_map, else_=ibis.null("string"))
        if fam_sector_map
        else ibis.null("string"),
    )
    sector_any = t.sector_rn.notnull()
    t = t.mutate(organ_end=t.r_suffix | (t.n_suffix & (t.place_any | sector_any)))
    organ = t.organ_rn.notnull() | t.organ_end
    title = t.title_rn.notnull()
    vt = t.vt
    t = t.mutate(
        rule=ibis.cases(
            (vt == 1, "verified_type_gov"),
            (vt.isin(NONGOV_TYPES), "verified_type_nongov"),
            (t.neginst_rn.notnull(), "nongov_term"),
            # With a personal non-government role (律师, 教授) only a named organ makes an official.
            (title & (organ | (sector_any & t.negperson_rn.isnull())), "official_title"),
            (t.negperson_rn.notnull(), "nongov_person"),
            (organ, "organ_name"),
            (t.family.notnull() & (t.place_any | sector_any), "family_name"),
            (
                vt.isnull()
                & (t.place_any | t.central_r.notnull() | t.central_n.notnull())
                & (t.sprio_rn >= STRONG_SECTOR),
                "place_sector_name",
            ),
            (t.organ_d.notnull() & t.mark_d.notnull() & t.neg_d.isnull(), "description"),
            else_="no_signal",
        )
    )
    rule = t.rule
    is_gov = rule.isin(GOV_RULES)
    code_map = {p.sina_code: p.short_zh for p in provinces()}
    short_map = {p.short_zh: p.short_zh for p in provinces()}
    t = t.mutate(
        rule_gov=is_gov,
        rule_detail=rule.cases(
            ("nongov_term", t.neginst_rn),
            ("official_title", t.title_rn),
            ("nongov_person", t.negperson_rn),
            (
                "organ_name",
                ibis.coalesce(
                    t.organ_rn, t.rcore.re_extract(suffix, 0).nullif(""), n.re_extract(suffix, 0)
                ),
            ),
            ("family_name", t.family),
            ("place_sector_name", t.sterm_rn),
            ("description", t.organ_d),
            else_=ibis.null("string"),
        ),
        kind_c=ibis.cases(
            (vt == 1, "agency"),
            (vt == 0, "official"),
            (title & ~(t.mark_any.notnull() | t.organ_end), "official"),
            else_="agency",
        ),
        sector_c=ibis.coalesce(t.sector_rn, t.fam_sector, t.sector_d, ibis.literal("other")),
        sector_src=ibis.cases(
            (sector_any, t.sterm_rn),
            (t.fam_sector.notnull(), "family " + t.family),
            (t.sector_d.notnull(), "description " + t.sterm_d),
            else_="default",
        ),
        level_c=ibis.cases(
            (t.lvl_r.notnull(), _level_of(t.lvl_r)),
            (t.central_r.notnull(), "central"),
            (t.lvl_n.notnull(), _level_of(t.lvl_n)),
            (t.central_n.notnull(), "central"),
            else_=ibis.null("string"),
        ),
        level_src=ibis.cases(
            (t.lvl_r.notnull(), ibis.ifelse(t.plevel_r == t.lvl_r, t.pterm_r, t.county_r)),
            (t.central_r.notnull(), t.central_r),
            (t.lvl_n.notnull(), ibis.ifelse(t.plevel_n == t.lvl_n, t.pterm_n, t.county_n)),
            (t.central_n.notnull(), t.central_n),
            else_=ibis.null("string"),
        ),
        prov_name=ibis.coalesce(t.prov_r, t.prov_n),
        prov_code=t.pcode.strip().substitute(code_map, else_=ibis.null("string")),
        prov_loc=t.loc.strip()
        .re_extract(r"^(\S+)", 1)
        .substitute(short_map, else_=ibis.null("string")),
        rule_conf=ibis.cases(
            (
                rule == "verified_type_gov",
                ibis.ifelse(organ | sector_any | t.family.notnull(), 0.99, 0.97),
            ),
            (rule == "verified_type_nongov", 0.95),
            (rule == "nongov_term", 0.9),
            (rule == "official_title", ibis.ifelse(vt == 0, 0.9, 0.8)),
            (rule == "nongov_person", 0.85),
            (rule == "organ_name", ibis.ifelse(vt == -1, 0.6, 0.85)),
            (rule == "family_name", 0.7),
            (rule == "place_sector_name", 0.6),
            (rule == "description", 0.6),
            else_=ibis.ifelse(vt.isnull(), 0.7, 0.9),
        )
        .cast("float64")
        .round(2),
    )
    blank = t.rule_gov & (t.level_c == "central") & ibis.literal(not rules.central_has_province)
    t = t.mutate(
        province_c=ibis.cases(
            (blank, ibis.null("string")),
            (t.prov_name.notnull(), t.prov_name),
            (t.prov_code.notnull(), t.prov_code),
            else_=t.prov_loc,
        ),
        prov_src=ibis.cases(
            (blank, "central organ"),
            (t.prov_name.notnull(), "name " + t.provterm_r.fill_null(t.provterm_n)),
            (t.prov_code.notnull(), "province_code " + t.pcode.strip()),
            (t.prov_loc.notnull(), "location " + t.loc.strip()),
            else_=ibis.null("string"),
        ),
    )
    return t.select(
        "platform",
        "account_id",
        "k",
        "rule_gov",
        "rule_conf",
        "rule",
        "rule_detail",
        "vt",
        "kind_c",
        "sector_c",
        "sector_src",
        "level_c",
        "level_src",
        "province_c",
        "prov_src",
        family_c=t.family,
    )


def finish(d: ir.Table, overrides: ir.Table | None, overrides_name: str) -> ir.Table:
    """Apply overrides, null the fields of non-government accounts, build the evidence."""
    if overrides is not None:
        o = overrides
        d = d.left_join(
            o,
            (d.account_id == o.o_account_id)
            & (o.o_platform.isnull() | (d.platform == o.o_platform)),
        )
        ov = d.o_account_id.notnull()
        gov = ibis.coalesce(d.o_is_gov, d.rule_gov)
        pick: dict[str, Any] = {
            name: ibis.coalesce(d[f"o_{name}"], d[f"{name}_c"])
            for name in ("kind", "sector", "level", "province", "family")
        }
        fields = [
            ibis.ifelse(d[f"o_{n}"].notnull(), f"{n} ", "")
            for n in ("is_gov", "kind", "sector", "level", "province", "family")
        ]
        changed = fields[0]
        for f in fields[1:]:
            changed = changed + f
        ov_text = ibis.ifelse(
            ov,
            "override="
            + ibis.literal(overrides_name)
            + " ("
            + changed.strip()
            + ibis.ifelse(d.o_note.notnull(), ": " + d.o_note, "")
            + "); ",
            "",
        )
        conf = ibis.ifelse(ov, 1.0, d.rule_conf)
        d = d.mutate(
            gov_f=gov, conf_f=conf, ov_text=ov_text, **{f"{k}_f": v for k, v in pick.items()}
        )
        gov, conf, ov_text = d.gov_f, d.conf_f, d.ov_text
        pick = {k: d[f"{k}_f"] for k in pick}
    else:
        gov = d.rule_gov
        pick = {name: d[f"{name}_c"] for name in ("kind", "sector", "level", "province", "family")}
        ov_text = ibis.literal("")
        conf = d.rule_conf
    region_map = {p.short_zh: p.region for p in provinces()}

    def gov_only(v: ir.Value) -> ir.Value:
        return ibis.ifelse(gov, v, ibis.null(v.type()))

    evidence = (
        ov_text
        + _part("rule", d.rule, d.rule_detail)
        + _part("verified_type", d.vt)
        + _part("sector", gov_only(pick["sector"]), d.sector_src)
        + _part("level", gov_only(pick["level"]), d.level_src)
        + _part("province", pick["province"], d.prov_src)
        + _part("family", gov_only(pick["family"]))
    ).re_replace(r";\s*$", "")
    out = d.select(
        platform=d.platform,
        account_id=d.account_id,
        is_government=gov,
        confidence=conf,
        evidence=evidence,
        kind=gov_only(pick["kind"]),
        sector=gov_only(pick["sector"]),
        level=gov_only(pick["level"]),
        province=pick["province"],
        region=pick["province"].substitute(region_map, else_=ibis.null("string")),
        family=gov_only(pick["family"]),
        _k=d.k,
    )
    return out.order_by("_k").drop("_k")


def with_english(zh: ir.Table, base: ir.Table, en: EnglishRules) -> ir.Table:
    """Accounts of the English rules' platforms take the English decision, unless it found
    nothing and the Chinese rules found a government organ (a Chinese profile on X)."""
    e = decide_en(base.filter(en.applies(base.platform)), en)
    z = zh.select(zk=zh.k, z_gov=zh.rule_gov)
    e2 = e.left_join(z, e.k == z.zk)
    use_zh = (e2.rule == "en_no_signal") & e2.z_gov.fill_null(False)
    keep_en = e2.filter(~use_zh).select(*zh.columns).cast(zh.schema())
    zh_ks = e2.filter(use_zh).select(k2=e2.k)
    keep_zh = zh.filter(~en.applies(zh.platform)).union(zh.semi_join(zh_ks, zh.k == zh_ks.k2))
    return keep_zh.union(keep_en)


def profiles_expr(
    base: ir.Table,
    hits: ir.Table,
    rules: RuleSet,
    overrides: ir.Table | None = None,
    overrides_name: str = "",
    *,
    english: bool = False,
) -> ir.Table:
    """The account_profiles expression from a materialised `prepare(...)` and its hits.

    Both inputs are reused several times, so the caller materialises them
    (`Table.cache()`): the row key must not be recomputed, and the term join is the
    costly step. `english`: some accounts belong to the English rules' platforms.
    """
    sig = aggregate_signals(drop_contained(hits))
    d = decide(base, sig, rules)
    if english and rules.english is not None:
        d = with_english(d, base, rules.english)
    return finish(d, overrides, overrides_name)


def overrides_label(path: str | Path) -> str:
    return Path(path).name
