"""Fixed phrases that text columns are written with and read back by: a code, an English
template with named fields, and the pattern that recovers the fields from the text.

The evaluation stores its reasons as text (the ``reasons`` column of docs/architecture.md
"Calls"), the plate QC its findings' messages (``msms.qc.messages``), and other records keep
English sentences too (an alert's message). The book lives at the base of the core so that
every package that writes such texts can use it. Writing them
through a ``Phrasebook`` and reading them back with the same book gives their structure (a
code and parameters) to whoever shows them in another language, without a second list of
English sentences to match: the template that wrote a text is the one that reads it.

- ``Phrase.text(**fields)`` writes the English text.
- ``Phrasebook.parse(text)`` returns ``(phrase, fields)`` of the first phrase (in the book's
  order, most specific first) whose pattern matches the whole text, or None.
- ``Phrase.msgid`` is the template as a gettext message with ``%(field)s`` placeholders.

- ``split_outside(text, sep)`` splits a list of phrases where ``sep`` stands outside
  parentheses (a phrase may hold ``; `` or ``, `` inside its own).

Public names: ``Phrase``, ``Phrasebook``, ``split_outside``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["Phrase", "Phrasebook", "split_outside"]

#: What a field matches unless the book says otherwise: anything, as little as possible.
_ANY = r".+?"


@dataclass(frozen=True)
class Phrase:
    code: str
    template: str
    pattern: re.Pattern[str] = field(repr=False, compare=False)
    fields: tuple[str, ...] = ()

    @classmethod
    def of(cls, code: str, template: str, field_patterns: Mapping[str, str]) -> Phrase:
        parts, names = ["^"], []
        for literal, name, _spec, _conversion in string.Formatter().parse(template):
            parts.append(re.escape(literal))
            if name is not None:
                if not name.isidentifier() or name in names:
                    raise ValueError(f"phrase {code!r}: field {name!r} is not a new name")
                names.append(name)
                parts.append(f"(?P<{name}>{field_patterns.get(name, _ANY)})")
        parts.append("$")
        return cls(code, template, re.compile("".join(parts), re.DOTALL), tuple(names))

    def text(self, **fields: object) -> str:
        """The English text with these fields."""
        return self.template.format(**fields)

    @property
    def msgid(self) -> str:
        """The template as a gettext message: ``{name}`` becomes ``%(name)s``."""
        out = []
        for literal, name, _spec, _conversion in string.Formatter().parse(self.template):
            out.append(literal.replace("%", "%%"))
            if name is not None:
                out.append(f"%({name})s")
        return "".join(out)


class Phrasebook:
    """Phrases by code, tried in the order given when reading a text back."""

    def __init__(self, templates: Iterable[tuple[str, str]], *,
                 fields: Mapping[str, str] | None = None) -> None:
        self._phrases = {code: Phrase.of(code, template, fields or {})
                         for code, template in templates}

    def __getitem__(self, code: str) -> Phrase:
        return self._phrases[code]

    def __iter__(self) -> Iterator[Phrase]:
        return iter(self._phrases.values())

    def text(self, code: str, **fields: object) -> str:
        """The English text of phrase ``code`` with these fields."""
        return self._phrases[code].text(**fields)

    def parse(self, text: str) -> tuple[Phrase, dict[str, str]] | None:
        """The phrase that wrote ``text`` and its fields, or None."""
        text = text.strip()
        for phrase in self._phrases.values():
            match = phrase.pattern.match(text)
            if match is not None:
                return phrase, match.groupdict()
        return None


def split_outside(text: str, sep: str) -> list[str]:
    """The stripped, non-empty parts of ``text`` between the ``sep`` characters that stand
    outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]
