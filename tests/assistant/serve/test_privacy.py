import pytest

from assistant.serve.privacy import mask_personal_data


@pytest.mark.parametrize(("text", "masked"), [
    ("Mit CPR er 010203-1234, hjælp", "Mit CPR er [cpr], hjælp"),
    ("cpr 0102031234", "cpr [cpr]"),
    ("Skriv til anna.berg@os2.dk om det", "Skriv til [e-mail] om det"),
    ("Ring 12 34 56 78 eller +45 87654321", "Ring [telefon] eller [telefon]"),
])
def test_personal_data_is_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("cpr", ["010190\u20131234", "010190\u20141234", "010190/1234", "010190 - 1234",
                                 "01 01 90 12 34", "010190 1234", "290200-1234", "311299-0001"])
def test_cpr_numbers_in_every_written_form_are_masked(cpr):
    assert mask_personal_data(f"Mit nummer er {cpr}.") == "Mit nummer er [cpr]."


@pytest.mark.parametrize("phone", ["12-34-56-78", "12.34.56.78", "+45-12345678", "45 12 34 56 78", "0045 12345678",
                                   "1234 5678", "+4512345678", "12 34 56 78"])
def test_phone_numbers_in_every_written_form_are_masked(phone):
    assert mask_personal_data(f"Ring på {phone} i dag") == "Ring på [telefon] i dag"


@pytest.mark.parametrize("email", ["o'brien@kommune.dk", "anna%drift@os2.dk", "a+b@x.dk", "første.efternavn@aarhus.dk"])
def test_email_addresses_with_unusual_local_parts_are_masked_whole(email):
    assert mask_personal_data(f"Skriv til {email} tak") == "Skriv til [e-mail] tak"


@pytest.mark.parametrize("text", ["Hvad skete der i 2026?", "Release 2025-11-20", "Port 8000 og 443", "OS2forms 6.1",
                                  "Sagsnummer 3213991234", "Faktura 4102901234", "Mødet 14.07.2026 kl. 12.00 - 12.45",
                                  "version 1.2.3.4", "Budget 1.250.000 kr."])
def test_ordinary_numbers_and_dates_stay(text):
    assert mask_personal_data(text) == text
