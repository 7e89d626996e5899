"""The chat and the widget in headless Chromium, against the real app over the real index.

The app runs with uvicorn in a thread on 127.0.0.1; two static "docs sites" (http.server, other
ports, so other origins) include the widget: one is in `allowed_origins`, the other is not.
Screenshots go to test-artifacts/ (gitignored); chat.png, chat-phone.png and widget.png from there are
the README's (docs/screenshots/).
"""

from __future__ import annotations

import http.server
import logging
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from assistant.settings import Settings

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FORMS_QUESTION = "Hvem leverer vedligeholdelsen af OS2forms?"
FORMS_SECTION = ("https://chatbotberg.github.io/OS2produktmodning/docs/Produktspecifikke-anvisninger/OS2forms/"
                 "OS2forms.html#kort-opsummering-på-situationen-omkring-os2forms")
HOSTILE = 'Hvad med <img src=x onerror="window.__xss=1"> og <script>window.__xss=1</script> OS2forms?'
NOT_ALLOWED = "har ikke tilladelse til at bruge assistenten"
POC_QUESTION = "Hvad er formålet med en Proof of concept (POC)?"
WAIT = 30  # seconds for anything the browser waits for

# A docs page with hostile CSS: the widget lives in a Shadow DOM, so none of this may reach it.
SITE_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>OS2 dokumentation</title>
<style>body {{ font-family: serif; color: #c00 }} button {{ display: none !important }} * {{ font-size: 9px }}</style>
</head><body>
<h1>OS2 produktmodning</h1>
<p><a href="#intro" id="page-link">Et link på siden</a></p>
<script src="{app}/widget.js" data-title="Spørg dokumentationen" data-color="#0b5" data-position="right" async></script>
</body></html>
"""


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class StaticSite:
    """A folder served by http.server in a thread: stands in for a docs site on its own origin."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        handler = partial(Quiet, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class AppServer:
    """The real app under uvicorn in a thread, on a socket bound before it starts (no port race)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = bound_socket()
        self.origin = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StaticSite]]:
    """Two docs sites with the same page: 'allowed' is in allowed_origins, 'unlisted' is not."""
    folder = tmp_path_factory.mktemp("docs-site")
    started = {"allowed": StaticSite(folder), "unlisted": StaticSite(folder)}
    yield started
    for site in started.values():
        site.stop()


@pytest.fixture(scope="module")
def app_server(index_current: Path, sites: dict[str, StaticSite],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    from app import create_app

    settings = Settings(index_dir=index_current, allowed_origins=sites["allowed"].origin)
    app = create_app(settings, feedback_db=tmp_path_factory.mktemp("feedback") / "feedback.sqlite")
    server = AppServer(app)
    page = SITE_PAGE.format(app=server.origin)
    (sites["allowed"].folder / "index.html").write_text(page, encoding="utf-8")  # both sites serve this folder
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("browser tests need Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,900", "--lang=da-DK"):
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)  # never selenium-manager: nothing is downloaded
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, condition: Callable[[Any], Any], timeout: float = WAIT) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def page_url(href: str) -> str:
    """A citation href without its text fragment, percent-decoded."""
    return unquote(href).split(":~:", 1)[0]


class HostilePages:
    """Answers as if a page's title, headings and text carried markup and a javascript: link."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def stream(self, question: str, history: Any = None, filters: Any = None) -> Iterator[Any]:
        from assistant.models import Answer, Citation

        yield "Siden siger: "
        yield HOSTILE
        cite = Citation(n=1, title=HOSTILE, breadcrumb=HOSTILE, heading=HOSTILE, url="javascript:window.__xss=1",
                        fragment_url="javascript:window.__xss=1", snippet=HOSTILE, score=1.0, source="s", path="p.md")
        yield Answer(text=f"Siden siger: {HOSTILE} [1]", answered=True, citations=[cite], notice=HOSTILE)

    def status(self) -> dict:
        return self.real.status()


class PagesWithoutAddress:
    """Answers as from a site ingested without its published URL: root-relative citation URLs."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def stream(self, question: str, history: Any = None, filters: Any = None) -> Iterator[Any]:
        from assistant.models import Answer, Citation

        cite = Citation(n=1, title="Cron-jobs", breadcrumb="Drift", heading="Kør jobs manuelt",
                        url="/docs/drift/cron-jobs.html#kør-jobs-manuelt", fragment_url="/docs/drift/cron-jobs.html#kør",
                        snippet="Kør cron jobbene manuelt med kommandoen.", score=1.0, source="os2borgerpc-docs",
                        path="docs/drift/cron-jobs.md")
        yield "Kør dem manuelt. [1]"
        yield Answer(text="Kør dem manuelt. [1]", answered=True, citations=[cite])

    def status(self) -> dict:
        return self.real.status()


def _serving(app_server: AppServer, stand_in: type) -> Iterator[None]:
    """The app answers through `stand_in(real assistant)` for one test."""
    state = app_server.server.config.app.state
    real = state.assistant
    state.assistant = stand_in(real)
    yield
    state.assistant = real


@pytest.fixture
def pages_without_address(app_server: AppServer) -> Iterator[None]:
    yield from _serving(app_server, PagesWithoutAddress)


@pytest.fixture
def hostile_pages(app_server: AppServer) -> Iterator[None]:
    yield from _serving(app_server, HostilePages)


# --- the Gradio chat ---------------------------------------------------------------------------

def open_chat(driver: Any, app_server: AppServer, width: int = 1280) -> Any:
    from selenium.webdriver.common.by import By

    driver.set_window_size(width, 900)
    driver.get(app_server.origin + "/")
    return wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea"))


def chat_ask(driver: Any, question: str) -> Any:
    """Asks in the chat and returns the last bot message once the final answer is rendered."""
    from selenium.webdriver.common.by import By

    before = len(driver.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"]'))
    driver.find_element(By.CSS_SELECTOR, "#question textarea").send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "#ask-btn").click()

    def final(d: Any) -> Any:  # the final render is one div.answer; partial ones are plain text
        bots = d.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"]')
        return len(bots) > before and bots[-1].find_elements(By.CSS_SELECTOR, "div.answer") and bots[-1]

    return wait_for(driver, final)


def test_chat_page_is_danish(browser, app_server):
    from urllib.request import urlopen

    from selenium.webdriver.common.by import By

    with urlopen(app_server.origin + "/") as reply:  # as served, before any script runs
        assert '<html\n\tlang="da"' in reply.read().decode()
    open_chat(browser, app_server)
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#examples button.example").is_displayed())
    assert browser.execute_script("return document.documentElement.lang") == "da"  # after Gradio's i18n too


def test_chat_examples_are_questions_it_answers(browser, app_server):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server)
    button = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#examples button.example"))
    wait_for(browser, lambda d: button.is_displayed() and button.text.strip())
    question = button.text.strip()
    assert question.endswith("?") and not question.startswith("Hvad står der om")
    before = len(browser.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"]'))
    button.click()
    answer = wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"] div.answer')) > before
                      and d.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"]')[-1])
    assert "Det kan jeg ikke finde" not in answer.text and answer.find_elements(By.CSS_SELECTOR, "ol.citations a")


# Where the last question is: inside the chat's scrolling area and under neither the "Samtale" label
# nor the copy/clear icons that float over the chat's top.
QUESTION_IN_SIGHT = """
const chat = document.querySelector("#chat");
const questions = chat.querySelectorAll('[data-testid="user"]');
const question = questions[questions.length - 1].getBoundingClientRect();
const view = chat.querySelector(".bubble-wrap").getBoundingClientRect();
const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const covered = [...chat.querySelectorAll('[data-testid="block-label"], .top-panel')]
  .filter((el) => overlaps(el.getBoundingClientRect(), question)).map((el) => el.className);
return {inside: question.top >= view.top && question.bottom <= view.bottom, covered: covered};
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_chat_keeps_the_asked_question_in_sight(browser, app_server, width):
    open_chat(browser, app_server, width=width)
    chat_ask(browser, FORMS_QUESTION)
    assert browser.execute_script(QUESTION_IN_SIGHT) == {"inside": True, "covered": []}
    chat_ask(browser, POC_QUESTION)  # below a long first answer
    assert browser.execute_script(QUESTION_IN_SIGHT) == {"inside": True, "covered": []}
    if width == 390:
        browser.save_screenshot(str(ARTIFACTS / "chat-phone.png"))


@pytest.mark.parametrize("width", [1280, 390])
def test_chat_sources_panel_comes_before_the_examples(browser, app_server, width):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server, width=width)
    chat_ask(browser, FORMS_QUESTION)
    chat = browser.find_element(By.CSS_SELECTOR, "#chat").rect
    sources = browser.find_element(By.CSS_SELECTOR, "#sources").rect
    example = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#examples button.example"))
    wait_for(browser, lambda d: example.is_displayed())
    assert sources["y"] + sources["height"] <= example.rect["y"]  # the sources, then the examples
    if width == 390:  # one column: the chat, then the sources
        assert sources["y"] >= chat["y"] + chat["height"]
    else:  # the sources beside the chat
        assert sources["x"] >= chat["x"] + chat["width"] and sources["y"] < chat["y"] + chat["height"]


def test_chat_answers_with_a_link_to_the_cited_section(browser, app_server):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server)
    answer = chat_ask(browser, FORMS_QUESTION)
    assert "Belcom" in answer.text
    links = answer.find_elements(By.CSS_SELECTOR, "ol.citations a")
    assert links and page_url(links[0].get_attribute("href")) == FORMS_SECTION
    assert links[0].text == "OS2forms › kort opsummering på situationen omkring OS2forms"
    sources = browser.find_element(By.CSS_SELECTOR, "#sources")
    assert "Belcom" in sources.text and page_url(sources.find_element(By.TAG_NAME, "a").get_attribute("href")) == FORMS_SECTION
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#feedback-up").is_displayed())
    browser.save_screenshot(str(ARTIFACTS / "chat.png"))


