"""The reader text of a passage: prose sentences, code kept apart, sentences in their context."""

from assistant.text import code_blocks, in_context, prose, sentences


def test_code_blocks_are_not_sentences():
    text = "Kør kommandoen:\n```\n# Make a backup\npg_dump x\n```\nDet tager et minut."
    assert sentences(text) == ["Kør kommandoen:", "Det tager et minut."]
    assert code_blocks(text) == ["# Make a backup\npg_dump x"]
    assert prose(text) == "Kør kommandoen:\nDet tager et minut."


def test_an_unclosed_code_block_ends_with_the_passage():
    assert code_blocks("Se her:\n```\nls -l") == ["ls -l"] and sentences("Se her:\n```\nls -l") == ["Se her:"]


def test_a_list_item_is_read_after_its_introduction_and_every_line_after_its_heading():
    lines = ["Tidligere erfaringer så som:", "- de er tidskrævende", "- de er et øjebliksbillede", "Derfor en ny metode."]
    assert in_context(lines, "Baggrund") == [
        "Baggrund: Tidligere erfaringer så som:", "Baggrund: Tidligere erfaringer så som: de er tidskrævende",
        "Baggrund: Tidligere erfaringer så som: de er et øjebliksbillede", "Baggrund: Derfor en ny metode."]


def test_a_list_without_introduction_is_read_item_by_item():
    assert in_context(["- Kaffe", "- Te"], "") == ["- Kaffe", "- Te"]
