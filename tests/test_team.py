"""Team workflows: lead import with dedupe, fair assignment, event invitations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import sheetcrm
from sheetcrm.backends.xlsx import XlsxBackend
from sheetcrm.cli import cli
from sheetcrm.exceptions import LeadFileError
from sheetcrm.schema import Tab
from sheetcrm.team.assign import Strategy, assign, choose_owners, team_frame
from sheetcrm.team.invite import InviteFilters, invite
from sheetcrm.team.leads import decode_lead_bytes, import_leads
from tests.helpers import save_sheets

AS_OF = dt.date(2026, 11, 22)


def sheet(path: Path, title: str) -> list[list[Any]]:
    ws = openpyxl.load_workbook(path)[title]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def records(path: Path, title: str) -> pd.DataFrame:
    rows = sheet(path, title)
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    frame = frame[frame.notna().any(axis=1)]
    return frame.where(frame.notna(), None)


def write_csv(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def crm(make_workbook: Callable[..., Path], small_crm: dict) -> Path:
    rows = dict(small_crm)
    rows[Tab.TEAM] = [
        {"Name": "Amy Chen", "Active": True, "Regions": "台北", "Stages": "Lead"},
        {"Name": "王小明", "Weight": 2, "Active": True, "Regions": "Hong Kong", "Stages": "Qualified, Proposal"},
        {"Name": "Gone Rep", "Active": False, "Regions": "台北", "Stages": "Lead, Qualified"},
        {"Name": "Lee", "Active": True},
    ]
    return make_workbook(rows)


# ------------------------------------------------------------------------ lead import


@pytest.mark.parametrize(
    ("lead", "matched_on"),
    [
        ("林志玲,x1@new.com,,", "P-0001"),  # name + company? no company: name alone differs from 林志玲+宏達
        ("Someone,LIN@Example.COM,,", "P-0001"),  # email case
        ("Someone,  lin@example.com ,,", "P-0001"),  # email spaces
        ("Someone,,０９１２３４５６７８,", "P-0001"),  # full-width digits
        ("Someone,,+886 912 345 678,", "P-0001"),  # +886 and spaces
        ("Someone,,0912 345-678,", "P-0001"),  # spaces and dashes
        ("Ｊｏｈｎ  ｗｕ,,,Harbor Logistics", "P-0002"),  # full-width, case, spaces; company suffix
        ("john wu,,,HARBOR LOGISTICS LTD", "P-0002"),
    ],
)
def test_a_lead_matching_a_contact_is_listed_not_added(crm: Path, tmp_path: Path, lead: str, matched_on: str) -> None:
    path = write_csv(tmp_path, f"Name,Email,Phone,Company\n{lead}\n")
    result = import_leads(XlsxBackend(crm), path, source="Expo", today=AS_OF)
    if lead.startswith("林志玲"):  # same name, but the contact works for a company the lead does not name
        assert result.counts["added"] == 1
        return
    assert result.outcomes["status"].tolist() == ["duplicate"]
    assert result.outcomes["id"].tolist() == [matched_on]
    assert len(records(crm, "Contacts")) == 3


def test_new_leads_get_ids_source_created_and_companies(crm: Path, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "姓名,公司,電子郵件,手機\n張三,新創科技股份有限公司,z@new.tw,0922-000-111\n李四,新創科技,l@new.tw,\n"
    )
    result = import_leads(XlsxBackend(crm), path, source="2026 Expo", today=AS_OF)
    assert result.counts == {"total": 2, "added": 2, "duplicates": 0, "merged": 0, "rejected": 0, "companies": 1}
    contacts = records(crm, "Contacts")
    new = contacts[contacts["ID"].isin(["P-0004", "P-0005"])]
    assert new[["Name", "Company ID", "Email", "Mobile", "Source"]].values.tolist() == [  # 手機 is Mobile
        ["張三", "CO-0003", "z@new.tw", "0922-000-111", "2026 Expo"],
        ["李四", "CO-0003", "l@new.tw", None, "2026 Expo"],
    ]
    assert {v.date() for v in new["Created"]} == {AS_OF}
    companies = records(crm, "Companies")
    assert companies.loc[companies["ID"] == "CO-0003", "Name"].item() == "新創科技股份有限公司"
    log = records(crm, "Log")
    assert set(log["ID"].dropna()) >= {"P-0004", "P-0005", "CO-0003"}


def test_bad_rows_are_named_and_the_good_ones_added(crm: Path, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "Name,Email,Phone,Created\nGood One,g1@x.com,,\n,nobody@x.com,,\nBad Mail,not-an-email,,\n"
        "Bad Date,b@x.com,,2026-13-01\nGood Two,,0933-111-222,\n",
    )
    result = import_leads(XlsxBackend(crm), path, source="Expo", today=AS_OF)
    out = result.outcomes.set_index("row")
    assert out["status"].to_dict() == {2: "added", 3: "rejected", 4: "rejected", 5: "rejected", 6: "added"}
    assert out.at[3, "reason"] == "no Name"
    assert str(out.at[4, "reason"]).startswith("Email:") and str(out.at[5, "reason"]).startswith("Created:")
    lines = "\n".join(result.summary_lines())
    assert "row 4: Email:" in lines and "row 5: Created:" in lines
    assert set(records(crm, "Contacts")["Name"]) >= {"Good One", "Good Two"}


def test_duplicates_within_the_file_and_merge_empty(crm: Path, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "Name,Email,Title\nNew Person,np@x.com,CEO\nNew Person 2,NP@x.com,\nJohn Wu,john@example.com,CTO\n"
    )
    result = import_leads(XlsxBackend(crm), path, merge_empty=True, today=AS_OF)
    assert result.outcomes["status"].tolist() == ["added", "duplicate", "merged"]
    assert result.outcomes["reason"][1] == "same email as file row 2"
    contacts = records(crm, "Contacts").set_index("ID")
    assert contacts.at["P-0002", "Title"] == "CTO"  # blank cell filled
    assert contacts.at["P-0002", "Email"] == "john@example.com"  # nothing else touched


def test_a_big5_csv_reads_as_chinese(crm: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "姓名,公司,手機\n陳大文,台灣測試有限公司,0955-123-456\n", encoding="cp950")
    result = import_leads(XlsxBackend(crm), path, today=AS_OF)
    assert result.outcomes[["status", "name"]].values.tolist() == [["added", "陳大文"]]
    assert "台灣測試有限公司" in set(records(crm, "Companies")["Name"])


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("姓名\n王".encode("utf-8-sig"), "姓名\n王"),
        ("姓名\n王".encode(), "姓名\n王"),
        ("姓名\n王".encode("cp950"), "姓名\n王"),
        ("姓名\n王".encode("utf-16"), "姓名\n王"),
    ],
)
def test_csv_encodings_are_detected(data: bytes, text: str) -> None:
    assert decode_lead_bytes(data) == text


def test_an_undecodable_file_is_a_clear_error(crm: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Name\n\xff\xfa\xfb\x80\x81\n")
    with pytest.raises(LeadFileError, match="neither UTF-8 nor Big5"):
        import_leads(XlsxBackend(crm), path)


def test_import_dry_run_writes_nothing_and_report_csv(crm: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Name,Phone\nA New,0911-000-000\n林志玲,0912345678\n")
    before = crm.read_bytes()
    report = tmp_path / "out.csv"
    got = CliRunner().invoke(
        cli, ["import", str(crm), str(path), "--source", "Expo", "--dry-run", "--report-csv", str(report)]
    )
    assert got.exit_code == 0, got.output
    assert "1 added" in got.output and "Dry run" in got.output
    assert crm.read_bytes() == before
    assert pd.read_csv(report)["status"].tolist() == ["added", "duplicate"]


def test_import_map_option_and_rows_land_below_blank_rows_and_extra_columns(crm: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(crm)
    ws = wb["Contacts"]
    header = [c.value for c in ws[1]]
    ws.cell(row=1, column=len(header) + 2, value="My notes")
    ws.cell(row=7, column=len(header) + 2, value="a note below a blank row")
    wb.save(crm)
    path = write_csv(tmp_path, "Full name,行動電話\nMapped Person,0977-000-111\n")
    got = CliRunner().invoke(cli, ["import", str(crm), str(path), "--map", "Full name=Name", "--map", "行動電話=Phone"])
    assert got.exit_code == 0, got.output
    rows = sheet(crm, "Contacts")
    assert rows[6][len(header) + 1] == "a note below a blank row"
    new = rows[7]
    assert new[header.index("Name")] == "Mapped Person" and new[header.index("Phone")] == "0977-000-111"
    assert new[len(header) + 1] is None


# ------------------------------------------------------------------------ assignment


def add_contacts(path: Path, n: int, start: int = 100) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    header = [c.value for c in ws[1]]
    first = max(r for r in range(1, ws.max_row + 1) if any(c.value for c in ws[r])) + 1
    for i in range(n):
        ws.cell(row=first + i, column=header.index("ID") + 1, value=f"P-{start + i:04d}")
        ws.cell(row=first + i, column=header.index("Name") + 1, value=f"Lead {start + i}")
    wb.save(path)


def owners(path: Path) -> pd.Series:
    contacts = records(path, "Contacts").set_index("ID")
    return contacts["Owner"]


def test_round_robin_resumes_across_runs(crm: Path) -> None:
    first = assign(XlsxBackend(crm), strategy="round-robin")  # P-0003 has no owner
    assert first.assignments["owner"].tolist() == ["Amy Chen"]
    add_contacts(crm, 4)
    second = assign(XlsxBackend(crm), strategy="round-robin")
    assert second.assignments["owner"].tolist() == ["王小明", "Lee", "Amy Chen", "王小明"]
    assert sheetcrm.open(crm).settings.assign_cursor == "王小明"


@pytest.mark.parametrize("strategy", ["round-robin", "balanced"])
def test_a_hundred_new_rows_reach_every_active_rep_evenly(crm: Path, strategy: str) -> None:
    add_contacts(crm, 99)
    result = assign(XlsxBackend(crm), strategy=strategy)
    counts = owners(crm).value_counts().to_dict()
    assert "Gone Rep" not in counts
    given = result.per_rep.to_dict()
    assert set(given) == {"Amy Chen", "王小明", "Lee"} and max(given.values()) - min(given.values()) <= 1


def test_weighted_follows_weight_and_inactive_reps_get_none(crm: Path) -> None:
    add_contacts(crm, 39)
    result = assign(XlsxBackend(crm), strategy="weighted")
    assert result.per_rep.to_dict() == {"Amy Chen": 10, "王小明": 20, "Lee": 10}


def test_territory_matches_region_then_round_robin(crm: Path) -> None:
    result = assign(XlsxBackend(crm), tab=Tab.COMPANIES, strategy="territory", dry_run=True)
    assert result.assignments.empty  # both companies have owners
    team = team_frame(
        pd.DataFrame(
            {
                "Name": ["A", "B", "C"],
                "Active": [True, False, True],
                "Regions": ["台北", "台北", None],
                "Industries": [None] * 3,
                "Stages": [None] * 3,
                "Weight": [None] * 3,
            }
        )
    )
    recs = pd.DataFrame(
        {"id": ["1", "2", "3"], "region": ["台北", "高雄", "台北"], "industry": [None] * 3, "value": 0.0}
    )
    got = choose_owners(recs, team, Strategy.TERRITORY, cursor="A")
    assert got["owner"].tolist() == ["A", "C", "A"]
    assert "round-robin" in got["reason"][1]


def test_balanced_evens_expected_value() -> None:
    team = team_frame(
        pd.DataFrame(
            {
                "Name": ["A", "B"],
                "Active": [True, True],
                "Regions": [None] * 2,
                "Industries": [None] * 2,
                "Stages": [None] * 2,
                "Weight": [None] * 2,
            }
        )
    )
    recs = pd.DataFrame({"id": list("123456"), "region": None, "industry": None, "value": [100.0, 90, 10, 10, 0, 0]})
    got = choose_owners(recs, team, Strategy.BALANCED)
    totals = recs["value"].groupby(got["owner"].to_numpy()).sum()
    assert totals.to_dict() == {"A": 110.0, "B": 100.0}


def test_owner_is_written_only_if_still_empty(crm: Path) -> None:
    backend = XlsxBackend(crm)
    raw = backend.read()
    wb = openpyxl.load_workbook(crm)
    ws = wb["Contacts"]
    header = [c.value for c in ws[1]]
    ws.cell(row=4, column=header.index("Owner") + 1, value="A person")  # P-0003 taken meanwhile
    wb.save(crm)
    result = assign(backend, strategy="round-robin", raw=raw)
    assert result.report is not None and len(result.report.skipped) == 1
    assert owners(crm)["P-0003"] == "A person"
    log = records(crm, "Log")
    assert log["Reason"].str.contains("not changed").any()


def test_relay_follows_stage_changes(crm: Path) -> None:
    wb = openpyxl.load_workbook(crm)
    ws = wb["Settings"]
    ws.append(["assign.relay", "true", None])
    wb.save(crm)
    sheetcrm.open(crm).sync(as_of=AS_OF)  # OP-0001 Lead -> Proposal on its quote; OP-0002 stays Qualified
    deals = records(crm, "Opportunities").set_index("ID")
    assert deals.at["OP-0001", "Stage"] == "Proposal"
    assert deals.at["OP-0001", "Owner"] == "王小明"  # handles Proposal; Amy Chen handles Lead only
    assert deals.at["OP-0002", "Owner"] == "王小明"
    log = records(crm, "Log")
    assert (log["Reason"] == "relay: handles stage Proposal").sum() == 1


def test_assign_cli_dry_run_writes_nothing(crm: Path) -> None:
    before = crm.read_bytes()
    got = CliRunner().invoke(cli, ["assign", str(crm), "--strategy", "weighted", "--dry-run"])
    assert got.exit_code == 0, got.output
    assert "P-0003" in got.output and crm.read_bytes() == before


@pytest.mark.parametrize(("given", "ok"), [("連絡人", True), ("contacts", True), ("公司", True), ("Team", False)])
def test_assign_takes_the_tab_by_its_english_or_chinese_name(crm: Path, given: str, ok: bool) -> None:
    got = CliRunner().invoke(cli, ["assign", str(crm), "--tab", given, "--dry-run", "--format", "csv"])
    assert (got.exit_code == 0) is ok, got.output
    if not ok:
        assert "連絡人" in got.output  # the refusal lists the names it takes


# ------------------------------------------------------------------------ invitations


def test_invite_leaves_out_opt_outs_and_the_unreachable_and_records(crm: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(crm)
    ws = wb["Contacts"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Opt-out") + 1, value=True)  # P-0001
    ws.cell(row=5, column=header.index("ID") + 1, value="P-0009")
    ws.cell(row=5, column=header.index("Name") + 1, value="No Way To Reach")
    ws.cell(row=6, column=header.index("ID") + 1, value="P-0010")
    ws.cell(row=6, column=header.index("Name") + 1, value="Unsure")
    ws.cell(row=6, column=header.index("Email") + 1, value="unsure@x.com")
    ws.cell(row=6, column=header.index("Opt-out") + 1, value="please don't")  # neither yes nor no
    ws.cell(row=7, column=header.index("ID") + 1, value="P-0011")
    ws.cell(row=7, column=header.index("Name") + 1, value="Ticked")
    ws.cell(row=7, column=header.index("Email") + 1, value="ticked@x.com")
    ws.cell(row=7, column=header.index("Opt-out") + 1, value="X")  # a tick to some, a no to others
    wb.save(crm)
    first = invite(XlsxBackend(crm), event="Spring Expo", record=True, as_of=AS_OF)
    assert first.invite["ID"].tolist() == ["P-0002", "P-0003"]  # by value: 30000, then 2000
    assert dict(zip(first.left_out["ID"], first.left_out["why"], strict=True)) == {
        "P-0001": "opted out",
        "P-0009": "unreachable",
        "P-0010": "opt-out cell unreadable",
        "P-0011": "opt-out cell unreadable",
    }
    said = "\n".join(first.summary_lines())
    assert "No Way To Reach (P-0009)" in said and "neither yes nor no" in said and "Unsure (P-0010)" in said
    acts = records(crm, "Activities")
    invited = acts[acts["Type"] == "Event Invited"]
    assert invited[["Contact ID", "Subject"]].values.tolist() == [["P-0002", "Spring Expo"], ["P-0003", "Spring Expo"]]
    again = invite(XlsxBackend(crm), event="Spring Expo", as_of=AS_OF)
    assert again.invite.empty and (again.left_out["why"] == "invited recently").sum() == 2
    # Whom --limit cuts off is left out and counted like the rest: the counts add up.
    one = invite(XlsxBackend(crm), event="Other", filters=InviteFilters(recent_days=0, limit=1), as_of=AS_OF)
    assert one.invite["ID"].tolist() == ["P-0002"] and one.left_out["why"].tolist().count("past the limit") == 1
    assert (
        "1 opted out, 1 unreachable, 0 invited recently, 0 not matching the filters, 1 past --limit"
        in (one.summary_lines()[0])
    )
    got = CliRunner().invoke(
        cli,
        ["invite", str(crm), "--event", "X", "--not-invited-within", "0d", "--format", "csv", "--as-of", "2026-11-22"],
    )
    assert got.exit_code == 0, got.output
    assert got.output.splitlines()[0].lstrip("\ufeff").startswith("ID,Name")


# ------------------------------------------------------------------- Google Sheets fake


def upload(fake: Any, path: Path) -> str:
    wb = openpyxl.load_workbook(path, data_only=True)
    return fake.create_spreadsheet(
        "CRM", {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    )


def test_on_sheets_a_person_inserting_rows_before_the_append_loses_nothing(
    fake: Any, google_client: Any, crm: Path, tmp_path: Path
) -> None:
    from sheetcrm.backends.gsheets import GoogleSheetsBackend

    key = upload(fake, crm)
    header = fake.get_values(key, "Contacts")[0]
    # A person's extra column and a note below a blank row: the append goes below the note.
    fake.set_values(key, "Contacts", "Z1", [["My notes"]])
    fake.set_values(key, "Contacts", "Z7", [["keep me"]])
    path = write_csv(tmp_path, "Name,Email\nSheet Lead One,s1@x.com\nSheet Lead Two,s2@x.com\n")
    state = {"gets": 0, "acted": False}

    def person(f: Any, number: int) -> None:
        if not state["acted"] and f.requests[number - 1].endpoint == "values.batchGet":
            state["gets"] += 1
        if state["gets"] == 2 and not state["acted"]:
            state["acted"] = True  # after the read, before the re-read: insert a row, add a record at the bottom
            f.insert_rows(key, "Contacts", 3)
            f.set_values(key, "Contacts", "A3", [["P-0050", "", "Typed Meanwhile"]])
            f.set_values(key, "Contacts", "A9", [["P-0051", "", "Typed At The Bottom"]])

    fake.reset_counters()
    fake.between_requests(person)
    try:
        result = import_leads(GoogleSheetsBackend(key, google_client), path, source="Expo", today=AS_OF)
    finally:
        fake.clear_between_requests()
    assert state["acted"] and result.report is not None and result.report.appended == 2
    grid = fake.get_values(key, "Contacts")
    names = [r[header.index("Name")] if len(r) > header.index("Name") else "" for r in grid]
    assert names[:9] == ["Name", "林志玲", "Typed Meanwhile", "John Wu", "陳小華", "", "", "", "Typed At The Bottom"]
    assert grid[7][25] == "keep me"  # moved down one row by the insert, untouched
    assert names[9:11] == ["Sheet Lead One", "Sheet Lead Two"]
    assert [grid[9][0], grid[10][0]] == ["P-0004", "P-0005"]
    assert all(len(r) <= 25 or r[25] in ("", None) for r in grid[9:11])
    assert [e for e in (r.endpoint for r in fake.requests) if e == "values.append"] == []


# ----------------------------------------------------------- a real shop's sheet layout


def _title_rows(path: Path, title: str) -> None:
    """Two rows above ``title``'s header: a title and a blank row, as shops lay sheets out."""
    wb = openpyxl.load_workbook(path)
    wb[title].insert_rows(1, 2)
    wb[title]["A1"] = f"2026 {title}"
    wb.save(path)


