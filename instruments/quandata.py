"""TargetLynx / Quantify XML export (``quandata.xml``):
``QUANDATASET > GROUPDATA > GROUP > SAMPLELISTDATA > SAMPLE[type, vial, name, sampleid] >
COMPOUND[name] > PEAK[area, height, analconc, ...] > ISPEAK[area, ...]``.

Which PEAK attributes are read is the profile's ``[values.columns]`` (default profile
``quandata``: ``area``, ``height``, ``analconc``); ``ISPEAK/@area`` is the internal standard's
area for that compound. The export puts everything on one line, so a value's ``source_row`` is
the 1-based position of its PEAK element in the document, and issues name the element's line.

Public names: ``FORMAT``, ``DEFAULT_PROFILE``, ``detect``, ``parse``, ``read``, ``write``.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from instruments.dates import iso, parse_datetime
from instruments.errors import MalformedFileError, WriteError
from instruments.formats import FormatSpec, Rendering, register
from instruments.issues import WARNINGS
from instruments.normalise import reader
from instruments.profiles import Profile, load_profile
from instruments.raw import COUNTS, RawRecord, RawRun, parse_number
from instruments.run import PlateRun
from instruments.sources import Source, open_source, write_bytes
from instruments.wells import format_well

__all__ = ["DEFAULT_PROFILE", "FORMAT", "detect", "parse", "read", "write"]

FORMAT = "quandata"
DEFAULT_PROFILE = "quandata"
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False,
                   "remove_comments": True}


def detect(source: Source) -> bool:
    """True for an XML document whose root element is QUANDATASET."""
    head = source.data[:2048].lstrip()
    return head.startswith(b"<") and b"<QUANDATASET" in head


def parse(source: Any, *, profile: Profile | str | None = None, name: str | None = None
          ) -> RawRun:
    """Parse quandata.xml into raw records (no names mapped)."""
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    src = open_source(source, name=name)
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(src.data, parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedFileError(f"not well-formed XML: {exc.msg}", file=src.name,
                                 line=exc.lineno) from None
    if root is None or root.tag != "QUANDATASET":
        raise MalformedFileError("the root element is not QUANDATASET", file=src.name,
                                 line=getattr(root, "sourceline", None))
    raw = RawRun(format=FORMAT, source_file=src.name, run_id=src.stem, plate_id=src.stem)
    dataset = _child(root, "DATASET")
    if dataset is not None:
        raw.metadata["dataset"] = dataset.get("filename", "")
        created = parse_datetime(dataset.get("creationdate", ""), dataset.get("creationtime", ""))
        if created:
            raw.metadata["processed_at"] = iso(created)
        stem = Path(dataset.get("filename", "").replace("\\", "/")).stem
        if stem:
            raw.run_id = raw.plate_id = stem
    method = next(root.iter("METHODDATA"), None)  # lxml walks in C; find(".//") in Python
    if method is not None and method.get("filename"):
        raw.metadata["method"] = method.get("filename", "")
    value_attrs = prof.value_columns or {"area": "area", "height": "height",
                                         "analconc": "concentration"}
    peak_attrs = [(attr, f"PEAK@{attr}", kind) for attr, kind in value_attrs.items()]
    pending: list[tuple[RawRecord, str]] = []
    peak_number = 0
    acquired: list[datetime] = []
    for sample in root.iter("SAMPLE"):
        s_name = sample.get("name", "")
        line = sample.sourceline
        if not s_name:
            raw.error("SAMPLE without a name", line=line, field="SAMPLE@name")
            continue
        moment = parse_datetime(sample.get("createdate", ""), sample.get("createtime", ""))
        if moment:
            acquired.append(moment)
        for key, meta in (("instrument", "instrument"), ("user", "operator"),
                          ("msmethodname", "ms_method")):
            if sample.get(key) and meta not in raw.metadata:
                raw.metadata[meta] = sample.get(key, "")
        s_id, vial, vendor_type = (sample.get("sampleid", ""), sample.get("vial", ""),
                                   sample.get("type", ""))
        for compound in sample.iter("COMPOUND"):
            c_name = compound.get("name", "")
            if not c_name:
                raw.error("COMPOUND without a name", line=compound.sourceline,
                          field="COMPOUND@name")
                continue
            peak = _child(compound, "PEAK")
            if peak is None:
                raw.warn(WARNINGS.text("no_peak_element", compound=repr(c_name),
                                       sample=repr(s_name)),
                         line=compound.sourceline, field="PEAK")
                continue
            peak_number += 1
            missing = peak.get("peakmissing", "0") == "1"
            line = peak.sourceline or 0
            sources = [(peak, line, attr, field, kind) for attr, field, kind in peak_attrs]
            ispeak = _child(peak, "ISPEAK")
            if ispeak is not None and ispeak.get("area") not in (None, ""):
                sources.append((ispeak, ispeak.sourceline or 0, "area", "ISPEAK@area",
                                "is_area"))
            for element, where, attr, field, kind in sources:
                text = element.get(attr)
                if text is None:
                    continue
                if missing or text.strip().casefold() in ("", "nan"):
                    value = math.nan
                else:
                    parsed = parse_number(text)
                    if parsed is None:
                        raw.error(f"{text!r} is not a number", line=where, field=field)
                        continue
                    value = parsed
                unit = prof.value_unit if kind == "concentration" else COUNTS
                pending.append((RawRecord(c_name, kind, value, unit, s_name, s_id, vial,
                                          vendor_type, where, peak_number, field), kind))
    # vendor concentrations that are 0 everywhere were never calculated (no calibration)
    conc = [r for r, k in pending if k == "concentration"]
    skip_conc = bool(conc) and all(r.value == 0 or math.isnan(r.value) for r in conc)
    if skip_conc:
        raw.info("every concentration is 0: not calculated by the vendor software; not read",
                 field="PEAK@analconc")
    raw.records = [r for r, k in pending if not (skip_conc and k == "concentration")]
    if acquired:
        raw.metadata["acquired_at"] = iso(min(acquired))
    if not raw.records and not any(i.severity == "error" for i in raw.issues):
        raw.error("the document holds no PEAK values")
    return raw


def _child(element: Any, tag: str) -> Any:
    """The first child with this tag, or None (a walk over the children: lxml's ``find()``
    goes through its Python path layer, several times slower for one or two children)."""
    for child in element:
        if child.tag == tag:
            return child
    return None


read = reader(parse, DEFAULT_PROFILE)


def write(run: PlateRun, dest: Any, *, profile: Profile | str | None = None) -> None:
    """Write a plate run as quandata.xml (areas, heights, concentrations and IS areas)."""
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    m = run.measurements
    if m.empty:
        raise WriteError("the run holds no measurements", file=str(dest))
    samples = m[["plate_id", "well", "sample_id", "sample_type"]].drop_duplicates()
    if samples["well"].duplicated().any():
        raise WriteError("a quandata export holds one plate: wells repeat across plates",
                         file=str(dest))
    samples = samples.sort_values("well", key=lambda s: s.map(lambda w: (w[0], int(w[1:]))))
    analytes = list(dict.fromkeys(m["analyte"]))
    values = {(r.well, r.analyte, r.kind): r.value
              for r in m[["well", "analyte", "kind", "value"]].itertuples(index=False)}
    attr_for = {"area": "area", "height": "height", "concentration": "analconc"}
    for attr, kind in prof.value_columns.items():
        attr_for[kind] = attr
    root = etree.Element("QUANDATASET", description="", version="1")
    # the dataset is named after the plate: that is what the reader takes as the plate id
    plate_id = str(samples["plate_id"].iloc[0]) or run.plate_id
    etree.SubElement(root, "DATASET", filename=f"{plate_id}.qld")
    group = etree.SubElement(etree.SubElement(root, "GROUPDATA", count="1"), "GROUP", id="1",
                             name=run.metadata.get("method", ""))
    sample_list = etree.SubElement(group, "SAMPLELISTDATA", count=str(len(samples)))

    def num(v: float) -> str:
        return "NaN" if math.isnan(v) else repr(float(v))

    for n, s in enumerate(samples.itertuples(index=False), start=1):
        el = etree.SubElement(sample_list, "SAMPLE", id=str(n), groupid="1",
                              name=f"{s.plate_id}_{s.well}",
                              type=prof.vendor_sample_type(s.sample_type),
                              sampleid=s.sample_id, samplenumber=str(n),
                              vial=format_well(s.well, "vial"))
        c = 0
        for analyte in analytes:
            kinds = [k for k in ("area", "height", "concentration", "is_area")
                     if (s.well, analyte, k) in values]
            if not kinds:
                continue
            c += 1
            comp = etree.SubElement(el, "COMPOUND", id=str(c), sampleid=str(n), groupid="1",
                                    name=analyte, type="")
            peak = etree.SubElement(comp, "PEAK")
            for k in kinds:
                if k != "is_area":
                    peak.set(attr_for[k], num(values[(s.well, analyte, k)]))
            ispeak = etree.SubElement(peak, "ISPEAK")
            if "is_area" in kinds:
                ispeak.set("area", num(values[(s.well, analyte, "is_area")]))
    data = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    write_bytes(dest, data)


register(FormatSpec(
    FORMAT, detect, read, write, DEFAULT_PROFILE, "TargetLynx quandata.xml", detect_order=20,
    renderings=(Rendering("quandata", ".xml"),),
))
