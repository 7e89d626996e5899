"""Which language a question is in (assistant/retrieve/language.py)."""

import pytest

from assistant.retrieve.language import detect_language


@pytest.mark.parametrize("question", ["Hvornaar ophoerer supporten for Ubuntu 22.04?",
                                      "Hvem staar for driften af loesningen?",
                                      "Hvad er maalsaetningen?"])
def test_danish_typed_without_the_danish_letters_is_danish(question):
    assert detect_language(question) == "da"


@pytest.mark.parametrize("question", ["What does the shoe cost?", "Who maintains OS2forms?",
                                      "When does support for Ubuntu 22.04 end?"])
def test_english_questions_stay_english(question):
    assert detect_language(question) == "en"