def _below_title(path: Path, title: str) -> pd.DataFrame:
    rows = sheet(path, title)
    assert rows[0][0] == f"2026 {title}" and not any(rows[1])  # the title rows stay as they were
    frame = pd.DataFrame(rows[3:], columns=rows[2], dtype=object)
    return frame[frame.notna().any(axis=1)]


def test_invite_records_below_a_header_under_title_rows(crm: Path) -> None:
    _title_rows(crm, "Activities")
    before = len(_below_title(crm, "Activities"))
    result = invite(XlsxBackend(crm), event="Spring Expo", record=True, as_of=AS_OF)
    acts = _below_title(crm, "Activities")
    assert len(acts) == before + len(result.invite) > before
    assert set(acts.loc[acts["Type"] == "Event Invited", "Contact ID"]) == set(result.invite["ID"])


def test_import_adds_leads_below_a_header_under_title_rows(crm: Path, tmp_path: Path) -> None:
    _title_rows(crm, "Contacts")
    path = write_csv(tmp_path, "姓名,電子郵件\n張三,z@new.tw\n")
    result = import_leads(XlsxBackend(crm), path, source="Expo", today=AS_OF)
    assert result.counts["added"] == 1
    contacts = _below_title(crm, "Contacts")
    assert contacts.loc[contacts["Name"] == "張三", "Email"].tolist() == ["z@new.tw"]


