"""ASL definition → graph: the real-world corpus, hand-written shapes and malformed definitions."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from lake.asl import END, START, AslError, Graph, parse_definition, rule_label, state_id

# parametrize needs the names at collection time: same location rule as the corpus_dir fixture
_ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("STEPSCOPE_CORPUS", _ROOT.parent / "shared" / "corpus")) / "asl"
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.asl.*")) if CORPUS.is_dir() else []


def _load_raw(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def _walk(scope: dict[str, Any], types: Counter, ends: list[int], branch_starts: list[int]) -> None:
    """Independent count of states per type, terminal states and nested scopes."""
    for body in scope["States"].values():
        if not isinstance(body, dict):
            continue
        types[body["Type"]] += 1
        if body.get("End") is True or body["Type"] in ("Succeed", "Fail"):
            ends[0] += 1
        for branch in body.get("Branches", []):
            branch_starts[0] += 1
            _walk(branch, types, ends, branch_starts)
        for key in ("Iterator", "ItemProcessor"):
            if key in body:
                branch_starts[0] += 1
                _walk(body[key], types, ends, branch_starts)


def _assert_endpoints(g: Graph) -> None:
    for e in g.edges:
        assert e.src in g.states or e.src == START, e
        assert e.dst in g.states or g.is_virtual(e.dst), e
        assert e.dst != START


def test_corpus_is_complete(corpus_dir: Path) -> None:
    assert CORPUS.resolve() == corpus_dir.resolve()
    assert len(list(corpus_dir.glob("*.asl.*"))) == len(CORPUS_FILES) == 175


# Without the corpus there is one case, which the corpus_dir fixture skips (or, on CI, fails).
@pytest.mark.parametrize("name", CORPUS_FILES or ["<corpus missing>"])
def test_corpus_definition(corpus_dir: Path, name: str) -> None:
    path = corpus_dir / name
    g = parse_definition(path.read_text(encoding="utf-8"))
    raw = _load_raw(path)
    types: Counter = Counter()
    ends, branch_starts = [0], [0]
    _walk(raw, types, ends, branch_starts)

    assert len(g.states) == sum(types.values())
    assert Counter(s.type for s in g) == types
    kinds = Counter(e.kind for e in g.edges)
    assert kinds["start"] == 1 and g.edges[0] == g.edges[0].__class__(START, g.start, "start")
    assert kinds["end"] == ends[0]
    assert kinds["branch_start"] == branch_starts[0]
    assert g.start == state_id(raw["StartAt"])
    assert [s.name for s in g.top_level()] == [k for k, v in raw["States"].items() if isinstance(v, dict)]
    _assert_endpoints(g)
    for s in g:
        if s.parent is not None:
            assert g.states[s.parent].type in ("Map", "Parallel")
            assert s.depth == g.states[s.parent].depth + 1
            assert g.find(s.name, s.parent, s.branch) is s
        else:
            assert g.find(s.name) is s


def test_corpus_state_inside_states_is_skipped(corpus_dir: Path) -> None:
    g = parse_definition(
        (corpus_dir / "shared-fallback-state-jsonata__statemachine__statemachine.asl.json").read_bytes()
    )
    assert "QueryLanguage" not in g.states
    assert any("States.QueryLanguage" in w and "skipped" in w for w in g.warnings)


# --- hand-written definitions ----------------------------------------------------------------

CHOICE = {
    "Comment": "choice demo",
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.status", "StringEquals": "FAILED"},
                        {"Not": {"Variable": "$.retries", "NumericGreaterThan": 3}},
                    ],
                    "Next": "Retry",
                },
                {"Variable": "$.ok", "IsPresent": True, "Next": "Done"},
            ],
            "Default": "Boom",
        },
        "Retry": {"Type": "Pass", "Next": "Check"},
        "Done": {"Type": "Succeed"},
        "Boom": {"Type": "Fail", "Error": "E", "Cause": "c"},
    },
}


def test_choice_with_nested_rules_and_default() -> None:
    g = parse_definition(CHOICE)
    out = [(e.dst, e.kind, e.label) for e in g.edges if e.src == "Check"]
    assert out == [
        ("Retry", "choice", '$.status == "FAILED" and not ($.retries > 3)'),
        ("Done", "choice", "$.ok is present"),
        ("Boom", "default", "default"),
    ]
    assert g.comment == "choice demo" and g.query_language == "JSONPath"
    assert g.edges[0].src == START and g.edges[0].dst == "Check"
    ends = {(e.src, e.label) for e in g.edges if e.kind == "end"}
    assert ends == {("Done", "Succeed"), ("Boom", "Fail")}
    assert all(e.dst == END for e in g.edges if e.kind == "end")
    assert g.states["Retry"].next == "Check" and not g.states["Retry"].is_end
    assert g.states["Done"].is_end and g.states["Boom"].is_end


def test_choice_label_is_truncated() -> None:
    label = rule_label(
        {"Variable": "$.a_rather_long_field_name.with.more", "StringEquals": "x" * 80, "Next": "N"}
    )
    assert len(label) == 60 and label.endswith("…") and label.startswith("$.a_rather_long_field_name")


def test_catch_edges_are_error_edges() -> None:
    g = parse_definition(
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Retry": [{"ErrorEquals": ["States.Timeout"]}, {"ErrorEquals": ["States.ALL"]}],
                    "Catch": [
                        {"ErrorEquals": ["Lambda.ServiceException", "States.Timeout"], "Next": "Handle"},
                        {"ErrorEquals": ["States.ALL"], "Next": "Handle"},
                    ],
                    "End": True,
                },
                "Handle": {"Type": "Pass", "End": True},
            },
        }
    )
    call = g.states["Call"]
    assert call.resource == "arn:aws:states:::lambda:invoke"
    assert call.retry_count == 2 and call.has_retry and call.has_catch
    assert call.catch_errors == ["Lambda.ServiceException", "States.Timeout", "States.ALL"]
    catches = [e for e in g.edges if e.kind == "catch"]
    assert [(e.dst, e.label, e.is_error) for e in catches] == [
        ("Handle", "Lambda.ServiceException, States.Timeout", True),
        ("Handle", "States.ALL", True),
    ]
    assert not any(e.is_error for e in g.edges if e.kind != "catch")
    assert not g.states["Handle"].has_retry and g.states["Handle"].catch_errors == []


PARALLEL = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Work",
                    "States": {
                        "Work": {"Type": "Pass", "Next": "Tidy"},
                        "Tidy": {"Type": "Pass", "End": True},
                    },
                },
                {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:x", "End": True}}},
            ],
            "Next": "After",
        },
        "After": {"Type": "Succeed"},
    },
}


def test_parallel_branches_with_the_same_state_name() -> None:
    g = parse_definition(PARALLEL)
    assert list(g.states) == ["Fan", "Fan/0/Work", "Fan/0/Tidy", "Fan/1/Work", "After"]
    a, b = g.by_name("Work")
    assert (a.id, a.branch, a.type) == ("Fan/0/Work", 0, "Pass")
    assert (b.id, b.branch, b.type) == ("Fan/1/Work", 1, "Task")
    assert a.parent == b.parent == "Fan" and a.depth == b.depth == 1
    assert g.states["Fan"].branch_count == 2
    assert g.find("Work", "Fan", 1) is b and g.find("Work", "Fan") is a
    assert g.find("Work") is None and g.find("Nope", "Fan") is None
    assert [s.id for s in g.children("Fan")] == ["Fan/0/Work", "Fan/0/Tidy", "Fan/1/Work"]
    assert [s.id for s in g.children("Fan", 1)] == ["Fan/1/Work"]
    assert [s.id for s in g.top_level()] == ["Fan", "After"]
    edges = [(e.src, e.dst, e.kind) for e in g.edges]
    assert edges == [
        (START, "Fan", "start"),
        ("Fan", "After", "next"),
        ("Fan", "Fan/0/Work", "branch_start"),
        ("Fan", "Fan/1/Work", "branch_start"),
        ("Fan/0/Work", "Fan/0/Tidy", "next"),
        ("Fan/0/Tidy", "Fan/0/__end__", "end"),
        ("Fan/1/Work", "Fan/1/__end__", "end"),
        ("After", END, "end"),
    ]
    assert g.end_node("Fan", 1) == "Fan/1/__end__" and g.is_virtual("Fan/1/__end__")
    assert not g.is_virtual("Fan/1/Work")


def test_map_with_iterator() -> None:
    g = parse_definition(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "Iterator": {
                        "StartAt": "Do",
                        "States": {"Do": {"Type": "Wait", "Seconds": 1, "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )
    m = g.states["Each"]
    assert m.map_mode == "INLINE" and m.branch_count == 1 and m.is_end
    assert g.states["Each/0/Do"].parent == "Each" and g.states["Each/0/Do"].branch == 0
    assert ("Each", "Each/0/Do", "branch_start") in [(e.src, e.dst, e.kind) for e in g.edges]
    _assert_endpoints(g)


def test_map_with_distributed_item_processor() -> None:
    g = parse_definition(
        {
            "StartAt": "Batch",
            "States": {
                "Batch": {
                    "Type": "Map",
                    "ItemReader": {
                        "Resource": "arn:aws:states:::s3:getObject",
                        "Parameters": {"Bucket": "${Bucket}"},
                    },
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                        "StartAt": "Process",
                        "States": {"Process": {"Type": "Task", "Resource": "${ProcessArn}", "End": True}},
                    },
                    "Next": "Done",
                },
                "Done": {"Type": "Succeed"},
            },
        }
    )
    assert g.states["Batch"].map_mode == "DISTRIBUTED"
    assert g.states["Batch/0/Process"].resource == "${ProcessArn}"
    assert [s.id for s in g.children("Batch")] == ["Batch/0/Process"]
    assert ("Batch", "Batch/0/Process", "branch_start") in [(e.src, e.dst, e.kind) for e in g.edges]


def test_map_nested_inside_parallel() -> None:
    g = parse_definition(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "M",
                            "States": {
                                "M": {
                                    "Type": "Map",
                                    "ItemProcessor": {
                                        "StartAt": "Leaf",
                                        "States": {"Leaf": {"Type": "Pass", "End": True}},
                                    },
                                    "End": True,
                                }
                            },
                        },
                        {"StartAt": "Leaf", "States": {"Leaf": {"Type": "Pass", "End": True}}},
                    ],
                }
            },
        }
    )
    leaf = g.states["P/0/M/0/Leaf"]
    assert (leaf.parent, leaf.branch, leaf.depth) == ("P/0/M", 0, 2)
    assert g.states["P/0/M"].map_mode == "INLINE" and g.states["P/0/M"].depth == 1
    assert [s.id for s in g.by_name("Leaf")] == ["P/0/M/0/Leaf", "P/1/Leaf"]
    assert g.find("Leaf", "P/0/M") is leaf
    assert ("P/0/M/0/Leaf", "P/0/M/0/__end__", "end") in [(e.src, e.dst, e.kind) for e in g.edges]
    _assert_endpoints(g)


def test_jsonata_condition_and_query_language() -> None:
    g = parse_definition(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Condition": "{% $states.input.status = 'FAILED' %}", "Next": "F"}],
                    "Default": "S",
                },
                "F": {"Type": "Fail"},
                "S": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True},
            },
        }
    )
    assert g.query_language == "JSONata"
    assert g.states["C"].query_language == "JSONata" and g.states["S"].query_language == "JSONPath"
    (choice,) = [e for e in g.edges if e.kind == "choice"]
    assert choice.label == "$states.input.status = 'FAILED'"


def test_yaml_input() -> None:
    text = """