def test_chat_feedback_and_new_conversation(browser, app_server):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server)
    chat_ask(browser, FORMS_QUESTION)
    store = app_server.server.config.app.state.feedback
    count = store.count()
    browser.find_element(By.CSS_SELECTOR, "#feedback-comment textarea").send_keys("Godt svar")
    browser.find_element(By.CSS_SELECTOR, "#feedback-up").click()
    wait_for(browser, lambda d: "Tak for din tilbagemelding" in d.find_element(By.CSS_SELECTOR, "#feedback-status").text)
    stored = store.get(count + 1) if store.count() == count + 1 else None
    assert stored and (stored.rating, stored.comment, stored.channel) == ("up", "Godt svar", "chat")
    assert stored.question == FORMS_QUESTION and stored.citations[0]["url"] == FORMS_SECTION
    browser.find_element(By.CSS_SELECTOR, "#new-chat").click()
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"]'))
    assert "Kilderne til det seneste svar" in browser.find_element(By.CSS_SELECTOR, "#sources").text


def test_chat_is_usable_at_phone_width(browser, app_server):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server, width=390)
    answer = chat_ask(browser, FORMS_QUESTION)
    assert answer.find_elements(By.CSS_SELECTOR, "ol.citations a")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    button = browser.find_element(By.CSS_SELECTOR, "#ask-btn")
    assert button.is_displayed() and button.rect["x"] + button.rect["width"] <= 390
    browser.save_screenshot(str(ARTIFACTS / "chat-390.png"))