def test_assign_without_a_settings_tab_fills_owners_and_keeps_no_cursor(crm: Path) -> None:
    wb = openpyxl.load_workbook(crm)
    del wb["Settings"]
    wb.save(crm)
    result = assign(XlsxBackend(crm), strategy="round-robin")
    assert result.assignments[["id", "name", "owner"]].to_numpy().tolist() == [["P-0003", "陳小華", "Amy Chen"]]
    assert "Settings" not in openpyxl.load_workbook(crm).sheetnames
    assert records(crm, "Contacts").set_index("ID").at["P-0003", "Owner"] == "Amy Chen"


def test_invite_reaches_people_by_mobile_and_speaks_the_workbooks_language(
    make_workbook: Callable[..., Path], small_crm: dict
) -> None:
    from sheetcrm.schema import Lang

    small_crm[Tab.CONTACTS][2].update({"Email": None, "Phone": None, "Mobile": "0955-666-777"})  # P-0003
    path = make_workbook(small_crm, Lang.ZH_TW)
    listed = invite(XlsxBackend(path), event="春酒", as_of=AS_OF).invite.set_index("ID")
    assert listed.loc["P-0003", "Mobile"] == "0955-666-777"  # as typed, and enough to reach them
    # Labels in the workbook's language, a non-buyer's Prospect and Potential too.
    assert not listed[["Segment", "NESL", "Tier"]].map(str.isascii).any().any(), listed
    got = CliRunner().invoke(cli, ["invite", str(path), "--event", "春酒", "--format", "csv", "--as-of", "2026-11-22"])
    assert got.exit_code == 0, got.output
    heading = got.output.lstrip("\ufeff").splitlines()[0]
    assert heading.startswith("編號,姓名,電子郵件,手機,電話,負責人,顧客分群,顧客關係,價值層級,購買金額")
    assert "邀請 春酒" in got.output


