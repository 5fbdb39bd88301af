"""English rules for Mastodon and X accounts (rule files with lang = "en").

Less certain than the Chinese rules (see docs/registry.md). They use the platform's
verification signals where they exist (X's grey "government" check, a Mastodon account
on a government-run instance or with a verified link to a government domain) and
otherwise words in the name and bio and links to government domains. English words are
few (tens, not thousands of place names), so they are matched with one RE2 regex per
word list, not with the lexicon join the Chinese rules need.

The decision gives the same columns as `classify.decide`, so both go through the same
`finish` (overrides, evidence); rule names start with `en_`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from govweibo.errors import ConfigError
from govweibo.registry.groups import add_groups

RULE_NAMES = (
    "verified_type_gov",
    "government_instance",
    "verified_link_gov",
    "verified_type_nongov",
    "multilateral",
    "representative",
    "disclaimer",
    "nongov_term",
    "official_title",
    "nongov_person",
    "organ_name",
    "gov_link",
    "description",
    "no_signal",
)
GOV_RULES = tuple(
    "en_" + r
    for r in (
        "verified_type_gov",
        "government_instance",
        "verified_link_gov",
        "official_title",
        "organ_name",
        "gov_link",
        "description",
    )
)
_LISTS = {
    ("agency", "terms"),
    ("agency", "marks"),
    ("official", "titles"),
    ("official", "strong_titles"),
    ("official", "office_terms"),
    ("central", "terms"),
    ("provincial", "terms"),
    ("disclaimer", "terms"),
    ("representative", "terms"),
    ("domains", "government"),
    ("domains", "central"),
    ("instances", "government"),
    ("verified", "government_types"),
    ("verified", "nongov_types"),
}
_RX_SPECIAL = set("\\.^$|?*+()[]{}")
BIO_CHARS = 400  # a profile's bio and fields; longer texts are cut (as the Chinese 60)


@dataclass
class EnglishRules:
    """Merged English rule files; `platforms` are the platforms they classify."""

    platforms: list[str] = field(default_factory=list)
    lists: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    nongov: dict[str, list[str]] = field(default_factory=dict)
    # (sector, priority, keywords) per [[sector]] block: blocks of one sector may differ
    # in priority (press-office words rank low, a press agency high).
    sectors: list[tuple[str, int, list[str]]] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)
    link_prefix: str = "mastodon:verified-link"

    def merge(self, doc: dict[str, Any], path: Path, sector_names: tuple[str, ...]) -> None:
        def fail(msg: str) -> ConfigError:
            return ConfigError(f"rules file {path}: {msg}")

        for key, value in doc.items():
            if key == "lang":
                continue
            if key == "platform":
                items = [value] if isinstance(value, str) else list(value)
                self.platforms.extend(p for p in items if p not in self.platforms)
            elif key == "confidence":
                for rule, conf in value.items():
                    if rule not in RULE_NAMES:
                        raise fail(f"[confidence] has unknown rule {rule!r}")
                    self.confidence[rule] = float(conf)
            elif key == "group":
                add_groups(self.nongov, value, fail)
            elif key == "sector":
                for block in value:
                    name = block.get("name")
                    if name not in sector_names:
                        raise fail(f"unknown sector {name!r} (known: {', '.join(sector_names)})")
                    prio = int(block.get("priority", 50))
                    self.sectors.append((name, prio, list(block.get("keywords", ()))))
            elif isinstance(value, dict):
                for sub, v in value.items():
                    if (key, sub) == ("verified", "link_prefix"):
                        self.link_prefix = str(v)
                    elif (key, sub) in _LISTS:
                        self.lists.setdefault((key, sub), []).extend(v)
                    else:
                        raise fail(f"unknown key [{key}].{sub}")
            else:
                raise fail(f"unknown key {key!r}")
        missing = [r for r in RULE_NAMES if r not in self.confidence]
        if missing:
            raise fail(f"[confidence] lacks {', '.join(missing)}")

    def list(self, section: str, key: str) -> list[Any]:
        return self.lists.get((section, key), [])

    def applies(self, platform: ir.StringValue) -> ir.BooleanValue:
        """True for accounts of the platforms these rules classify."""
        cond = ibis.literal(False)
        for p in self.platforms:
            cond = cond | (platform == p) | platform.startswith(p + ":")
        return cond


def _escape(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            if not out or out[-1] != r"\s+":
                out.append(r"\s+")
        elif ch in _RX_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _word(ch: str) -> bool:
    # RE2's \b is ASCII: only put one beside an ASCII letter or digit.
    return ch.isascii() and ch.isalnum()


def terms_regex(terms: list[str]) -> str | None:
    """One case-insensitive RE2 regex with a capture group, longest terms first."""
    parts = []
    # Longest first (RE2 takes the first alternative that matches), then alphabetical,
    # so the regex, and the term it reports, is the same in every process.
    unique = {t.strip().lower() for t in terms if t.strip()}
    for term in sorted(unique, key=lambda t: (-len(t.rstrip("*")), t)):
        prefix = term.endswith("*")
        body = term.rstrip("*").strip()
        if not body:
            continue
        left = r"\b" if _word(body[0]) else ""
        right = "" if prefix or not _word(body[-1]) else r"\b"
        parts.append(left + _escape(body) + right)
    return "(?i)(" + "|".join(parts) + ")" if parts else None


def _suffixes(domains: list[str]) -> str:
    alts = []
    unique = {d.strip().lower().strip(".") for d in domains if d.strip()}
    for d in sorted(unique, key=lambda d: (len(d), d)):
        label = r"(?:[a-z0-9-]+\.)" + ("*" if "." in d else "+")  # 'gov' alone is no host
        alts.append(label + _escape(d))
    return "(?:" + "|".join(alts) + ")"


def domain_regexes(domains: list[str]) -> tuple[str, str]:
    """(a government host anywhere in a text, a host that is one) as RE2 regexes."""
    sfx = _suffixes(domains)
    # Not followed by more host (bund.de.example is no bund.de), a sentence's full stop is.
    text = r"(?i)(?:^|[^a-z0-9.\-])(" + sfx + r")(?:$|[^a-z0-9.\-]|\.(?:$|[^a-z0-9]))"
    return text, r"(?i)^" + sfx + "$"


def _extract(text: ir.StringValue, rx: str | None) -> ir.StringValue:
    """The first match of a terms regex, or '' (also for an empty list)."""
    if rx is None:
        return ibis.literal("")
    return text.re_extract(rx, 1).fill_null("")


def _found(value: ir.StringValue) -> ir.BooleanValue:
    return value != ""


def decide_en(base: ir.Table, en: EnglishRules) -> ir.Table:
    """The English decision for the accounts of `base` (already filtered to en.platforms).

    Same output columns as `classify.decide`. Built in stages so that each regex runs
    once per text.
    """
    conf = en.confidence
    name = base.n
    bio = base.d.substr(0, BIO_CHARS)
    both = name + "\n" + bio
    text_rx, host_rx = domain_regexes(en.list("domains", "government"))
    _, central_host_rx = domain_regexes(en.list("domains", "central") or ["invalid."])
    instances = [i.lower() for i in en.list("instances", "government")]
    host = base.u.re_extract(r"^[A-Za-z][A-Za-z0-9+.\-]*://([^/:?#@\s]+)", 1).lower()
    inst = ibis.literal(False)
    if instances:
        inst = host.isin(instances)
    inst = inst | (host.re_search(host_rx) & (base.platform.startswith("mastodon")))
    nongov_inst = [t for k, ts in en.nongov.items() if k not in ("person", "other_institution")
                   for t in ts]  # fmt: skip
    titles_rx = terms_regex(en.list("official", "titles"))
    strong_rx = terms_regex(en.list("official", "strong_titles"))
    organ_rx = terms_regex(en.list("agency", "terms"))
    sectors = sorted(en.sectors, key=lambda b: -b[1])  # stable: file order on a tie
    t = base.mutate(
        e_inst=inst,
        e_host=host,
        e_vlink=base.r.startswith(en.link_prefix) & base.r.re_search(text_rx),
        e_vlink_host=ibis.ifelse(
            base.r.startswith(en.link_prefix), base.r.re_extract(text_rx, 1), ""
        ),
        e_link=(bio + " " + base.u).re_extract(text_rx, 1).fill_null(""),
        e_office=_extract(both, terms_regex(en.list("official", "office_terms"))),
        e_multi=_extract(name, terms_regex(en.nongov.get("other_institution", []))),
        e_disc=_extract(both, terms_regex(en.list("disclaimer", "terms"))),
        e_neg=_extract(name, terms_regex(nongov_inst)),
        e_person=_extract(both, terms_regex(en.nongov.get("person", []))),
        e_strong=_extract(both, strong_rx),
        e_title=_extract(both, titles_rx),
        e_organ_n=_extract(name, organ_rx),
        e_organ_b=_extract(bio, organ_rx),
        e_mark_b=_extract(bio, terms_regex(en.list("agency", "marks"))),
        e_central_n=_extract(name, terms_regex(en.list("central", "terms"))),
        e_central_b=_extract(bio, terms_regex(en.list("central", "terms"))),
        e_prov_n=_extract(name, terms_regex(en.list("provincial", "terms"))),
        e_prov_b=_extract(bio, terms_regex(en.list("provincial", "terms"))),
        e_neg_b=_extract(bio, terms_regex(nongov_inst)),
        e_repr=_extract(both, terms_regex(en.list("representative", "terms"))),
        **{f"e_s{i}_n": _extract(name, terms_regex(kws)) for i, (_, _, kws) in
           enumerate(sectors)},
        **{f"e_s{i}_b": _extract(bio, terms_regex(kws)) for i, (_, _, kws) in
           enumerate(sectors)},
    )  # fmt: skip

    def first_sector(suffix: str) -> tuple[ir.Value, ir.Value]:
        cases = [(_found(t[f"e_s{i}_{suffix}"]), s) for i, (s, _, _) in enumerate(sectors)]
        terms = [(_found(t[f"e_s{i}_{suffix}"]), t[f"e_s{i}_{suffix}"])
                 for i in range(len(sectors))]  # fmt: skip
        if not cases:
            return ibis.null("string"), ibis.null("string")
        return (
            ibis.cases(*cases, else_=ibis.null("string")),
            ibis.cases(*terms, else_=ibis.null("string")),
        )

    sec_n, sterm_n = first_sector("n")
    sec_b, sterm_b = first_sector("b")
    t = t.mutate(sec_n=sec_n, sterm_n=sterm_n, sec_b=sec_b, sterm_b=sterm_b)
    # Hosts that can place an account at the central level: its government links, and a
    # Mastodon account's home instance when that is a government instance.
    t = t.mutate(
        e_central_host=ibis.cases(
            (t.e_link.re_search(central_host_rx), t.e_link),
            (t.e_vlink_host.re_search(central_host_rx), t.e_vlink_host),
            (t.e_inst & t.e_host.re_search(central_host_rx), t.e_host),
            else_="",
        )
    )
    vt = t.vt
    gov_types = [int(x) for x in en.list("verified", "government_types")]
    nongov_types = [int(x) for x in en.list("verified", "nongov_types")]
    organ_n, organ_b = _found(t.e_organ_n), _found(t.e_organ_b)
    organ_any = organ_n | organ_b
    sector_any = t.sec_n.notnull() | t.sec_b.notnull()
    strong, title = _found(t.e_strong), _found(t.e_title)
    # A title's own word (ambassador) is no sector evidence for that title.
    title_l = t.e_title.lower()
    other_sector = (t.sec_n.notnull() & (t.sterm_n.lower() != title_l)) | (
        t.sec_b.notnull() & (t.sterm_b.lower() != title_l)
    )
    mark_b = _found(t.e_mark_b)
    link = _found(t.e_link)
    # An elected representative (not a minister too) is not government, checked or not.
    representative = _found(t.e_repr) & ~strong & ~organ_n
    # A bio naming a school or company counts when it does not speak for an organ
    # ("official account of …"): a department of government at a university.
    neg = _found(t.e_neg) | (_found(t.e_neg_b) & ~mark_b)
    gov_vt = vt.isin(gov_types) if gov_types else ibis.literal(False)
    nongov_vt = vt.isin(nongov_types) if nongov_types else ibis.literal(False)
    t = t.mutate(
        rule=ibis.cases(
            (gov_vt & _found(t.e_multi), "en_multilateral"),
            (representative, "en_representative"),
            (gov_vt, "en_verified_type_gov"),
            (t.e_inst, "en_government_instance"),
            (nongov_vt, "en_verified_type_nongov"),
            (t.e_vlink.fill_null(False) & ~_found(t.e_disc), "en_verified_link_gov"),
            (_found(t.e_disc), "en_disclaimer"),
            (_found(t.e_multi), "en_multilateral"),
            (neg, "en_nongov_term"),
            (strong | (title & (organ_any | other_sector)), "en_official_title"),
            (_found(t.e_person), "en_nongov_person"),
            (organ_n, "en_organ_name"),
            (link & (organ_any | sector_any | mark_b), "en_gov_link"),
            (mark_b & organ_b, "en_description"),
            else_="en_no_signal",
        )
    )
    rule = t.rule
    detail = rule.cases(
        ("en_multilateral", t.e_multi),
        ("en_verified_type_gov", ibis.literal("verified_type ") + vt.cast("string")),
        ("en_government_instance", "instance " + t.e_host),
        ("en_verified_type_nongov", ibis.literal("verified_type ") + vt.cast("string")),
        ("en_verified_link_gov", "verified link " + t.e_vlink_host),
        ("en_disclaimer", t.e_disc),
        ("en_representative", t.e_repr),
        ("en_nongov_term", ibis.ifelse(_found(t.e_neg), t.e_neg, "bio " + t.e_neg_b)),
        ("en_official_title", ibis.ifelse(strong, t.e_strong, t.e_title)),
        ("en_nongov_person", t.e_person),
        ("en_organ_name", t.e_organ_n),
        ("en_gov_link", "link " + t.e_link),
        ("en_description", t.e_mark_b + " + " + t.e_organ_b),
        else_=ibis.null("string"),
    )
    level_rank = ibis.cases(
        (_found(t.e_prov_n), "provincial"),
        (_found(t.e_central_n), "central"),
        (_found(t.e_prov_b), "provincial"),
        (_found(t.e_central_b), "central"),
        (_found(t.e_central_host), "central"),
        else_=ibis.null("string"),
    )
    level_src = ibis.cases(
        (_found(t.e_prov_n), t.e_prov_n),
        (_found(t.e_central_n), t.e_central_n),
        (_found(t.e_prov_b), t.e_prov_b),
        (_found(t.e_central_b), t.e_central_b),
        (_found(t.e_central_host), "host " + t.e_central_host),
        else_=ibis.null("string"),
    )
    rule_conf = rule.cases(
        *[("en_" + r, conf[r]) for r in RULE_NAMES], else_=conf["no_signal"]
    ).cast("float64")
    person_title = (strong | title) & ~organ_n & ~_found(t.e_office)
    return t.select(
        "platform",
        "account_id",
        "k",
        rule_gov=rule.isin(GOV_RULES),
        rule_conf=rule_conf.round(2),
        rule=rule,
        rule_detail=detail,
        vt=vt,
        kind_c=ibis.ifelse(rule.isin(GOV_RULES) & person_title, "official", "agency"),
        sector_c=ibis.coalesce(t.sec_n, t.sec_b, ibis.literal("other")),
        sector_src=ibis.cases(
            (t.sec_n.notnull(), t.sterm_n),
            (t.sec_b.notnull(), "bio " + t.sterm_b),
            else_="default",
        ),
        level_c=level_rank,
        level_src=level_src,
        # China's provinces: an English-rule account has none (its region neither).
        province_c=ibis.null("string"),
        prov_src=ibis.null("string"),
        family_c=ibis.null("string"),
    )
