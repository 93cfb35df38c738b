"""Contract files read as mw reads them: typed scalars, located errors, the dispatcher's
"path: what" lines given their lines. No server."""

import os

import pytest

from conftest import DEMO
from microwork import ContractError
from microwork import contract as contracts


def demo_text():
    with open(os.path.join(DEMO, "contract.yaml"), encoding="utf-8") as f:
        return f.read()


def line_containing(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_demo_contract_reads_as_its_message():
    loaded = contracts.load(os.path.join(DEMO, "contract.yaml"))
    c = loaded.contract
    assert c.name == "Product review sentiment"
    assert c.budget_minor == 7000
    assert c.exchange_rates[0].rate == "129.50"  # quoted: text, never a float
    assert c.inputs[0].path == "reviews.csv"
    assert c.stages[1].human.piece_rate_minor == 5
    assert list(c.stages[1].human.answer.single_choice.options) == [
        "positive", "negative", "neutral"]
    assert sorted(c.stages[1].human.instructions) == ["en", "sw"]
    assert loaded.base_dir == DEMO


@pytest.mark.parametrize("change, path, what", [
    (("piece_rate_minor: 5", "piece_rate_minor: five"), "stages[1].human.piece_rate_minor",
     'expected an integer (int64), got "five"'),
    (("overlap: 3", "overlaps: 3"), "stages[1].human.overlaps", "unknown field"),
    (("by: SPLIT_ROWS", "by: SPLIT_PAGES"), "stages[0].split.by",
     'expected one of SPLIT_ROWS, SPLIT_RECORDS, SPLIT_LINES or SPLIT_CHARS, got "SPLIT_PAGES"'),
    (("budget_minor: 7000 ", "budget_minor: 70.5 "), "budget_minor",
     "expected an integer (int64), got 70.5"),
])
def test_a_wrong_field_is_named_with_its_file_and_line(change, path, what):
    text = demo_text().replace(*change)
    with pytest.raises(ContractError) as e:
        contracts.parse(text, "contract.yaml")
    line = line_containing(text, change[1])
    assert e.value.problems == [("contract.yaml", line, path, what)]
    assert str(e.value) == f"contract.yaml:{line}: {path}: {what}"


def test_yaml_syntax_and_repeated_keys_name_their_line():
    with pytest.raises(ContractError) as e:
        contracts.parse("name: a\nclient: b\nname: c\n", "c.yaml")
    assert str(e.value) == 'c.yaml:3: field "name" appears twice'
    with pytest.raises(ContractError) as e:
        contracts.parse("name: a\nstages: [1\n", "c.yaml")
    assert e.value.problems[0][:2] == ("c.yaml", 3)


def test_a_file_that_is_not_utf8_or_too_big_is_refused_unread(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: a\nclient: \xff\n")
    with pytest.raises(ContractError) as e:
        contracts.load(str(bad))
    assert str(e.value) == f"{bad}:2: the file is not valid UTF-8"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (contracts.MAX_CONTRACT_BYTES + 1))
    with pytest.raises(ContractError, match="a contract may be at most 1048576"):
        contracts.load(str(big))


def test_a_dict_follows_the_same_rules():
    c, _ = contracts.from_dict({"name": "x", "budget_minor": "120", "stages": [
        {"name": "rows", "split": {"input": "a", "by": "SPLIT_ROWS"}}]})
    assert c.budget_minor == 120 and c.stages[0].split.by == 1
    with pytest.raises(ContractError) as e:
        contracts.from_dict({"stages": [{"human": {"overlap": -1}}]})
    assert str(e.value) == ("<dict>: stages[0].human.overlap: expected a non-negative integer, "
                            "got -1")
    with pytest.raises(ContractError, match="more than one kind is set"):
        contracts.from_dict({"stages": [{"split": {}, "merge": {}}]})


def test_the_dispatchers_field_paths_are_given_their_lines():
    text = demo_text()
    c, root = contracts.parse(text, "contract.yaml")
    loaded = contracts.Loaded(c, "contract.yaml", DEMO, root)
    e = contracts.locate(loaded, "stages[1].human.overlap: must be at least 1\n"
                                 "budget_minor: too small")
    assert e.problems == [
        ("contract.yaml", line_containing(text, "overlap: 3"), "stages[1].human.overlap",
         "must be at least 1"),
        ("contract.yaml", line_containing(text, "budget_minor"), "budget_minor", "too small"),
    ]


def test_json_indented_with_tabs_and_escaped_emoji_reads_as_mw_reads_it():
    import json
    text = json.dumps({"name": "r\U0001F600", "budget_minor": 5, "stages": [{"name": "rows"}]},
                      indent="\t")
    c, _ = contracts.parse(text, "c.json")
    assert c.name == "r\U0001F600" and c.budget_minor == 5


def test_scalars_follow_protobufs_json_rules():
    c, _ = contracts.from_dict({"caps": None, "stages": [None, {"name": "a"}],
                                "exchange_rates": [{"currency": "KES", "rate": "1"}]})
    assert [s.name for s in c.stages] == ["a"]  # null: left out, as in JSON
    with pytest.raises(ContractError, match=r'expected an integer \(int64\), got " 5"'):
        contracts.from_dict({"budget_minor": " 5"})
    import numpy as np
    c, _ = contracts.from_dict({"budget_minor": np.int64(7)})
    assert c.budget_minor == 7


def test_aliases_that_expand_without_bound_and_deep_nesting_are_refused():
    bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcde", "bcdef"))
    with pytest.raises(ContractError, match="more than 200000 values"):
        contracts.parse(bomb, "bomb.yaml")
    with pytest.raises(ContractError, match="nested more than 64 deep"):
        contracts.parse("name: " + "[" * 100 + "]" * 100 + "\n", "deep.yaml")


def test_exports_write_what_mw_writes_for_awkward_values():
    from microwork import exports
    assert exports.csv_field("positive") == "positive"
    assert exports.csv_field("-5") == "-5"
    assert exports.csv_field("-5\n") == "\"'-5\n\""  # not a plain number: a newline in it
    assert exports.csv_field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\""
    assert exports.csv_field("a\x85b") == "a\ufffdb"  # a C1 control
    assert exports.json_line({"c": float("nan"), "d": [1.5]}) == '{"c":null,"d":[1.5]}'