def test_a_team_job_on_a_tab_without_ids_says_to_sync_first_in_the_workbooks_language(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "no-ids.xlsx",
        {
            "公司": [["公司名稱"]],
            "連絡人": [["姓名", "手機"], ["王小明", "0912-345-678"]],
            "機會": [["機會名稱"]],
            "活動紀錄": [["日期", "類型"]],
        },
    )
    before = path.read_bytes()
    got = CliRunner().invoke(cli, ["invite", str(path), "--event", "春酒", "--record", "--as-of", "2026-11-22"])
    assert got.exit_code == 2
    assert "還沒有「編號」欄；請先執行一次 'sheetcrm sync'" in got.output
    assert path.read_bytes() == before


def _shop_without_subject(path: Path) -> Path:
    """A shop's sheet: people write names in 客戶 and 公司, and Activities has no 主旨."""
    return save_sheets(
        path,
        {
            "公司": [["公司名稱", "編號"], ["山海商行", "CO-1"], ["阿福小吃店", "CO-2"]],
            "連絡人": [
                ["姓名", "公司", "手機", "編號"],
                ["王小明", "山海商行", "0912-345-678", "P-1"],
                ["陳美玲", "阿福小吃店", "0933-111-222", "P-2"],
                ["陳美玲", "山海商行", "0955-000-111", "P-3"],  # a second 陳美玲: only her ID is sure
            ],
            "機會": [["案名", "客戶", "編號"]],
            "拜訪紀錄": [
                ["日期", "類型", "客戶", "公司", "金額", "編號"],
                [dt.datetime(2026, 11, 2), "訂單", "王小明", "山海商行", 500, "A-1"],
            ],
        },
    )


