"""Opening a page through the real router in AppTest, as a person's browser would, and reading what it
shows (charts, tables, triage links)."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")


# Sign-in settings for a test of a signed-in person (the provider is never called: AppTest gives `user`).
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-test-cookie-secret",
    "client_id": "stepscope",
    "client_secret": "test",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def open_page(page: str, user: dict | None = None, **params: str) -> AppTest:
    """Run the router with query params (it opens the Overview), then switch to `page`; no exception.
    With `user` (ID token claims), sign-in is on and that person is signed in."""
    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.secrets["auth"] = AUTH
        at.user = user
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page != "overview" and not at.exception:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest, kind: str) -> list:
    return [e.proto for e in at.get(kind)]


def figure(at: AppTest, title: str) -> dict:
    for proto in charts(at, "plotly_chart"):
        spec = json.loads(proto.spec)
        if spec["layout"].get("title", {}).get("text") == title:
            return spec
    raise AssertionError(f"no chart titled {title!r}")


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a {column!r} column")


def arn_of(link: str) -> str:
    """The execution ARN in a triage link (`execution?execution=<ARN>`)."""
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["execution"][0]


def trace_values(trace: dict, axis: str = "y") -> list:
    """A plotly trace's values on one axis, as plain numbers whether the figure packed them or not."""
    v = trace.get(axis)
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), np.dtype(v["dtype"])).tolist()
    return list(v or [])
