"""The simulated enterprise account: five business domains and their tagged state machines.

Each machine has a real ASL definition (the patterns this platform runs: exception pipelines,
multi-stage AI inference, human review with task tokens, event-triggered re-runs, Map and
Parallel fan-outs) and a behaviour model per state (latency, error taxonomy, odds).
"""

from __future__ import annotations

from typing import Any

from collectors.simulate.model import ACCOUNT_ID, Behaviour, MachineSpec

B = Behaviour
LAMBDA_RETRY = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ],
    "IntervalSeconds": 1,
    "MaxAttempts": 3,
    "BackoffRate": 2.0,
    "JitterStrategy": "FULL",
}
LAMBDA_ERRORS = (
    ("Lambda.ServiceException", 3),
    ("Lambda.TooManyRequestsException", 4),
    ("Lambda.AWSLambdaException", 1),
    ("Lambda.Unknown", 1),
)


def lam(
    function: str,
    nxt: str | None,
    *,
    region: str = "us-east-1",
    retry: list | None = None,
    catch: list | None = None,
    timeout: int | None = None,
) -> dict[str, Any]:
    """A Lambda invoke Task (optimised integration)."""
    st: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {
            "FunctionName": f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function}",
            "Payload.$": "$",
        },
        "ResultSelector": {"result.$": "$.Payload"},
        "Retry": [LAMBDA_RETRY] if retry is None else retry,
    }
    return _tail(st, nxt, catch, timeout)


def task(
    resource: str,
    params: dict[str, Any],
    nxt: str | None,
    *,
    retry: list | None = None,
    catch: list | None = None,
    timeout: int | None = None,
    heartbeat: int | None = None,
) -> dict[str, Any]:
    """Any other Task (service integration or SDK call)."""
    st: dict[str, Any] = {"Type": "Task", "Resource": resource, "Parameters": params}
    if retry:
        st["Retry"] = retry
    if heartbeat:
        st["HeartbeatSeconds"] = heartbeat
    return _tail(st, nxt, catch, timeout)


def _tail(st: dict[str, Any], nxt: str | None, catch: list | None, timeout: int | None) -> dict[str, Any]:
    if timeout:
        st["TimeoutSeconds"] = timeout
    if catch:
        st["Catch"] = catch
    if nxt is None:
        st["End"] = True
    else:
        st["Next"] = nxt
    return st


def catch_all(nxt: str, errors: tuple[str, ...] = ("States.ALL",)) -> list[dict[str, Any]]:
    return [{"ErrorEquals": list(errors), "ResultPath": "$.error", "Next": nxt}]


