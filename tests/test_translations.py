"""The Chinese catalog is complete and current, and templates have no untranslated text.

Message ids are English (English is the msgid itself); translations/zh_Hans_CN holds the
Chinese. The directory carries Babel's own name for zh_CN: Flask-Babel looks a locale
up by ``str(Locale.parse("zh_CN"))``, which is "zh_Hans_CN", so a catalog filed under
translations/zh_CN is never found and every page silently stays English.

These tests compile the catalog into a temporary directory themselves: they do not
depend on `make translations` having run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from residents_vote import create_app

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "translations" / "messages.pot"
PO = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
TEMPLATES = ROOT / "templates"
EXTRACT = ["-F", "babel.cfg", "-k", "N_", "-k", "_l", "-k", "lazy_gettext"]

# Words that stay as they are in both languages.
ALLOWED = ("English", "中文", "m²", "PDF", "JSON", "CSV", "XLSX", "SHA-256", "QR")
TEXT = re.compile(r"[A-Za-z\u3400-\u9fff\uf900-\ufaff]")
CODE_EXAMPLE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")  # e.g. ABCD-EFGH-JKLM, 3-2-501
VISIBLE_ATTRS = ("title", "alt", "placeholder", "aria-label")


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale="zh_Hans_CN" if path.suffix == ".po" else None)


def _named(text: str) -> list[str]:
    """The placeholders of a message: %(name)s fields, in order, plus literal %%."""
    return sorted(m.group(0) for m in PYTHON_FORMAT.finditer(text))


def _positional(msgid: str) -> bool:
    """A message id Babel reads as a positional format string (e.g. '% of all')."""
    return any(
        name is None and kind != "%"
        for name, _flags, kind in (m.groups() for m in PYTHON_FORMAT.finditer(msgid))
    )


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.fixture(scope="module")
def pot() -> Catalog:
    return _read(POT)


@pytest.fixture(scope="module")
def po() -> Catalog:
    return _read(PO)


# --- (a) every message has a Chinese translation ------------------------------------------


def test_every_message_has_a_chinese_translation(pot, po):
    """Non-empty, not fuzzy, and with exactly the placeholders of the English id."""
    problems = []
    for message in pot:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        if _positional(msgid):
            continue  # cannot be translated until the source is fixed: see the next test
        entry = po.get(message.id, context=message.context)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = list(entry.string) if isinstance(entry.string, tuple) else [entry.string]
        if not all(strings):
            problems.append(f"untranslated: {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif any(_named(s) != _named(msgid) for s in strings):
            problems.append(f"placeholders differ: {msgid!r} -> {strings[0]!r}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# A message id such as "% of all owners" is, to Babel, a format string with one
# positional "% o" placeholder: any Chinese translation fails `pybabel compile`'s format
# check (exit 1), which stops `make translations`, `make run` and `make test`. Such ids
# must say e.g. "Share of all owners (%)" instead. Strict: passes once the source is fixed.
_POSITIONAL_IDS = sorted(m for m in _ids(_read(POT)) if _positional(m)) if POT.exists() else []
POSITIONAL_BUG = pytest.mark.xfail(
    bool(_POSITIONAL_IDS),
    strict=True,
    reason="BUG: message ids read as positional format strings (services/notices.py "
    f"measure_labels): {_POSITIONAL_IDS}",
)


@POSITIONAL_BUG
def test_no_message_id_is_a_positional_format_string(pot):
    assert not [m for m in _ids(pot) if _positional(m)]


def test_catalog_compiles_without_errors_and_pages_are_chinese(po, tmp_path):
    """Babel's own checks pass (as in `pybabel compile`), and the app then speaks Chinese."""
    errors = [(m.id, e) for m, errs in po.check() for e in errs]
    assert not errors, errors
    mo = tmp_path / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as fh:
        write_mo(fh, po, use_fuzzy=False)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path),
        }
    )
    client = app.test_client()
    chinese = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in chinese and "居民表决" in chinese
    english = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Residents' vote" in english
    assert "居民表决" not in english
    # The choice sticks: the next page without ?lang= is still English (cookie).
    again = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in again
    assert "?lang=zh_CN" in again  # and the way back to Chinese is offered


# --- (b) templates carry no literal user-visible text -------------------------------------------


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRS and value:
                self.texts.append(value)
            if name == "value" and tag in ("button", "input") and value:
                if dict(attrs).get("type") in ("submit", "button", "reset"):
                    self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data)


def visible_literals(source: str) -> list[str]:
    """Text a reader would see that is not produced by Jinja (translated or data)."""
    source = re.sub(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", " ", source, flags=re.S)
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    source = re.sub(r"{%.*?%}", " ", source, flags=re.S)
    source = re.sub(r"{{.*?}}", " ", source, flags=re.S)
    source = re.sub(r"<!--.*?-->", " ", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S | re.I)
    parser = _Visible()
    parser.feed(source)
    found = []
    for text in parser.texts:
        rest = text
        for word in ALLOWED:
            rest = rest.replace(word, " ")
        rest = " ".join(w for w in rest.split() if not CODE_EXAMPLE.match(w))
        if TEXT.search(rest):
            found.append(text.strip())
    return found


def test_visible_literals_detector():
    assert visible_literals("<p>Hello</p>") == ["Hello"]
    assert visible_literals("<p>你好 {{ name }}</p>") == ["你好"]
    assert visible_literals('<input placeholder="Your name">') == ["Your name"]
    assert visible_literals('<p>{{ _("Hello") }} · {{ n }} m²</p>') == []
    assert visible_literals("<p>{% trans %}Hello{% endtrans %}</p>") == []
    assert visible_literals("<!-- note --><style>p { color: red }</style><p>(1)</p>") == []
    assert visible_literals('<a lang="en">English</a><input placeholder="3-2-501">') == []


@pytest.mark.parametrize(
    "template",
    sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")),
)
def test_template_has_no_untranslated_text(template):
    found = visible_literals((TEMPLATES / template).read_text(encoding="utf-8"))
    assert not found, f"literal text outside _() in {template}: {found}"


# --- (c) the template catalog is up to date -------------------------------------------------------


def test_pot_is_up_to_date_with_the_sources(pot, tmp_path):
    """Re-extract: same message ids as translations/messages.pot (run the extract command)."""
    fresh = tmp_path / "messages.pot"
    babel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run(
        [*babel, "extract", *EXTRACT, "-o", str(fresh), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    current = _ids(_read(fresh))
    stored = _ids(pot)
    missing, stale = sorted(current - stored), sorted(stored - current)
    assert not missing and not stale, (
        "translations/messages.pot is out of date; run `pybabel extract "
        f"{' '.join(EXTRACT)} -o translations/messages.pot .` and "
        "`pybabel update -i translations/messages.pot -d translations`.\n"
        f"new: {missing}\ngone: {stale}"
    )