def test_recorded_invitations_name_people_as_the_sheet_does_and_keep_the_event(tmp_path: Path) -> None:
    path = _shop_without_subject(tmp_path / "shop.xlsx")
    result = invite(XlsxBackend(path), event="尾牙", record=True, as_of=AS_OF)
    assert set(result.invite["ID"]) == {"P-1", "P-2", "P-3"}
    acts = records(path, "拜訪紀錄")
    invited = acts[acts["類型"] == "活動邀請"].set_index("客戶")
    # Names where the sheet keeps names; the ID of the one name two people share.
    assert sorted(invited.index) == ["P-2", "P-3", "王小明"]
    assert set(invited["公司"]) == {"山海商行", "阿福小吃店"}
    assert set(invited["主旨"]) == {"尾牙"}  # a Subject column was added for the event's name
    assert list(acts.columns)[:7] == ["日期", "類型", "客戶", "公司", "金額", "編號", "主旨"]
    # Linked back as the same people: a second invitation leaves them all out as invited.
    again = invite(XlsxBackend(path), event="尾牙", as_of=AS_OF)
    assert again.invite.empty and len(again.left_out) == 3


def test_on_sheets_invitations_add_the_subject_column_too(fake: Any, google_client: Any, tmp_path: Path) -> None:
    from sheetcrm.backends.gsheets import GoogleSheetsBackend

    key = upload(fake, _shop_without_subject(tmp_path / "shop.xlsx"))
    result = invite(GoogleSheetsBackend(key, google_client), event="尾牙", record=True, as_of=AS_OF)
    assert result.report is not None and result.report.appended == 3
    grid = fake.get_values(key, "拜訪紀錄")
    assert grid[0][6] == "主旨" and [r[6] for r in grid[2:]] == ["尾牙"] * 3
    assert sorted(r[2] for r in grid[2:]) == ["P-2", "P-3", "王小明"]


