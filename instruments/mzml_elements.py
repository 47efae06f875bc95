"""One mzML injection read with pyteomics: its chromatogram and spectrum elements turned into the
few fields :mod:`instruments.mzml` needs, binary arrays decoded by cvParam accession.

:class:`InjectionReader` is pyteomics' ``MzML`` reader over a tree built once per injection
(``iterative=False``: one lxml parse in C and an XPath per element kind, instead of an
iterparse that hands every start and end event to Python). The tree is built with a parser that
resolves no entities, opens no network connection and keeps lxml's size limits. Each
chromatogram or spectrum becomes a plain dict (pyteomics' generic conversion to nested dicts
costs ~3 ms per chromatogram):

``id``, ``acc`` (every accession stated on the element, its scans and referenced param groups),
``precursor`` / ``product`` (isolation window target or selected ion m/z), ``scan_time_min``,
``neutral_loss``, and per binary array ``"<name>"`` (float64 values) and ``"<name> unit"``.

Binary arrays are decoded by accession, never by name: zlib, MS-Numpress linear,
positive-integer and short-logged-float (with or without zlib) are decoded; other compressions
raise :class:`~instruments.errors.UnsupportedEncodingError`. A cvParam name that disagrees with
the PSI-MS vocabulary for its accession is noted (``reader.array_notes``).

Public names: ``InjectionReader``, ``TIME_TO_MIN``, ``decode_array``, ``param_groups``.
"""

from __future__ import annotations

import binascii
import io
import sys
import warnings
import zlib
from functools import cache
from typing import Any

import numpy as np
from lxml import etree
from pyteomics import mzml as _pyteomics_mzml

from instruments import numpress
from instruments.errors import MalformedFileError, UnsupportedEncodingError
from instruments.issues import WARNINGS
from instruments.vocabulary import ACCESSIONS, is_compression, psi_ms, term_name

__all__ = ["TIME_TO_MIN", "InjectionReader", "decode_array", "param_groups"]

#: Time units (UO accessions) -> factor to minutes.
TIME_TO_MIN: dict[str, float] = {"UO:0000010": 1 / 60, "UO:0000031": 1.0,
                                 "UO:0000028": 1 / 60000, "UO:0000032": 60.0}
_ARRAYS = {"MS:1000514": "m/z array", "MS:1000515": "intensity array",
           "MS:1000595": "time array"}
_DTYPES = {"MS:1000521": "<f4", "MS:1000523": "<f8", "MS:1000519": "<i4", "MS:1000522": "<i8"}
_NUMPRESS = {"MS:1002312": (numpress.decode_linear, False),
             "MS:1002313": (numpress.decode_pic, False),
             "MS:1002314": (numpress.decode_slof, False),
             "MS:1002746": (numpress.decode_linear, True),
             "MS:1002747": (numpress.decode_pic, True),
             "MS:1002748": (numpress.decode_slof, True)}
_ZLIB = ("MS:1000574", "MS:1003088")
_NO_COMPRESSION = "MS:1000576"
_WINDOW_MZ = ("MS:1000827", "MS:1000744")  # isolation window target m/z, selected ion m/z
_NATIVE_F8 = np.dtype("<f8") == np.dtype(np.float64) and sys.byteorder == "little"

Groups = dict[str, list[tuple[str, str, str, str]]]


@cache
def _array_param(accession: str) -> tuple[str, str] | None:
    """What a binaryDataArray cvParam says: ('name'|'dtype'|'compression', value) or None."""
    if accession in _ARRAYS:
        return "name", _ARRAYS[accession]
    if accession in _DTYPES:
        return "dtype", _DTYPES[accession]
    if accession in _NUMPRESS or accession in _ZLIB or accession == _NO_COMPRESSION or (
            is_compression(accession)):
        return "compression", accession
    return None


