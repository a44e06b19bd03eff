"""The generated workflows' own steps, run as GitHub would run them, against the local
Sheets API fake.

Each workflow is rendered, parsed from its YAML, and walked step by step: every `run:`
script is executed verbatim by `bash --noprofile --norc -eo pipefail` (GitHub's shell for
`run:` on Ubuntu) in a git repository standing in for the checkout, with exactly the
`env:` the step declares (its `${{ vars.* }}`, `${{ secrets.* }}` and `${{ inputs.* }}`
filled in from the test's repository settings) plus what the runner itself provides
(`GITHUB_STEP_SUMMARY`, `GITHUB_ACTIONS`, ...). The `uses:` steps are stood in for:
checkout by that repository, setup-python by this venv's bin on PATH, upload-artifact by
collecting the files its `path` matches. google-github-actions/auth exports
`GOOGLE_APPLICATION_CREDENTIALS` naming a credentials file it writes into the workspace;
the stand-in does the same, but the file is a service-account key for the fake's token
endpoint, because the fake has no STS token exchange for a real workload-identity file.

Only the local fake is reached: Sheets calls go to it (SHEETCRM_SHEETS_API_URL), pip
installs from nothing (PIP_NO_INDEX: the venv already holds this sheetcrm), and every
other HTTP(S) request goes to a closed loopback proxy.
"""

from __future__ import annotations

import base64
import datetime as dt
import glob
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sheetcrm.automation.lapse import INACTIVITY_DAYS
from sheetcrm.automation.workflows import REPORT_WORKFLOW, SYNC_WORKFLOW, Auth, WorkflowOptions, render_workflows
from sheetcrm.google.connect import ENV_API_URL

BIN = Path(sys.executable).parent
SA_EMAIL = "sheetcrm-actions@demo-project.iam.gserviceaccount.com"
SPREADSHEET_VAR = "CRM_SHEET"
WIF_PROVIDER = "projects/123456789/locations/global/workloadIdentityPools/github/providers/my-repo"
#: People's details in ``small_crm`` that the report must leave out unless asked for.
PII = ("林志玲", "John Wu", "lin@example.com", "john@example.com", "0912-345-678", "陳小華")
_EXPRESSION = re.compile(r"\$\{\{\s*(vars|secrets|inputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@pytest.fixture(autouse=True)
def _isolated(loopback_only: None, google_env: Path) -> None:
    """No credentials or home directory from the developer's environment."""


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


@pytest.fixture
def sa_key(fake, pem: str) -> str:
    """A service-account key (the secret's value) whose token endpoint is the fake's."""
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "demo-project",
            "private_key_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
            "private_key": pem,
            "client_email": SA_EMAIL,
            "client_id": "109876543210987654321",
            "token_uri": f"{fake.url}/token",
        }
    )


@pytest.fixture
def crm_key(fake, make_workbook, small_crm) -> str:
    """The small CRM uploaded to the fake, as an owner would upload the .xlsx to Drive."""
    wb = openpyxl.load_workbook(make_workbook(small_crm), data_only=True)
    key: str = fake.create_spreadsheet(
        "CRM", {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    )
    return key


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The checked-out repository: one commit, dated close enough to GitHub's 60-day
    limit that the summary must warn."""
    path = tmp_path / "repo"
    path.mkdir()
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(days=INACTIVITY_DAYS - 5)).replace(microsecond=0).isoformat()
    env = {**_base_env(tmp_path), "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    for args in (
        ["init", "-q"],
        [
            "-c",
            "user.name=Owner",
            "-c",
            "user.email=owner@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "Add the sheetcrm workflows",
        ],
    ):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)
    return path


def _base_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "runner-home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{BIN}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
    }


@dataclass
class Settings:
    """The repository's variables and secrets, and the dispatch inputs of a manual run."""

    vars: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)

    def expand(self, value: Any) -> str:
        """``value`` with its ``${{ vars|secrets|inputs.NAME }}`` filled in; any other
        expression fails the test (the workflows are meant to need nothing else)."""
        text = str(value)

        def fill(m: re.Match[str]) -> str:
            return str(getattr(self, m.group(1)).get(m.group(2), ""))

        filled = _EXPRESSION.sub(fill, text)
        assert "${{" not in filled, f"an expression the test does not know: {text!r}"
        return filled


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    summary: str