def test_chat_never_runs_markup_from_a_question(browser, app_server):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server)
    chat_ask(browser, HOSTILE)
    user = browser.find_elements(By.CSS_SELECTOR, '#chat [data-testid="user"]')[-1]
    assert '<img src=x onerror="window.__xss=1">' in user.text and "<script>" in user.text
    assert browser.execute_script("return window.__xss") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "#chat img[src='x'], #chat script")


# --- the widget on a docs site -----------------------------------------------------------------

def open_site(driver: Any, site: StaticSite, width: int = 1280) -> Any:
    """Loads the docs page with a fresh session and returns the widget's shadow root."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(width, 900)
    driver.get(site.origin + "/")
    driver.execute_script("sessionStorage.clear()")
    driver.get(site.origin + "/")
    host = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "dokumentationsassistent-widget"))
    return wait_for(driver, lambda d: host.shadow_root)


def widget_ask(driver: Any, shadow: Any, question: str) -> Any:
    """Asks in the open widget and returns the last assistant bubble once it is final."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(shadow.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    box = shadow.find_element(By.CSS_SELECTOR, "textarea")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)

    def final(d: Any) -> Any:
        bots = shadow.find_elements(By.CSS_SELECTOR, ".msg.bot")
        if len(bots) > before and bots[-1].get_attribute("aria-busy") is None:
            return bots[-1]
        return None

    return wait_for(driver, final)


