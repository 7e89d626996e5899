import pytest

from assistant.privacy import mask_personal_data


@pytest.mark.parametrize(("text", "masked"), [
    ("Mit CPR er 010203-1234, hjælp", "Mit CPR er [cpr], hjælp"),
    ("cpr 0102031234", "cpr [cpr]"),
    ("Skriv til anna.berg@os2.dk om det", "Skriv til [e-mail] om det"),
    ("Ring 12 34 56 78 eller +45 87654321", "Ring [telefon] eller [telefon]"),
])
def test_personal_data_is_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", ["Hvad skete der i 2026?", "Release 2025-11-20", "Port 8000 og 443", "OS2forms 6.1"])
def test_ordinary_numbers_and_dates_stay(text):
    assert mask_personal_data(text) == text