@dataclass
class JobRun:
    steps: list[StepRun]
    artifacts: dict[str, bytes]

    @property
    def ok(self) -> bool:
        return all(s.returncode == 0 for s in self.steps)

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.name == step_id)

    def everything_printed(self) -> str:
        parts = [f"{s.stdout}\n{s.stderr}\n{s.summary}" for s in self.steps]
        return "\n".join(parts + [b.decode("utf-8", errors="replace") for b in self.artifacts.values()])


def run_job(workflow: str, settings: Settings, workspace: Path, fake, tmp_path: Path) -> JobRun:
    """Run the one job of ``workflow`` (YAML text) as a runner would, stopping at the
    first failing step."""
    doc = yaml.safe_load(workflow)
    (job,) = doc["jobs"].values()
    runner_env = {
        **_base_env(tmp_path),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp_path),
        # What the test adds: Sheets calls to the fake, pip to nothing, the rest nowhere.
        ENV_API_URL: fake.url,
        "PIP_NO_INDEX": "1",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    exported: dict[str, str] = {}
    steps: list[StepRun] = []
    artifacts: dict[str, bytes] = {}
    for n, step in enumerate(job["steps"]):
        step_id = step.get("id", f"step{n}")
        uses = step.get("uses", "")
        inputs = {k: settings.expand(v) for k, v in (step.get("with") or {}).items()}
        if uses.startswith("actions/checkout@"):
            assert inputs["persist-credentials"] == "False"
        elif uses.startswith("google-github-actions/auth@"):
            assert inputs == {"workload_identity_provider": WIF_PROVIDER, "service_account": SA_EMAIL}
            creds = workspace / "gha-creds-0123456789abcdef.json"
            creds.write_text(settings.secrets["_wif_stand_in"])
            exported.update({"GOOGLE_APPLICATION_CREDENTIALS": str(creds), "GOOGLE_GHA_CREDS_PATH": str(creds)})
        elif uses.startswith("actions/upload-artifact@"):
            matched = sorted(glob.glob(str(workspace / inputs["path"])))
            assert matched or inputs["if-no-files-found"] != "error", f"no file matches {inputs['path']}"
            artifacts.update({Path(p).name: Path(p).read_bytes() for p in matched})
        elif uses:
            assert uses.startswith("actions/setup-python@"), uses
        if "run" not in step:
            continue
        summary = tmp_path / f"step-summary-{len(list(tmp_path.glob('step-summary-*')))}.md"
        summary.touch()
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        env = {**runner_env, **exported, "GITHUB_STEP_SUMMARY": str(summary)}
        env.update({k: settings.expand(v) for k, v in (step.get("env") or {}).items()})
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        steps.append(StepRun(step_id, proc.returncode, proc.stdout, proc.stderr, summary.read_text("utf-8")))
        if proc.returncode != 0:
            break
    return JobRun(steps, artifacts)


def _settings(auth: Auth, crm_key: str, sa_key: str) -> Settings:
    variables = {SPREADSHEET_VAR: crm_key}
    if auth is Auth.WIF:
        variables |= {"SHEETCRM_WIF_PROVIDER": WIF_PROVIDER, "SHEETCRM_SERVICE_ACCOUNT": SA_EMAIL}
        # Not a repository secret: what the auth stand-in writes to its credentials file.
        return Settings(variables, {"_wif_stand_in": sa_key})
    return Settings(variables, {"SHEETCRM_CREDENTIALS_JSON": sa_key})