def test_imported_contacts_name_their_company_where_the_sheet_names_companies(tmp_path: Path) -> None:
    path = _shop_without_subject(tmp_path / "shop.xlsx")
    leads = write_csv(tmp_path, "姓名,公司,電子郵件,來源\n張三,山海商行,z@new.tw,展覽\n李四,新開的店,l@new.tw,展覽\n")
    result = import_leads(XlsxBackend(path), leads, today=AS_OF)
    assert result.counts["added"] == 2
    contacts = records(path, "連絡人").set_index("姓名")
    assert contacts.loc["張三", "公司"] == "山海商行" and contacts.loc["李四", "公司"] == "新開的店"
    # The columns the tab lacks are named in its language.
    assert any("來源" in n and "Source" not in n for n in result.notes), result.notes


@pytest.mark.parametrize(
    ("column", "written"),
    [
        ([], ["P-1", "P-2"]),  # nothing typed yet: IDs
        (["P-1", "P-2", "王小明"], ["P-1", "P-2"]),  # mostly IDs: IDs
        (["王小明", None, "陳美玲", "P-2"], ["王小明", "P-2"]),  # names, but P-2's name is shared
    ],
)
def test_references_are_written_as_the_column_is_kept(column: list[Any], written: list[str]) -> None:
    from sheetcrm.team.common import as_people_write

    names = pd.Series(["王小明", "陳美玲", "陳美玲 "], index=["P-1", "P-2", "P-3"])
    got = as_people_write(pd.Series(column, dtype=object), pd.Series(["P-1", "P-2"]), names)
    assert got.tolist() == written


def test_a_lead_whose_company_is_close_to_a_known_one_waits_for_a_person(tmp_path: Path) -> None:
    path = _shop_without_subject(tmp_path / "shop.xlsx")
    leads = write_csv(
        tmp_path,
        # 山海商號 is one character off 山海商行; 山海 only shares a word with it: a company of its own
        "姓名,公司,電子郵件\n張三,山海商號,z@new.tw\n李四,全新企業社,l@new.tw\n王五,山海,w@new.tw\n",
    )
    result = import_leads(XlsxBackend(path), leads, today=AS_OF)
    assert result.counts["added"] == 2 and result.counts["duplicates"] == 1
    held = result.outcomes.set_index("row").loc[2]
    assert "山海商號" in held["reason"] and "山海商行" in held["reason"], held["reason"]
    companies = records(path, "公司")
    assert "山海商號" not in set(companies["公司名稱"]) and "全新企業社" in set(companies["公司名稱"])
    assert "張三" not in set(records(path, "連絡人")["姓名"])


def test_a_rejected_leads_reason_is_told_in_the_workbooks_language(tmp_path: Path) -> None:
    path = _shop_without_subject(tmp_path / "shop.xlsx")
    leads = write_csv(tmp_path, "姓名,電子郵件,手機\n張三,zhang@@x,0912000111\n李四,li@x.tw,abc\n")
    result = import_leads(XlsxBackend(path), leads, today=AS_OF, dry_run=True)
    reasons = result.outcomes.set_index("row")["reason"]
    assert reasons[2].startswith("電子郵件：") and "不是有效的電子郵件地址" in reasons[2], reasons[2]
    assert reasons[3].startswith("手機：") and "含有字母" in reasons[3], reasons[3]


