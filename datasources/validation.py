"""Contract check: clean rows out, a rejection report for the rest.

Every datasource kind passes what it delivers through :func:`validate` before
anything downstream sees it. It never raises for bad data: a frame that cannot
be used at all (a required column missing) comes back empty with a feed-level
error, and each bad row is reported with its position, column, value and the
reason, so a department can fix its delivery.

Why not pandera: its lazy validation loses the row index of a value once a
coercion fails (later checks on the column error out with ``index=None``),
which breaks the promise to name every bad row. The checks here are few,
vectorised and exactly the contract's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from datasources.contracts import BBOX_MARGIN_DEG, DISTRICT_BBOX, Column, Contract, contract

#: Readings may be stamped a little ahead of the server clock (skew); beyond
#: this they are in the future and rejected.
FUTURE_TOLERANCE = timedelta(minutes=10)
#: How many rejections a report keeps verbatim (the count is always exact).
REPORT_SAMPLE = 200

_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


@dataclass(frozen=True)
class Rejection:
    """One bad row: ``row`` is its 0-based position in the delivered frame."""

    row: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class Report:
    """What a contract check found in one delivery of one feed."""

    feed: str
    rows_in: int = 0
    rows_ok: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    sample: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.rejected == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "rows_in": self.rows_in,
            "rows_ok": self.rows_ok,
            "rejected": self.rejected,
            "errors": list(self.errors),
            "sample": [r.as_dict() for r in self.sample],
        }

    def summary(self) -> str:
        if self.errors:
            return f"{self.feed}: " + "; ".join(self.errors)
        return f"{self.feed}: {self.rows_ok}/{self.rows_in} rows accepted, {self.rejected} rejected"


@dataclass(frozen=True)
class Validated:
    frame: pd.DataFrame
    report: Report
    #: Every rejected row's first reason, by its position in the delivered frame (the report keeps a sample).
    reasons: dict[int, str] = field(default_factory=dict)


def validate(feed: str | Contract, frame: pd.DataFrame, *, now: datetime | None = None) -> Validated:
    """Check ``frame`` against the feed's contract.

    Returns the rows that pass, with the contract's columns in order and
    normalised types (times as UTC ``datetime64``, geometries as shapely
    objects), and a :class:`Report` of what was rejected and why.
    """
    spec = feed if isinstance(feed, Contract) else contract(feed)
    report = Report(spec.name, rows_in=len(frame))
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if missing:
        report.errors.append("missing required columns: " + ", ".join(missing))
        report.rejected = len(frame)
        return Validated(empty_frame(spec), report)

    now = now or datetime.now(UTC)
    data = frame.reset_index(drop=True)
    bad = np.zeros(len(data), dtype=bool)
    rejections: list[Rejection] = []
    out: dict[str, Any] = {}
    for col in spec.columns:
        raw = data[col.name] if col.name in data.columns else pd.Series([None] * len(data))
        values, problems = _check_column(col, raw, now)
        out[col.name] = values
        for reason, mask in problems:
            mask = np.asarray(mask, dtype=bool) & ~bad
            for pos in np.flatnonzero(mask):
                rejections.append(Rejection(int(pos), col.name, _show(raw.iloc[pos]), reason))
            bad |= mask

    clean = pd.DataFrame(out)
    dup = clean.duplicated(subset=list(spec.key), keep="last").to_numpy() & ~bad
    for pos in np.flatnonzero(dup):
        key = ", ".join(f"{k}={_show(clean.at[pos, k])}" for k in spec.key)
        rejections.append(Rejection(int(pos), ",".join(spec.key), key, "duplicate key: a later row supersedes it"))
    bad |= dup

    rejections.sort(key=lambda r: r.row)
    report.rejected = int(bad.sum())
    report.rows_ok = len(data) - report.rejected
    report.sample = rejections[:REPORT_SAMPLE]
    reasons: dict[int, str] = {}
    for r in rejections:
        reasons.setdefault(r.row, f"{r.column}: {r.reason} (got {r.value})")
    return Validated(_typed(spec, clean.loc[~bad].reset_index(drop=True)), report, reasons)


def empty_frame(spec: Contract) -> pd.DataFrame:
    """A zero-row frame with the contract's columns and types."""
    return _typed(spec, pd.DataFrame({c.name: pd.Series([], dtype=object) for c in spec.columns}))


# ---- per-type checks ------------------------------------------------------------

Problems = list[tuple[str, Any]]


#: From this many rows on, a text column whose values repeat is checked once per distinct value.
DISTINCT_FROM = 64


