"""dwtui's readers on the answers public sources show (tests/contracts): what they read and make of them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.contract_support import (
    READERS,
    Contract,
    Path_,
    attribute,
    contracts,
    parse_path,
    plain,
    read,
    show,
    values_at,
)

CONTRACTS = contracts()
BY_NAME = {contract.name: contract for contract in CONTRACTS}


def _same_call(contract: Contract) -> list[Contract]:
    key = (contract.service, contract.method, contract.path.pattern)
    return [c for c in CONTRACTS if (c.service, c.method, c.path.pattern) == key]


def _present(contract: Contract, path: Path_) -> bool:
    return bool(values_at(contract.answer.body, contract.answer.headers, path))


def test_there_is_a_contract_for_every_kind_of_answer_dwtui_reads() -> None:
    used = {contract.reader for contract in CONTRACTS}
    assert used == set(READERS), f"readers without a contract: {sorted(set(READERS) - used)}"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_fixture_names_its_source_and_how_faithful_it_is(name: str) -> None:
    contract = BY_NAME[name]
    assert contract.source.strip() and contract.raw["notes"].strip()
    assert contract.reader in READERS
    if not contract.verbatim:
        # A fixture that is not a source's answer as published says what was made up.
        notes = contract.raw["notes"].lower()
        assert any(word in notes for word in ("invented", "inferred", "[i]", "built", "no "))


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_reader_makes_of_the_fixture_what_the_source_says(name: str) -> None:
    contract = BY_NAME[name]
    result, _ = read(contract.reader, contract.answer)
    assert contract.expect or contract.reader == "nothing", "a contract names what its answer means"
    for dotted, expected in contract.expect.items():
        assert plain(attribute(result, dotted)) == expected, f"{name}: {dotted}"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_field_the_reader_looks_for_is_documented(name: str) -> None:
    """A field the client reads is in this answer, in another documented answer of the same call, or is
    declared inferred with a reason: a field read from nowhere fails here."""
    contract = BY_NAME[name]
    _, reads = read(contract.reader, contract.answer)
    siblings = _same_call(contract)
    declared = {parse_path(path) for path in contract.inferred_reads}
    undocumented = sorted(
        show(path)
        for path in reads
        if not any(_present(other, path) for other in siblings) and path not in declared
    )
    assert not undocumented, f"{name} reads fields no source shows: {undocumented}"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_inferred_read_is_really_read_and_really_absent(name: str) -> None:
    contract = BY_NAME[name]
    _, reads = read(contract.reader, contract.answer)
    for text in contract.inferred_reads:
        path = parse_path(text)
        assert path in reads, f"{name}: {text} is declared inferred but never read"
        assert not _present(contract, path), f"{name}: {text} is in the fixture, so it is not inferred"


def test_a_field_renamed_in_the_client_alone_fails_the_contract() -> None:
    """The check above, shown failing: a reader that looks for a field under another name."""
    contract = BY_NAME["dataverse-who-am-i"]
    renamed = contract.answer.body | {"UserID": contract.answer.body["UserId"]}
    del renamed["UserId"]
    result, reads = read(contract.reader, type(contract.answer)(200, {}, renamed))
    assert ("UserId",) in reads and result.user_id == ""
    assert not any(_present(other, ("UserID",)) for other in _same_call(contract))


def test_the_readers_read_something_of_every_answer_with_a_body() -> None:
    reads_by_call: dict[str, set[Path_]] = defaultdict(set)
    for contract in CONTRACTS:
        _, reads = read(contract.reader, contract.answer)
        reads_by_call[contract.name] |= reads
    silent = [
        name
        for name, reads in reads_by_call.items()
        if not reads and BY_NAME[name].reader != "nothing"
    ]
    assert not silent


def _types(values: list[Any]) -> set[str]:
    from tests.contract_support import json_type

    return {json_type(v) for v in values}


def test_two_fixtures_of_one_call_agree_on_the_types_of_what_is_read() -> None:
    calls: dict[tuple[str, str, str], list[Contract]] = defaultdict(list)
    for contract in CONTRACTS:
        calls[(contract.service, contract.method, contract.path.pattern)].append(contract)
    for group in calls.values():
        reads: set[Path_] = set()
        for contract in group:
            reads |= read(contract.reader, contract.answer)[1]
        for path in reads:
            seen = set()
            for contract in group:
                seen |= _types(values_at(contract.answer.body, contract.answer.headers, path)) - {"null"}
            assert len(seen) <= 1, f"{[c.name for c in group]}: {show(path)} is {sorted(seen)}"
