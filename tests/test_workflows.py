"""The generated GitHub Actions workflows: every option combination validates against
GitHub's workflow schema (check-jsonschema) and has no finding from zizmor, and each holds
the promises the issue makes (pinned actions, an off-the-hour schedule, concurrency,
least-privilege permissions, no expression inside a script, secrets only where needed).

check-jsonschema and zizmor run once each over every rendered file, offline, as
subprocesses of this venv; each combination's test then reads its own files' findings.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sheetcrm.automation.workflows import (
    EVERY_CHOICES,
    REPORT_WORKFLOW,
    SYNC_WORKFLOW,
    Auth,
    OnProblems,
    WorkflowOptions,
    render_workflows,
    schedule_cron,
    write_workflows,
)
from sheetcrm.exceptions import OutputExistsError, WorkflowOptionError

BIN = Path(sys.executable).parent

#: The actions the workflows may use: the full commit SHA of each release tag, as the
#: repositories' tags said when the templates were written.
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}

COMBINATIONS = [
    WorkflowOptions(auth=auth, every=every, on_problems=on_problems, include_pii=pii, spreadsheet_var=var)
    for auth, every, on_problems, pii, var in itertools.product(
        Auth, EVERY_CHOICES, OnProblems, (False, True), ("SHEETCRM_SPREADSHEET", "CRM_SHEET")
    )
]


def _id(opts: WorkflowOptions) -> str:
    pii = "pii" if opts.include_pii else "nopii"
    return f"{opts.auth}-{opts.every}-{opts.on_problems}-{pii}-{opts.spreadsheet_var}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Every combination's files, written once under a .github/workflows folder (each
    distinct text once): {combination id: {workflow name: path}}."""
    folder = tmp_path_factory.mktemp("repo") / ".github" / "workflows"
    folder.mkdir(parents=True)
    by_text: dict[str, Path] = {}
    out: dict[str, dict[str, Path]] = {}
    for opts in COMBINATIONS:
        files = {}
        for name, text in render_workflows(opts).items():
            if text not in by_text:
                path = folder / f"{len(by_text):03d}-{name}"
                path.write_text(text, encoding="utf-8")
                by_text[text] = path
            files[name] = by_text[text]
        out[_id(opts)] = files
    return out


@pytest.fixture(scope="module")
def schema_errors(rendered: dict[str, dict[str, Path]]) -> dict[str, list[str]]:
    """check-jsonschema's errors per file name, from one run over every file."""
    paths = sorted({str(p) for files in rendered.values() for p in files.values()})
    proc = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            "--output-format",
            "json",
            *paths,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(proc.stdout)
    problems = report.get("errors", []) + report.get("parse_errors", [])
    assert report["status"] == "ok" or problems, proc.stdout + proc.stderr
    errors: dict[str, list[str]] = {}
    for err in problems:
        errors.setdefault(Path(err["filename"]).name, []).append(f"{err['path']}: {err['message']}")
    return errors


@pytest.fixture(scope="module")
def zizmor_findings(rendered: dict[str, dict[str, Path]]) -> dict[str, list[str]]:
    """zizmor's findings per file name (pedantic persona, offline), from one run."""
    folder = next(iter(next(iter(rendered.values())).values())).parent
    proc = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "pedantic", "--format", "json", "--no-progress", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, *range(10, 20)), proc.stderr  # 1x: findings of some severity
    findings: dict[str, list[str]] = {}
    for finding in json.loads(proc.stdout):
        for loc in finding["locations"]:
            name = Path(loc["symbolic"]["key"]["Local"]["verbatim_path"]).name
            findings.setdefault(name, []).append(
                f"{finding['ident']}: {finding['desc']} at line {loc['concrete']['location']['start_point']['row'] + 1}"
            )
    return findings


@pytest.mark.parametrize("opts", COMBINATIONS, ids=_id)
def test_every_combination_validates_and_has_no_zizmor_finding(
    opts: WorkflowOptions,
    rendered: dict[str, dict[str, Path]],
    schema_errors: dict[str, list[str]],
    zizmor_findings: dict[str, list[str]],
) -> None:
    files = rendered[_id(opts)]
    assert set(files) == {SYNC_WORKFLOW, REPORT_WORKFLOW}
    for path in files.values():
        assert schema_errors.get(path.name, []) == [], path.read_text()
        assert zizmor_findings.get(path.name, []) == [], path.read_text()


