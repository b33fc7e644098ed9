"""Who is looking: OpenID Connect sign-in through Streamlit's own `st.login` / `st.user` / `st.logout`,
the access rules that turn the person into a grant (dashboard.access), and what the router shows first.

Sign-in is on when the secrets (`.streamlit/secrets.toml`, or `stepscope serve --secrets FILE`) hold an
`[auth]` section. Without it, a demo lake is served to anyone with a banner saying so; a lake of real data
(any other source) is refused unless STEPSCOPE_ALLOW_ANONYMOUS=1 says anyone who reaches the server may
see every domain. A lake with no data yet needs no sign-in: there is nothing to protect, and its page says
how to fill it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.access import EVERYTHING, NOTHING, AccessConfigError, AccessRules, Grant
from dashboard.access import load as load_rules
from dashboard.components.text import md_escape

ACCESS_ENV = "STEPSCOPE_ACCESS"
ANONYMOUS_ENV = "STEPSCOPE_ALLOW_ANONYMOUS"
DEMO_SOURCE = "demo"

# What a session is in, with the grant each gives (SIGNED_IN: the access rules').
SIGNED_IN, SIGNED_OUT, DENIED, BROKEN = "signed-in", "signed-out", "denied", "broken"
DEMO, ANONYMOUS, REFUSED = "demo", "anonymous", "refused"
NO_ACCESS_FILE = "no access file"


@dataclass(frozen=True)
class Session:
    mode: str
    grant: Grant
    email: str | None = None
    name: str | None = None
    ask: str | None = None  # whom to ask for access (the access file's `ask`)
    problem: str | None = None  # why the access file cannot be used


def access_path() -> str | None:
    """The access rules: $STEPSCOPE_ACCESS, else ./access.yaml when present, else None."""
    env = os.environ.get(ACCESS_ENV)
    if env:
        return env
    return "access.yaml" if Path("access.yaml").is_file() else None


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(path: str, mtime: float | None) -> AccessRules:  # mtime: part of the cache key
    return load_rules(path)


def rules() -> AccessRules:
    """The validated access rules (AccessConfigError names the file and the problem); an edited file is
    read again."""
    path = access_path()
    if path is None:
        raise AccessConfigError(f"{NO_ACCESS_FILE}: put the rules in access.yaml or name it in ${ACCESS_ENV}")
    return _load(path, os.path.getmtime(path) if os.path.exists(path) else None)


def configured() -> bool:
    """Whether sign-in is on: the secrets have an [auth] section."""
    secrets = st.secrets  # read at call time: a test gives the app its own secrets
    return bool(secrets.load_if_toml_exists() and secrets.get("auth"))


def anonymous_allowed() -> bool:
    return os.environ.get(ANONYMOUS_ENV) == "1"


def session(source: str | None, has_data: bool) -> Session:
    """This session's mode and grant, for a lake of `source` (its metadata) that holds data or not."""
    if not configured():
        if source == DEMO_SOURCE or not has_data:
            return Session(DEMO, EVERYTHING)
        return Session(ANONYMOUS, EVERYTHING) if anonymous_allowed() else Session(REFUSED, NOTHING)
    user: Mapping[str, Any] = st.user.to_dict()
    if not user.get("is_logged_in"):
        return Session(SIGNED_OUT, NOTHING)
    email, name = user.get("email"), user.get("name")
    who = {
        "email": email if isinstance(email, str) else None,
        "name": name if isinstance(name, str) else None,
    }
    try:
        r = rules()
    except AccessConfigError as e:
        return Session(BROKEN, NOTHING, problem=str(e), **who)
    grant = r.grant(user)
    return Session(DENIED if grant.nothing else SIGNED_IN, grant, ask=r.ask, **who)


def gate(s: Session) -> None:
    """What the router shows before any page: the sign-in page, the 'ask' page, the refusal (each stops
    the run), or the banner of a session without sign-in and the signed-in person's sidebar."""
    if s.mode == DEMO:
        st.info(
            "**Sign-in is off: demo mode.** Anyone who reaches this server sees every domain of the simulated "
            "demo. Configure sign-in (`[auth]` in `.streamlit/secrets.toml`) before serving real data.",
            icon=":material/lock_open:",
        )
    elif s.mode == ANONYMOUS:
        st.warning(
            f"**Sign-in is off:** `{ANONYMOUS_ENV}=1` lets anyone who reaches this server see every domain.",
            icon=":material/lock_open:",
        )
    elif s.mode == SIGNED_IN:
        with st.sidebar:
            st.caption(f"Signed in as {md_escape(s.email or s.name or 'unknown')}")
            if st.button("Sign out", key="signout", icon=":material/logout:"):
                st.logout()
    else:
        _stop_page(s)


def _stop_page(s: Session) -> None:
    st.title("Stepscope")
    if s.mode == REFUSED:
        st.error(
            "**Sign-in is required for this lake.** It holds data collected from AWS, and this server has no "
            "sign-in configured, so nothing is shown.",
            icon=":material/lock:",
        )
        st.markdown(
            "Configure an OpenID Connect provider in `.streamlit/secrets.toml` (see the README, *Sign-in and "
            f"access*), or set `{ANONYMOUS_ENV}=1` to let anyone who reaches the server see every domain."
        )
    elif s.mode == SIGNED_OUT:
        st.markdown("Sign in to see the domains you look after.")
        if st.button("Sign in", key="signin", type="primary", icon=":material/login:"):
            st.login()
    elif s.mode == BROKEN:
        st.error(
            "**The access rules cannot be used**, so nobody is shown anything until they are fixed.",
            icon=":material/rule:",
        )
        st.text(s.problem or "")  # quotes the file: text, never markup
        _signed_in_as(s)
    else:  # DENIED
        st.warning(
            f"**No access rule gives {md_escape(s.email or s.name or 'you')} any domain.** "
            f"Ask {md_escape(s.ask or 'whoever runs this Stepscope')} for access.",
            icon=":material/lock_person:",
        )
        _signed_in_as(s)
    st.stop()


def _signed_in_as(s: Session) -> None:
    st.caption(f"Signed in as {md_escape(s.email or s.name or 'unknown')}.")
    if st.button("Sign out", key="signout", icon=":material/logout:"):
        st.logout()
