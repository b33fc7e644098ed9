"""AWS sessions and clients: profile, Region, endpoint, assume-role, retries in one place.

boto3 reads AWS_PROFILE, AWS_DEFAULT_REGION and AWS_ENDPOINT_URL itself; this module only adds
what the collector needs on top: one session per target account (STS AssumeRole when a role
ARN is given), adaptive retries, a connection pool sized for the history fan-out, and the
client-side rate limiter attached to every client it creates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from collectors.ratelimit import RateLimiter

if TYPE_CHECKING:  # boto3-stubs' service packages: needed by mypy only
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_stepfunctions import SFNClient

ROLE_SESSION_NAME = "stepscope"
MAX_ATTEMPTS = 10


class ConfigError(Exception):
    """Bad configuration or credentials: reported as one line, exit status 2."""


def client_config(max_pool_connections: int = 10, max_attempts: int = MAX_ATTEMPTS) -> Config:
    """botocore Config shared by every client: adaptive retries for throttling."""
    return Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        max_pool_connections=max_pool_connections,
        connect_timeout=10,
        read_timeout=60,
    )


def base_session(profile: str | None = None) -> boto3.Session:
    """A session from the environment (AWS_PROFILE, credentials chain), optionally a named profile."""
    return boto3.Session(profile_name=profile) if profile else boto3.Session()


def assume_role(session: boto3.Session, role_arn: str, region: str | None = None) -> boto3.Session:
    """A session with the temporary credentials of `role_arn` (session name "stepscope")."""
    sts = session.client(
        "sts", region_name=region or session.region_name or "us-east-1", config=client_config()
    )
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region or session.region_name,
    )


def account_id(session: boto3.Session, region: str) -> str:
    """The account the session's credentials belong to (also proves the credentials work)."""
    # Few attempts: this is the first call of a run, a bad endpoint or key should fail fast.
    sts = session.client("sts", region_name=region, config=client_config(max_attempts=2))
    return sts.get_caller_identity()["Account"]


@dataclass
class Target:
    """One (account, Region) to collect from, with the clients for it."""

    account_id: str
    region: str
    session: boto3.Session
    limiter: RateLimiter
    pool: int = 10
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A cached client for `service` with retries and the rate limiter attached."""
        if service not in self._clients:
            # boto3-stubs overload client() per literal service name; here the name is a runtime value.
            c = self.session.client(  # type: ignore[call-overload]
                service, region_name=self.region, config=client_config(self.pool)
            )
            self.limiter.attach(c, self.account_id, self.region)
            self._clients[service] = c
        return self._clients[service]

    @property
    def sfn(self) -> SFNClient:
        return self.client("stepfunctions")

    @property
    def tagging(self) -> ResourceGroupsTaggingAPIClient:
        return self.client("resourcegroupstaggingapi")


def targets(
    regions: list[str],
    role_arns: list[str],
    limiter: RateLimiter,
    *,
    profile: str | None = None,
    pool: int = 10,
) -> list[Target]:
    """One Target per (role or the caller's own account) x Region."""
    session = base_session(profile)
    regions = list(regions) or [session.region_name or ""]
    if not regions[0]:
        raise ConfigError("no AWS Region: pass --region or set AWS_DEFAULT_REGION / AWS_REGION")
    sessions = [assume_role(session, arn, regions[0]) for arn in role_arns] if role_arns else [session]
    out: list[Target] = []
    for s in sessions:
        acct = account_id(s, regions[0])
        out.extend(Target(acct, r, s, limiter, pool) for r in regions)
    return out
