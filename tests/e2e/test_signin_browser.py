"""Sign-in in headless Chromium through a real OpenID Connect provider (oidc-provider from npm, on
127.0.0.1, installed by `make oidc` from tests/oidc/package-lock.json): each user signs in through the
redirect flow and sees only their domains on every page; another domain's execution link says "not
permitted"; the audit page refuses another domain and records a download in the access log; sign-out
works; a user matching no rule gets the page saying whom to ask. One provider and one dashboard serve
every test of this file."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_kit import ROOT, served
from services import free_port, serve
from test_access_pages import ACCESS_YAML
from test_browser import PAGES, WIDTH, assert_clean, full_height, settle

import queries
from lake.store import Lake

pytestmark = pytest.mark.e2e

OIDC = ROOT / "tests" / "oidc"
USERS = {  # with the domains the rules (ACCESS_YAML) give them
    "pat": {
        "email": "pat@payments.example",
        "name": "Pat",
        "groups": ["payments-oncall"],
        "domains": {"payments"},
    },
    "rita": {
        "email": "rita@risk.example",
        "name": "Rita",
        "groups": ["risk-auditors"],
        "domains": {"risk-compliance", "customer-care"},
    },
    "nobody": {
        "email": "nobody@elsewhere.example",
        "name": "Nobody",
        "groups": ["visitors"],
        "domains": set(),
    },
}
END = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def signin_app(demo_lake: Path, slas_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The provider (two users in different groups, one in none of the rules' groups, one client) and the
    dashboard signing in through it, on a copy of the demo lake (downloads write its access log)."""
    if not (OIDC / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the test OIDC provider is not installed: run `make oidc` (npm ci in tests/oidc)")
    tmp = tmp_path_factory.mktemp("signin")
    lake = tmp / "lake"
    import shutil

    shutil.copytree(demo_lake, lake)
    idp_port, app_port = free_port(), free_port()
    issuer, app = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{app_port}"
    client = {"client_id": "stepscope", "client_secret": secrets.token_hex(16)}
    passwords = {login: secrets.token_hex(8) for login in USERS}
    config = {
        "port": idp_port,
        "client": {**client, "redirect_uri": f"{app}/oauth2callback"},
        "users": [
            {"login": login, "password": passwords[login], **{k: u[k] for k in ("email", "name", "groups")}}
            for login, u in USERS.items()
        ],
    }
    (tmp / "provider.json").write_text(json.dumps(config))
    (tmp / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{app}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{client["client_id"]}"\n'
        f'client_secret = "{client["client_secret"]}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        'client_kwargs = { scope = "openid email profile groups", prompt = "login" }\n'
    )
    (tmp / "access.yaml").write_text(ACCESS_YAML)
    provider = ["node", str(OIDC / "provider.mjs"), str(tmp / "provider.json")]
    ready = f"{issuer}/.well-known/openid-configuration"
    with serve(
        provider, env={"PATH": "/usr/bin:/bin:/usr/local/bin"}, log=tmp / "provider.log", ready_url=ready
    ):
        with served(
            lake,
            slas_file,
            tmp / "server.log",
            port=app_port,
            args=["--secrets", str(tmp / "secrets.toml")],
            env={"STEPSCOPE_ACCESS": str(tmp / "access.yaml")},
        ) as base:
            yield {"url": base, "passwords": passwords, "lake": lake, "log": tmp / "server.log"}


@pytest.fixture
def local_only(page: object) -> object:
    """Nothing but 127.0.0.1 is ever asked (the provider's pages and the dashboard's alike)."""
    outside: list[str] = []

    def route(r: object) -> None:
        host = urllib.parse.urlsplit(r.request.url).hostname
        if host in ("127.0.0.1", None) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield page
    assert outside == []


def sign_in(pg: object, app: dict, login: str) -> None:
    """Through the real redirect flow: the dashboard's button, the provider's form, back to the dashboard."""
    pg.goto(app["url"])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url("**/interaction/**", timeout=30_000)
    pg.get_by_label("Login").fill(login)
    pg.get_by_label("Password").fill(app["passwords"][login])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(f"{app['url']}/**", timeout=30_000)
    pg.get_by_text(f"Signed in as {USERS[login]['email']}").first.wait_for(timeout=60_000)


@pytest.fixture(scope="module")
def catalogue(demo_lake: Path) -> dict[str, set[str]]:
    """Each domain's name and its state machines' names."""
    m = Lake(str(demo_lake)).read("state_machines").to_pandas()
    return {d: {d, *g["name"]} for d, g in m.groupby("domain")}


# The p95 line of the SLA page's latency chart, as the browser drew it: its markers, one per day (the
# line's own path drops points in line with their neighbours).
P95_POINTS = """() => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')]
    .find(p => (p.querySelector('.gtitle') || {}).textContent === 'p95 duration per day');
  return plot ? plot.querySelectorAll('.scatterlayer .points path.point').length : -1;
}"""


@pytest.mark.parametrize("login", ["pat", "rita"])
def test_each_user_sees_only_their_domains_on_every_page(
    signin_app: dict, local_only: object, login: str, catalogue: dict[str, set[str]]
) -> None:
    """Pat sees one domain, Rita two of three: every page holds only theirs, and the SLA page draws the
    p95 line of their executions."""
    pg, mine = local_only, USERS[login]["domains"]
    sign_in(pg, signin_app, login)
    hidden = {n for d, names in catalogue.items() if d not in mine for n in names}
    for name, (path, title) in PAGES.items():
        pg.goto(signin_app["url"] + path)
        settle(pg, title)
        assert_clean(pg)
        body = pg.inner_text("body")
        assert not [h for h in hidden if h in body], (path, [h for h in hidden if h in body])
        if name == "overview":
            cards = pg.locator('[data-testid="stVerticalBlock"] h3').all_inner_texts()
            assert mine <= {c.strip() for c in cards}, cards  # their cards (the others are not in the body)
        if name == "sla":  # every chart drawn (a tall window), then the p95 line: a point per day of 7
            full_height(pg)
            pg.wait_for_function(f"() => ({P95_POINTS})() >= 7", timeout=60_000)
            pg.set_viewport_size({"width": WIDTH, "height": 1800})


def test_another_domains_execution_link_says_not_permitted(
    signin_app: dict, local_only: object, demo_lake: Path
) -> None:
    q = queries.connect(str(demo_lake))
    theirs = q.triage_list(END - timedelta(days=14), END, "risk-compliance", None, limit=1)
    arn = theirs["execution_arn"].iloc[0]
    pg = local_only
    sign_in(pg, signin_app, "pat")
    pg.goto(f"{signin_app['url']}/?execution={urllib.parse.quote(arn, safe='')}")
    settle(pg, "Execution")
    pg.get_by_text("Not permitted: no execution you may see has this ARN").wait_for(timeout=30_000)
    body = pg.inner_text("body").replace(arn, "")  # the pasted ARN is echoed back, nothing else of it
    assert "risk-compliance" not in body and "Timeline" not in body and "Events" not in body


def test_the_audit_page_refuses_another_domain_and_logs_a_download(
    signin_app: dict, local_only: object, tmp_path: Path
) -> None:
    pg = local_only
    sign_in(pg, signin_app, "pat")
    pg.goto(f"{signin_app['url']}/audit?domain=risk-compliance&period=7d")
    settle(pg, "Audit export")
    assert 'No domain called "risk-compliance"' in pg.inner_text("body")
    assert pg.get_by_text("Preview and prepare the download").count() == 0
    pg.context.clear_cookies()
    sign_in(pg, signin_app, "rita")
    pg.goto(f"{signin_app['url']}/audit?domain=risk-compliance&period=30d")
    settle(pg, "Audit export")
    pg.get_by_text("Preview and prepare the download").click()
    button = pg.get_by_role("button", name="Download CSV")
    button.wait_for(timeout=60_000)
    # the script has finished: a button drawn by a run still going may be replaced under the click
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    before = set(Lake(str(signin_app["lake"])).read("access_log").column("entry_id").to_pylist())
    with pg.expect_download(timeout=60_000) as info:
        button.click()
    info.value.save_as(tmp_path / "rita.csv")
    log = Lake(str(signin_app["lake"])).read("access_log").to_pandas()
    log = log[~log["entry_id"].isin(before)]  # other tests may have downloaded from the same lake
    assert list(log["who"]) == ["rita@risk.example"] and list(log["file"]) == [info.value.suggested_filename]
    assert int(log["rows"].iloc[0]) == (tmp_path / "rita.csv").read_bytes().count(b"\n") - 1


def test_sign_out_and_a_user_matching_no_rule(signin_app: dict, local_only: object) -> None:
    pg = local_only
    sign_in(pg, signin_app, "pat")
    pg.get_by_role("button", name="Sign out").click()
    # the provider asks to confirm ending its session, then sends the browser back to the dashboard
    pg.wait_for_url("**/session/end**", timeout=30_000)
    pg.get_by_role("button", name="Sign out").click()
    pg.wait_for_url(f"{signin_app['url']}/**", timeout=30_000)
    pg.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert "Signed in as" not in pg.inner_text("body")
    pg.goto(signin_app["url"] + "/failures")  # nothing without signing in again
    pg.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert "Triage" not in pg.inner_text("body")
    sign_in(pg, signin_app, "nobody")
    body = pg.inner_text("body")
    assert "No access rule gives nobody@elsewhere.example any domain." in body
    assert "Ask the platform team (#stepscope-access) for access." in body
    assert "Overview" not in body and "payments" not in body