def sns(topic: str, nxt: str | None, **kw: Any) -> dict[str, Any]:
    return task(
        "arn:aws:states:::sns:publish",
        {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:{topic}", "Message.$": "$.summary"},
        nxt,
        **kw,
    )


def human(
    queue: str, nxt: str, *, timeout: int, heartbeat: int, catch: list, region: str = "us-east-1"
) -> dict:
    """Human-in-the-loop step: a message with a task token, answered by a reviewer tool."""
    return task(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        {
            "QueueUrl": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{queue}",
            "MessageBody": {"taskToken.$": "$$.Task.Token", "case.$": "$.caseId"},
        },
        nxt,
        timeout=timeout,
        heartbeat=heartbeat,
        catch=catch,
    )


def bedrock(model: str, nxt: str, *, retry: list, catch: list | None = None, timeout: int = 60) -> dict:
    return task(
        "arn:aws:states:::bedrock:invokeModel",
        {
            "ModelId": f"arn:aws:bedrock:us-east-1::foundation-model/{model}",
            "Body": {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 1024,
                "messages.$": "$.prompt.messages",
            },
        },
        nxt,
        retry=retry,
        catch=catch,
        timeout=timeout,
    )


def machine(comment: str, start: str, states: dict[str, Any], timeout: int | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"Comment": comment, "StartAt": start, "States": states}
    if timeout:
        d["TimeoutSeconds"] = timeout
    return d


def choice(variable: str, rules: list[tuple[str, Any, str]], default: str) -> dict[str, Any]:
    """Choice rules as (operator, value, next) on one variable."""
    return {
        "Type": "Choice",
        "Choices": [{"Variable": variable, op: v, "Next": n} for op, v, n in rules],
        "Default": default,
    }


def fail(error: str, cause: str) -> dict[str, Any]:
    return {"Type": "Fail", "Error": error, "Cause": cause}


MODEL_RETRY = [
    {
        "ErrorEquals": ["Bedrock.ThrottlingException"],
        "IntervalSeconds": 2,
        "MaxAttempts": 4,
        "BackoffRate": 2.0,
        "JitterStrategy": "FULL",
    },
    {
        "ErrorEquals": [
            "Bedrock.ModelTimeoutException",
            "Bedrock.ServiceUnavailableException",
            "States.Timeout",
        ],
        "IntervalSeconds": 5,
        "MaxAttempts": 2,
        "BackoffRate": 2.0,
    },
]
MODEL_ERRORS = (
    ("Bedrock.ThrottlingException", 6),
    ("Bedrock.ModelTimeoutException", 2),
    ("Bedrock.ServiceUnavailableException", 1),
    ("Bedrock.ValidationException", 1),
)
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def _payments() -> list[MachineSpec]:
    exc = machine(
        "Payment exceptions: triage, resolve, notify",
        "Triage",
        {
            "Triage": lam("payments-exception-triage", "RouteBySeverity", catch=catch_all("NotifyFailure")),
            "RouteBySeverity": choice(
                "$.triage.severity",
                [("StringEquals", "LOW", "AutoResolve"), ("StringEquals", "CRITICAL", "PageOnCall")],
                "Resolve",
            ),
            "AutoResolve": {
                "Type": "Pass",
                "Result": {"resolution": "auto"},
                "ResultPath": "$.resolution",
                "Next": "NotifyMerchant",
            },
            "PageOnCall": sns("payments-oncall", "Resolve"),
            "Resolve": lam(
                "payments-exception-resolve",
                "NotifyMerchant",
                catch=catch_all("NotifyFailure", ("PaymentDeclined", "States.TaskFailed")),
            ),
            "NotifyMerchant": sns(
                "merchant-notifications",
                None,
                retry=[
                    {
                        "ErrorEquals": ["SNS.ThrottledException"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 3,
                        "BackoffRate": 2.0,
                    }
                ],
            ),
            "NotifyFailure": sns("payments-exceptions-dlq", "ExceptionUnresolved"),
            "ExceptionUnresolved": fail(
                "PaymentExceptionUnresolved", "Automatic resolution failed; ticket opened"
            ),
        },
        timeout=900,
    )
    settle = machine(
        "Nightly settlement: reconcile every acquirer file line (distributed map)",
        "ListFiles",
        {
            "ListFiles": task(
                "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                {"Bucket": "acme-settlement-inbox", "Prefix.$": "$.date"},
                "ReconcileLines",
            ),
            "ReconcileLines": {
                "Type": "Map",
                "MaxConcurrency": 200,
                "ToleratedFailurePercentage": 5,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                    "Parameters": {"Bucket": "acme-settlement-inbox", "Key.$": "$.Contents[0].Key"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "MatchLine",
                    "States": {"MatchLine": lam("payments-settlement-match", None)},
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "acme-settlement-results", "Prefix": "runs"},
                },
                "Catch": catch_all("AlertFinance"),
                "Next": "PublishLedger",
            },
            "PublishLedger": lam("payments-ledger-publish", None),
            "AlertFinance": sns("finance-alerts", "SettlementFailed"),
            "SettlementFailed": fail("SettlementIncomplete", "Too many unmatched settlement lines"),
        },
        timeout=14400,
    )
    refund = machine(
        "Refund approval with a human reviewer",
        "ValidateRefund",
        {
            "ValidateRefund": lam("payments-refund-validate", "NeedsApproval"),
            "NeedsApproval": choice(
                "$.amount", [("NumericGreaterThan", 500, "RequestApproval")], "IssueRefund"
            ),
            "RequestApproval": human(
                "refund-approvals",
                "IssueRefund",
                timeout=86400,
                heartbeat=14400,
                catch=[
                    {
                        "ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"],
                        "Next": "EscalateToSupervisor",
                    },
                    {"ErrorEquals": ["ReviewRejected"], "Next": "NotifyRejected"},
                ],
            ),
            "EscalateToSupervisor": human(
                "refund-supervisors",
                "IssueRefund",
                timeout=172800,
                heartbeat=43200,
                catch=catch_all("NotifyRejected"),
            ),
            "IssueRefund": lam(
                "payments-refund-issue",
                "NotifyCustomer",
                catch=catch_all("RefundFailed", ("PaymentDeclined",)),
            ),
            "NotifyCustomer": sns("customer-notifications", None),
            "NotifyRejected": sns("customer-notifications", "Rejected"),
            "Rejected": {"Type": "Succeed"},
            "RefundFailed": fail("RefundFailed", "The issuer declined the refund"),
        },
    )
    return [
        MachineSpec(
            "payments-exception-pipeline",
            "payments",
            "payments-platform",
            "Triage, resolve and notify payment exceptions",
            exc,
            states={
                "Triage": B(420, 0.45, 0.012, LAMBDA_ERRORS),
                "PageOnCall": B(90, 0.3),
                "Resolve": B(1800, 0.6, 0.03, LAMBDA_ERRORS + (("PaymentDeclined", 6),)),
                "NotifyMerchant": B(120, 0.4, 0.004, (("SNS.ThrottledException", 1),)),
                "NotifyFailure": B(110, 0.3),
            },
            choices={"RouteBySeverity": (0.45, 0.05, 0.5)},
            redrive=0.35,
            tracing=True,
        ),
        MachineSpec(
            "payments-settlement-batch",
            "payments",
            "payments-platform",
            "Nightly acquirer settlement reconciliation",
            settle,
            states={
                "ListFiles": B(300, 0.3),
                "PublishLedger": B(5200, 0.4, 0.01, LAMBDA_ERRORS),
                "AlertFinance": B(100, 0.3),
            },
            map_runs={"ReconcileLines": (1_500_000, 0.03)},
            schedule="nightly",
            redrive=0.6,
        ),
        MachineSpec(
            "payments-refund-approval",
            "payments",
            "payments-risk-ops",
            "Refunds above 500 need a reviewer",
            refund,
            states={
                "ValidateRefund": B(350, 0.4, 0.006, LAMBDA_ERRORS),
                "RequestApproval": B(
                    2.5 * 3600e3, 1.0, 0.08, (("ReviewRejected", 1),), timeout=0.03, heartbeat=0.01
                ),
                "EscalateToSupervisor": B(6 * 3600e3, 0.8, 0.15, (("ReviewRejected", 1),), timeout=0.02),
                "IssueRefund": B(900, 0.5, 0.02, LAMBDA_ERRORS + (("PaymentDeclined", 5),)),
                "NotifyCustomer": B(100, 0.3),
                "NotifyRejected": B(100, 0.3),
            },
            choices={"NeedsApproval": (0.3, 0.7)},
            aborts={"RequestApproval": 0.02},
            abort_reason=("RefundWithdrawn", "Customer withdrew the refund request"),
        ),
    ]


