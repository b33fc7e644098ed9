"""What every page starts with: its title, how fresh its data is, the 'no data yet' page, the demo-data
notice, and what is wrong with (or not applied of) the sidebar's filters."""

from __future__ import annotations

import re
from collections.abc import Collection

import streamlit as st

from dashboard import data, sidebar
from dashboard.components import palette
from dashboard.components.text import elapsed, md_escape
from dashboard.freshness import LATE_FACTOR

FILTERS = ("domain", "machine", "period")  # what a page honours unless it says otherwise
FILTER_WORDS = {"domain": "domain", "machine": "state machine", "period": "period"}


def open_page(
    title: str,
    caption: str | None = None,
    needs_slas: bool = False,
    honours: Collection[str] = FILTERS,
    scope: str | None = None,
) -> data.LakeStatus:
    """Title the page; stop with a friendly explanation when there is nothing to show yet.

    Every page says how fresh its data is (and, when collection is late, a banner). An SLA file that
    cannot be used is shown on every page; it stops only the pages that show SLA figures (`needs_slas`),
    the others go on without it. Parts of a valid file that match nothing in the lake are shown as a
    warning. A filter the page `honours` that names nothing stops the page with what is wrong; a filter
    set in the sidebar that the page does not honour is named, with the page's `scope` saying why.
    """
    st.title(title)
    status = data.lake_status()
    if not status.ready:
        no_data(status)
        st.stop()
    freshness_note(status)
    sla_banner(needs_slas)
    if status.demo:
        st.info(
            "**Simulated demo data.** Everything on this page comes from a simulated account "
            "(`stepscope demo`), not from AWS.",
            icon=":material/science:",
        )
    if caption:
        st.caption(caption)
    filters_note(honours, scope)
    return status


def freshness_note(status: data.LakeStatus) -> None:
    """'Data as of <the last successful collection>', in red with a banner when collection is late (the
    last success older than LATE_FACTOR usual intervals). A demo lake lives at the end of its simulated
    window, where its one run is never late."""
    fr = data.freshness()
    if fr.as_of is None:
        if fr.late:
            st.error(
                f"No collection has succeeded: the {fr.runs} recorded run(s) all had errors, so the figures "
                "may be missing data. See Collection health.",
                icon=":material/schedule:",
            )
        else:
            st.caption("No collection run is recorded in this lake: how fresh its data is is unknown.")
        return
    line = f"Data as of {fr.as_of:%Y-%m-%d %H:%M} UTC"
    if status.demo:
        line += ": the end of the simulated window (a demo is not collected on a schedule, so never late)"
    elif fr.usual is not None:
        line += f", collected every {elapsed(fr.usual.total_seconds() * 1000)} as a rule"
    if fr.failed_since:
        line += f"; the {fr.failed_since} run(s) since recorded errors"
    if not fr.late:
        st.caption(line + ".")
        return
    st.caption(f":red[{line}: collection is late.]")
    assert fr.age is not None and fr.usual is not None
    st.error(
        f"Collection is late: the last successful collection finished {elapsed(fr.age.total_seconds() * 1000)} "
        f"ago, more than {LATE_FACTOR}× its usual interval of {elapsed(fr.usual.total_seconds() * 1000)}. "
        "What happened since is not in these figures; see Collection health.",
        icon=":material/schedule:",
    )


def filters_note(honours: Collection[str], scope: str | None) -> None:
    """Stop on a filter the page honours that names nothing; name the set filters it does not apply."""
    f = sidebar.current()
    wrong = [text for key, text in sidebar.problems(f) if key in honours]
    if wrong:
        for text in wrong:  # it quotes the link: shown as text, never as markup
            st.error(md_escape(text), icon=":material/filter_alt_off:")
        st.markdown("The link's value is kept in the address bar: pick another one in the sidebar.")
        st.stop()
    unused = [k for k in ("domain", "machine") if k not in honours and getattr(f, k)]
    if unused:
        what = " and ".join(FILTER_WORDS[k] for k in unused)
        st.info(
            f"The sidebar's {what} filter is not applied on this page" + (f": {scope}" if scope else "."),
            icon=":material/filter_alt_off:",
        )


def sla_banner(needs_slas: bool) -> None:
    """The SLA file's error (stopping the page when it needs SLA figures) or its warnings.

    The messages quote the file (its keys, its lines): they are shown as text, never as markup."""
    problem = data.slas_problem()
    if problem:
        rest = "" if needs_slas else " The rest of this page does not depend on it and is shown as usual."
        st.error(
            f"The SLA configuration is not valid, so SLA figures cannot be computed.{rest}\n\n"
            f"SLA file: {_code_span(data.slas_path() or '')}",
            icon=":material/rule:",
        )
        st.text(problem)
        if needs_slas:
            st.stop()
        return
    warnings = data.slas_warnings()
    if warnings:
        st.warning(
            f"{len(warnings)} part(s) of the SLA file {_code_span(data.slas_path() or '')} have no effect on "
            "this lake (a misspelt key?):",
            icon=":material/rule:",
        )
        st.text("\n".join(warnings))


def _code_span(text: str) -> str:
    """`text` as a Markdown code span, shown literally whatever backticks it holds."""
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def no_data(status: data.LakeStatus) -> None:
    """The page shown instead of charts when the lake is missing, empty, out of reach or in an older format."""
    if status.format_error:
        st.error(
            f"The lake at `{status.uri}` cannot be shown by this version of Stepscope.",
            icon=":material/upgrade:",
        )
        st.text(status.format_error)
        st.markdown(
            "Run the command above where the collector runs (it rewrites the lake's derived tables "
            "and nothing else), then reload this page."
        )
        return
    if status.error:
        st.error(f"Cannot read the lake at `{status.uri}`.", icon=":material/cloud_off:")
        st.text(status.error)  # text from AWS or the OS: shown as text, never as markup
        st.markdown(
            "Check the AWS credentials, `AWS_REGION` and `AWS_ENDPOINT_URL` this dashboard runs with, and "
            "that they may list and read the lake's bucket and prefix; then reload this page."
        )
        return
    what = "is empty" if status.exists else "does not exist yet"
    st.warning(f"No data to show: the lake at `{status.uri}` {what}.", icon=":material/database:")
    st.markdown(
        "Stepscope reads a lake of Parquet files collected from AWS Step Functions. To get one:\n\n"
        "1. **Try it with simulated data**: `make run` builds a demo lake and serves this dashboard.\n"
        "2. **Collect from your AWS account** (credentials from the usual AWS environment):"
    )
    st.code(f"stepscope collect --lake {status.uri}", language="bash")
    st.markdown(
        "Point the dashboard at another lake with the `STEPSCOPE_LAKE` environment variable "
        "(a local folder or `s3://bucket/prefix`), then reload this page."
    )


def status_badge(status: str | None) -> None:
    """An SLA status as a coloured badge with words (never colour alone)."""
    colour, icon = palette.badge(status)
    st.badge(palette.status_words(status), color=colour, icon=icon)
