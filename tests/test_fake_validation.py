"""The fake's data validation on what a person types (sheetcrm.testing.validation): a
strict rule refuses an entry its condition does not accept, for the owner too; API
writes and clearing a cell are never refused."""

from __future__ import annotations

from typing import Any

import pytest

from sheetcrm.testing import FakeSheetsServer, RejectedInputError

NOTHING = {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=FALSE"}]}
LIST = {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "Lead"}, {"userEnteredValue": "Won"}]}


def _ruled(fake: FakeSheetsServer, condition: dict[str, Any], strict: bool) -> str:
    key = fake.create_spreadsheet("V", {"S": [["ID"], ["x"]]})
    rule = {"condition": condition, "inputMessage": "busy", "strict": strict}
    cell = {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 0, "endColumnIndex": 1}
    fake.client().open_by_key(key).batch_update({"requests": [{"setDataValidation": {"range": cell, "rule": rule}}]})
    return key


@pytest.mark.parametrize(
    ("condition", "strict", "typed", "refused"),
    [
        (NOTHING, True, "P-0100", True),
        (NOTHING, True, "", False),  # clearing
        (NOTHING, False, "P-0100", False),  # warning only
        (LIST, True, "Won", False),
        (LIST, True, "Closing", True),
    ],
)
def test_a_strict_rule_refuses_what_the_owner_types(
    fake: FakeSheetsServer, condition: dict[str, Any], strict: bool, typed: str, refused: bool
) -> None:
    key = _ruled(fake, condition, strict)
    fake.act_as(None)  # the owner: no protected range stops them, a rule does
    if refused:
        with pytest.raises(RejectedInputError, match=r"violates the data validation rules.*\(busy\)"):
            fake.set_values(key, "S", "A2", [[typed]])
        assert fake.get_values(key, "S")[1] == ["x"]
    else:
        fake.set_values(key, "S", "A2", [[typed]])
        assert fake.get_values(key, "S")[1:] == ([[typed]] if typed else [])


def test_api_writes_are_not_checked(fake: FakeSheetsServer) -> None:
    key = _ruled(fake, NOTHING, True)
    fake.client().open_by_key(key).worksheet("S").update([["P-0100"]], "A2")
    assert fake.get_values(key, "S")[1] == ["P-0100"]