def _customer_care() -> list[MachineSpec]:
    triage = machine(
        "Support tickets: classify, resolve, notify",
        "ClassifyIntent",
        {
            "ClassifyIntent": lam("care-classify-intent", "Route", catch=catch_all("HandOffToAgent")),
            "Route": choice(
                "$.intent.confidence", [("NumericGreaterThanEquals", 0.8, "AutoReply")], "HandOffToAgent"
            ),
            "AutoReply": lam("care-auto-reply", "NotifyCustomer", catch=catch_all("HandOffToAgent")),
            "HandOffToAgent": task(
                "arn:aws:states:::dynamodb:putItem",
                {"TableName": "care-agent-queue", "Item": {"ticketId": {"S.$": "$.ticketId"}}},
                "NotifyCustomer",
                retry=[
                    {
                        "ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 5,
                        "BackoffRate": 2.0,
                    }
                ],
            ),
            "NotifyCustomer": task(
                "arn:aws:states:::aws-sdk:sesv2:sendEmail",
                {"FromEmailAddress": "support@example.com", "Content": {"Simple": {}}},
                None,
                retry=[
                    {
                        "ErrorEquals": ["SesV2.TooManyRequestsException"],
                        "IntervalSeconds": 2,
                        "MaxAttempts": 3,
                        "BackoffRate": 2.0,
                    }
                ],
            ),
        },
        timeout=600,
    )
    review = machine(
        "Quality review of agent replies",
        "SampleReply",
        {
            "SampleReply": lam("care-sample-reply", "AwaitReviewer"),
            "AwaitReviewer": human(
                "care-qa-review",
                "RecordScore",
                timeout=28800,
                heartbeat=3600,
                catch=[{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "AutoScore"}],
            ),
            "AutoScore": bedrock(MODEL, "RecordScore", retry=MODEL_RETRY, catch=catch_all("ReviewSkipped")),
            "RecordScore": lam("care-record-score", None),
            "ReviewSkipped": {"Type": "Succeed"},
        },
    )
    survey = machine(
        "After-contact survey fan-out",
        "LoadContact",
        {
            "LoadContact": lam("care-load-contact", "FanOut"),
            "FanOut": {
                "Type": "Parallel",
                "Next": "RecordDispatch",
                "Catch": catch_all("DispatchFailed"),
                "Branches": [
                    {
                        "StartAt": "SendEmailSurvey",
                        "States": {
                            "SendEmailSurvey": task(
                                "arn:aws:states:::aws-sdk:sesv2:sendEmail",
                                {"FromEmailAddress": "survey@example.com"},
                                None,
                            )
                        },
                    },
                    {"StartAt": "SendSmsSurvey", "States": {"SendSmsSurvey": sns("care-sms", None)}},
                    {"StartAt": "UpdateCrm", "States": {"UpdateCrm": lam("care-crm-update", None)}},
                ],
            },
            "RecordDispatch": task(
                "arn:aws:states:::dynamodb:updateItem",
                {"TableName": "care-surveys", "Key": {"contactId": {"S.$": "$[0].contactId"}}},
                None,
            ),
            "DispatchFailed": fail("SurveyDispatchFailed", "One survey channel failed"),
        },
    )
    return [
        MachineSpec(
            "customer-care-ticket-triage",
            "customer-care",
            "care-automation",
            "Classify inbound tickets and auto-reply or hand off",
            triage,
            states={
                "ClassifyIntent": B(650, 0.5, 0.01, LAMBDA_ERRORS + (("InvalidTicket", 2),)),
                "AutoReply": B(900, 0.5, 0.008, LAMBDA_ERRORS),
                "HandOffToAgent": B(45, 0.4, 0.01, (("DynamoDB.ProvisionedThroughputExceededException", 1),)),
                "NotifyCustomer": B(
                    210, 0.4, 0.008, (("SesV2.TooManyRequestsException", 3), ("SesV2.MessageRejected", 1))
                ),
            },
            choices={"Route": (0.62, 0.38)},
            versioned=True,
            tracing=True,
        ),
        MachineSpec(
            "customer-care-agent-review",
            "customer-care",
            "care-quality",
            "Sampled QA review of agent replies (human, model fallback)",
            review,
            states={
                "SampleReply": B(250, 0.4, 0.004, LAMBDA_ERRORS),
                "AwaitReviewer": B(1.5 * 3600e3, 0.9, 0.0, (), timeout=0.07, heartbeat=0.04),
                "AutoScore": B(4200, 0.5, 0.02, MODEL_ERRORS),
                "RecordScore": B(120, 0.3),
            },
            aborts={"AwaitReviewer": 0.015},
            abort_reason=("TicketReopened", "The ticket was reopened"),
        ),
        MachineSpec(
            "customer-care-survey-fanout",
            "customer-care",
            "care-automation",
            "Send the after-contact survey on every channel",
            survey,
            states={
                "LoadContact": B(140, 0.3, 0.003, LAMBDA_ERRORS),
                "SendEmailSurvey": B(230, 0.4, 0.006, (("SesV2.TooManyRequestsException", 1),)),
                "SendSmsSurvey": B(160, 0.4, 0.01, (("SNS.ThrottledException", 1),)),
                "UpdateCrm": B(700, 0.6, 0.008, LAMBDA_ERRORS),
                "RecordDispatch": B(40, 0.3),
            },
        ),
    ]


