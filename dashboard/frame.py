"""What every page starts with: its title, the 'no data yet' page, and the demo-data notice."""

from __future__ import annotations

import re

import streamlit as st

from dashboard import data
from dashboard.components import palette


def open_page(title: str, caption: str | None = None, needs_slas: bool = False) -> data.LakeStatus:
    """Title the page; stop with a friendly explanation when there is nothing to show yet.

    An SLA file that cannot be used is shown on every page; it stops only the pages that show SLA
    figures (`needs_slas`), the others go on without it. Parts of a valid file that match nothing in
    the lake are shown as a warning.
    """
    st.title(title)
    status = data.lake_status()
    if not status.ready:
        no_data(status)
        st.stop()
    sla_banner(needs_slas)
    if status.demo:
        st.info(
            "**Simulated demo data.** Everything on this page comes from a simulated account "
            "(`stepscope demo`), not from AWS.",
            icon=":material/science:",
        )
    if caption:
        st.caption(caption)
    return status


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