def test_the_checkers_do_find_faults(tmp_path: Path) -> None:
    """Both tools, run as above, report a workflow with a bad permission and an expression
    inside a script (so a clean result above means something)."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "name: bad\non: issues\npermissions:\n  everything: write\njobs:\n  a:\n"
        '    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ github.event.issue.title }}"\n'
    )
    schema = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 1 and "permissions" in schema.stdout
    bad.write_text(bad.read_text().replace("  everything: write", "  contents: read"))
    zizmor = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "json", "--no-progress", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "template-injection" in {f["ident"] for f in json.loads(zizmor.stdout)}


# ------------------------------------------------------------------ what each file promises


def _steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = doc["jobs"].values()
    return list(job["steps"])


def _on(doc: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    triggers: dict[str, Any] = doc["on"] if "on" in doc else doc[True]
    return triggers


@pytest.mark.parametrize("opts", [o for o in COMBINATIONS if o.every in ("15m", "1h", "1d")], ids=_id)
def test_each_workflow_keeps_the_promises(opts: WorkflowOptions) -> None:
    for name, text in render_workflows(opts).items():
        doc = yaml.safe_load(text)
        on = _on(doc)
        assert "workflow_dispatch" in on
        (cron,) = (entry["cron"] for entry in on["schedule"])
        assert "0" not in cron.split()[0].split(","), cron
        assert doc["permissions"] == {}
        (job,) = doc["jobs"].values()
        wanted = {"contents": "read", **({"id-token": "write"} if opts.auth is Auth.WIF else {})}
        assert job["permissions"] == wanted
        assert doc["concurrency"]["cancel-in-progress"] is False and doc["concurrency"]["group"]
        steps = _steps(doc)
        used = [s["uses"] for s in steps if "uses" in s]
        for ref in used:
            action, sha = ref.split("@")
            assert (sha, re.search(rf"{re.escape(ref)} # (v\S+)", text).group(1)) == PINS[action]  # type: ignore[union-attr]
        assert ("google-github-actions/auth" in " ".join(used)) == (opts.auth is Auth.WIF)
        python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
        assert python["with"]["python-version"] == "3.12" and python["with"]["cache"] == "pip"
        assert python["with"]["cache-dependency-path"] == f".github/workflows/{name}"
        for step in steps:
            assert "${{" not in step.get("run", ""), step
            for key, value in (step.get("env") or {}).items():
                if "secrets." in str(value):
                    assert opts.auth is Auth.KEY and key == "SHEETCRM_CREDENTIALS_JSON", step
        assert f"vars.{opts.spreadsheet_var} }}}}" in text
        assert ("secrets.SHEETCRM_CREDENTIALS_JSON" in text) == (opts.auth is Auth.KEY)
        run = steps[-1]["run"] if name == SYNC_WORKFLOW else steps[-2]["run"]
        if name == SYNC_WORKFLOW:
            flag = {OnProblems.PASS: "--problems-ok", OnProblems.STOP: "--fail-on-problems"}.get(opts.on_problems)
            assert [f for f in ("--problems-ok", "--fail-on-problems") if f in run] == ([flag] if flag else [])
            assert cron == schedule_cron(opts.every)
        else:
            assert ("--include-pii" in run) == opts.include_pii
            upload = steps[-1]
            assert upload["uses"].startswith("actions/upload-artifact@")
            assert upload["with"]["path"] == "sheetcrm-report/*.html"


@pytest.mark.parametrize(
    ("every", "cron"),
    [
        ("5m", "2,7,12,17,22,27,32,37,42,47,52,57 * * * *"),
        ("10m", "7,17,27,37,47,57 * * * *"),
        ("15m", "2,17,32,47 * * * *"),
        ("20m", "17,37,57 * * * *"),
        ("30m", "17,47 * * * *"),
        ("1h", "17 * * * *"),
        ("2h", "17 */2 * * *"),
        ("12h", "17 */12 * * *"),
        ("1d", "17 2 * * *"),
    ],
)
def test_schedule_cron(every: str, cron: str) -> None:
    assert schedule_cron(every) == cron


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"every": "7m"}, "--every '7m'"),
        ({"every": "1w"}, "--every '1w'"),
        ({"spreadsheet_var": "1SHEET"}, "--spreadsheet-var '1SHEET'"),
        ({"spreadsheet_var": "GITHUB_SHEET"}, "--spreadsheet-var 'GITHUB_SHEET'"),
        ({"spreadsheet_var": "A }} ${{ secrets.X"}, "--spreadsheet-var"),
        ({"requirement": "sheetcrm\nrm -rf /"}, "--requirement"),
    ],
)
def test_bad_options_are_refused_with_the_fix(kwargs: dict[str, str], fragment: str) -> None:
    with pytest.raises(WorkflowOptionError, match=re.escape(fragment)):
        WorkflowOptions(**kwargs)  # type: ignore[arg-type]


def test_write_workflows_keeps_existing_files_unless_forced(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    written = write_workflows(folder, WorkflowOptions(auth=Auth.KEY, spreadsheet_var="CRM_SHEET"))
    assert sorted(p.name for p in written.paths) == [REPORT_WORKFLOW, SYNC_WORKFLOW]
    steps = "\n".join(written.next_steps)
    assert "gh secret set SHEETCRM_CREDENTIALS_JSON" in steps and "gh variable set CRM_SHEET" in steps
    assert "SHEETCRM_WIF_PROVIDER" not in steps
    (folder / SYNC_WORKFLOW).write_text("# the owner's own edits\n")
    with pytest.raises(OutputExistsError, match="--force"):
        write_workflows(folder, WorkflowOptions())
    assert (folder / SYNC_WORKFLOW).read_text() == "# the owner's own edits\n"
    write_workflows(folder, WorkflowOptions(), force=True)
    assert "google-github-actions/auth@" in (folder / SYNC_WORKFLOW).read_text()


def test_an_odd_requirement_reaches_pip_intact_and_never_the_script() -> None:
    odd = "sheetcrm @ git+https://github.com/o/sheetcrm@0123abc#egg=sheetcrm&x='$(id)' \"x\" <y>"
    for name, text in render_workflows(WorkflowOptions(requirement=odd)).items():
        install = next(s for s in _steps(yaml.safe_load(text)) if s.get("id") == "install")
        assert install["env"] == {"SHEETCRM_REQUIREMENT": odd}, name
        assert install["run"] == 'python -m pip install --disable-pip-version-check "$SHEETCRM_REQUIREMENT"'