#: Per text column, the verdict on each value seen: its normalised value and the reasons it fails.
_VERDICTS: dict[Column, dict[str, tuple[Any, frozenset[str]]]] = {}
#: Per text column, the reasons its check gives in order, and the verdict on a missing value.
_TEXT_CHECK: dict[Column, tuple[tuple[str, ...], tuple[Any, frozenset[str]]]] = {}
#: How many values' verdicts a text column keeps before it forgets them and begins again.
VERDICTS_KEPT = 20_000


def _check_column(col: Column, raw: pd.Series, now: datetime) -> tuple[pd.Series, Problems]:
    """The column's normalised values and, per reason, which rows it rejects.

    Every check is a function of the value alone, so a text column (ids, codes, statuses, which repeat
    across a window of readings) is checked once per distinct value and the verdicts are spread back
    over the rows. Only all-text columns take that path: hashing would merge 1, 1.0 and True, which
    the checks tell apart. A ``str`` column's checks do not depend on the time either, so its verdicts
    are kept from one delivery to the next (:func:`_check_known_text`).
    """
    if (raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)) and len(raw):
        text = pd.api.types.infer_dtype(raw, skipna=True) == "string"
        if text and col.type == "str":
            return _check_known_text(col, raw, now)
        if text and len(raw) >= DISTINCT_FROM:
            return _check_distinct(col, raw, now)
    return _check_values(col, raw, now)


def _check_distinct(col: Column, raw: pd.Series, now: datetime) -> tuple[pd.Series, Problems]:
    """:func:`_check_values` of an all-text column, once per distinct value when values repeat."""
    if raw.dtype == object:
        codes, uniques = pd.factorize(raw.to_numpy(), use_na_sentinel=True)
        if 2 * len(uniques) <= len(raw):
            distinct = pd.Series([*np.asarray(uniques, dtype=object), None], dtype=object)
            at = np.where(codes < 0, len(uniques), codes)  # missing values take the appended None's verdicts
            values, problems = _check_values(col, distinct, now)
            spread = [(reason, np.asarray(mask, dtype=bool)[at]) for reason, mask in problems]
            return values.take(at).set_axis(raw.index), spread
    return _check_values(col, raw, now)


def _check_known_text(col: Column, raw: pd.Series, now: datetime) -> tuple[pd.Series, Problems]:
    """:func:`_check_values` of an all-text ``str`` column from the verdicts kept on values seen before.

    Ids and codes repeat from one delivery to the next (a bus's id in every ping), and a small delivery's
    cost was pandas' fixed cost per check, not its values: only values not seen before are checked, together.
    """
    if col not in _TEXT_CHECK:
        values, problems = _check_values(col, pd.Series([None], dtype=object), now)
        missing = (values.iloc[0], frozenset(reason for reason, mask in problems if mask[0]))
        _TEXT_CHECK[col] = (tuple(reason for reason, _ in problems), missing)
    order, missing = _TEXT_CHECK[col]
    codes, uniques = pd.factorize(raw.to_numpy(dtype=object), use_na_sentinel=True)
    known = _VERDICTS.setdefault(col, {})
    verdicts = [known.get(value) for value in uniques]
    new = [value for value, verdict in zip(uniques, verdicts, strict=True) if verdict is None]
    if new:
        values, problems = _check_values(col, pd.Series(new, dtype=object), now)
        found = {
            value: (values.iloc[i], frozenset(reason for reason, mask in problems if mask[i]))
            for i, value in enumerate(new)
        }
        if len(known) + len(found) > VERDICTS_KEPT:
            known.clear()
        known.update(found)
        verdicts = [verdict or found[value] for value, verdict in zip(uniques, verdicts, strict=True)]
    table = [*cast(list[tuple[Any, frozenset[str]]], verdicts), missing]
    at = np.where(codes < 0, len(uniques), codes)  # missing values take the missing value's verdict
    normalised = np.empty(len(table), dtype=object)
    normalised[:] = [value for value, _ in table]
    problems = [(reason, np.array([reason in why for _, why in table], dtype=bool)[at]) for reason in order]
    return pd.Series(normalised[at], index=raw.index, dtype=object), problems


def _check_values(col: Column, raw: pd.Series, now: datetime) -> tuple[pd.Series, Problems]:
    missing = _is_missing(raw)
    problems: Problems = []
    if col.required:
        problems.append(("required value is missing", missing))
    checker = _CHECKERS[col.type]
    values, own = checker(col, raw, missing, now)
    problems.extend(own)
    return values, problems


def _is_missing(raw: pd.Series) -> np.ndarray:
    missing = raw.isna().to_numpy(dtype=bool, copy=True)
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        stripped = raw.astype("string").str.strip()
        missing |= (stripped == "").fillna(False).to_numpy(dtype=bool)
    return missing


