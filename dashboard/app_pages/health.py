"""Collection health: how fresh each state machine's data is, so nobody trusts stale numbers unknowingly."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard import data, frame, log_sections, metric_sections
from dashboard.components.text import duration, md_escape

STALE_S = 2 * 3600

status = frame.open_page(
    "Collection health",
    "When each state machine was last collected and what is pending.",
    honours=(),
    scope="collection health covers the whole lake.",
)
# a simulated lake lives at its own simulated time: lag is measured against the end of the simulation
now = status.now if status.demo else datetime.now(UTC)
doms = data.domains()
a, b, c = st.columns(3)
a.metric("Executions in the lake", f"{int(doms['executions'].sum()):,}")
b.metric("State machines", f"{len(data.state_machines()):,}")
c.metric(
    "Newest day of data",
    f"{status.newest_day:%Y-%m-%d}" if status.newest_day else "–",
    help="UTC start date of the newest executions partition.",
)
st.caption(
    f"Lake: {md_escape(status.uri)} (source: {md_escape(status.source or 'unknown')}), "
    f"{status.partitions:,} executions partitions (domain × day)."
)

log_sections.coverage_section()
health = data.collection_health(now)
if health.empty:
    st.info(
        "No collection state: this lake was not filled by `stepscope collect` "
        "(for example a simulated demo lake), so there is no watermark to show."
    )
    st.stop()
stale = health["lag_s"].fillna(float("inf")) > STALE_S
incomplete = health["incomplete_histories"].fillna(0) > 0
errored = health["last_error"].notna()
if stale.any():
    st.error(
        f"{int(stale.sum())} state machine(s) not collected in the last {STALE_S // 3600} h: their figures "
        "are out of date.",
        icon=":material/schedule:",
    )
if incomplete.any():
    st.warning(
        f"{int(health.loc[incomplete, 'incomplete_histories'].sum()):,} execution(s) have an incomplete "
        "history (expired or unreadable): state-level figures leave them out."
    )
if errored.any():
    st.warning(f"{int(errored.sum())} state machine(s) had an error on their last collection.")
if not (stale.any() or incomplete.any() or errored.any()):
    st.success("Every state machine is collected and up to date.", icon=":material/check_circle:")

st.subheader("By source")
sources = data.source_health(now)
st.dataframe(
    sources.assign(lag=[duration(v * 1000) for v in sources["lag_s"]])[
        ["source", "keys", "last_collected_at", "oldest_collected_at", "lag", "failing_keys", "an_error"]
    ],
    hide_index=True,
    width="stretch",
    placeholder="–",
    column_config={
        "source": "Source",
        "keys": st.column_config.NumberColumn(
            "Positions kept", help="State machines, namespaces, log groups, ..."
        ),
        "last_collected_at": st.column_config.DatetimeColumn("Last run (UTC)", format="YYYY-MM-DD HH:mm"),
        "oldest_collected_at": st.column_config.DatetimeColumn(
            "Least recent position (UTC)", format="YYYY-MM-DD HH:mm"
        ),
        "lag": st.column_config.TextColumn("Lag", help="Now minus the least recently collected position."),
        "failing_keys": "Failing",
        "an_error": st.column_config.TextColumn("An error", width="large"),
    },
)
view = health.assign(
    # The lag since the last collection: below a minute it is up to date, not "0 ms" of something.
    lag=["never" if s != s else "under 1 min" if s < 60 else duration(s * 1000) for s in health["lag_s"]],
    fresh=["stale" if s else "fresh" for s in stale],
)
st.dataframe(
    view[
        [
            "name",
            "domain",
            "fresh",
            "last_collected_at",
            "lag",
            "watermark",
            "open_executions",
            "incomplete_histories",
            "last_error",
            "region",
            "account_id",
        ]
    ],
    hide_index=True,
    width="stretch",
    height="content",
    placeholder="–",
    column_config={
        "name": "State machine",
        "domain": "Domain",
        "fresh": "Freshness",
        "lag": "Lag",
        "last_collected_at": st.column_config.DatetimeColumn(
            "Last collected (UTC)", format="YYYY-MM-DD HH:mm"
        ),
        "watermark": st.column_config.DatetimeColumn("Watermark (UTC)", format="YYYY-MM-DD HH:mm"),
        "open_executions": "Still running",
        "incomplete_histories": "Incomplete histories",
        "last_error": "Last error",
        "region": "Region",
        "account_id": "Account",
    },
)

metric_sections.completeness_section(now)