def test_widget_streams_an_answer_with_citation_links(browser, app_server, sites):
    from selenium.webdriver.common.by import By

    shadow = open_site(browser, sites["allowed"])
    launcher = shadow.find_element(By.CSS_SELECTOR, ".launcher")
    assert launcher.is_displayed() and launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    panel = shadow.find_element(By.CSS_SELECTOR, "[role=dialog]")
    assert panel.is_displayed() and panel.get_attribute("aria-modal") == "true"
    assert launcher.get_attribute("aria-expanded") == "true"
    # Count the updates of the answer text: a streamed answer grows piece by piece.
    browser.execute_script("""
        const log = arguments[0]; window.__updates = 0;
        new MutationObserver((records) => { window.__updates += records.length; })
            .observe(log, {subtree: true, childList: true, characterData: true});
    """, shadow.find_element(By.CSS_SELECTOR, ".log"))
    answer = widget_ask(browser, shadow, FORMS_QUESTION)
    assert "Belcom" in answer.text and "error" not in answer.get_attribute("class")
    links = answer.find_elements(By.CSS_SELECTOR, ".cites a")
    assert links and page_url(links[0].get_attribute("href")) == FORMS_SECTION
    assert links[0].text.startswith("[1] OS2forms › kort opsummering")
    assert browser.execute_script("return window.__updates") > 10
    question = shadow.find_elements(By.CSS_SELECTOR, ".msg.user")[-1].rect
    log = shadow.find_element(By.CSS_SELECTOR, ".log").rect
    assert log["y"] <= question["y"] and question["y"] + question["height"] <= log["y"] + log["height"]  # in sight
    browser.save_screenshot(str(ARTIFACTS / "widget.png"))
    # The conversation survives a page load (sessionStorage).
    browser.refresh()
    host = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "dokumentationsassistent-widget"))
    kept = host.shadow_root.find_elements(By.CSS_SELECTOR, ".msg")
    assert [m.get_attribute("class") for m in kept] == ["msg user", "msg bot"]
    assert "Belcom" in kept[1].get_attribute("textContent")


def test_widget_at_phone_width_fills_the_screen(browser, app_server, sites):
    from selenium.webdriver.common.by import By

    shadow = open_site(browser, sites["allowed"], width=390)
    shadow.find_element(By.CSS_SELECTOR, ".launcher").click()
    panel = shadow.find_element(By.CSS_SELECTOR, "[role=dialog]")
    assert panel.rect["x"] == 0 and panel.rect["width"] == browser.execute_script("return window.innerWidth")
    widget_ask(browser, shadow, FORMS_QUESTION)
    browser.save_screenshot(str(ARTIFACTS / "widget-390.png"))


def test_widget_on_an_unlisted_origin_says_the_site_is_not_allowed(browser, app_server, sites, caplog):
    from selenium.webdriver.common.by import By

    caplog.set_level(logging.WARNING, logger="web.cors")
    shadow = open_site(browser, sites["unlisted"])
    shadow.find_element(By.CSS_SELECTOR, ".launcher").click()
    answer = widget_ask(browser, shadow, FORMS_QUESTION)
    assert "error" in answer.get_attribute("class") and NOT_ALLOWED in answer.text
    assert sites["unlisted"].origin in answer.text and "Prøv igen senere" not in answer.text
    assert not answer.find_elements(By.CSS_SELECTOR, ".cites a") and "Belcom" not in answer.text
    widget_ask(browser, shadow, FORMS_QUESTION)  # asked again: the server logged the site once
    logged = [r.getMessage() for r in caplog.records if sites["unlisted"].origin in r.getMessage()]
    assert len(logged) == 1 and "ASSISTANT_ALLOWED_ORIGINS" in logged[0]


def test_widget_never_runs_markup_from_a_question(browser, app_server, sites):
    from selenium.webdriver.common.by import By

    shadow = open_site(browser, sites["allowed"])
    shadow.find_element(By.CSS_SELECTOR, ".launcher").click()
    widget_ask(browser, shadow, HOSTILE)
    user = shadow.find_elements(By.CSS_SELECTOR, ".msg.user")[-1]
    assert '<img src=x onerror="window.__xss=1">' in user.text
    assert browser.execute_script("return window.__xss") is None
    assert not shadow.find_elements(By.CSS_SELECTOR, "img, script")
    # Reloading renders the stored conversation again: still text only.
    browser.refresh()
    host = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "dokumentationsassistent-widget"))
    wait_for(browser, lambda d: host.shadow_root.find_elements(By.CSS_SELECTOR, ".msg.user"))
    assert browser.execute_script("return window.__xss") is None


def focused(driver: Any) -> Any:
    """The element with focus, looking inside the widget's shadow root."""
    return driver.execute_script(
        "const a = document.activeElement; return a && a.shadowRoot ? a.shadowRoot.activeElement : a;")


