"""Root failure: the state whose failure, after its retries and whether caught or not, ended the execution."""

from __future__ import annotations

from test_history import ARN, COLLECTED, SM, History, describe, list_item, norm

from collectors.stepfunctions.normalize import ROOT_COLUMNS, normalize_execution


def root(n) -> tuple:
    return tuple(n.execution[c] for c in ROOT_COLUMNS)


def _timed_out_attempts(h: History, name: str, attempts: int, prev: int | None = None) -> int:
    h.enter("Task", name, prev)
    last = 0
    for _ in range(attempts):
        h("TaskScheduled", resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
        h("TaskStarted", resourceType="lambda", resource="invoke")
        last = h("TaskTimedOut", resourceType="lambda", resource="invoke", error="States.Timeout")
    return last


def _failed_task(h: History, name: str, error: str, prev: int | None = None) -> int:
    h.enter("Task", name, prev)
    h("TaskScheduled", resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    h("TaskStarted", resourceType="lambda", resource="invoke")
    return h("TaskFailed", resourceType="lambda", resource="invoke", error=error, cause=f"{error}: boom")


def test_catch_then_fail_state_roots_at_the_caught_state():
    h = History()
    h.start()
    _timed_out_attempts(h, "ScoreTransaction", 3, prev=0)  # retried twice, then caught
    x = h.exit("Task", "ScoreTransaction")
    f = h.enter("Fail", "ScoringFailed", x)
    h("ExecutionFailed", f, error="ScoringFailed", cause="The scoring service did not answer")
    n = norm(describe(h, "FAILED", error="ScoringFailed", cause="The scoring service did not answer"), h)
    assert n.execution["failed_state"] == "ScoringFailed"  # the terminal state stays beside it
    assert n.execution["error"] == "ScoringFailed"
    assert root(n) == ("ScoreTransaction", "States.Timeout", None, None)


def test_retry_exhausted_caught_then_handler_states_then_fail():
    h = History()
    h.start()
    h.enter("Task", "Charge", 0)
    for err in ("Lambda.ServiceException", "Lambda.ServiceException", "Card.Gateway"):
        h("TaskScheduled", resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
        h("TaskStarted", resourceType="lambda", resource="invoke")
        h("TaskFailed", resourceType="lambda", resource="invoke", error=err, cause=f"{err} at gateway 7")
    x = h.exit("Task", "Charge")
    y = h.lambda_task("NotifyOps", prev=x)  # the handler path succeeds...
    f = h.enter("Fail", "PaymentFailed", y)  # ...and ends in a Fail state
    h("ExecutionFailed", f, error="PaymentFailed")
    n = norm(describe(h, "FAILED", error="PaymentFailed"), h)
    assert root(n) == ("Charge", "Card.Gateway", "Card.Gateway at gateway 7", None)


def test_a_failure_caught_and_recovered_from_is_not_the_root():
    h = History()
    h.start()
    _failed_task(h, "Enrich", "Enrich.Unavailable", prev=0)
    x = h.exit("Task", "Enrich")  # caught: the flow goes on without enrichment
    last = _failed_task(
        h, "Settle", "Ledger.Locked", prev=h.exit("Pass", "Default", h.enter("Pass", "Default", x))
    )
    h("ExecutionFailed", last, error="Ledger.Locked", cause="Ledger.Locked: boom")
    n = norm(describe(h, "FAILED", error="Ledger.Locked", cause="Ledger.Locked: boom"), h)
    assert root(n) == ("Settle", "Ledger.Locked", "Ledger.Locked: boom", None)


def test_failure_inside_a_map_iteration_roots_there_once():
    h = History()
    h.start()
    h.enter("Map", "ExtractPages", 0)
    ms = h("MapStateStarted", length=3)
    it = [h("MapIterationStarted", ms, name="ExtractPages", index=i) for i in range(3)]
    ok = [h.exit("Pass", "Prepare", h.enter("Pass", "Prepare", it[i])) for i in (0, 1)]
    bad = _failed_task(h, "InvokeModel", "Bedrock.ServiceUnavailableException", prev=it[2])
    h("MapIterationFailed", bad, name="ExtractPages", index=2)
    mf = h("MapStateFailed", bad)
    h("ExecutionFailed", mf, error="States.ExceedToleratedFailureThreshold", cause="Map failed")
    assert ok  # two iterations did fine before the third failed
    n = norm(describe(h, "FAILED", error="States.ExceedToleratedFailureThreshold", cause="Map failed"), h)
    assert n.execution["failed_state"] == "ExtractPages"
    assert root(n) == (
        "InvokeModel",
        "Bedrock.ServiceUnavailableException",
        "Bedrock.ServiceUnavailableException: boom",
        "ExtractPages[2]",
    )


def test_map_failure_caught_then_fail_roots_inside_the_iteration_and_nested_map():
    h = History()
    h.start()
    h.enter("Map", "Outer", 0)
    os_ = h("MapStateStarted", length=1)
    oi = h("MapIterationStarted", os_, name="Outer", index=0)
    h.enter("Map", "Inner", oi)
    is_ = h("MapStateStarted", length=2)
    ii = h("MapIterationStarted", is_, name="Inner", index=1)
    bad = _failed_task(h, "Extract", "Textract.Throttled", prev=ii)
    h("MapIterationFailed", bad, name="Inner", index=1)
    imf = h("MapStateFailed", bad)
    h("MapIterationFailed", imf, name="Outer", index=0)
    omf = h("MapStateFailed", imf)
    x = h.exit("Map", "Outer", omf)  # the Outer map's Catch
    f = h.enter("Fail", "ExtractionFailed", x)
    h("ExecutionFailed", f, error="ExtractionFailed")
    n = norm(describe(h, "FAILED", error="ExtractionFailed"), h)
    assert root(n) == ("Extract", "Textract.Throttled", "Textract.Throttled: boom", "Outer[0]/Inner[1]")


def test_failure_inside_a_parallel_branch():
    h = History()
    h.start()
    h.enter("Parallel", "Enrich", 0)
    ps = h("ParallelStateStarted")
    h.enter("Wait", "Hold", ps)  # branch 0, aborted by the sibling's failure
    bad = _failed_task(h, "Geocode", "Geo.Timeout", prev=ps)  # branch 1
    pf = h("ParallelStateFailed", bad)
    h("ExecutionFailed", pf, error="Geo.Timeout", cause="Geo.Timeout: boom")
    n = norm(describe(h, "FAILED", error="Geo.Timeout", cause="Geo.Timeout: boom"), h)
    assert n.execution["failed_state"] == "Enrich"
    assert root(n) == ("Geocode", "Geo.Timeout", "Geo.Timeout: boom", "Enrich[1]")


def test_execution_timeout_roots_at_the_state_that_was_running():
    h = History()
    h.start()
    x = h.lambda_task("Prepare", prev=0)
    h.enter("Task", "AwaitApproval", x)
    h("TaskScheduled", resourceType="lambda", resource="invoke.waitForTaskToken", region="us-east-1")
    s = h("TaskStarted", resourceType="lambda", resource="invoke.waitForTaskToken")
    h("ExecutionTimedOut", s)
    n = norm(list_item(h, "TIMED_OUT"), h)
    assert root(n) == ("AwaitApproval", "States.Timeout", None, None)


def test_aborted_execution_roots_at_the_state_it_was_in():
    h = History()
    h.start()
    x = h.lambda_task("Prepare", prev=0)
    w = h.enter("Wait", "Cooloff", x)
    h("ExecutionAborted", w, error="Operator", cause="stopped by on-call")
    n = norm(list_item(h, "ABORTED", stopDate=h.events[-1]["timestamp"]), h)
    assert root(n) == ("Cooloff", "Operator", "stopped by on-call", None)


def test_no_state_failed_the_fail_state_or_the_execution_itself_is_the_root():
    h = History()
    h.start()
    c = h.exit("Choice", "IsValid", h.enter("Choice", "IsValid", 0))
    f = h.enter("Fail", "Rejected", c)  # a Choice routed here: nothing was caught
    h("ExecutionFailed", f, error="Order.Invalid", cause="no items")
    n = norm(describe(h, "FAILED", error="Order.Invalid", cause="no items"), h)
    assert root(n) == ("Rejected", "Order.Invalid", "no items", None)

    # an expired history: only the execution record is known
    gone = {"executionArn": ARN, "status": "FAILED", "startDate": h.events[0]["timestamp"]}
    gone |= {"error": "States.Runtime", "cause": "bad path"}
    n = normalize_execution(gone, [], state_machine=SM, collected_at=COLLECTED, history_complete=False)
    assert root(n) == (None, "States.Runtime", "bad path", None)


def test_successful_and_running_executions_have_no_root():
    h = History()
    h.start()
    _failed_task(h, "Enrich", "Enrich.Unavailable", prev=0)
    x = h.exit("Task", "Enrich")
    h("ExecutionSucceeded", x)
    assert root(norm(describe(h, "SUCCEEDED"), h)) == (None, None, None, None)
    h.events.pop()
    assert root(norm(describe(h, "RUNNING"), h)) == (None, None, None, None)
