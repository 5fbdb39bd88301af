"""Analyses: pure functions over the store that return Arrow tables.

ANALYSES is the explicit registry (name, function, one-line description); append new entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from govweibo.analyses import (
    activity,
    bursts,
    cascades,
    concerns,
    deletions,
    events,
    growth,
    index,
    rankings,
    responsiveness,
    rumours,
    sensitivity,
)


@dataclass(frozen=True)
class Analysis:
    name: str
    function: Callable[..., Any]
    description: str


ANALYSES: list[Analysis] = [
    Analysis("index", index.compute_index, "Influence index per account and period (4 dimensions)"),
    Analysis(
        "rankings",
        rankings.rankings,
        "Top-N lists: overall, agencies, officials, sector, level, province",
    ),
    Analysis(
        "rank_change",
        rankings.rank_change,
        "Rank change against the previous period of equal length",
    ),
    Analysis(
        "province_aggregates", rankings.province_aggregates, "Each province's communication power"
    ),
    Analysis(
        "threshold_counts",
        rankings.threshold_counts,
        "Accounts over 100,000 and 1,000,000 followers",
    ),
    Analysis(
        "distribution", rankings.distribution, "Accounts by province, region, sector, level or kind"
    ),
    Analysis(
        "growth", growth.account_growth, "Accounts opened per month, cumulative, year-over-year"
    ),
    Analysis(
        "sensitivity", sensitivity.weight_sensitivity, "Ranking stability under random weight draws"
    ),
    Analysis(
        "responsiveness",
        responsiveness.responsiveness,
        "Reply rate, time to first reply, unanswered questions, reply hours",
    ),
    Analysis(
        "addressed_items",
        responsiveness.addressed_items,
        "Public comments/mentions to accounts, answered or not, questions",
    ),
    Analysis(
        "activity", activity.account_activity, "Dormant and for-show accounts, original share"
    ),
    Analysis("deletions", deletions.deleted_posts, "Posts deleted between timeline observations"),
    Analysis(
        "deletion_summary",
        deletions.deletion_summary,
        "Deleted posts and deletion rate per account",
    ),
    Analysis("bursts", bursts.bursts, "Keywords/#topics# rising above their 7-day baseline"),
    Analysis(
        "concerns", concerns.concerns, "Keywords (G2 keyness), #topics# and NMF topic clusters"
    ),
    Analysis("sentiment", concerns.slice_sentiment, "Sentiment shares of a slice's public voice"),
    Analysis(
        "cascades",
        cascades.cascades,
        "Repost cascades: size, depth, breadth, structural virality, timing, shares",
    ),
    Analysis(
        "rumour_scores",
        rumours.score_posts,
        "Rumour triage per source post: calibrated probability, clarification or out of domain",
    ),
    Analysis("events", events.detect_events, "Candidate events: the largest keyword bursts"),
    Analysis(
        "official_response",
        events.official_response,
        "Who spoke on an event, how fast, how far the clarification went, who stayed silent",
    ),
]


def get(name: str) -> Analysis:
    for a in ANALYSES:
        if a.name == name:
            return a
    raise KeyError(name)