def test_widget_works_with_the_keyboard(browser, app_server, sites):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    shadow = open_site(browser, sites["allowed"])
    keys = ActionChains(browser)
    for _ in range(6):  # the page's own link first, then the widget's button
        keys.send_keys(Keys.TAB).perform()
        if "launcher" in (focused(browser).get_attribute("class") or ""):
            break
    else:
        pytest.fail("Tab never reached the widget button")
    keys.send_keys(Keys.ENTER).perform()
    panel = shadow.find_element(By.CSS_SELECTOR, "[role=dialog]")
    wait_for(browser, lambda d: panel.is_displayed())
    assert focused(browser).get_attribute("id") == "da-q"  # focus moved into the panel
    for _ in range(8):  # and stays inside the dialog
        keys.send_keys(Keys.TAB).perform()
        assert browser.execute_script("return !!arguments[0].closest('[role=dialog]')", focused(browser))
    keys.send_keys(Keys.ESCAPE).perform()
    wait_for(browser, lambda d: not panel.is_displayed())
    launcher = shadow.find_element(By.CSS_SELECTOR, ".launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert "launcher" in focused(browser).get_attribute("class")  # focus returned to the button


CONTRAST = """
const root = arguments[0];
const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
const channel = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
const lum = (c) => { const v = rgb(c).map(channel); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const pairs = {launcher: [".launcher", ".launcher"], header: [".head h2", ".head"], question: [".msg.user .text", ".msg.user"],
               answer: [".msg.bot .text", ".msg.bot"], link: [".cites a", ".msg.bot"], hint: [".hint", ".panel"],
               intro: [".intro", ".panel"], send: [".send", ".send"]};
const out = {};
for (const [name, [fg, bg]] of Object.entries(pairs)) {
  out[name] = ratio(getComputedStyle(root.querySelector(fg)).color, getComputedStyle(root.querySelector(bg)).backgroundColor);
}
return out;
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_widget_text_meets_wcag_aa_contrast(browser, app_server, sites, scheme):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
    try:
        shadow = open_site(browser, sites["allowed"])
        shadow.find_element(By.CSS_SELECTOR, ".launcher").click()
        widget_ask(browser, shadow, FORMS_QUESTION)
        root = shadow.find_element(By.CSS_SELECTOR, ".root")
        ratios = browser.execute_script(CONTRAST, root)
        if scheme == "dark":
            browser.save_screenshot(str(ARTIFACTS / "widget-dark.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert all(value >= 4.5 for value in ratios.values()), ratios


def test_markup_from_pages_never_runs_in_chat_or_widget(browser, app_server, sites, hostile_pages):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server)
    answer = chat_ask(browser, "Hvad står der på siden?")
    assert '<img src=x onerror="window.__xss=1">' in answer.text
    assert '<img src=x onerror="window.__xss=1">' in browser.find_element(By.CSS_SELECTOR, "#sources").text
    assert not browser.find_elements(By.CSS_SELECTOR, "#chat img[src='x'], #sources img, a[href^='javascript']")
    assert browser.execute_script("return window.__xss") is None

    shadow = open_site(browser, sites["allowed"])
    shadow.find_element(By.CSS_SELECTOR, ".launcher").click()
    answer = widget_ask(browser, shadow, "Hvad står der på siden?")
    assert '<img src=x onerror="window.__xss=1">' in answer.text
    assert not shadow.find_elements(By.CSS_SELECTOR, "img, script, a[href^='javascript']")
    assert browser.execute_script("return window.__xss") is None


def test_a_citation_without_a_site_address_is_title_and_path_never_a_dead_link(browser, app_server, sites,
                                                                              pages_without_address):
    from selenium.webdriver.common.by import By

    open_chat(browser, app_server)
    answer = chat_ask(browser, "Hvordan kører jeg cron jobs manuelt?")
    assert "[1] Cron-jobs › Kør jobs manuelt (/docs/drift/cron-jobs.html)" in answer.text
    assert not answer.find_elements(By.CSS_SELECTOR, "a") and not browser.find_elements(By.CSS_SELECTOR, "#sources a")

    shadow = open_site(browser, sites["allowed"])
    shadow.find_element(By.CSS_SELECTOR, ".launcher").click()
    answer = widget_ask(browser, shadow, "Hvordan kører jeg cron jobs manuelt?")
    assert "[1] Cron-jobs › Kør jobs manuelt (/docs/drift/cron-jobs.html)" in answer.text
    assert not answer.find_elements(By.CSS_SELECTOR, "a")
