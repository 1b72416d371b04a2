"""Numbers and dates written as text in a table column -> float64, the one rule for every path.

Real CSVs write numbers for people: "$3,843.17", "38.4%", "(1,200)", "0,126", "?" for a gap,
"2017-06-27" for a day. A column whose values read this way is a numeric column; each column gets
one *reading*, decided from the column as a whole when it is first read (training data) and kept
in the preprocessing state, so predict/evaluate/serve/--values read it the same way.

Readings:
- "number": a decimal point; thousands grouped by "," "'" or a space ("1,234,567.89", "1 234");
  a currency sign $ € £ ¥ before or after (with or without a space); a leading + or -; a
  negative in parentheses "(1,234)"; a trailing "%" is dropped and the number kept as written
  ("38.4%" -> 38.4, not 0.384: a network does not care about the factor, a reader of the
  report does); the text true/false -> 1/0.
- "decimal_comma": the same with a decimal comma ("0,126", "1.234,5": thousands by "." "'" or a
  space). Chosen per column: when it reads more of the column's values than "number" does (a
  value like "0,126" or "1,5" is no thousands grouping: a group needs a leading digit 1-9 and
  exactly three digits after each separator), or reads as many and the file is ';'-separated (the
  European CSV convention). So "1,234" in a ','-separated file is one thousand two hundred
  thirty-four unless another value in the column shows a decimal comma.
- "date": ISO dates and date-times ("2017-06-27", "2017-06-27 13:45[:00]", "2017-06-27T13:45:00Z",
  with or without an offset), months ("2017-06": its first day), "2017/06/27", and day-first
  dotted "27.06.2017" -> the date as fractional years (2017-06-27 -> 2017.486...; periodic
  embeddings can learn a yearly season from it). Times with an offset are read in UTC; so are
  tz-aware datetime64 columns (Parquet). Naive datetime64 columns are read as they are.
- "date_dayfirst" / "date_monthfirst": slash dates "06/07/2017", only when some value of the
  column settles the order (a first part above 12 means day first, a second part above 12 month
  first); a column no value settles stays text (a category), rather than a guess.
- "date:<strptime format>": dates with month names in one of MONTH_FORMATS ("6-Aug-09",
  "Mar-2018", "March 15, 2019"; a two-digit year 69-99 is 19xx, 00-68 20xx, as strptime reads it).
- "time": durations and clock times "2:31:38", "9:47", "13:45" -> seconds, the last part being
  seconds: h:mm:ss is h*3600 + m*60 + s and a:bb is a*60 + b, so a race-time column mixing
  "59:30" and "1:02:10" reads right; a column of hh:mm times of day reads as 60x its minutes, a
  scale the standardisation removes.
- "unit:<unit>": numbers followed by one unit the column shares ("1248 CC", "23.4 kmpl", "2 BHK",
  "5 years" with "1 year", ordinals "3rd" with "21st") -> the number; a value in another unit
  ("20 km/kg" in a kmpl column) reads as missing, with a warning.

In every reading these mean a missing value (case-insensitive, spaces around ignored):
MISSING_MARKERS ("?", "-", "NA", "n/a", "null", "missing", "unknown", spreadsheet errors "#DIV/0!"
...). A text column is numeric when at least NUMERIC_SHARE of its other values read, judged first
on up to SAMPLE_VALUES of its distinct values (so a big column is parsed once), then on its rows;
otherwise it is a category. In a numeric column, a value that does not read is missing, with a
warning; a typed row's word where a number goes is an error naming it: `check_unreadable`.

Codes: text that pandas already reads as numbers stays numbers (an unquoted zip code column
"02139" is 2139, as before); a column mixing "02139" and "02139-1234" is a category, as no
reading reads the latter. A pandas `category` column of numbers written as text is read as
numbers, as it was before this module; booleans are 1/0.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

MISSING_MARKERS = frozenset({"", "?", "-", "--", ".", "na", "n/a", "n.a.", "<na>", "null", "none", "nan", "missing",
                             "unknown", "not available",
                             # spreadsheet errors, as an exported sheet writes them
                             "#n/a", "#na", "#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!"})
NUMERIC_SHARE = 0.8  # share of a column's non-missing values that must read for it to be numeric
SAMPLE_VALUES = 500  # distinct values a column's reading is judged from before one full parse
BOOLEAN_TEXT = {"true": 1.0, "false": 0.0}  # as read_csv reads a True/False column

NUMBER_READINGS = ("number", "decimal_comma")  # plain numbers; every other reading is a date, time or unit
DATE_READINGS = ("date", "date_dayfirst", "date_monthfirst")  # and "date:<format>" (MONTH_FORMATS)
MONTH_FORMATS = ("%d-%b-%y", "%d-%b-%Y", "%b-%y", "%b-%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y",
                 "%b %Y", "%B %Y")
MONTH_NAME = r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
CLOCK = r"(\d{1,3}):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?"  # [h:]mm:ss or h:mm
WITH_UNIT = r"^([+-]?\d[\d,.' ]*?)\s*([A-Za-zµ°][A-Za-zµ°/.]{0,11})$"  # "1248 CC", "23.4 kmpl", "3rd"
ORDINAL = {"st": "th", "nd": "th", "rd": "th"}  # 1st 2nd 3rd 4th: one unit

CURRENCY = "$€£¥"
SPACES = " \u00a0\u202f"  # a space, a no-break space and a narrow no-break space group thousands too
# A grouped number: a lead of 1-3 digits (not starting with 0: "0,126" is never thousands), then
# groups of exactly three digits behind one repeated separator, then an optional fraction.
GROUPED = {
    "number": rf"[+-]?[1-9]\d{{0,2}}(?:(?:,\d{{3}})+|(?:'\d{{3}})+|(?:[{SPACES}]\d{{3}})+)(?:\.\d*)?",
    "decimal_comma": rf"[+-]?[1-9]\d{{0,2}}(?:(?:\.\d{{3}})+|(?:'\d{{3}})+|(?:[{SPACES}]\d{{3}})+)(?:,\d*)?",
}
SEPARATORS = {"number": rf"[,'{SPACES}]", "decimal_comma": rf"[.'{SPACES}]"}

TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
# a day (and time), or a month of a plausible year: "2017-06" (a period), but no code like "1234-05"
ISO_DATE = rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}{TIME}|(?:1[6-9]|2[01])\d{{2}}-\d{{1,2}}"
SLASH_DATE = r"(\d{1,2})/(\d{1,2})/(\d{4})"  # day and month in an order the column must settle
# other unambiguous spellings, rewritten to ISO before parsing
TO_ISO = ((r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"\1-\2-\3"), (r"^(\d{1,2})\.(\d{1,2})\.(\d{4})", r"\3-\2-\1"))
SLASH_TO_ISO = {"date_dayfirst": r"\3-\2-\1", "date_monthfirst": r"\3-\1-\2"}


def parse(values, reading: str = "number"):
    """(float64 Series, bool Series `bad`): each value read by `reading`; missing values and
    MISSING_MARKERS give NaN, and values present but unreadable give NaN with `bad` set."""
    import pandas as pd

    values = values if isinstance(values, pd.Series) else pd.Series(values)
    bad = pd.Series(False, index=values.index)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return fractional_years(values), bad
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(np.float64), bad
    if reading not in NUMBER_READINGS or values.dtype != object:  # all text: one pass of the rules
        numbers = pd.Series(np.nan, index=values.index)
    else:  # Python objects (a DataFrame, JSON, --values): numbers as they are, the text among them read
        numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    rest = values.notna() & numbers.isna()
    text = values[rest].astype(str).str.strip()
    text = text[~text.str.lower().isin(MISSING_MARKERS)]
    if len(text):
        read = _read_text(text, reading)
        numbers.loc[read.index] = read
        bad.loc[read.index] = read.isna()
    return numbers, bad


def is_date(reading: str) -> bool:
    return reading in DATE_READINGS or reading.startswith("date:")


def _read_text(text, reading: str):
    """Stripped text, no missing markers -> float64 by `reading` (NaN where it does not read)."""
    if is_date(reading):
        return _read_dates(text, reading)
    if reading == "time":
        return _read_times(text)
    if reading.startswith("unit:"):
        return _read_with_unit(text, reading[len("unit:"):])
    return _read_numbers(text, reading)


def _read_numbers(text, reading: str):
    """Stripped text -> float64 (NaN where it is not a number in `reading`). Literal and anchored
    string operations where they do (pandas runs those natively); the regular expressions that
    rewrite a value run on the few values that need them."""
    import pandas as pd

    lowered = text.str.lower()
    boolean = pd.Series(np.select([lowered == "true", lowered == "false"], [1.0, 0.0], np.nan), index=text.index)
    text = text.str.replace("\u2212", "-", regex=False)  # the typographic minus sign
    negative = text.str.startswith("(") & text.str.endswith(")")
    text = text.mask(negative, text.str.slice(1, -1))
    text = text.str.rstrip("%" + SPACES).str.strip(CURRENCY + SPACES)  # "38.4 %", "$ 12", "5 €"
    _rewrite(text, f"[{CURRENCY}]", rf"[+-]\s*[{CURRENCY}].*", rf"^([+-])\s*[{CURRENCY}]\s*", r"\1")  # "-$5"
    _rewrite(text, SEPARATORS[reading], GROUPED[reading], SEPARATORS[reading], "")  # "1,234,567.89"
    if reading == "decimal_comma":
        text = text.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").astype(np.float64)
    return numbers.mask(negative, -numbers).fillna(boolean)


def _rewrite(text, hint: str, shape: str, pattern: str, replacement: str) -> None:
    """In place: in the values of `text` that fully match `shape`, replace `pattern`. `hint`: a
    character class each such value holds, a quick test that spares the others the full match."""
    chosen = text.str.contains(hint, regex=True).fillna(False).to_numpy(dtype=bool, copy=True)
    if chosen.any():
        chosen[chosen] = text.iloc[chosen].str.fullmatch(shape).fillna(False).to_numpy(dtype=bool)
    if chosen.any():
        text.iloc[chosen] = text.iloc[chosen].str.replace(pattern, replacement, regex=True)


def _unit_keys(units):
    """Units as one column compares them: lower case, no trailing '.', singular ("Years" ->
    "year"), ordinal suffixes as one."""
    keys = units.str.lower().str.rstrip(".")
    keys = keys.mask(keys.str.len() > 2, keys.str.replace(r"s$", "", regex=True))
    return keys.replace(ORDINAL)


def _read_with_unit(text, unit: str):
    """Stripped text -> float64: the number before `unit`, or a number alone (NaN where another
    unit follows it)."""
    parts = text.str.extract(WITH_UNIT)
    same = (_unit_keys(parts[1]) == unit).fillna(False).to_numpy(dtype=bool)
    numbers = _read_numbers(text.mask(same, parts[0].str.strip()), "number")
    return numbers.where(same | parts[1].isna().to_numpy())


def _read_times(text):
    """Stripped text -> seconds (NaN where it is not [h:]mm:ss or h:mm)."""
    parts = text.str.extract(f"^{CLOCK}$").astype(np.float64)
    three = parts[2].notna()
    return (parts[0] * np.where(three, 3600.0, 60.0) + parts[1] * np.where(three, 60.0, 1.0)
            + parts[2].fillna(0.0)).astype(np.float64)


def _read_dates(text, reading: str):
    """Stripped text -> fractional years (NaN where it is not a date in `reading`)."""
    import pandas as pd

    if reading.startswith("date:"):
        return fractional_years(pd.to_datetime(text, format=reading[len("date:"):], errors="coerce"))
    for pattern, iso in TO_ISO:
        text = text.str.replace(pattern, iso, regex=True)
    if reading in SLASH_TO_ISO:
        text = text.str.replace(f"^{SLASH_DATE}", SLASH_TO_ISO[reading], regex=True)
    text = text.where(text.str.fullmatch(ISO_DATE))  # "2017" alone is a number, not a date
    return fractional_years(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True))


def fractional_years(stamps):
    """datetime64 values (naive, or tz-aware: read in UTC) -> year + the share of that year gone
    by (float64; 2017-07-02 12:00 -> 2017.5); NaT -> NaN."""
    import pandas as pd

    stamps = pd.Series(stamps)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    elapsed_days = (stamps - stamps.dt.normalize()) / pd.Timedelta(days=1) + stamps.dt.day_of_year - 1
    year_days = np.where(stamps.dt.is_leap_year, 366.0, 365.0)
    return (stamps.dt.year + elapsed_days / year_days).astype(np.float64)


def detect(values, sep: Optional[str] = None) -> Optional[str]:
    """The reading of a text column, judged from up to SAMPLE_VALUES of its distinct values, or
    None when it is not numbers or dates (a category). `sep`: the file's delimiter (';' prefers
    the decimal comma when both readings read the same share)."""
    import pandas as pd

    present = pd.Series(values).dropna()
    if present.empty or pd.api.types.is_numeric_dtype(present.dtype) or pd.api.types.is_bool_dtype(present.dtype):
        return None
    distinct = pd.Series(present.unique())
    if len(distinct) > SAMPLE_VALUES:
        distinct = distinct.iloc[np.linspace(0, len(distinct) - 1, SAMPLE_VALUES).astype(int)]
    text = distinct.astype(str).str.strip()
    text = text[~text.str.lower().isin(MISSING_MARKERS)].reset_index(drop=True)
    if text.empty:
        return None
    numbers = ["number"]
    if text.str.contains(",", regex=False).any():  # a decimal comma needs a comma to mean anything
        numbers = ["decimal_comma", "number"] if sep == ";" else ["number", "decimal_comma"]
    candidates = [*numbers, "date", *_slash_order(text)]
    if text.str.contains(":", regex=False).any():
        candidates.append("time")
    if text.str.contains(MONTH_NAME, regex=True).any():
        candidates += [f"date:{format}" for format in MONTH_FORMATS]
    units = _unit_keys(text.str.extract(WITH_UNIT)[1]).value_counts()
    if len(units) and units.iloc[0] >= len(text) / 2:  # a unit most values carry ("207a" among IDs is no unit)
        candidates.append(f"unit:{units.index[0]}")
    shares = [parse(text, reading)[0].notna().mean() for reading in candidates]
    best = int(np.argmax(shares))  # the first of equals: the preferred reading
    return candidates[best] if shares[best] >= NUMERIC_SHARE else None


def _slash_order(text) -> list[str]:
    """The slash-date reading the values settle: day first when a first part is above 12, month
    first when a second part is; none when no value, or values both ways, settle it."""
    parts = text.str.extract(f"^{SLASH_DATE}").dropna().astype(int)
    if parts.empty:
        return []
    day_first, month_first = bool((parts[0] > 12).any()), bool((parts[1] > 12).any())
    if day_first == month_first:
        return []
    return ["date_dayfirst" if day_first else "date_monthfirst"]


def typed_row(text: str) -> list:
    """One row typed on a command line ('5.1,"$1,200",red': CSV quoting for a comma inside a
    value) -> its values: plain numbers as floats (no pandas for one row), other text as it is,
    for the column's reading to read as a CSV cell is read, and None for an empty value. Python's
    float() also takes '1_000' and non-ASCII digits, which a CSV cell does not: those stay text."""
    import csv

    from ..errors import LayerwiseError

    try:
        parts = next(csv.reader([text], skipinitialspace=True), [""])
    except csv.Error as exc:  # a line break in an unquoted value: not one row
        raise LayerwiseError(f"--values: not one row of comma-separated values ({exc})") from None
    values = []
    for part in (p.strip() for p in parts):
        try:
            values.append(float(part) if part.isascii() and "_" not in part else part)
        except ValueError:
            values.append(part)
    return [value if value != "" else None for value in values]


def check_unreadable(values, bad, reading: str, where: str, column: str, context: str = "") -> None:
    """Values of a numeric column that its reading cannot read (`bad`, from `parse`): read as
    missing with a warning when they are a few cells of a column of data (real tables hold 'T' for
    a trace of rain, '136A' for a coded height: refusing the table would refuse the user's data),
    and always for dates, times and numbers with a unit (real date columns hold ranges such as
    '09/20/2011 - 10/28/2011' and codes such as '3/-9/1848' for an unknown day). An error naming
    the first when more than 1 - NUMERIC_SHARE of the column's values are not numbers, or the one
    value of a row typed on the command line or sent to serve: a word where a number goes."""
    from ..errors import LayerwiseError, warn

    if not bad.any():
        return
    row = int(np.flatnonzero(bad.to_numpy())[0])
    value = values.iloc[row]
    count = int(bad.sum())
    numbers = reading in NUMBER_READINGS
    if numbers and (len(values) == 1 or count > (1 - NUMERIC_SHARE) * int(values.notna().sum())):
        raise LayerwiseError(f"{where}: column '{column}' row {row + 1}: {value!r} is not a number{context}")
    what = "numbers" if numbers else "times" if reading == "time" else \
        f"in {reading[5:]}" if reading.startswith("unit:") else "dates"
    warn(f"{where}: column '{column}': {count} value(s) are not {what} (row {row + 1}: {value!r}); they are "
         f"read as missing{context if numbers else ''}")