def _ai_inference() -> list[MachineSpec]:
    rag = machine(
        "Grounded answer: retrieve, invoke the model, post-process",
        "RetrieveContext",
        {
            "RetrieveContext": task(
                "arn:aws:states:::aws-sdk:bedrockagentruntime:retrieve",
                {"KnowledgeBaseId": "KB7H2P4Q9X", "RetrievalQuery": {"Text.$": "$.question"}},
                "BuildPrompt",
                retry=[{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            ),
            "BuildPrompt": {
                "Type": "Pass",
                "Parameters": {"messages.$": "$.retrievalResults"},
                "ResultPath": "$.prompt",
                "Next": "InvokeModel",
            },
            "InvokeModel": bedrock(
                MODEL,
                "PostProcess",
                retry=MODEL_RETRY,
                catch=catch_all("AnswerTooLong", ("Bedrock.ValidationException",)),
            ),
            "AnswerTooLong": lam("ai-truncate-context", "InvokeModel"),
            "PostProcess": lam("ai-answer-postprocess", "GuardrailCheck"),
            "GuardrailCheck": choice(
                "$.guardrail.action", [("StringEquals", "BLOCKED", "AnswerBlocked")], "Answered"
            ),
            "AnswerBlocked": {"Type": "Pass", "Result": "blocked", "End": True},
            "Answered": {"Type": "Succeed"},
        },
        timeout=300,
    )
    docs = machine(
        "Document extraction: OCR every page, then extract fields with a model",
        "SplitPages",
        {
            "SplitPages": lam("ai-doc-split", "ExtractPages"),
            "ExtractPages": {
                "Type": "Map",
                "MaxConcurrency": 10,
                "ItemsPath": "$.pages",
                "Next": "MergeFields",
                "Catch": catch_all("FlagForManualExtraction"),
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "OcrPage",
                    "States": {
                        "OcrPage": task(
                            "arn:aws:states:::aws-sdk:textract:analyzeDocument",
                            {
                                "Document": {"S3Object": {"Bucket": "acme-docs", "Name.$": "$.key"}},
                                "FeatureTypes": ["FORMS", "TABLES"],
                            },
                            "InvokeModel",
                            retry=[
                                {
                                    "ErrorEquals": ["Textract.ProvisionedThroughputExceededException"],
                                    "IntervalSeconds": 2,
                                    "MaxAttempts": 3,
                                    "BackoffRate": 2.0,
                                }
                            ],
                        ),
                        "InvokeModel": bedrock(MODEL, "NormalizeFields", retry=MODEL_RETRY),
                        "NormalizeFields": {"Type": "Pass", "End": True},
                    },
                },
            },
            "MergeFields": lam("ai-doc-merge", None),
            "FlagForManualExtraction": sns("doc-ops", "ExtractionFailed"),
            "ExtractionFailed": fail("DocumentExtractionFailed", "At least one page could not be extracted"),
        },
        timeout=1800,
    )
    scoring = machine(
        "Batch scoring on the demand model (distributed map)",
        "PrepareBatch",
        {
            "PrepareBatch": lam("ai-batch-prepare", "ScoreItems"),
            "ScoreItems": {
                "Type": "Map",
                "ToleratedFailurePercentage": 2,
                "MaxConcurrency": 500,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSONL"},
                    "Parameters": {"Bucket": "acme-ml-batches", "Key.$": "$.manifest"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Score",
                    "States": {
                        "Score": task(
                            "arn:aws:states:::aws-sdk:sagemakerruntime:invokeEndpoint",
                            {"EndpointName": "demand-forecast-v7", "Body.$": "$"},
                            None,
                        )
                    },
                },
                "Next": "PublishScores",
            },
            "PublishScores": lam("ai-batch-publish", None),
        },
        timeout=21600,
    )
    return [
        MachineSpec(
            "ai-inference-rag-answer",
            "ai-inference",
            "ml-platform",
            "Retrieval-augmented answers for the support assistant",
            rag,
            states={
                "RetrieveContext": B(380, 0.4, 0.004, (("States.TaskFailed", 1),)),
                "InvokeModel": B(3400, 0.45, 0.025, MODEL_ERRORS, timeout=0.002),
                "AnswerTooLong": B(200, 0.3),
                "PostProcess": B(260, 0.4, 0.003, LAMBDA_ERRORS),
            },
            choices={"GuardrailCheck": (0.03, 0.97)},
            tracing=True,
            versioned=True,
            redrive=0.4,
        ),
        MachineSpec(
            "ai-inference-document-extraction",
            "ai-inference",
            "ml-platform",
            "OCR and field extraction for uploaded documents",
            docs,
            states={
                "SplitPages": B(600, 0.4, 0.004, LAMBDA_ERRORS),
                "OcrPage": B(
                    1900,
                    0.5,
                    0.01,
                    (
                        ("Textract.ProvisionedThroughputExceededException", 4),
                        ("Textract.InvalidS3ObjectException", 1),
                    ),
                ),
                "InvokeModel": B(5200, 0.5, 0.02, MODEL_ERRORS, timeout=0.002),
                "MergeFields": B(300, 0.3),
                "FlagForManualExtraction": B(100, 0.3),
            },
            map_items={"ExtractPages": (1, 4)},
        ),
        MachineSpec(
            "ai-inference-batch-scoring",
            "ai-inference",
            "ml-platform",
            "Nightly demand scoring batches",
            scoring,
            states={"PrepareBatch": B(2500, 0.4, 0.01, LAMBDA_ERRORS), "PublishScores": B(8000, 0.4)},
            map_runs={"ScoreItems": (2_400_000, 0.04)},
            schedule="nightly",
            redrive=0.5,
        ),
    ]


def _risk() -> list[MachineSpec]:
    kyc = machine(
        "KYC screening: parallel checks, then decide or send to an analyst",
        "ScreenParty",
        {
            "ScreenParty": {
                "Type": "Parallel",
                "Next": "Decide",
                "Catch": catch_all("ScreeningFailed"),
                "Branches": [
                    {
                        "StartAt": "SanctionsCheck",
                        "States": {"SanctionsCheck": lam("risk-sanctions-check", None)},
                    },
                    {"StartAt": "PepCheck", "States": {"PepCheck": lam("risk-pep-check", None)}},
                    {
                        "StartAt": "AdverseMediaSummary",
                        "States": {
                            "AdverseMediaSummary": bedrock(MODEL, "AdverseMediaDone", retry=MODEL_RETRY),
                            "AdverseMediaDone": {"Type": "Pass", "End": True},
                        },
                    },
                ],
            },
            "Decide": choice("$.risk.score", [("NumericLessThan", 30, "Approve")], "AnalystReview"),
            "AnalystReview": human(
                "kyc-analyst-review",
                "Approve",
                timeout=259200,
                heartbeat=86400,
                catch=[
                    {"ErrorEquals": ["ReviewRejected"], "Next": "Reject"},
                    {"ErrorEquals": ["States.ALL"], "Next": "ScreeningFailed"},
                ],
            ),
            "Approve": task(
                "arn:aws:states:::dynamodb:putItem", {"TableName": "kyc-decisions", "Item": {}}, None
            ),
            "Reject": task(
                "arn:aws:states:::dynamodb:putItem", {"TableName": "kyc-decisions", "Item": {}}, None
            ),
            "ScreeningFailed": fail("KycScreeningFailed", "Screening could not complete"),
        },
    )
    monitor = machine(
        "Transaction monitoring: score, triage alerts, notify",
        "EnrichTransaction",
        {
            "EnrichTransaction": lam("risk-txn-enrich", "ScoreTransaction"),
            "ScoreTransaction": lam(
                "risk-txn-score",
                "IsSuspicious",
                timeout=30,
                catch=catch_all("ScoringFailed", ("States.Timeout", "States.TaskFailed")),
            ),
            "IsSuspicious": choice("$.score", [("NumericGreaterThanEquals", 85, "OpenAlert")], "Cleared"),
            "OpenAlert": lam("risk-alert-open", "NotifyAnalysts"),
            "NotifyAnalysts": sns("risk-alerts", None),
            "Cleared": {"Type": "Succeed"},
            "ScoringFailed": fail("ScoringFailed", "The scoring service did not answer"),
        },
        timeout=120,
    )
    return [
        MachineSpec(
            "risk-compliance-kyc-screening",
            "risk-compliance",
            "financial-crime",
            "Know-your-customer screening for new parties",
            kyc,
            states={
                "SanctionsCheck": B(800, 0.5, 0.006, LAMBDA_ERRORS + (("SanctionsHit", 3),)),
                "PepCheck": B(650, 0.5, 0.004, LAMBDA_ERRORS),
                "AdverseMediaSummary": B(6500, 0.5, 0.015, MODEL_ERRORS),
                "AnalystReview": B(9 * 3600e3, 1.0, 0.12, (("ReviewRejected", 1),), timeout=0.02),
                "Approve": B(35, 0.3),
                "Reject": B(35, 0.3),
            },
            choices={"Decide": (0.8, 0.2)},
            aborts={"AnalystReview": 0.01},
            abort_reason=("PartyWithdrawn", "Onboarding application withdrawn"),
        ),
        MachineSpec(
            "risk-compliance-transaction-monitoring",
            "risk-compliance",
            "financial-crime",
            "Real-time transaction monitoring",
            monitor,
            states={
                "EnrichTransaction": B(180, 0.4, 0.003, LAMBDA_ERRORS),
                "ScoreTransaction": B(650, 0.45, 0.004, LAMBDA_ERRORS, timeout=0.002),
                "OpenAlert": B(240, 0.3),
                "NotifyAnalysts": B(90, 0.3),
            },
            choices={"IsSuspicious": (0.04, 0.96)},
            stalls={"EnrichTransaction": 0.0008},
            tracing=True,
        ),
    ]


def _supply_chain() -> list[MachineSpec]:
    eu = "eu-west-1"
    rerun = machine(
        "Forecast changed: re-run demand inference and send the report",
        "LoadForecastChange",
        {
            "LoadForecastChange": lam("sc-forecast-diff", "IsMaterial", region=eu),
            "IsMaterial": choice(
                "$.diff.changePercent", [("NumericGreaterThanEquals", 5, "RerunInference")], "NoChange"
            ),
            "RerunInference": task(
                "arn:aws:states:::states:startExecution.sync:2",
                {
                    "StateMachineArn": f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:"
                    "ai-inference-batch-scoring",
                    "Input.$": "$",
                },
                "BuildReport",
                timeout=7200,
                catch=catch_all("ReportStale"),
            ),
            "BuildReport": lam("sc-report-build", "SendReport", region=eu),
            "SendReport": task(
                "arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress": "planning@example.com"}, None
            ),
            "ReportStale": sns("planning-alerts", "RerunFailed"),
            "RerunFailed": fail("ForecastRerunFailed", "Inference re-run did not finish"),
            "NoChange": {"Type": "Succeed"},
        },
        timeout=10800,
    )
    orders = machine(
        "Order exceptions: check every order line, resolve, notify",
        "LoadOrder",
        {
            "LoadOrder": lam("sc-order-load", "CheckLines", region=eu),
            "CheckLines": {
                "Type": "Map",
                "ItemsPath": "$.lines",
                "MaxConcurrency": 5,
                "Next": "ResolveException",
                "Catch": catch_all("EscalateToPlanner"),
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "CheckInventory",
                    "States": {
                        "CheckInventory": lam("sc-inventory-check", "ReserveStock", region=eu),
                        "ReserveStock": task(
                            "arn:aws:states:::dynamodb:updateItem",
                            {"TableName": "sc-stock", "Key": {}},
                            None,
                            retry=[
                                {
                                    "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                                    "IntervalSeconds": 1,
                                    "MaxAttempts": 2,
                                }
                            ],
                        ),
                    },
                },
            },
            "ResolveException": lam("sc-order-resolve", "NotifyCustomer", region=eu),
            "NotifyCustomer": sns("order-updates", None),
            "EscalateToPlanner": sns("planner-escalations", "OrderOnHold"),
            "OrderOnHold": fail("OrderOnHold", "An order line could not be reserved"),
        },
    )
    onboard = machine(
        "Supplier onboarding with document review",
        "CollectDocuments",
        {
            "CollectDocuments": lam("sc-supplier-docs", "WaitForDocuments", region=eu),
            "WaitForDocuments": {"Type": "Wait", "Seconds": 600, "Next": "ComplianceReview"},
            "ComplianceReview": human(
                "supplier-review",
                "CreateVendor",
                timeout=432000,
                heartbeat=86400,
                region=eu,
                catch=[
                    {"ErrorEquals": ["ReviewRejected"], "Next": "Declined"},
                    {"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "ChaseReviewer"},
                ],
            ),
            "ChaseReviewer": sns("supplier-review-reminders", "ComplianceReview"),
            "CreateVendor": lam("sc-vendor-create", None, region=eu),
            "Declined": {"Type": "Succeed"},
        },
    )
    return [
        MachineSpec(
            "supply-chain-forecast-rerun",
            "supply-chain",
            "planning-systems",
            "Event-triggered forecast re-run and report",
            rerun,
            states={
                "LoadForecastChange": B(500, 0.4, 0.004, LAMBDA_ERRORS),
                "RerunInference": B(35 * 60e3, 0.35, 0.03, (("States.TaskFailed", 1),), timeout=0.005),
                "BuildReport": B(4000, 0.4, 0.01, LAMBDA_ERRORS),
                "SendReport": B(250, 0.3),
                "ReportStale": B(100, 0.3),
            },
            choices={"IsMaterial": (0.55, 0.45)},
            region=eu,
            aborts={"RerunInference": 0.04},
            redrive=0.5,
            abort_reason=("Superseded", "A newer forecast change started a fresh re-run"),
        ),
        MachineSpec(
            "supply-chain-order-exceptions",
            "supply-chain",
            "fulfilment",
            "Check, reserve and resolve order exceptions",
            orders,
            states={
                "LoadOrder": B(220, 0.4, 0.004, LAMBDA_ERRORS + (("OrderNotFound", 2),)),
                "CheckInventory": B(310, 0.4, 0.005, LAMBDA_ERRORS),
                "ReserveStock": B(40, 0.4, 0.01, (("DynamoDB.ConditionalCheckFailedException", 1),)),
                "ResolveException": B(800, 0.5, 0.008, LAMBDA_ERRORS),
                "NotifyCustomer": B(90, 0.3),
                "EscalateToPlanner": B(90, 0.3),
            },
            map_items={"CheckLines": (1, 6)},
            region=eu,
            redrive=0.25,
        ),
        MachineSpec(
            "supply-chain-supplier-onboarding",
            "supply-chain",
            "procurement",
            "Supplier onboarding and compliance review",
            onboard,
            states={
                "CollectDocuments": B(900, 0.4, 0.01, LAMBDA_ERRORS),
                "WaitForDocuments": B(600e3, 0.0),
                "ComplianceReview": B(
                    20 * 3600e3, 0.8, 0.1, (("ReviewRejected", 1),), timeout=0.03, heartbeat=0.02
                ),
                "ChaseReviewer": B(100, 0.3),
                "CreateVendor": B(1200, 0.4, 0.01, LAMBDA_ERRORS),
            },
            region=eu,
            aborts={"ComplianceReview": 0.02},
            abort_reason=("SupplierWithdrew", "Supplier withdrew from onboarding"),
        ),
    ]


def enterprise() -> list[MachineSpec]:
    """Every simulated state machine, most traffic first (the order sets the Zipf rank)."""
    from collectors.simulate import express  # it builds on the helpers above

    by_name = {
        m.name: m
        for m in _payments()
        + _customer_care()
        + _ai_inference()
        + _risk()
        + _supply_chain()
        + express.machines()
    }
    order = [
        "ai-inference-rag-answer",
        "customer-care-ticket-triage",
        "payments-exception-pipeline",
        "risk-compliance-transaction-monitoring",
        "supply-chain-order-exceptions",
        "customer-care-survey-fanout",
        "ai-inference-document-extraction",
        "risk-compliance-kyc-screening",
        "payments-refund-approval",
        "supply-chain-forecast-rerun",
        "customer-care-agent-review",
        "supply-chain-supplier-onboarding",
        "payments-settlement-batch",
        "ai-inference-batch-scoring",
        "payments-card-authorisation",
        "ai-inference-guardrail-check",
    ]
    return [by_name[n] for n in order]