def _secret_fragments(sa_key: str) -> list[str]:
    """Every form in which the secret could leak: whole, base64, the private key's
    body lines, its id."""
    info = json.loads(sa_key)
    body = [line for line in info["private_key"].splitlines() if line and "-----" not in line]
    return [sa_key, base64.b64encode(sa_key.encode()).decode(), info["private_key_id"], *body]


# ---------------------------------------------------------------------------------- sync


@pytest.mark.parametrize("auth", list(Auth))
def test_sync_steps_write_then_find_nothing_to_do(
    auth: Auth, fake, crm_key: str, sa_key: str, repo: Path, tmp_path: Path
) -> None:
    workflow = render_workflows(WorkflowOptions(auth=auth, spreadsheet_var=SPREADSHEET_VAR))[SYNC_WORKFLOW]
    settings = _settings(auth, crm_key, sa_key)
    before = fake.get_values(crm_key, "Contacts")

    fake.reset_counters()
    first = run_job(workflow, settings, repo, fake, tmp_path)
    assert first.ok, first.steps[-1]
    assert [s.name for s in first.steps] == ["install", "sync"]
    written = fake.cells_written
    assert written > 0 and fake.get_values(crm_key, "Contacts") != before
    sync = first.step("sync")
    assert sync.summary.startswith("## ") and "sheetcrm sync" in sync.summary
    assert re.search(r"Wrote [1-9]\d* cell\(s\)", sync.summary), sync.summary
    assert "lapses on about" in sync.summary and "[!WARNING]" in sync.summary
    assert "::warning title=sheetcrm::GitHub turns this repository's scheduled workflows off" in sync.stderr

    fake.reset_counters()
    second = run_job(workflow, settings, repo, fake, tmp_path)
    assert second.ok, second.steps[-1]
    assert fake.cells_written == 0
    assert not [r for r in fake.requests if r.method != "GET" and r.path != "/token"]
    again = second.step("sync")
    (line,) = again.stdout.splitlines()
    assert line.startswith("Nothing to do: every computed cell is already up to date")
    assert "Nothing to do" in again.summary
    assert _leaks(_secret_fragments(sa_key), first.everything_printed() + second.everything_printed()) == []


def _leaks(fragments: list[str], text: str) -> list[str]:
    """The fragments of a secret that occur in ``text`` (shortened, for the message)."""
    return [f[:12] + "..." for f in fragments if f and f in text]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("unshared", f"share the spreadsheet with {SA_EMAIL}"),
        ("wrong key", "was not found; check the key or URL"),
        ("secret cut short", "SHEETCRM_CREDENTIALS_JSON is not valid JSON"),
        ("key revoked", "refused"),
    ],
)
def test_a_failing_sync_step_says_why_in_one_line_and_leaks_nothing(
    fault: str, reason: str, fake, crm_key: str, sa_key: str, repo: Path, tmp_path: Path
) -> None:
    workflow = render_workflows(WorkflowOptions(auth=Auth.KEY, spreadsheet_var=SPREADSHEET_VAR))[SYNC_WORKFLOW]
    settings = _settings(Auth.KEY, crm_key, sa_key)
    if fault == "unshared":
        fake.make_private(crm_key)
    elif fault == "wrong key":
        settings.vars[SPREADSHEET_VAR] = "1NoSuchSpreadsheetKeyAtAll0123456789abcdefgh"
    elif fault == "secret cut short":
        settings.secrets["SHEETCRM_CREDENTIALS_JSON"] = sa_key[: sa_key.index("-----END")]
    fake.reset_counters()
    if fault == "key revoked":
        # What Google's token endpoint answers for a deleted or disabled key.
        body = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        fake.inject_fault(1, 400, body=body, times=10)
    job = run_job(workflow, settings, repo, fake, tmp_path)
    sync = job.step("sync")
    assert sync.returncode == 2
    assert fake.cells_written == 0
    errors = [line for line in sync.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and sync.stderr.rstrip().endswith(errors[0]), sync.stderr
    assert reason in errors[0], errors[0]
    assert "Traceback" not in sync.stderr
    assert sync.summary.startswith("## ❌ sheetcrm sync failed") and "Nothing was written." in sync.summary
    secret = settings.secrets["SHEETCRM_CREDENTIALS_JSON"]
    assert _leaks([*_secret_fragments(sa_key), secret], job.everything_printed()) == []


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        ("variable", f"The repository variable {SPREADSHEET_VAR} is empty or not set"),
        ("secret", "The repository secret SHEETCRM_CREDENTIALS_JSON is empty or not set"),
    ],
)
def test_an_unset_variable_or_secret_is_named_in_one_annotation(
    unset: str, message: str, fake, crm_key: str, sa_key: str, repo: Path, tmp_path: Path
) -> None:
    """GitHub expands a variable or secret that was never set to an empty string."""
    workflow = render_workflows(WorkflowOptions(auth=Auth.KEY, spreadsheet_var=SPREADSHEET_VAR))[SYNC_WORKFLOW]
    settings = _settings(Auth.KEY, crm_key, sa_key)
    if unset == "variable":
        del settings.vars[SPREADSHEET_VAR]
    else:
        del settings.secrets["SHEETCRM_CREDENTIALS_JSON"]
    fake.reset_counters()
    sync = run_job(workflow, settings, repo, fake, tmp_path).step("sync")
    assert sync.returncode == 2 and fake.request_count == 0
    (line,) = sync.stderr.splitlines()
    assert line.startswith(f"::error title=sheetcrm::{message}")