def test_import_before_the_first_sync_knows_the_people_already_there(tmp_path: Path) -> None:
    # A sheet never synced: no ID column yet, companies and people by name only.
    path = save_sheets(
        tmp_path / "fresh.xlsx",
        {
            "公司": [["公司名稱"], ["好日子咖啡"], ["山嵐民宿"]],
            "連絡人": [["姓名", "公司", "手機"], ["陳怡君", "好日子咖啡", "0912-345-678"]],
            "機會": [["案名"]],
            "拜訪紀錄": [["日期", "類型", "客戶"]],
        },
    )
    leads = write_csv(tmp_path, "姓名,公司,手機\n陳怡君,好日子咖啡,0912345678\n蘇小芳,山嵐民宿,0933-888-777\n")
    result = import_leads(XlsxBackend(path), leads, today=AS_OF)
    assert result.counts["duplicates"] == 1 and result.counts["added"] == 1 and result.counts["companies"] == 0
    assert "連絡人!2" in str(result.outcomes.set_index("row").loc[2, "reason"])  # where to find her
    assert records(path, "公司")["公司名稱"].tolist() == ["好日子咖啡", "山嵐民宿"]
    people = records(path, "連絡人")
    assert people["姓名"].tolist() == ["陳怡君", "蘇小芳"] and people["公司"].tolist() == ["好日子咖啡", "山嵐民宿"]


def test_rows_added_under_a_totals_row_are_said_to_be_there(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "totals.xlsx",
        {
            "公司": [["公司名稱", "編號"], ["山海商行", "CO-1"]],
            "連絡人": [["姓名", "手機", "編號"], ["王小明", "0912-345-678", "P-1"]],
            "機會": [["案名", "編號"]],
            "拜訪紀錄": [
                ["日期", "類型", "客戶", "金額", "編號"],
                [dt.datetime(2026, 11, 2), "訂單", "王小明", 500, "A-1"],
                ["合計", None, None, 500, None],
            ],
        },
    )
    result = invite(XlsxBackend(path), event="尾牙", record=True, as_of=AS_OF)
    assert result.report is not None and result.report.appended == 1
    rows = sheet(path, "拜訪紀錄")
    assert rows[2][0] == "合計" and rows[3][1] == "活動邀請"  # the person's totals row is left where it is
    said = "\n".join(result.summary_lines())
    assert "拜訪紀錄：新增的資料列在合計列（第 3 列）之下" in said, said


def test_import_speaks_lang_but_logs_in_the_workbooks_language(tmp_path: Path) -> None:
    path = _shop_without_subject(tmp_path / "shop.xlsx")
    leads = write_csv(tmp_path, "姓名,公司,電子郵件\n張三,山海商行,z@new.tw\n李四,阿福小吃店,li@@x\n")
    got = CliRunner().invoke(cli, ["import", str(path), str(leads), "--lang", "en"])
    assert got.exit_code == 0, got.output
    assert "1 added" in got.output and "Email" in got.output, got.output
    assert "新增" not in got.output, got.output
    # What goes into the workbook stays in the workbook's language.
    log = records(path, "同步紀錄")
    assert log["原因"].str.contains("匯入").all(), log["原因"].tolist()


def test_a_leads_company_given_by_its_id_is_that_company(tmp_path: Path) -> None:
    path = _shop_without_subject(tmp_path / "shop.xlsx")
    leads = write_csv(tmp_path, "姓名,公司,電子郵件\n張三,co-2,z@new.tw\n")
    result = import_leads(XlsxBackend(path), leads, today=AS_OF)
    assert result.counts == {"total": 1, "added": 1, "duplicates": 0, "merged": 0, "rejected": 0, "companies": 0}
    contacts = records(path, "連絡人").set_index("姓名")
    assert contacts.loc["張三", "公司"] == "阿福小吃店"  # written as the column is kept: by name


def test_an_import_into_tabs_kept_without_ids_logs_no_id_that_no_cell_holds(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "fresh.xlsx",
        {
            "公司": [["公司名稱"], ["好日子咖啡"]],
            "連絡人": [["姓名", "公司", "手機"], ["陳怡君", "好日子咖啡", "0912-345-678"]],
            "機會": [["案名"]],
            "拜訪紀錄": [["日期", "類型", "客戶"]],
        },
    )
    leads = write_csv(tmp_path, "姓名,公司\n蘇小芳,山嵐民宿\n")
    result = import_leads(XlsxBackend(path), leads, today=AS_OF)
    assert result.counts["added"] == 1 and result.counts["companies"] == 1
    log = records(path, "同步紀錄")
    added = log[log["原因"].str.contains("匯入")]
    assert set(added["新值"]) >= {"山嵐民宿", "蘇小芳"}, added.to_dict("records")
    assert not added["編號"].astype(str).str.contains("CO-|P-").any(), added.to_dict("records")
    sheetcrm.open(path).sync(as_of=AS_OF)
    companies = records(path, "公司").set_index("公司名稱")
    assert companies.loc["山嵐民宿", "編號"] == "CO-0002"  # numbered by the sync, after the one typed before


