"""Running sheetcrm unattended: the GitHub Actions workflows (:mod:`.workflows`), and the
contract a scheduled run relies on (exit codes, the Markdown job summary, JSON output,
the warning before GitHub turns an idle repository's schedule off)."""
