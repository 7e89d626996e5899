"""History trimming shared by the API, the chat and MCP."""

from assistant.models import Turn
from assistant.web.common import trim_history


def turns(*sizes: int) -> list[Turn]:
    return [Turn("user" if i % 2 == 0 else "assistant", str(i) * size) for i, size in enumerate(sizes)]


def test_history_keeps_the_last_eight_turns():
    history = turns(*[10] * 12)
    assert trim_history(history) == history[-8:]


def test_history_drops_older_turns_beyond_6000_characters():
    history = turns(3000, 2500, 2500, 900)
    assert trim_history(history) == history[-3:]


def test_history_with_one_huge_last_turn_is_empty():
    assert trim_history(turns(10, 7000)) == []