Comment: from YAML
StartAt: Start
States:
  Start:
    Type: Task
    Resource: arn:aws:states:::lambda:invoke
    Parameters:
      FunctionName: ${FunctionArn}
    Next: Finish
  Finish:
    Type: Succeed
"""
    g = parse_definition(text)
    assert list(g.states) == ["Start", "Finish"] and g.comment == "from YAML"
    assert g.states["Start"].next == "Finish"
    assert parse_definition(text.encode()).states.keys() == g.states.keys()


def test_json_text_and_bytes_match_dict() -> None:
    text = json.dumps(PARALLEL)
    for src in (text, text.encode(), b"\xef\xbb\xbf" + text.encode()):
        g = parse_definition(src)
        assert list(g.states) == list(parse_definition(PARALLEL).states)
        assert g.edges == parse_definition(PARALLEL).edges


def test_state_ids_escape_slashes_and_reserved_names() -> None:
    g = parse_definition(
        {
            "StartAt": "a/b",
            "States": {
                "a/b": {"Type": "Pass", "Next": "__end__"},
                "__end__": {"Type": "Pass", "Next": "100%"},
                "100%": {"Type": "Succeed"},
            },
        }
    )
    assert list(g.states) == ["a%2Fb", "%5F_end__", "100%25"]
    assert [s.name for s in g] == ["a/b", "__end__", "100%"]
    assert g.find("__end__").id == "%5F_end__"
    assert not g.is_virtual("%5F_end__") and g.is_virtual(END)
    _assert_endpoints(g)


def test_state_without_next_or_end_is_a_warning() -> None:
    g = parse_definition({"StartAt": "A", "States": {"A": {"Type": "Pass"}}})
    assert g.warnings == ["States.A: neither Next nor End"]
    assert [e.kind for e in g.edges] == ["start"]


def test_parse_does_not_modify_or_copy_the_input() -> None:
    doc = json.loads(json.dumps(PARALLEL))
    before = json.dumps(doc, sort_keys=True)
    g = parse_definition(doc)
    assert json.dumps(doc, sort_keys=True) == before
    assert g.states["Fan/1/Work"].raw is doc["States"]["Fan"]["Branches"][1]["States"]["Work"]


# --- malformed definitions -------------------------------------------------------------------


def _one(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": body, **extra}}


MALFORMED = [
    ("{", "invalid JSON: Expecting property name"),
    ('{"StartAt": "A", "States": {}', "invalid JSON"),
    ("StartAt: A\nStates: [\n", "invalid YAML"),
    ("", "definition is empty"),
    ("[1, 2]", "definition is not an object (got list)"),
    (b"\xff\xfe{", "definition is not UTF-8 text"),
    ({"States": {"A": {"Type": "Pass", "End": True}}}, "(definition): missing StartAt"),
    ({"StartAt": "A"}, "(definition): missing States"),
    ({"StartAt": "A", "States": {}}, "(definition): States is empty"),
    ({"StartAt": "A", "States": {"QueryLanguage": "JSONata"}}, "(definition): States is empty"),
    ({"StartAt": "A", "States": []}, "States must be an object"),
    (
        {"StartAt": "B", "States": {"A": {"Type": "Pass", "End": True}}},
        'StartAt: "B" is not a state in this scope',
    ),
    (_one({"End": True}), "States.A: missing Type"),
    (_one({"Type": "Tusk", "End": True}), 'States.A.Type: unknown type "Tusk" (expected one of Choice, Fail'),
    (_one({"Type": "Pass", "Next": "Bar"}), 'States.A.Next: "Bar" is not a state in this scope'),
    (_one({"Type": "Pass", "Next": 3}), "States.A.Next: expected a state name, got 3"),
    (_one({"Type": "Choice", "Choices": []}), "States.A.Choices: missing or empty"),
    (
        _one({"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True}]}),
        "States.A.Choices[0]: missing Next",
    ),
    (
        _one({"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Z"}]}),
        'States.A.Choices[0].Next: "Z" is not a state in this scope',
    ),
    (
        _one(
            {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "A"}], "Default": "Q"}
        ),
        'States.A.Default: "Q" is not a state in this scope',
    ),
    (
        _one(
            {
                "Type": "Task",
                "Resource": "r",
                "End": True,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
            }
        ),
        'States.A.Catch[0].Next: "H" is not a state in this scope',
    ),
    (
        _one({"Type": "Task", "Resource": "r", "End": True, "Catch": [{"ErrorEquals": ["E"]}]}),
        "States.A.Catch[0]: missing Next",
    ),
    (_one({"Type": "Parallel", "End": True}), "States.A.Branches: missing or empty"),
    (_one({"Type": "Map", "End": True}), "States.A: missing ItemProcessor (or Iterator)"),
    (
        _one(
            {"Type": "Parallel", "End": True, "Branches": [{"States": {"X": {"Type": "Pass", "End": True}}}]}
        ),
        "States.A.Branches[0]: missing StartAt",
    ),
    (
        _one({"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "X", "States": {}}}),
        "States.A.ItemProcessor: States is empty",
    ),
    (
        _one(
            {
                "Type": "Map",
                "End": True,
                "Iterator": {"StartAt": "Y", "States": {"X": {"Type": "Pass", "End": True}}},
            }
        ),
        'States.A.Iterator.StartAt: "Y" is not a state in this scope',
    ),
    (
        # a branch may not jump out to the enclosing scope
        _one(
            {
                "Type": "Parallel",
                "End": True,
                "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "A"}}}],
            }
        ),
        'States.A.Branches[0].States.X.Next: "A" is not a state in this scope',
    ),
    (
        _one({"Type": "Pass", "End": True}) | {"QueryLanguage": "XPath"},
        'QueryLanguage: unknown query language "XPath"',
    ),
]


@pytest.mark.parametrize(("definition", "message"), MALFORMED, ids=[m for _, m in MALFORMED])
def test_malformed_definition_is_rejected(definition: Any, message: str) -> None:
    with pytest.raises(AslError) as err:
        parse_definition(definition)
    assert message in str(err.value)
