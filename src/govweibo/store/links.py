"""Links found after ingest: fill the post an interaction belongs to.

Some sources name a comment's post only indirectly (a crawler's comment list gives the
post's publication time, not its id), so the reader stores the comment without a post and
a later step, which can see the posts, finds it. This module only writes what that step
found; how a post is found belongs to the reader's module (e.g. ingest.crawler_csv).
"""

from __future__ import annotations

import pyarrow as pa

from govweibo.store import Store

LINKS_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("interaction_id", pa.string()),
        ("post_id", pa.string()),
        ("target_account_id", pa.string()),
    ]
)


def fill_interaction_posts(store: Store, links: pa.Table) -> int:
    """Set `post_id` and `target_account_id` of the given interactions, in one transaction.

    Only interactions that have no post yet are changed: a link never overwrites a post id
    the source itself gave. Returns the number of interactions changed.
    """
    if links.num_rows == 0:
        return 0
    data = links.select(LINKS_SCHEMA.names).cast(LINKS_SCHEMA)
    store.con.register("_links", data)
    try:
        store.con.execute("BEGIN TRANSACTION")
        try:
            row = store.con.execute(
                "UPDATE interactions SET post_id = l.post_id, "
                "target_account_id = coalesce(interactions.target_account_id, l.target_account_id) "
                "FROM (SELECT DISTINCT * FROM _links) l "
                "WHERE interactions.platform = l.platform "
                "AND interactions.interaction_id = l.interaction_id "
                "AND interactions.post_id IS NULL"
            ).fetchone()
            store.con.execute("COMMIT")
        except Exception:
            store.con.execute("ROLLBACK")
            raise
    finally:
        store.con.unregister("_links")
    return int(row[0]) if row else 0