def _check_str(col: Column, raw: pd.Series, missing: np.ndarray, now: datetime) -> tuple[pd.Series, Problems]:
    text = raw.astype("string").str.strip()
    present = ~missing
    problems: Problems = [
        (
            "contains control characters",
            present & text.str.contains(_CONTROL, regex=True).fillna(False).to_numpy(dtype=bool),
        ),
        (
            f"longer than {col.max_length} characters",
            present & (text.str.len() > col.max_length).fillna(False).to_numpy(dtype=bool),
        ),
    ]
    if col.pattern:
        ok = text.str.fullmatch(col.pattern).fillna(False).to_numpy(dtype=bool)
        problems.append((f"does not match {col.pattern}", present & ~ok))
    if col.choices:
        ok = text.isin(col.choices).fillna(False).to_numpy(dtype=bool)
        problems.append(("not one of " + ", ".join(col.choices), present & ~ok))
    return text.where(present, None).astype(object), problems


def _numbers(raw: pd.Series, missing: np.ndarray) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    if raw.dtype == bool or pd.api.types.is_bool_dtype(raw.dtype):
        # True/False in a numeric column is a type confusion, not a count of 1.
        return pd.Series(np.nan, index=raw.index), ~missing, np.zeros(len(raw), dtype=bool)
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iuf":  # already numbers (a typed store's columns)
        num = raw.astype("float64")
        return num, np.zeros(len(raw), dtype=bool), np.isinf(num.to_numpy())
    num = pd.to_numeric(raw, errors="coerce").astype("float64")
    if raw.dtype == object:
        flags = raw.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
        num = num.mask(flags)
    not_number = ~missing & num.isna().to_numpy()
    infinite = np.isinf(num.to_numpy())
    return num, not_number, infinite


def _bounds(col: Column, num: np.ndarray) -> Problems:
    problems: Problems = []
    if col.low is not None:
        problems.append((f"below the allowed minimum {col.low:g} {col.unit}".rstrip(), num < col.low))
    if col.high is not None:
        problems.append((f"above the allowed maximum {col.high:g} {col.unit}".rstrip(), num > col.high))
    return problems


def _check_float(col: Column, raw: pd.Series, missing: np.ndarray, now: datetime) -> tuple[pd.Series, Problems]:
    num, not_number, infinite = _numbers(raw, missing)
    problems: Problems = [("not a number", not_number), ("not a finite number", infinite)]
    finite = np.where(infinite, np.nan, num.to_numpy())  # NaN compares false: missing values are in bounds
    return pd.Series(finite, index=raw.index), problems + _bounds(col, finite)


def _check_int(col: Column, raw: pd.Series, missing: np.ndarray, now: datetime) -> tuple[pd.Series, Problems]:
    num, not_number, infinite = _numbers(raw, missing)
    finite = np.where(infinite, np.nan, num.to_numpy())
    fractional = ~np.isnan(finite) & (finite != np.round(finite))
    problems: Problems = [
        ("not a number", not_number),
        ("not a finite number", infinite),
        ("not a whole number", fractional),
    ]
    return pd.Series(finite, index=raw.index), problems + _bounds(col, finite)


def _check_bool(col: Column, raw: pd.Series, missing: np.ndarray, now: datetime) -> tuple[pd.Series, Problems]:
    def parse(value: Any) -> Any:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        return None

    parsed = raw.map(parse).astype(object)
    invalid = ~missing & parsed.isna().to_numpy()
    return parsed, [("not a boolean (true/false)", invalid)]


def _check_time(col: Column, raw: pd.Series, missing: np.ndarray, now: datetime) -> tuple[pd.Series, Problems]:
    naive = np.zeros(len(raw), dtype=bool)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        parsed = raw.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(raw.dtype):
        parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
        naive = ~missing
    else:
        parsed, naive = _parse_times(raw, missing)
    unparsable = ~missing & ~naive & parsed.isna().to_numpy()
    limit = pd.Timestamp(now).tz_convert("UTC") + FUTURE_TOLERANCE
    future = (parsed > limit).fillna(False).to_numpy(dtype=bool)
    problems: Problems = [
        ("time without timezone offset (naive times are rejected)", naive),
        ("not an ISO 8601 time", unparsable),
        ("time is in the future", future),
    ]
    return parsed, problems