@cache
def _name_note(accession: str, written: str) -> str | None:
    """A note when the file names a decoding cvParam differently from the vocabulary."""
    expected = ACCESSIONS.get(accession) or term_name(accession)
    if expected and written and written != expected:
        return WARNINGS.text("cv_name", accession=accession, written=repr(written),
                             expected=repr(expected))
    return None


def _cv_params(element: Any, cv_tag: str, ref_tag: str, groups: Groups
               ) -> list[tuple[str, str, str, str]]:
    """(accession, name, value, unit accession) of an element's own cvParams, then those of
    the param groups it references."""
    out = []
    for child in element:
        tag = child.tag
        if tag == cv_tag:
            get = child.get
            out.append((get("accession", ""), get("name", ""), get("value", ""),
                        get("unitAccession", "")))
        elif tag == ref_tag:
            out.extend(groups.get(child.get("ref", ""), ()))
    return out


def param_groups(root: Any) -> Groups:
    """The document's referenceableParamGroups: id -> cvParams (as :func:`_cv_params`)."""
    tag = root.tag
    ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    groups: Groups = {}
    for group in root.iter(ns + "referenceableParamGroup"):
        groups[group.get("id", "")] = _cv_params(group, ns + "cvParam", "", {})
    return groups


def _window_mz(element: Any, cv_tag: str) -> float | None:
    """The isolation window target m/z of a precursor or product, else its selected ion m/z."""
    selected: str | None = None
    for cv in element.iter(cv_tag):
        acc = cv.get("accession")
        if acc == _WINDOW_MZ[0]:
            return _mz(cv.get("value", ""), acc)
        if acc == _WINDOW_MZ[1] and selected is None:
            selected = cv.get("value", "")
    return None if selected is None else _mz(selected, _WINDOW_MZ[1])


