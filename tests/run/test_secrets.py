"""No request carries the API key or a base URL's password (issue 21, item 5), however the
prompt picked it up: a cell that printed it (`--cells`), an error that holds it (`{Err[-1]}`),
a notebook value, a tool's result, a frame's row. Checked by what the emulator received and
what the cell says; the harness also checks that no output of ours shows the key."""

from __future__ import annotations

import json

from IPython.utils.capture import capture_output

from routing_magics.run.secrets import KEY_PLACEHOLDER, PASSWORD_PLACEHOLDER
from tests.helpers import Harness
from tests.run.flows import MODEL, chats, visible

PASSWORD = "s3cretPW"
LEAKY = '''
import os
key = os.environ["ROUTING_RUN_API_KEY"]

def leak(city: str) -> str:
    """The weather in `city`."""
    return f"sunny in {city}; key={key}"
'''


def users_cell(h: Harness, source: str) -> None:
    """A cell of the user's own. Its output (the key, printed by the user) is the user's, not
    ours: it is kept out of the harness's never-shown check."""
    with capture_output():
        h.shell.run_cell(source)


def sent_text(h: Harness) -> str:
    """Every chat request the emulator received, as one JSON text."""
    return "\n".join(json.dumps(r.body) for r in chats(h.emu))


def test_history_never_carries_the_key_and_the_cell_says_it_was_removed(h: Harness) -> None:
    users_cell(h, LEAKY)
    users_cell(h, "print('my key is', key)")
    users_cell(h, "raise ValueError(f'key {key} was refused')")
    cell = h.ok("%%route --cells 3 -o r\necho: why did {Err[-1]} fail with {key}?")
    sent = sent_text(h)
    assert h.key not in sent
    # The print, the error under --cells, {Err[-1]}, {key}, and the cell's code is not the key.
    assert sent.count(KEY_PLACEHOLDER) == 4
    notice = (
        "Removed from the prompt before sending: the routing.run API key (4 copies); the "
        f"model got {KEY_PLACEHOLDER} instead."
    )
    assert notice in visible(cell)
    request = h.shell.user_ns["r"].request
    assert h.key not in json.dumps(request.messages)
    assert request.redacted == {KEY_PLACEHOLDER: 4}


def test_a_cell_with_nothing_secret_says_nothing(h: Harness) -> None:
    cell = h.ok(f"%%route {MODEL} -o r\necho: plain")
    assert "Removed from the prompt" not in visible(cell)
    assert h.shell.user_ns["r"].request.redacted == {}


def test_a_base_urls_password_never_reaches_the_model(h: Harness) -> None:
    url = h.emu.base_url.replace("http://", f"http://alice:{PASSWORD}@")
    h.ok(f"%config RouteMagics.base_url = {url!r}")
    users_cell(h, f"print({url!r})")
    cell = h.ok("%%route --cells 1\necho: is this right?")
    sent = sent_text(h)
    assert PASSWORD not in sent and PASSWORD_PLACEHOLDER in sent
    assert "a base URL's password (2 copies)" in visible(cell)  # the cell's code and its output


def test_a_tools_result_goes_back_without_the_key(h: Harness) -> None:
    users_cell(h, LEAKY)
    cell = h.ok(f"%%route {MODEL} --tools leak -o r\nWhat is the weather in Oslo?")
    bodies = [r.body for r in chats(h.emu)]
    assert len(bodies) == 2
    tool_message = bodies[1]["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"] == f"sunny in Oslo; key={KEY_PLACEHOLDER}"
    assert h.key not in sent_text(h)
    assert "the routing.run API key (1 copy)" in visible(cell)


def test_batch_rows_never_carry_the_key_and_the_batch_says_so(h: Harness) -> None:
    users_cell(h, LEAKY)
    h.ok("rows = pd.DataFrame({'text': ['fine', 'key=' + key, key + ' and ' + key]})")
    cell = h.ok(f"%%route {MODEL} --each rows -o out\necho: {{text}}")
    assert h.key not in sent_text(h)
    assert list(h.shell.user_ns["out"]) == [
        "fine",
        f"key={KEY_PLACEHOLDER}",
        f"{KEY_PLACEHOLDER} and {KEY_PLACEHOLDER}",
    ]
    assert (
        "Removed from 2 rows' prompts before sending: the routing.run API key (3 copies)"
        in visible(cell)
    )


def test_a_dry_run_shows_the_placeholder_not_the_key(h: Harness) -> None:
    users_cell(h, LEAKY)
    cell = h.ok(f"%%route {MODEL} --dry-run -o req\necho: {{key}}")
    assert KEY_PLACEHOLDER in visible(cell)
    assert h.shell.user_ns["req"].messages[-1]["content"] == f"echo: {KEY_PLACEHOLDER}"
    assert chats(h.emu) == []