def _parse_times(raw: pd.Series, missing: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Parse strings and datetime objects, keeping naive ones apart."""
    naive = np.zeros(len(raw), dtype=bool)
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    is_text = raw.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if is_text.any():
        text = raw[is_text].astype("string").str.strip()
        has_tz = text.str.contains(_TZ_SUFFIX, regex=True).fillna(False).to_numpy(dtype=bool)
        looks_like_time = text.str.match(r"^\d{4}-\d{2}-\d{2}").fillna(False).to_numpy(dtype=bool)
        naive[np.flatnonzero(is_text)[looks_like_time & ~has_tz]] = True
        good = text[has_tz]
        if len(good):
            parsed.loc[good.index] = pd.to_datetime(good, format="ISO8601", utc=True, errors="coerce")
    others = ~is_text & ~missing
    for pos in np.flatnonzero(others):
        value = raw.iloc[pos]
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                naive[pos] = True
            else:
                parsed.iloc[pos] = pd.Timestamp(value).tz_convert("UTC")
    return parsed, naive


def _check_date(col: Column, raw: pd.Series, missing: np.ndarray, now: datetime) -> tuple[pd.Series, Problems]:
    def parse(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                return None
        return None

    parsed = raw.map(parse).astype(object)
    return parsed, [("not a date (YYYY-MM-DD)", ~missing & parsed.isna().to_numpy())]


_BBOX = (
    DISTRICT_BBOX[0] - BBOX_MARGIN_DEG,
    DISTRICT_BBOX[1] - BBOX_MARGIN_DEG,
    DISTRICT_BBOX[2] + BBOX_MARGIN_DEG,
    DISTRICT_BBOX[3] + BBOX_MARGIN_DEG,
)


def _check_geometry(col: Column, raw: pd.Series, missing: np.ndarray, now: datetime) -> tuple[pd.Series, Problems]:
    parsed = raw.map(_to_geometry).astype(object)
    unparsable = ~missing & parsed.isna().to_numpy()
    wrong_type = np.zeros(len(raw), dtype=bool)
    invalid = np.zeros(len(raw), dtype=bool)
    outside = np.zeros(len(raw), dtype=bool)
    for pos in np.flatnonzero(~missing & ~unparsable):
        geom: BaseGeometry = parsed.iloc[pos]
        if col.geometry and geom.geom_type not in col.geometry:
            wrong_type[pos] = True
        elif geom.is_empty or not geom.is_valid:
            invalid[pos] = True
        else:
            x0, y0, x1, y1 = geom.bounds
            outside[pos] = x0 < _BBOX[0] or y0 < _BBOX[1] or x1 > _BBOX[2] or y1 > _BBOX[3]
    kinds = "/".join(col.geometry) or "geometry"
    return parsed, [
        ("not a geometry (GeoJSON or WKT)", unparsable),
        (f"not a {kinds}", wrong_type),
        ("empty or self-intersecting geometry", invalid),
        ("geometry outside the district (WGS84 lon/lat expected)", outside),
    ]


def _to_geometry(value: Any) -> BaseGeometry | None:
    try:
        if isinstance(value, BaseGeometry):
            return value
        if isinstance(value, dict):
            return shape(value)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                return shape(json.loads(text))
            return shapely.from_wkt(text)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError):
        return None
    return None


_CHECKERS = {
    "str": _check_str,
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "time": _check_time,
    "date": _check_date,
    "geometry": _check_geometry,
}


# ---- output types -----------------------------------------------------------------


def _typed(spec: Contract, frame: pd.DataFrame) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {}
    for col in spec.columns:
        s = frame[col.name]
        if col.type == "int":
            cols[col.name] = s.astype("int64" if col.required else "Int64")
        elif col.type == "float":
            cols[col.name] = s.astype("float64")
        elif col.type == "bool":
            cols[col.name] = s.astype("bool" if col.required else "boolean")
        elif col.type == "time":
            cols[col.name] = pd.to_datetime(s, utc=True).astype("datetime64[ns, UTC]")
        elif col.type == "str":
            cols[col.name] = s.astype(object).where(s.notna(), None)
        else:
            cols[col.name] = s.astype(object)
    return pd.DataFrame(cols, index=frame.index)


def _show(value: Any, limit: int = 80) -> str:
    if isinstance(value, np.generic):  # numpy 2 writes np.float64(1.5) where the department wrote 1.5
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = repr(value) if not isinstance(value, str) else value
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def merge_reports(reports: Iterable[Report], feed: str) -> Report:
    """Add up several deliveries' reports (e.g. the chunks of one seed)."""
    total = Report(feed)
    for r in reports:
        total.rows_in += r.rows_in
        total.rows_ok += r.rows_ok
        total.rejected += r.rejected
        total.errors.extend(r.errors)
        room = REPORT_SAMPLE - len(total.sample)
        total.sample.extend(r.sample[: max(room, 0)])
    return total


__all__: Sequence[str] = ("Rejection", "Report", "Validated", "empty_frame", "merge_reports", "validate")
