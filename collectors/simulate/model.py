"""Building blocks of the simulated account: how states behave and what a state machine is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"
DOMAIN_TAG = "domain"


@dataclass(frozen=True)
class Behaviour:
    """How one Task (or Wait) state behaves: latency and what can go wrong on one attempt."""

    p50_ms: float  # median duration of one attempt (log-normal)
    sigma: float = 0.5  # log-normal shape
    fail: float = 0.0  # probability that one attempt fails with one of `errors`
    errors: tuple[tuple[str, float], ...] = ()  # (error name, weight); causes come from ERRORS
    timeout: float = 0.0  # probability that one attempt runs into TimeoutSeconds (States.Timeout)
    heartbeat: float = 0.0  # probability that one attempt misses HeartbeatSeconds

    def scaled(
        self,
        *,
        latency: float = 1.0,
        fail: float | None = None,
        errors: tuple[tuple[str, float], ...] | None = None,
        timeout: float | None = None,
    ) -> Behaviour:
        """The same behaviour with a latency factor and optionally other failure odds."""
        return Behaviour(
            self.p50_ms * latency,
            self.sigma,
            self.fail if fail is None else fail,
            self.errors if errors is None else errors,
            self.timeout if timeout is None else timeout,
            self.heartbeat,
        )


@dataclass(frozen=True)
class MachineSpec:
    """One simulated state machine: its ASL definition and how its states behave."""

    name: str
    domain: str
    team: str
    description: str
    definition: dict[str, Any]
    states: dict[str, Behaviour]  # Task and Wait states (Wait: fixed Seconds unless listed)
    choices: dict[str, tuple[float, ...]] = field(default_factory=dict)  # weights: rules..., Default
    map_items: dict[str, tuple[int, int]] = field(default_factory=dict)  # inline Map: items lo..hi
    map_runs: dict[str, tuple[float, float]] = field(default_factory=dict)  # distributed: (p50 ms, fail)
    aborts: dict[str, float] = field(default_factory=dict)  # state → P(stopped while in it)
    abort_reason: tuple[str, str] = ("Cancelled", "Stopped by operator")
    stalls: dict[str, float] = field(default_factory=dict)  # state → P(execution times out in it)
    redrive: float = 0.0  # P(a FAILED execution is redriven)
    schedule: str = "business"  # "business" (diurnal, weekdays) or "nightly" (batch window)
    region: str = "us-east-1"
    tracing: bool = False
    versioned: bool = False  # started through the `prod` alias (version ARNs in the records)
    type: str = "STANDARD"  # EXPRESS: no history API, its records are written to CloudWatch Logs
    include_execution_data: bool = False  # its log records carry inputs and outputs

    def arn(self) -> str:
        return f"arn:aws:states:{self.region}:{ACCOUNT_ID}:stateMachine:{self.name}"

    def role_arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{self.domain}-{self.name}-sfn"

    def log_group_arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{ACCOUNT_ID}:log-group:/aws/vendedlogs/states/{self.name}:*"


# Error taxonomy: realistic error names and the causes Step Functions records for them.
ERRORS: dict[str, tuple[str, ...]] = {
    "Lambda.ServiceException": (
        "Lambda.ServiceException: An error occurred (ServiceException) when calling the Invoke "
        "operation (reached max retries: 4): Internal service error.",
    ),
    "Lambda.TooManyRequestsException": (
        "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; "
        "Request ID: 8a0fbd2e-51c4-4c1d-9d3b-6a4f0c2e9b11; Proxy: null)",
    ),
    "Lambda.AWSLambdaException": (
        "Lambda was unable to decrypt the environment variables because KMS access was denied. "
        "(Service: AWSLambda; Status Code: 502; Error Code: KMSAccessDeniedException)",
    ),
    "Lambda.Unknown": (
        "The cause could not be determined because Lambda did not return an error type. "
        'Returned payload: {"errorMessage":"2024-03-05T10:22:17.114Z Task timed out after 30.03 seconds"}',
    ),
    "States.TaskFailed": ("The task failed without a more specific error.",),
    "States.Timeout": ("The task did not complete within TimeoutSeconds.",),
    "States.HeartbeatTimeout": ("No heartbeat was received within HeartbeatSeconds.",),
    "States.Runtime": (
        "An error occurred while executing the state 'Resolve'. The JSONPath '$.ticket.priority' "
        "specified for the field 'Variable' could not be found in the input",
    ),
    "States.ExceedToleratedFailureThreshold": (
        "The specified tolerated failure threshold was exceeded (ToleratedFailurePercentage: 5).",
    ),
    "Bedrock.ThrottlingException": (
        "Too many requests, please wait before trying again. (Service: BedrockRuntime, Status Code: 429, "
        "Request ID: 1c7a9f0e-0d41-4a52-bf11-3f6f8b2ad7e4)",
    ),
    "Bedrock.ModelTimeoutException": (
        "Model has timed out in processing the request. Try your request again. (Service: BedrockRuntime, "
        "Status Code: 408, Request ID: 73f2b6c1-2a90-4d2b-8c57-0e5d9c1f4a38)",
    ),
    "Bedrock.ServiceUnavailableException": (
        "The service isn't currently available. Try again later. (Service: BedrockRuntime, Status Code: 503, "
        "Request ID: c4d0e8a2-6b17-4f39-9a61-2e8f5d7b0c93)",
    ),
    "Bedrock.ValidationException": (
        "Input is too long for requested model. (Service: BedrockRuntime, Status Code: 400, "
        "Request ID: 5e2f1d7a-8c34-4b06-a9e2-71c0b3d6f845)",
    ),
    "SageMakerRuntime.ModelErrorException": (
        'Received server error (500) from primary with message "CUDA out of memory". (Service: '
        "SageMakerRuntime, Status Code: 424, Request ID: 0b9d6f31-7e2c-4a85-b1f4-9c8e2d5a7f60)",
    ),
    "SageMakerRuntime.ServiceUnavailableException": (
        "Endpoint demand-forecast-v7 is not available. (Service: SageMakerRuntime, Status Code: 503)",
    ),
    "DynamoDB.ProvisionedThroughputExceededException": (
        "The level of configured provisioned throughput for the table was exceeded. (Service: "
        "DynamoDb, Status Code: 400, Error Code: ProvisionedThroughputExceededException)",
    ),
    "DynamoDB.ConditionalCheckFailedException": (
        "The conditional request failed (Service: DynamoDb, Status Code: 400, "
        "Error Code: ConditionalCheckFailedException)",
    ),
    "SNS.ThrottledException": ("Rate exceeded (Service: Sns, Status Code: 400, Error Code: Throttling)",),
    "SesV2.TooManyRequestsException": ("Maximum sending rate exceeded. (Service: SesV2, Status Code: 429)",),
    "SesV2.MessageRejected": (
        "Email address is not verified. The following identities failed the check in region US-EAST-1: "
        "support@example.com (Service: SesV2, Status Code: 400)",
    ),
    "Textract.ProvisionedThroughputExceededException": (
        "Provisioned rate exceeded (Service: Textract, Status Code: 400)",
    ),
    "Textract.InvalidS3ObjectException": (
        "Unable to get object metadata from S3. Check object key, region and/or access permissions.",
    ),
    "ReviewRejected": ("Rejected by reviewer: insufficient evidence attached",),
    "PaymentDeclined": (
        '{"errorType":"PaymentDeclined","errorMessage":"Issuer declined the refund (code 05)"}',
    ),
    "SanctionsHit": ('{"errorType":"SanctionsHit","errorMessage":"Potential match on consolidated list"}',),
    "InvalidTicket": (
        '{"errorType":"InvalidTicket","errorMessage":"Ticket payload failed schema validation"}',
    ),
    "OrderNotFound": ('{"errorType":"OrderNotFound","errorMessage":"Order line not found in ERP"}',),
}
