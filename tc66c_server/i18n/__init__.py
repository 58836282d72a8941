"""Console messages, one JSON catalog per language (``en.json``, ``fr.json``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from importlib import resources

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    """The message catalog of ``lang`` (falls back to English for unknown languages)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    text = resources.files(__package__).joinpath(f"{lang}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def detect_language(environ: Mapping[str, str] | None = None) -> str:
    """``fr`` when the locale (LC_ALL, LC_MESSAGES, LANG) is French, otherwise ``en``."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return DEFAULT_LANGUAGE


class Messages:
    """Formats catalog messages in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._catalog = catalog(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        template = self._catalog.get(key) or catalog(DEFAULT_LANGUAGE)[key]
        return template.format(**values)
