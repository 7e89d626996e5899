"""Mask what looks like personal data before a question is stored: CPR numbers, e-mail, phone numbers.

Deliberately broad (a docs question never needs them): any 10 digits shaped like a CPR number,
any e-mail address, and 8-digit (Danish) phone numbers, with or without a +45/0045 prefix.
"""

import re

_CPR = re.compile(r"\b[0-3]\d[01]\d\d{2}[- ]?\d{4}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w+-])(?:(?:\+|00)\d{2}[ ]?)?(?:\d{2}[ ]?){3}\d{2}(?![\w-])")


def mask_personal_data(text: str) -> str:
    text = _EMAIL.sub("[e-mail]", text)
    text = _CPR.sub("[cpr]", text)
    return _PHONE.sub("[telefon]", text)
