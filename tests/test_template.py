from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from sheetcrm.exceptions import WorkbookExistsError
from sheetcrm.schema import TABS, Lang, Tab
from sheetcrm.settings import SETTING_DEFS
from sheetcrm.template import build_workbook, init_workbook, template_path


def _shape(wb: openpyxl.Workbook) -> dict:
    return {
        ws.title: {
            "header": [c.value for c in ws[1]],
            "validations": sorted((dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation),
            "rows": [[c.value for c in r] for r in ws.iter_rows(min_row=2)],
            "frozen": ws.freeze_panes,
            "protected": ws.protection.sheet,
        }
        for ws in wb.worksheets
    }


@pytest.mark.parametrize("lang", list(Lang))
def test_stored_templates_match_the_schema(lang: Lang) -> None:
    """Run scripts/build_templates.py after changing the schema."""
    stored = openpyxl.load_workbook(template_path(lang))
    assert _shape(stored) == _shape(build_workbook(lang))


@pytest.mark.parametrize("lang", list(Lang))
def test_init_creates_every_tab_with_headers_and_settings(tmp_path: Path, lang: Lang) -> None:
    path = init_workbook(tmp_path / "crm.xlsx", lang)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [spec.title(lang) for spec in TABS.values()]
    for spec in TABS.values():
        ws = wb[spec.title(lang)]
        assert [c.value for c in ws[1]] == [c.header(lang) for c in spec.template_columns]
        assert ws.freeze_panes == "A2"
    settings = wb[TABS[Tab.SETTINGS].title(lang)]
    keys = [r[0].value for r in settings.iter_rows(min_row=2)]
    assert keys == [d.key for d in SETTING_DEFS]
    assert all(r[2].value for r in settings.iter_rows(min_row=2)), "every setting has a description"


def test_dropdowns_computed_shading_and_protection(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(init_workbook(tmp_path / "crm.xlsx", Lang.ZH_TW))
    opps = wb["機會"]
    header = [c.value for c in opps[1]]
    stage_letter = get_column_letter(header.index("階段") + 1)
    formulas = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in opps.data_validations.dataValidation}
    assert formulas[f"{stage_letter}2"] == '"潛在,確認需求,提案,議約,成交,失敗"'
    prob = opps.cell(row=1, column=header.index("成交機率") + 1)
    assert prob.fill.fgColor.rgb.endswith("E7E6E6") and prob.comment is not None
    assert opps.protection.sheet and not opps.protection.insertRows and not opps.protection.sort
    name_col = get_column_letter(header.index("機會名稱") + 1)
    assert opps.column_dimensions[name_col].protection.locked is False
    types = wb["活動紀錄"]
    assert any("訂單" in dv.formula1 for dv in types.data_validations.dataValidation)


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    path.write_bytes(b"my precious data")
    with pytest.raises(WorkbookExistsError, match="--force"):
        init_workbook(path)
    assert path.read_bytes() == b"my precious data"
    init_workbook(path, force=True)
    assert openpyxl.load_workbook(path).sheetnames[0] == "Companies"


def test_a_chinese_workbooks_settings_name_stages_in_chinese_and_mean_the_defaults(tmp_path: Path) -> None:
    import sheetcrm
    from sheetcrm.settings import Settings

    path = init_workbook(tmp_path / "crm.xlsx", Lang.ZH_TW)
    rows = {str(r[0].value): str(r[1].value) for r in openpyxl.load_workbook(path)["設定"].iter_rows(min_row=2)}
    assert rows["pipeline.stages"].startswith("潛在:10, 確認需求:25")
    assert "寄送合約=>議約" in rows["pipeline.rules"] and "談判中=議約" in rows["synonyms.stage"]
    settings = sheetcrm.open(path).settings
    default = Settings()
    assert settings.stage_probability == default.stage_probability
    assert settings.stage_rules == default.stage_rules
    assert settings.synonyms == default.synonyms
