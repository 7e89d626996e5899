"""Mask what looks like personal data before a text is stored: CPR numbers, e-mail, phone numbers.

Deliberately broad (a docs question never needs them), with presidio's Danish and e-mail recognizers
as the reference:
- CPR: DDMMYY and four digits, written together or split by a hyphen, en/em dash, slash or spaces
  ("010190-1234", "010190 – 1234", "01 01 90 12 34"); only when DDMMYY is a real day, so an ordinary
  ten-digit number that fails the date rule stays.
- E-mail: RFC 5322's characters in the local part (`'`, `%`, `+`, …), any domain with a dot.
- Phones: eight digits (Danish numbers) in pairs or fours, split by spaces, hyphens or dots, with
  or without a +45 / 0045 / 45 prefix.
It does not recognise names or addresses: nothing reliable exists for Danish offline.
"""

import calendar
import re

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212/"
_CPR = re.compile(
    rf"(?<!\w)(?<!\d[.,])(?P<dd>[0-3]\d)(?P<s1> ?)(?P<mm>[01]\d)(?P=s1)(?P<yy>\d\d)"
    rf"(?:[ ]?[{_DASHES}][ ]?|[ ]|(?P=s1))(?P<tail>\d\d(?P=s1)\d\d)(?!\w|[.,]\d)"
)
_EMAIL = re.compile(r"(?<![\w.'%+-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+\b")
_SEP = r"[ .\-]"
_PHONE = re.compile(
    rf"(?<![\w+.\-])(?:(?:\+|00)?45{_SEP}?)?"
    rf"(?:\d\d(?P<s>{_SEP}?)\d\d(?P=s)\d\d(?P=s)\d\d|\d{{4}}{_SEP}\d{{4}})"
    rf"(?![\w\-]|[.,]\d)"
)


def _real_day(dd: str, mm: str) -> bool:
    day, month = int(dd), int(mm)
    # The century is not in the number: allow 29 February.
    return 1 <= month <= 12 and 1 <= day <= (29 if month == 2 else calendar.monthrange(2001, month)[1])


def _mask_cpr(match: re.Match[str]) -> str:
    return "[cpr]" if _real_day(match["dd"], match["mm"]) else match[0]


def mask_personal_data(text: str) -> str:
    text = _EMAIL.sub("[e-mail]", text)
    text = _CPR.sub(_mask_cpr, text)
    return _PHONE.sub("[telefon]", text)
