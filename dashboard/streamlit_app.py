"""Stepscope dashboard entry point: page routing and the shared sidebar, nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # `streamlit run dashboard/streamlit_app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import data, sidebar, signin  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"
EXECUTION = "execution"
NOT_PERMITTED = "Not permitted: this is outside the domains you may see, or not in the lake."


def pages() -> dict[str, list[st.Page]]:
    """Every page by section."""
    p = PAGES_DIR
    return {
        "Reports": [
            st.Page(p / "overview.py", title="Overview", icon=":material/dashboard:", url_path="overview"),
            st.Page(p / "sla.py", title="SLA", icon=":material/verified:", url_path="sla"),
            st.Page(p / "audit.py", title="Audit export", icon=":material/receipt_long:", url_path="audit"),
        ],
        "Operations": [
            st.Page(p / "failures.py", title="Failures", icon=":material/crisis_alert:", url_path="failures"),
            st.Page(p / "flows.py", title="Flows", icon=":material/account_tree:", url_path="flows"),
            st.Page(p / "execution.py", title="Execution", icon=":material/search:", url_path=EXECUTION),
            st.Page(
                p / "health.py", title="Collection health", icon=":material/monitor_heart:", url_path="health"
            ),
        ],
    }


def main() -> None:
    # A file served by this server: an icon name would be fetched from a font CDN (air-gapped sites have none).
    st.set_page_config(page_title="Stepscope", page_icon=str(FAVICON), layout="wide")
    signin.gate(data.session())  # the sign-in, 'ask' or refusal page stops here; else a banner
    nav = pages()
    page = st.navigation(nav)
    if "execution" in st.query_params and page.url_path == "":
        # a pasted `/?execution=<ARN>` link (the root URL): show that execution
        target = next(p for section in nav.values() for p in section if p.url_path == EXECUTION)
        st.switch_page(target, query_params=st.query_params.to_dict())
    if data.lake_status().ready:
        sidebar.render()
    try:
        page.run()
    except data.NotPermitted:  # a question outside the person's domains that no page check caught
        st.error(NOT_PERMITTED, icon=":material/lock:")


main()
