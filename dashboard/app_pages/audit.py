"""Audit: every execution of a domain in a period, previewed, then downloaded as CSV with its manifest."""

from __future__ import annotations

import re
import shlex
from datetime import datetime

import streamlit as st

from dashboard import data, frame, sidebar
from dashboard.components.text import md_escape

PREVIEW_ROWS = 200


def audit_file_stem(domain: str, start: datetime, end: datetime) -> str:
    """A file name safe on every OS: the domain reduced to letters, digits, dot, dash and underscore."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", domain).strip("._") or "domain"
    return f"stepscope-audit-{safe}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}"


frame.open_page(
    "Audit export",
    "The same CSV and manifest as the export command, for the chosen domain and period.",
    needs_slas=True,
)
f = sidebar.current()
start, end = data.period_window(f.period)
doms = sorted(data.state_machines()["domain"].dropna().unique())
if not doms:
    st.info("No domains in this lake yet.")
    st.stop()
domain = st.selectbox(
    "Domain", doms, index=doms.index(f.domain) if f.domain in doms else 0, key="audit_domain"
)
st.markdown(
    f"Every execution of **{md_escape(domain)}** started {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC "
    "(change the period in the sidebar)."
)
# an audit period can hold millions of rows: nothing is read until asked for
if not st.toggle("Preview and prepare the download", key="audit_go"):
    st.stop()
total = data.audit_count(domain, start, end)
st.markdown(f"**{total:,}** executions.")
if not total:
    st.stop()
st.dataframe(data.audit_preview(domain, start, end, PREVIEW_ROWS), hide_index=True, width="stretch")
if total > PREVIEW_ROWS:
    st.caption(f"Preview of the first {PREVIEW_ROWS:,} rows; the download holds all {total:,}.")
stem = audit_file_stem(domain, start, end)
csv_path, manifest = data.audit_export(domain, start, end, f"{stem}.csv")
left, right = st.columns(2)
left.download_button(
    "Download CSV", csv_path.read_bytes, file_name=f"{stem}.csv", mime="text/csv", icon=":material/table:"
)
right.download_button(
    "Download manifest",
    manifest,
    file_name=f"{stem}.manifest.json",
    mime="application/json",
    icon=":material/verified_user:",
)
st.caption(
    "The manifest holds the CSV's SHA-256, row count and arguments, so a recipient can check the file "
    "was not altered."
)
st.markdown("The same export from the command line:")
st.code(
    f"stepscope export-audit --lake {shlex.quote(data.lake_uri())} --domain {shlex.quote(domain)} "
    f"--from {start:%Y-%m-%dT%H:%M:%SZ} --to {end:%Y-%m-%dT%H:%M:%SZ} --out {shlex.quote(stem)}.csv",
    language="bash",
)
