"""The GitHub Actions workflows that run sheetcrm unattended: an hourly (or other) sync and
the monthly report, rendered from the templates in ``templates/workflows/``.

In: :class:`WorkflowOptions` (how to authenticate, how often, which repository variable
holds the spreadsheet, what validation problems do to a run, whether the report names
customers). Out: ``{file name: YAML text}`` from :func:`render_workflows`, or the files
written by :func:`write_workflows` with the set-up steps still to do.

The templates use ``[[ ]]`` and ``[% %]`` delimiters so that GitHub's own ``${{ }}``
expressions pass through untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sheetcrm import __version__
from sheetcrm.exceptions import OutputExistsError, Phrase, SheetCRMError, WorkflowOptionError
from sheetcrm.i18n import N_, tr

SYNC_WORKFLOW = "sheetcrm-sync.yml"
REPORT_WORKFLOW = "sheetcrm-report.yml"
DEFAULT_DIR = Path(".github/workflows")
DEFAULT_SPREADSHEET_VAR = "SHEETCRM_SPREADSHEET"
WIF_PROVIDER_VAR = "SHEETCRM_WIF_PROVIDER"
SERVICE_ACCOUNT_VAR = "SHEETCRM_SERVICE_ACCOUNT"
CREDENTIALS_SECRET = "SHEETCRM_CREDENTIALS_JSON"
#: Where the report step writes; only its HTML is uploaded as the artifact.
REPORT_DIR = "sheetcrm-report"
#: The runner's Python: pinned so a new Python release never changes a scheduled run.
PYTHON_VERSION = "3.12"
#: Minute past the hour of the sync (any minute but 0 would do: GitHub queues a burst of
#: scheduled runs at the top of every hour and delays or drops some of them).
SYNC_MINUTE = 17
#: 01:37 UTC on the 1st is 09:37 in Taipei and Hong Kong, the morning after the month ends.
REPORT_CRON = "37 1 1 * *"
REPORT_TIME = "01:37"


class Auth(StrEnum):
    """How the workflow reaches Google."""

    #: Workload identity federation through google-github-actions/auth: no stored key.
    WIF = "wif"
    #: A service-account key kept in a repository secret.
    KEY = "key"


class OnProblems(StrEnum):
    """What validation problems in the workbook do to a scheduled sync."""

    #: The run stays green (``--problems-ok``); the summary lists where the problems are.
    PASS = "pass"
    #: The cells are written, then the run shows red (exit 1) so someone looks.
    FLAG = "flag"
    #: Nothing is written and the run fails (``--fail-on-problems``, exit 2).
    STOP = "stop"


_PROBLEM_FLAGS = {OnProblems.PASS: "--problems-ok ", OnProblems.FLAG: "", OnProblems.STOP: "--fail-on-problems "}

#: The intervals ``--every`` accepts: whole divisions of an hour or a day, so that a cron
#: line can say them exactly. GitHub runs schedules at most every 5 minutes.
EVERY_CHOICES = ("5m", "10m", "15m", "20m", "30m", "1h", "2h", "3h", "4h", "6h", "8h", "12h", "1d")

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


@dataclass(frozen=True)
class WorkflowOptions:
    """Everything that varies between generated workflows."""

    auth: Auth = Auth.WIF
    every: str = "1h"
    spreadsheet_var: str = DEFAULT_SPREADSHEET_VAR
    on_problems: OnProblems = OnProblems.PASS
    include_pii: bool = False
    #: What ``pip install`` is given: a pinned release by default, or any pip requirement
    #: (a git URL at a commit, a wheel URL).
    requirement: str = field(default=f"sheetcrm=={__version__}")

    def __post_init__(self) -> None:
        object.__setattr__(self, "auth", Auth(self.auth))
        object.__setattr__(self, "on_problems", OnProblems(self.on_problems))
        if self.every not in EVERY_CHOICES:
            raise WorkflowOptionError(
                Phrase(
                    N_("--every {every} is not an interval a schedule can keep; use one of {choices}"),
                    {"every": repr(self.every), "choices": ", ".join(EVERY_CHOICES)},
                )
            )
        if not _VAR_NAME.fullmatch(self.spreadsheet_var) or self.spreadsheet_var.upper().startswith("GITHUB_"):
            raise WorkflowOptionError(
                Phrase(
                    N_(
                        "--spreadsheet-var {name} is not a name GitHub allows for a repository "
                        "variable; use letters, digits and _ (not starting with a digit or GITHUB_), "
                        "e.g. {example}"
                    ),
                    {"name": repr(self.spreadsheet_var), "example": DEFAULT_SPREADSHEET_VAR},
                )
            )
        if not self.requirement.strip() or any(c in self.requirement for c in "\n\r\0"):
            raise WorkflowOptionError(
                Phrase(
                    N_("--requirement must be one pip requirement on one line, e.g. {example}"),
                    {"example": f"sheetcrm=={__version__}"},
                )
            )


def schedule_cron(every: str, minute: int = SYNC_MINUTE) -> str:
    """The cron line for ``every`` (one of :data:`EVERY_CHOICES`), never at minute 0.

    >>> schedule_cron("1h"), schedule_cron("15m"), schedule_cron("6h"), schedule_cron("1d")
    ('17 * * * *', '2,17,32,47 * * * *', '17 */6 * * *', '17 2 * * *')
    """
    if every not in EVERY_CHOICES:
        raise WorkflowOptionError(
            Phrase(
                N_("--every {every}: use one of {choices}"), {"every": repr(every), "choices": ", ".join(EVERY_CHOICES)}
            )
        )
    amount, unit = int(every[:-1]), every[-1]
    if unit == "m":
        first = minute % amount
        return f"{','.join(str(m) for m in range(first, 60, amount))} * * * *"
    if unit == "d":
        # 02:17 UTC: 10:17 in Taipei, after the night's edits and before the working day's.
        return f"{minute} 2 * * *"
    return f"{minute} * * * *" if amount == 1 else f"{minute} */{amount} * * *"


def _every_text(every: str) -> str:
    amount, unit = int(every[:-1]), every[-1]
    name = {"m": "minute", "h": "hour", "d": "day"}[unit]
    return f"Every {name}" if amount == 1 else f"Every {amount} {name}s"


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_templates_dir())),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def _templates_dir() -> Path:
    """``workflows/`` of the templates inside the installed package, or of ``templates/``
    in a source checkout."""
    from importlib import resources

    packaged = Path(str(resources.files("sheetcrm"))) / "_templates" / "workflows"
    for candidate in (packaged, Path(__file__).resolve().parents[2] / "templates" / "workflows"):
        if candidate.is_dir():
            return candidate
    raise SheetCRMError(
        Phrase(
            N_("the workflow templates are missing (looked in {folder}); reinstall sheetcrm"), {"folder": str(packaged)}
        )
    )


def render_workflows(options: WorkflowOptions | None = None) -> dict[str, str]:
    """The workflow files for ``options``: ``{file name: YAML text}``, sync first."""
    opts = options or WorkflowOptions()
    env = _environment()
    common = {
        "version": __version__,
        "auth": opts.auth.value,
        "python_version": PYTHON_VERSION,
        "requirement": opts.requirement,
        "spreadsheet_var": opts.spreadsheet_var,
        "wif_provider_var": WIF_PROVIDER_VAR,
        "service_account_var": SERVICE_ACCOUNT_VAR,
        "credentials_secret": CREDENTIALS_SECRET,
    }
    sync = env.get_template(f"{SYNC_WORKFLOW}.j2").render(
        **common,
        workflow_path=f"{DEFAULT_DIR.as_posix()}/{SYNC_WORKFLOW}",
        cron=schedule_cron(opts.every),
        every_text=_every_text(opts.every),
        problems_flag=_PROBLEM_FLAGS[opts.on_problems],
    )
    report = env.get_template(f"{REPORT_WORKFLOW}.j2").render(
        **common,
        workflow_path=f"{DEFAULT_DIR.as_posix()}/{REPORT_WORKFLOW}",
        report_cron=REPORT_CRON,
        report_time=REPORT_TIME,
        report_dir=REPORT_DIR,
        include_pii=opts.include_pii,
        pii_flag="--include-pii " if opts.include_pii else "",
    )
    return {SYNC_WORKFLOW: sync, REPORT_WORKFLOW: report}


@dataclass
class WrittenWorkflows:
    """What :func:`write_workflows` wrote and what the owner still has to set up."""

    paths: list[Path]
    next_steps: list[str]


def next_steps(options: WorkflowOptions, lang: str = "en") -> list[str]:
    """The set-up still to do after the files are committed, one instruction a line, in ``lang``."""
    steps = [tr(lang, "Commit the workflow files and push them to the repository's default branch.")]
    if options.auth is Auth.WIF:
        steps += [
            tr(
                lang,
                "Create a service account and a workload identity pool and provider for this repository"
                " (docs/scheduled-sync.md, 'Keyless: workload identity federation').",
            ),
            tr(
                lang,
                "Set repository variables {provider} (projects/NUMBER/locations/global/"
                "workloadIdentityPools/POOL/providers/PROVIDER) and {account} (the service"
                " account's email): gh variable set {provider} --body ...",
                provider=WIF_PROVIDER_VAR,
                account=SERVICE_ACCOUNT_VAR,
            ),
        ]
    else:
        steps += [
            tr(lang, "Create a service account and a JSON key for it (docs/scheduled-sync.md, 'With a key')."),
            tr(
                lang,
                "Store the key as the repository secret {secret}: gh secret set {secret} < key.json,"
                " then delete key.json.",
                secret=CREDENTIALS_SECRET,
            ),
        ]
    steps += [
        tr(lang, "Share the spreadsheet with the service account's email as Editor."),
        tr(
            lang,
            "Set the repository variable {var} to the spreadsheet's key or URL: gh variable set {var} --body KEY",
            var=options.spreadsheet_var,
        ),
        tr(
            lang,
            "Run the sync once by hand and read its summary: gh workflow run {workflow}"
            " (or Actions → sheetcrm sync → Run workflow).",
            workflow=SYNC_WORKFLOW,
        ),
    ]
    return steps


def write_workflows(
    directory: str | Path = DEFAULT_DIR,
    options: WorkflowOptions | None = None,
    *,
    force: bool = False,
    lang: str = "en",
) -> WrittenWorkflows:
    """Write the rendered workflows into ``directory`` (created if missing). An existing
    file is left alone unless ``force``: it may hold the owner's own changes."""
    opts = options or WorkflowOptions()
    folder = Path(directory)
    rendered = render_workflows(opts)
    targets = {folder / name: text for name, text in rendered.items()}
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise OutputExistsError(
            Phrase(
                N_("{paths} already exist(s); pass --force to replace (your changes to them are lost)"),
                {"paths": ", ".join(str(p) for p in existing)},
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    return WrittenWorkflows(list(targets), next_steps(opts, lang))