def test_assign_and_the_report_name_tabs_as_the_workbook_does(tmp_path: Path) -> None:
    from sheetcrm.report.render import to_markdown
    from sheetcrm.team.assign import assign

    path = save_sheets(
        tmp_path / "shop.xlsx",
        {
            "公司": [["公司名稱"]],
            "客戶名單": [["姓名", "手機", "負責業務"], ["王小明", "0912-345-678", None]],
            "案件": [["案件名稱", "客戶", "階段"]],
            "訂單紀錄": [["日期", "客戶", "金額"], [dt.datetime(2026, 10, 2), "王小明", 500]],
            "團隊": [["姓名", "在職"], ["阿美", "是"]],
        },
    )
    result = assign(XlsxBackend(path), tab=Tab.CONTACTS, dry_run=True)
    assert result.summary_lines()[0].startswith("客戶名單："), result.summary_lines()
    report = sheetcrm.monthly_report(path, "2026-10")
    assert "「客戶名單」分頁" in to_markdown(report)


def test_a_shop_of_two_tabs_syncs_and_imports_without_companies_or_deals(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "two.xlsx",
        {
            "客戶名單": [["姓名", "手機", "公司"], ["王小明", "0912-345-678", "山海商行"]],
            "交易紀錄": [["日期", "客戶", "金額"], [dt.datetime(2026, 10, 2), "王小明", 500]],
        },
    )
    result = sheetcrm.open(path).sync(as_of=AS_OF)
    # 山海商行 is the shop's own text: nothing to link it to, nothing wrong
    assert (result.problems["severity"] == "note").all(), result.problems.to_dict("records")
    assert result.summary_lines()[0] == "已讀取 客戶名單 1 筆、交易紀錄 1 筆。"
    assert result.computed[Tab.CONTACTS]["Monetary"].tolist() == [500]
    leads = write_csv(tmp_path, "姓名,公司,手機\n張三,新開的店,0955-123-456\n")
    imported = import_leads(XlsxBackend(path), leads, today=AS_OF)
    assert imported.counts["added"] == 1 and imported.counts["companies"] == 0
    assert not any("新開的店" in line for line in imported.summary_lines()), imported.summary_lines()
    assert records(path, "客戶名單").set_index("姓名").loc["張三", "公司"] == "新開的店"
    assert openpyxl.load_workbook(path).sheetnames == ["客戶名單", "交易紀錄", "同步紀錄"]


def test_invite_speaks_lang_in_its_labels_and_tier_error_and_writes_csv_safely(crm: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(crm)
    ws = wb["Contacts"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("Name") + 1, value="@John")  # P-0002: a spreadsheet would run it
    wb.save(crm)
    got = CliRunner().invoke(cli, ["invite", str(crm), "--event", "X", "--lang", "zh-TW", "--as-of", "2026-11-22"])
    assert got.exit_code == 0, got.output
    assert "戰略型" in got.output or "一般" in got.output, got.output
    assert "Strategic" not in got.output and "General" not in got.output, got.output
    out = tmp_path / "list.csv"
    got = CliRunner().invoke(cli, ["invite", str(crm), "--event", "X", "--out", str(out), "--as-of", "2026-11-22"])
    text = out.read_text(encoding="utf-8-sig")
    assert "'@John" in text and ".0," not in text, text
    bad = CliRunner().invoke(cli, ["invite", str(crm), "--event", "X", "--tier", "Gold"])
    assert bad.exit_code == 2 and "Strategic (戰略型)" in bad.output, bad.output


def test_assign_summary_speaks_lang(crm: Path) -> None:
    got = CliRunner().invoke(cli, ["assign", str(crm), "--dry-run", "--lang", "zh-TW"])
    assert got.exit_code == 0, got.output
    assert "試算：未寫入任何資料。" in got.output and "Dry run" not in got.output, got.output


def test_a_leads_note_goes_into_the_contacts_own_column_of_that_name(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "shop.xlsx",
        {
            "公司": [["公司名稱"]],
            "客戶名單": [["姓名", "手機", "備註"], ["王小明", "0912-345-678", "老客人"]],
            "交易紀錄": [["日期", "客戶", "金額"]],
        },
    )
    leads = write_csv(tmp_path, "姓名,手機,備註,生日\n張三,0955-123-456,要收據,3/5\n")
    result = import_leads(XlsxBackend(path), leads, today=AS_OF)
    assert result.counts["added"] == 1
    assert any("生日" in n for n in result.notes) and not any("備註" in n for n in result.notes), result.notes
    people = records(path, "客戶名單").set_index("姓名")
    assert people.loc["張三", "備註"] == "要收據" and people.loc["王小明", "備註"] == "老客人"


def test_a_phone_stored_as_a_number_is_listed_as_dialled(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "shop.xlsx",
        {
            "客戶名單": [["姓名", "手機"], ["王小明", 981755421]],  # Excel dropped the 0
            "交易紀錄": [["日期", "客戶", "金額"]],
        },
    )
    result = invite(XlsxBackend(path), event="尾牙", as_of=AS_OF)
    assert result.invite["Mobile"].tolist() == ["0981755421"]