def _mz(text: str, accession: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise MalformedFileError(f"m/z {text!r} is not a number", field=accession) from None


class _Tags:
    """The namespaced tags of one document (computed once per namespace)."""

    def __init__(self, ns: str) -> None:
        self.cv, self.ref = ns + "cvParam", ns + "referenceableParamGroupRef"
        self.precursor, self.product = ns + "precursor", ns + "product"
        self.precursor_list, self.product_list = ns + "precursorList", ns + "productList"
        self.scan_list, self.scan = ns + "scanList", ns + "scan"
        self.array_list, self.array = ns + "binaryDataArrayList", ns + "binaryDataArray"
        self.binary = ns + "binary"


@cache
def _tags(ns: str) -> _Tags:
    return _Tags(ns)


# Children are walked once each and matched on ``.tag``: lxml's ``find()`` goes through its
# Python ElementPath layer (about 1 µs a call), several times slower than a walk over the few
# children of a chromatogram.

def _own_param(child: Any, values: dict[str, str], units: dict[str, str]) -> None:
    get = child.get
    acc = get("accession", "")
    values[acc] = get("value", "")
    unit = get("unitAccession")
    if unit:
        units.setdefault(acc, unit)


def _group_params(ref: Any, groups: Groups, values: dict[str, str],
                  units: dict[str, str]) -> None:
    for acc, _, value, unit in groups.get(ref.get("ref", ""), ()):
        values[acc] = value
        if unit:
            units.setdefault(acc, unit)


def _scan_params(element: Any, t: _Tags, groups: Groups, values: dict[str, str],
                 units: dict[str, str]) -> None:
    for child in element:
        tag = child.tag
        if tag == t.cv:
            _own_param(child, values, units)
        elif tag == t.ref:
            _group_params(child, groups, values, units)
        elif tag == t.scan:
            _scan_params(child, t, groups, values, units)


def element_info(element: Any, groups: Groups, notes: list[str],
                 decoded: dict[tuple[str, str | None, str | None], np.ndarray] | None = None
                 ) -> dict[str, Any]:
    """A chromatogram or spectrum element as the dict described in the module docstring.

    ``decoded`` caches arrays by their base64 text and encoding: the chromatograms of one
    injection share their time array, which is then decoded once and is the same (read-only)
    array object in each.
    """
    tag = element.tag
    t = _tags(tag[: tag.index("}") + 1] if tag.startswith("{") else "")
    values: dict[str, str] = {}
    units: dict[str, str] = {}
    info: dict[str, Any] = {"id": element.get("id", ""), "precursor": None, "product": None,
                            "scan_time_min": None, "neutral_loss": None}
    for child in element:
        tag = child.tag
        if tag == t.cv:
            _own_param(child, values, units)
        elif tag == t.array_list:
            for bda in child:
                if bda.tag == t.array:
                    _array_info(bda, t, groups, notes, info, decoded)
        elif tag == t.precursor:
            info["precursor"] = _window_mz(child, t.cv)
        elif tag == t.product:
            info["product"] = _window_mz(child, t.cv)
        elif tag == t.ref:
            _group_params(child, groups, values, units)
        elif tag == t.precursor_list or tag == t.product_list:
            single = t.precursor if tag == t.precursor_list else t.product
            first = next((c for c in child if c.tag == single), None)
            if first is not None:
                info["precursor" if single == t.precursor else "product"] = _window_mz(
                    first, t.cv)
        elif tag == t.scan_list:
            _scan_params(child, t, groups, values, units)
    info["acc"] = values.keys()
    if "MS:1000016" in values:
        factor = TIME_TO_MIN.get(units.get("MS:1000016", ""))
        try:
            info["scan_time_min"] = float(values["MS:1000016"]) * factor if factor else None
        except ValueError:
            info["scan_time_min"] = None
    if "MS:1000336" in values:
        try:
            info["neutral_loss"] = float(values["MS:1000336"])
        except ValueError:
            info["neutral_loss"] = None
    return info


def _array_info(bda: Any, t: _Tags, groups: Groups, notes: list[str], info: dict[str, Any],
                decoded: dict[tuple[str, str | None, str | None], np.ndarray] | None) -> None:
    name = unit = dtype = compression = None
    text = ""
    params: list[tuple[str, str, str]] = []
    for child in bda:
        tag = child.tag
        if tag == t.cv:
            get = child.get
            params.append((get("accession", ""), get("name", ""), get("unitAccession", "")))
        elif tag == t.binary:
            text = child.text or ""
        elif tag == t.ref:
            params.extend((a, n, u) for a, n, _, u in groups.get(child.get("ref", ""), ()))
    for acc, written, unit_acc in params:
        said = _array_param(acc)
        if said is None:
            continue
        kind, value = said
        if kind == "name":
            name, unit = value, unit_acc or None
        elif kind == "dtype":
            dtype = value
        else:
            if compression is not None and compression != value:
                raise UnsupportedEncodingError(
                    f"binary array states two compressions ({compression}, {value})")
            compression = value
        note = _name_note(acc, written)
        if note is not None:
            notes.append(note)
    if name is None:
        return
    key = (text, dtype, compression)
    values = decoded.get(key) if decoded is not None else None
    if values is None:
        values = decode_array(text, dtype, compression)
        values.flags.writeable = False
        if decoded is not None:
            decoded[key] = values
    info[name] = values
    info[f"{name} unit"] = unit


def decode_array(text: str, dtype: str | None, compression: str | None) -> np.ndarray:
    """A binary array's base64 text -> float64 values (see the module docstring)."""
    try:
        data = binascii.a2b_base64(text)
    except (binascii.Error, ValueError) as exc:
        raise MalformedFileError(f"binary array is not base64: {exc}") from None
    compression = compression or _NO_COMPRESSION
    if compression in _NUMPRESS:
        decoder, zipped = _NUMPRESS[compression]
        if zipped:
            data = _inflate(data)
        return decoder(data)
    if compression in _ZLIB:
        data = _inflate(data)
    elif compression != _NO_COMPRESSION:
        raise UnsupportedEncodingError(
            f"binary arrays compressed with {compression} ({term_name(compression)}) are not "
            f"decoded; convert the file without it (e.g. msconvert --zlib)")
    if dtype is None:
        raise UnsupportedEncodingError("binary array states no data type (32/64-bit float or "
                                       "integer)")
    size = np.dtype(dtype).itemsize
    if len(data) % size:
        raise MalformedFileError(f"binary array of {len(data)} bytes is not a whole number of "
                                 f"{size}-byte values")
    values = np.frombuffer(data, dtype=dtype)
    return values if dtype == "<f8" and _NATIVE_F8 else values.astype(np.float64)


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error as exc:
        raise MalformedFileError(f"zlib-compressed binary array is corrupt: {exc}") from None


class InjectionReader(_pyteomics_mzml.MzML):
    """pyteomics' ``MzML`` over one injection's bytes, its tree built once with a safe parser;
    :meth:`elements` yields the chromatograms or spectra as dicts (module docstring).

    Raises ``lxml.etree.XMLSyntaxError`` for bytes that are not well-formed XML.
    """

    def __init__(self, data: bytes) -> None:
        self.array_notes: list[str] = []
        self.groups: Groups = {}
        self.decoded: dict[tuple[str, str | None, str | None], np.ndarray] = {}
        self._data = data
        super().__init__(io.BytesIO(data), cv=psi_ms(), use_index=False, read_schema=False,
                         iterative=False, huge_tree=False)
        self.groups = param_groups(self._tree.getroot())

    def build_tree(self) -> None:
        parser = etree.XMLParser(remove_comments=True, resolve_entities=False,
                                 no_network=True, huge_tree=False)
        self._tree = etree.parse(self._source, parser=parser)

    def _get_version_info(self) -> tuple[str | None, str | None]:
        # pyteomics re-reads the file for this; the tree already holds the mzML element
        root = self._tree.getroot()
        if root.tag.rsplit("}", 1)[-1] != self._root_element:
            root = next((e for e in root if isinstance(e.tag, str)
                         and e.tag.rsplit("}", 1)[-1] == self._root_element), root)
        xsi = root.nsmap.get("xsi")
        location = root.get(f"{{{xsi}}}schemaLocation" if xsi else "schemaLocation")
        return root.get("version"), location

    def _get_info_smart(self, element: Any, **kwargs: Any) -> Any:
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("chromatogram", "spectrum"):
            return element_info(element, self.groups, self.array_notes, self.decoded)
        return super()._get_info_smart(element, **kwargs)

    def elements(self, tag: str) -> list[dict[str, Any]]:
        """Every ``chromatogram`` or ``spectrum`` of the document, in document order.

        pyteomics finds them along their schema path (``run/chromatogramList/chromatogram``,
        ``run/spectrumList/spectrum``); when the bytes hold more such start tags than that
        path gives, the whole tree is searched and an element elsewhere is an error naming
        its line (never silently skipped).
        """
        root = self._tree.getroot()
        name = tag.encode()
        if b"<" + name not in self._data:  # one early-stopping scan where the tag is absent
            return []
        # start tags named exactly ``tag`` (not ``<tagList``)
        tags = self._data.count(b"<" + name) - self._data.count(b"<" + name + b"List")
        if not tags:
            return []
        prefix = "/".join(filter(None, (
            root.tag.rsplit("}", 1)[-1] if root.tag.rsplit("}", 1)[-1] != "mzML" else "",
            "mzML", "run", f"{tag}List", tag)))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Non-indexed iterator")
            found = list(self.iterfind("/" + prefix))
            if len(found) != tags:  # a start tag in a comment or CDATA, or a misplaced element
                # lxml hands out one proxy per node while it is referenced: compare proxies
                listed = set(self._tree.xpath("/" + "/".join(
                    f"*[local-name()='{n}']" for n in prefix.split("/"))))
                for element in self._tree.xpath(f"//*[local-name()='{tag}']"):
                    if element not in listed:
                        raise MalformedFileError(
                            f"a {tag} element outside run/{tag}List", line=element.sourceline,
                            field=tag)
        return found
