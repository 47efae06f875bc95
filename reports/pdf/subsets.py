"""The embedded subsets of the CJK face, cut and compressed once per process.

reportlab embeds a TrueType face as subsets of up to 256 characters, in the order a document
first uses them, and for each subset cuts a font file from the 4 MB face (about 5 ms),
compresses it (about 1 ms for the 28 KB of a subset), writes a compressed ToUnicode map and
formats the widths of its characters. The same characters in the same order give the same
bytes, and most subsets of the documents (their labels, headings and disorder names) recur from
one document to the next, so these are kept by the characters they hold and each document gets
new PDF objects around the kept bytes: the same objects, with the same bytes, as reportlab
writes. At most 512 subsets are kept (some 25 MB with their compressed copies); a subset
holding a new name is cut afresh.

Public names: ``memoise``.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Any

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    makeToUnicodeCMap,
)

__all__ = ["memoise"]

_FLATE = pdfdoc.PDFZCompress.pdfname


class _FormattedOnce(pdfdoc.PDFArray):
    """An array of numbers, formatted once: its bytes depend on no document."""

    def __init__(self, sequence: Any) -> None:
        super().__init__(sequence)
        self._formatted: dict[tuple[Any, ...], bytes] = {}

    def format(self, document: Any, IND: bytes = b"\n ") -> bytes:  # noqa: N803 (reportlab's)
        key = (rl_config.pdfMultiLine, IND)
        if key not in self._formatted:
            self._formatted[key] = super().format(document, IND)
        return self._formatted[key]


def memoise(font: TTFont) -> None:
    """Make ``font`` keep its subsets' font files and ToUnicode maps across documents."""
    face = font.face
    cut = face.makeSubset

    @lru_cache(maxsize=512)
    def font_file(characters: tuple[int, ...]) -> tuple[bytes, bytes]:
        raw = bytes(cut(list(characters)))
        return raw, zlib.compress(raw)

    @lru_cache(maxsize=512)
    def to_unicode(name: str, characters: tuple[int, ...]) -> tuple[str, bytes]:
        text = makeToUnicodeCMap(name, list(characters))
        return text, zlib.compress(text.encode("utf8"))

    @lru_cache(maxsize=512)
    def widths(characters: tuple[int, ...]) -> _FormattedOnce:
        return _FormattedOnce(map(face.getCharWidth, characters))

    def stream(raw: bytes | str, compressed: bytes, doc: Any) -> pdfdoc.PDFStream:
        """A stream of ``raw``, compressed as reportlab would (when the document compresses)."""
        out = pdfdoc.PDFStream()
        if doc.compression:
            out.content = compressed
            out.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName(_FLATE)])
        else:
            out.content = raw
        return out

    def add_subset_objects(doc: Any, name: str, subset: list[int]) -> Any:
        """``TTFontFace.addSubsetObjects`` with the kept font file."""
        raw, compressed = font_file(tuple(subset))
        file = stream(raw, compressed, doc)
        file.dictionary["Length1"] = len(raw)
        file_ref = doc.Reference(file, f"fontFile:{face.filename}({name})")
        descriptor = pdfdoc.PDFDictionary({
            "Type": "/FontDescriptor",
            "Ascent": face.ascent,
            "CapHeight": face.capHeight,
            "Descent": face.descent,
            "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
            "FontBBox": pdfdoc.PDFArray(face.bbox),
            "FontName": pdfdoc.PDFName(name),
            "ItalicAngle": face.italicAngle,
            "StemV": face.stemV,
            "FontFile2": file_ref,
            "MissingWidth": face.defaultWidth,
        })
        return doc.Reference(descriptor, "fontDescriptor:" + name)

    def add_objects(doc: Any) -> None:
        """``TTFont.addObjects`` with the kept widths, ToUnicode maps and font files."""
        try:
            state = font.state[doc]
        except KeyError:
            state = font.state[doc] = TTFont.State(font._asciiReadable)
        state.frozen = 1
        for n, subset in enumerate(state.subsets):
            characters = tuple(subset)
            internal = font.getSubsetInternalName(n, doc)[1:]
            base = b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = f"Font {font.fontName} subset {n}"
            pdf_font.Name = internal
            pdf_font.BaseFont = base
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            pdf_font.Widths = widths(characters)
            pdf_font.ToUnicode = doc.Reference(stream(*to_unicode(base, characters), doc),
                                               "toUnicodeCMap:" + base)
            pdf_font.FontDescriptor = add_subset_objects(doc, base, subset)
            doc.Reference(pdf_font, internal)
            doc.idToObject["BasicFonts"].dict[internal] = pdf_font
        del font.state[doc]

    face.makeSubset = lambda characters: font_file(tuple(characters))[0]
    face.addSubsetObjects = add_subset_objects
    font.addObjects = add_objects
