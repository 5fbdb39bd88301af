"""`govweibo observe` (the live loop) and `govweibo alerts` (what it found)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from govweibo.cli.common import (
    Section,
    emit,
    err_console,
    open_store,
    output_options,
    quiet,
    settings,
)
from govweibo.store import Store


@click.command("observe")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The observer's TOML file (collection, rules, delivery, reports; docs/observe.md).",
)
@click.option("--once", is_flag=True, help="One cycle, then stop.")
@click.option("--cycles", type=int, default=None, help="Stop after N cycles.")
@click.option("--every", default=None, help="Cycle interval (overrides the file's), e.g. 15m.")
@output_options
@click.pass_context
def observe_cmd(
    ctx: click.Context,
    config_path: Path | None,
    once: bool,
    cycles: int | None,
    every: str | None,
) -> None:
    """Collect, detect and alert in cycles; one summary row per cycle."""
    from govweibo.collect import parse_interval
    from govweibo.observe import load_config, observe

    config = load_config(config_path)
    interval = parse_interval(every or config.every)
    s = settings(ctx)

    def store() -> Store:
        return Store(s.db, threads=s.threads, memory_limit=s.memory_limit)

    def show(result: object) -> None:
        from govweibo.observe.loop import CycleResult

        assert isinstance(result, CycleResult)
        row = result.as_dict()
        row["opened"] = len(result.opened)
        row["seconds"] = row["seconds"].get("total")
        emit(Section("cycle", f"Cycle {result.cycle}", row))
        if not quiet():
            for alert in result.opened:
                err_console.print(
                    f"  alert #{alert.alert_id} [{alert.kind}] {alert.title}", markup=False
                )
            for error in result.errors:
                err_console.print(f"  problem: {error}", markup=False)

    observe(store, config, interval_s=interval, max_cycles=1 if once else cycles, on_cycle=show)


@click.group("alerts")
def alerts_cmd() -> None:
    """The observer's alerts: list them, acknowledge or close one."""


@alerts_cmd.command("list")
@click.option(
    "--state",
    type=click.Choice(["open", "acknowledged", "closed", "all"]),
    default="open",
    show_default=True,
    help="open: not closed (open or acknowledged).",
)
@click.option("--kind", default=None, help="Only this kind (burst, rumour, silence …).")
@click.option("--limit", type=int, default=200, show_default=True)
@output_options
@click.pass_context
def alerts_list_cmd(ctx: click.Context, state: str, kind: str | None, limit: int) -> None:
    """List alerts, newest first."""
    from govweibo.observe.alerts import alerts_table, list_alerts

    with open_store(ctx, read_only=True) as store:
        found = list_alerts(store, state=None if state == "all" else state, kind=kind, limit=limit)
    emit(
        Section(
            "alerts",
            f"Alerts ({len(found)})",
            alerts_table(found),
            ["alert_id", "kind", "title", "state", "first_seen", "last_seen"],
        )
    )


def _set(ctx: click.Context, alert_id: int, state: str) -> None:
    from govweibo.observe import set_state

    with open_store(ctx) as store:
        alert = set_state(store, alert_id, state, datetime.now(UTC))
    click.echo(f"alert #{alert.alert_id} [{alert.kind}] is now {alert.state}: {alert.title}")


@alerts_cmd.command("ack")
@click.argument("alert_id", type=int)
@click.pass_context
def alerts_ack_cmd(ctx: click.Context, alert_id: int) -> None:
    """Acknowledge an alert (it stays listed as open work)."""
    _set(ctx, alert_id, "acknowledged")


@alerts_cmd.command("close")
@click.argument("alert_id", type=int)
@click.pass_context
def alerts_close_cmd(ctx: click.Context, alert_id: int) -> None:
    """Close an alert; the observer will not raise it again."""
    _set(ctx, alert_id, "closed")


@alerts_cmd.command("reopen")
@click.argument("alert_id", type=int)
@click.pass_context
def alerts_reopen_cmd(ctx: click.Context, alert_id: int) -> None:
    """Open a closed or acknowledged alert again."""
    _set(ctx, alert_id, "open")


COMMANDS = [observe_cmd, alerts_cmd]