# -------------------------------------------------------------------------------- report


@pytest.mark.parametrize("include_pii", [False, True])
def test_report_steps_produce_the_html_artifact_and_a_small_summary(
    include_pii: bool, fake, crm_key: str, sa_key: str, repo: Path, tmp_path: Path
) -> None:
    opts = WorkflowOptions(auth=Auth.KEY, spreadsheet_var=SPREADSHEET_VAR, include_pii=include_pii)
    workflow = render_workflows(opts)[REPORT_WORKFLOW]
    settings = _settings(Auth.KEY, crm_key, sa_key)
    settings.inputs["month"] = "2026-10"  # a manual run for October; a scheduled one leaves it empty
    job = run_job(workflow, settings, repo, fake, tmp_path)
    assert job.ok, job.steps[-1]
    assert [s.name for s in job.steps] == ["install", "report"]
    html = [name for name in job.artifacts if name.endswith(".html")]
    assert html and all(job.artifacts[name].lstrip().lower().startswith(b"<!doctype html") for name in html)
    summary = job.step("report").summary
    assert summary.strip() and len(summary.encode("utf-8")) < 1024 * 1024
    assert "2026-10" in summary
    printed = job.everything_printed()
    if not include_pii:
        assert [p for p in PII if p in printed] == []
    assert _leaks(_secret_fragments(sa_key), printed) == []


def test_report_month_defaults_to_the_month_just_ended(tmp_path: Path) -> None:
    """The report script's own month arithmetic, run by bash: with no MONTH input (a
    scheduled run) it is the month before today's; today is put in for the one `date`
    call that reads the clock."""
    run = yaml.safe_load(render_workflows()[REPORT_WORKFLOW])["jobs"]["report"]["steps"][-2]["run"]
    (expr,) = re.findall(r'^month="(.*)"$', run, re.MULTILINE)
    for today, wanted in [("2026-12-01", "2026-11"), ("2026-01-01", "2025-12"), ("2026-03-31", "2026-02")]:
        # Substitute the clock: `date -u +%Y-%m-01` is the only call that reads it.
        script = f'MONTH=""\nmonth="{expr.replace("$(date -u +%Y-%m-01)", today[:8] + "01")}"\necho "$month"'
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.strip()
        assert out == wanted, (today, out)
    script = f'MONTH="2026-07"\nmonth="{expr}"\necho "$month"'
    assert (
        subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.strip() == "2026-07"
    )
