"""DanishPage: the chat's HTML is served with lang="da"; other replies pass untouched."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.testclient import TestClient

from assistant.web.middleware import DanishPage, danish

GRADIO_PAGE = '<!doctype html>\n<html\n\tlang="en"\n\tstyle="margin: 0;"\n>\n<head></head><body lang="en"></body></html>'


def app() -> TestClient:
    web = FastAPI()

    @web.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse(GRADIO_PAGE)

    @web.get("/api/data")
    def data() -> JSONResponse:
        return JSONResponse({"html": '<html lang="en">'})

    web.add_middleware(DanishPage)
    return TestClient(web)


def test_the_page_is_served_in_danish():
    reply = app().get("/")
    assert reply.text.startswith('<!doctype html>\n<html\n\tlang="da"')
    assert '<body lang="en">' in reply.text  # only the html element's language is the page's
    assert int(reply.headers["content-length"]) == len(reply.content)


def test_other_replies_pass_untouched():
    assert app().get("/api/data").json() == {"html": '<html lang="en">'}
    assert danish(b'<html lang="de">') == b'<html lang="de">'
