"""The translations: both catalogs have exactly the same keys, and every key the page uses
(statically in HTML and JS, or built from an API value) is in them."""

import re

import harness

WEB = harness.ROOT / "web"
EN = harness.catalog("en")
RU = harness.catalog("ru")
PLURAL_BASES = {key.rsplit(".", 1)[0] for key in EN if key.endswith(".one")}


def test_english_and_russian_have_exactly_the_same_keys():
    assert sorted(set(EN) - set(RU)) == [] and sorted(set(RU) - set(EN)) == []


def test_no_translation_is_empty_and_placeholders_agree():
    for key in EN:
        assert EN[key].strip() and RU[key].strip(), key
        assert sorted(re.findall(r"\{\w+\}", EN[key])) == sorted(re.findall(r"\{\w+\}", RU[key])), key


def used_keys():
    """Keys named literally: `data-i18n*="key"` in HTML/JS and quoted `a.b` strings in JS calls."""
    keys = set()
    for path in WEB.rglob("*"):
        if path.suffix not in (".html", ".js"):
            continue
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', text))
        if path.suffix == ".js":
            calls = r"\b(?:t|say|notify|plural|has)\(\s*(?:[\w$#().'\[\]-]+,\s*)?'([a-z_]+(?:\.[a-z_-]+)+)'"
            keys |= set(re.findall(calls, text))
            keys |= set(re.findall(r"[?:]\s*'([a-z_]+(?:\.[a-z_-]+)+)'", text))  # in conditionals
    return keys


def test_every_key_the_page_names_exists():
    missing = sorted(k for k in used_keys() if k not in EN and k not in PLURAL_BASES)
    assert missing == []
    assert len(used_keys()) > 50  # the scan itself works


def test_plural_keys_have_every_russian_form():
    assert PLURAL_BASES >= {"stats.summary", "backups.shown"}
    for base in PLURAL_BASES:
        for form in ("one", "few", "many", "other"):
            assert f"{base}.{form}" in EN, f"{base}.{form}"


def openapi_enum(schema):
    """A string enum of openapi.yaml's components, written on one line or as a block."""
    text = (harness.ROOT / "docs" / "openapi.yaml").read_text()
    found = (re.search(rf"^    {schema}: {{ type: string, enum: \[([^\]]+)\] }}", text, re.M)
             or re.search(rf"^    {schema}:\n      type: string\n      enum: \[([^\]]+)\]", text, re.M))
    assert found, schema
    return [v.strip() for v in found[1].split(",")]


def test_keys_built_from_api_values_exist():
    """The page builds `type.X`, `status.X`, `note.X`, `job.X`, `job.phase.X`, `errors.X` from the API."""
    for value in openapi_enum("BackupType"):
        assert f"type.{value}" in EN
    for value in openapi_enum("BackupStatus"):
        assert f"status.{value}" in EN
    for kind in openapi_enum("DatabaseKind"):  # the overview's "SQLite · /path"
        assert f"stats.database_kind.{kind}" in EN
    for kind in openapi_enum("NoteKind"):  # server-generated notes, worded by the page
        assert f"note.{kind}" in EN
    for scope in openapi_enum("BackupScope"):  # the list's column and filter, the overview
        assert f"scope.{scope}" in EN and f"scope.choice.{scope}" in EN
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):  # web/js/format.js's units
        assert f"unit.{unit}" in EN
    for kind in ("backup", "verify", "import", "restore", "upload"):
        assert f"job.{kind}" in EN
    for phase in ("snapshot", "compress", "verify", "waiting_for_lock", "replace", "upload", "download"):
        assert f"job.phase.{phase}" in EN
    for state in ("completed", "failed", "cancelled"):
        assert f"job.done.{state}" in EN
    for action in ("download", "pin", "unpin", "delete", "restore"):
        assert f"action.{action}" in EN and f"action.label.{action}" in EN
    api_doc = (harness.ROOT / "docs" / "api.md").read_text()
    table = api_doc[api_doc.index("## Errors"):api_doc.index("## Jobs")]
    # The offsite_failed row also lists its `kind`s, which the page words as offsite.kind.X.
    kinds_row = next(line for line in table.splitlines() if "`offsite_failed`" in line)
    kinds = set(re.findall(r"`([a-z_]+)`", kinds_row.split("`kind`", 1)[1]))
    assert kinds >= {"dns", "tls", "signature", "bucket", "permission"}
    assert sorted(k for k in kinds if f"offsite.kind.{k}" not in EN) == []
    table = table.replace(kinds_row, "`offsite_failed`")
    codes = set(re.findall(r"`([a-z_]+)`", table)) - {"fields", "retention", "snake_case"}
    assert "backup_in_progress" in codes
    assert sorted(c for c in codes if f"errors.{c}" not in EN) == []
