"""Audit: every execution of a domain in a period, previewed, then downloaded as CSV with its manifest."""

from __future__ import annotations

import shlex

import streamlit as st

from dashboard import data, frame, sidebar
from dashboard.components.text import md_escape

PREVIEW_ROWS = 200


frame.open_page(
    "Audit export",
    "The same CSV and manifest as the export command, for the chosen domain and period.",
    needs_slas=True,
    honours=("domain", "period"),
    scope="an audit export holds every execution of its domain.",
)
f = sidebar.current()
start, end = data.period_window(f)
seen = sorted(data.state_machines()["domain"].dropna().unique())
if not seen:
    st.info("No domains in this lake yet.")
    st.stop()
# the person's access rules say which of their domains they may export
doms = [d for d in seen if data.scope().may_export(d)]
if f.domain is not None and f.domain not in doms:
    ask = data.session().ask
    st.error(
        f"Not permitted: you may not export {md_escape(f.domain)}"
        + (f". Ask {md_escape(ask)} for the right to export it." if ask else "."),
        icon=":material/lock:",
    )
    st.stop()
if not doms:
    st.info("Your access rules let you export none of your domains.", icon=":material/lock:")
    st.stop()
# The page's picker is the sidebar's domain filter, so the domain is in the link (`?domain=`).
ss = st.session_state
ss["audit_domain"] = f.domain
domain = st.selectbox(
    "Domain",
    doms,
    index=None,
    placeholder="Pick a domain",
    key="audit_domain",
    on_change=lambda: ss.update(domain=ss["audit_domain"] or ""),
)
if domain is None:
    st.info("Pick the domain to export: an audit export holds one domain.", icon=":material/domain:")
    st.stop()
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
# the preview is the CSV's own columns and cells (text, as a spreadsheet would show them)
st.dataframe(data.audit_preview(domain, start, end, PREVIEW_ROWS), hide_index=True, width="stretch")
if total > PREVIEW_ROWS:
    st.caption(f"Preview of the first {PREVIEW_ROWS:,} rows; the download holds all {total:,}.")
# named as the command names the same export, so `stepscope verify-audit` finds the pair
csv_path, manifest = data.audit_export(domain, start, end)
left, right = st.columns(2)
left.download_button(  # read on the click, which the lake's access log records
    "Download CSV",
    data.audit_download(domain, start, end),
    file_name=csv_path.name,
    mime="text/csv",
    icon=":material/table:",
)
right.download_button(
    "Download manifest",
    manifest,
    file_name=f"{csv_path.name}.manifest.json",
    mime="application/json",
    icon=":material/verified_user:",
)
st.caption(
    "The manifest holds the CSV's SHA-256, row count, period and arguments, so a recipient can check "
    "the file was not altered (`stepscope verify-audit FILE.csv`). Scheduled exports from the command "
    "line are also signed and chained."
)
st.markdown("The same export from the command line:")
st.code(
    f"stepscope export-audit --lake {shlex.quote(data.lake_uri())} --domain {shlex.quote(domain)} "
    f"--from {start:%Y-%m-%dT%H:%M:%SZ} --to {end:%Y-%m-%dT%H:%M:%SZ} --out exports"
    f"  # writes exports/{csv_path.parent.name}/{csv_path.name}",
    language="bash",
)
