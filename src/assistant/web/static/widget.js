/*
 * Dokumentationsassistenten: the chat widget for a documentation site.
 *
 *   <script src="https://HOST/widget.js" data-title="Spørg dokumentationen" data-color="#0b5"
 *           data-position="right" async></script>
 *
 * Adds a floating button that opens a chat panel in a Shadow DOM (the site's CSS cannot reach it).
 * Answers stream from HOST/api/ask/stream (Server-Sent Events read with fetch + ReadableStream); the
 * only requests it makes go to HOST, the origin of its own src. The conversation is kept in
 * sessionStorage across page loads. Every text from the page, the user or the server is inserted
 * with textContent, never as HTML; links are created only for absolute http(s) URLs (a citation of a
 * site ingested without its address shows its title and path as text). When a question cannot reach
 * HOST, HOST/api/widget/access tells whether this site is simply not allowed to use the assistant.
 * Its texts and the question limit come from HOST with the script (web/widget.py fills in SERVER).
 * No build step, no dependencies: plain ES2017.
 */
(function () {
  "use strict";

  if (window.__dokumentationsassistenten) return; // one widget per page, even if included twice
  window.__dokumentationsassistenten = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || !script.src) return;
  var API = new URL(script.src, location.href).origin;
  var STORE_KEY = "dokumentationsassistenten:" + API;
  var IDLE_MS = 45000; // the server pings every 15 s, so this much silence means it is gone
  var MAX_STORED = 40;

  // The texts (web/texts.py WIDGET) and the longest question the server takes: web/widget.py puts
  // them in place of this empty object as it serves the script.
  var SERVER = /* SERVED */ {};
  var TEXT = SERVER.text;
  var MAX_QUESTION_CHARS = SERVER.maxQuestionChars;
  var MAX_HISTORY_TURNS = SERVER.maxHistoryTurns;
  var MAX_TURN_CHARS = SERVER.maxTurnChars;

  var config = {
    title: (script.getAttribute("data-title") || "").trim() || TEXT.title,
    color: script.getAttribute("data-color") || "#0b5",
    position: script.getAttribute("data-position") === "left" ? "left" : "right"
  };
  if (!window.CSS || !CSS.supports("color", config.color)) config.color = "#0b5";

  // --- state -----------------------------------------------------------------------------------
  var state = load();
  var busy = false;

  function load() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch (e) { /* storage disabled or damaged: start empty */ }
    return { messages: [] };
  }

  function save() {
    state.messages = state.messages.slice(-MAX_STORED);
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* full or disabled */ }
  }

  // --- colours: the accent's text colour is black or white, whichever contrasts more ------------
  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function contrastText(probe) {
    var m = getComputedStyle(probe).color.match(/[\d.]+/g);
    if (!m) return "#000";
    var l = luminance([+m[0], +m[1], +m[2]]);
    return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
  }

  // --- DOM -------------------------------------------------------------------------------------
  var CSS_TEXT = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    ".root{--bg:#fff;--fg:#1a1a1a;--muted:#4d4d4d;--line:#8a8a8a;--soft:#f1f3f4;--link:#0645ad;--focus:#1a56db;--err:#a30000;",
    "  font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:var(--fg);",
    "  position:fixed;bottom:20px;z-index:2147483000;text-align:left;letter-spacing:normal}",
    "@media (prefers-color-scheme:dark){.root{--bg:#1c1c1e;--fg:#f0f0f0;--muted:#c7c7c7;--line:#8e8e93;--soft:#2c2c2e;--link:#9cc3ff;--focus:#9cc3ff;--err:#ff9b9b}}",
    ".right{right:20px}.left{left:20px}",
    "button,textarea{font:inherit;color:inherit}",
    "button{cursor:pointer}",
    ":focus-visible{outline:3px solid var(--focus);outline-offset:2px}",
    ".launcher{display:flex;align-items:center;gap:.5em;border:2px solid var(--ring);border-radius:999px;padding:.7em 1.1em;",
    "  background:var(--accent);color:var(--on-accent);font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.3);min-height:48px}",
    ".panel{position:fixed;bottom:88px;width:min(420px,calc(100vw - 40px));height:min(640px,calc(100vh - 120px));",
    "  display:flex;flex-direction:column;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:12px;",
    "  box-shadow:0 10px 40px rgba(0,0,0,.35);overflow:hidden}",
    ".right .panel{right:20px}.left .panel{left:20px}",
    ".head{display:flex;align-items:center;gap:.5em;padding:.6em .6em .6em 1em;background:var(--accent);color:var(--on-accent)}",
    ".head h2{font-size:1.05em;margin:0;flex:1;font-weight:700}",
    ".head button{background:transparent;border:1px solid currentColor;border-radius:6px;padding:.3em .6em;min-height:36px}",
    ".head .close{font-size:1.3em;line-height:1;min-width:40px}",
    ".log{flex:1;overflow-y:auto;padding:1em;display:flex;flex-direction:column;gap:.8em}",
    ".intro{color:var(--muted);margin:0}",
    ".msg{max-width:92%;padding:.6em .8em;border-radius:10px;overflow-wrap:anywhere}",
    ".msg .who{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".user{align-self:flex-end;background:var(--accent);color:var(--on-accent)}",
    ".bot{align-self:flex-start;background:var(--soft)}",
    ".text{margin:0;white-space:pre-wrap}",
    ".pending .text{color:var(--muted);font-style:italic}",
    ".error .text{color:var(--err)}",
    ".notice{margin:.4em 0 0;color:var(--muted);font-size:.9em}",
    ".cites{margin:.5em 0 0;padding:0;list-style:none;font-size:.92em}",
    ".sources{margin-top:.5em}.sources h3{font-size:.92em;margin:0}",
    ".cites li{margin:.25em 0}",
    ".cites a{color:var(--link);text-decoration:underline}",
    ".fb{display:flex;gap:.4em;margin-top:.5em;align-items:center;color:var(--muted);font-size:.9em}",
    ".fb button{background:transparent;border:1px solid var(--line);border-radius:6px;padding:.15em .5em;min-height:32px}",
    "form{border-top:1px solid var(--line);padding:.6em .8em .8em}",
    "label{display:block;font-weight:600;margin-bottom:.25em}",
    ".row{display:flex;gap:.5em;align-items:flex-end}",
    "textarea{flex:1;resize:none;border:1px solid var(--line);border-radius:8px;padding:.5em;background:var(--bg);min-height:44px;max-height:8em}",
    ".send{background:var(--accent);color:var(--on-accent);border:2px solid var(--ring);border-radius:8px;padding:.5em 1em;min-height:44px;font-weight:600}",
    ".send:disabled{opacity:.6;cursor:progress}",
    ".hint{margin:.3em 0 0;font-size:.85em;color:var(--muted)}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0;border:0}",
    "  .root{bottom:16px}.right{right:16px}.left{left:16px}}"
  ].join("\n");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function chatIcon() { // a speech bubble drawn in SVG: emoji fonts differ between systems
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z");
    svg.appendChild(path);
    return svg;
  }

  var host = el("dokumentationsassistent-widget");
  var shadow = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = CSS_TEXT;
  var root = el("div", { "class": "root " + config.position, lang: "da" });
  var probe = el("span", { hidden: "" });
  probe.style.color = config.color;

  var launcher = el("button", {
    type: "button", "class": "launcher", "aria-label": config.title, "aria-expanded": "false",
    "aria-controls": "da-panel", "aria-haspopup": "dialog"
  });
  launcher.appendChild(chatIcon());
  launcher.appendChild(el("span", { "aria-hidden": "true" }, config.title));

  var panel = el("div", { id: "da-panel", "class": "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "da-title", hidden: "" });
  var head = el("div", { "class": "head" });
  head.appendChild(el("h2", { id: "da-title" }, config.title));
  var newButton = el("button", { type: "button", "class": "new" }, TEXT.newChat);
  var closeButton = el("button", { type: "button", "class": "close", "aria-label": TEXT.close }, "×");
  head.appendChild(newButton);
  head.appendChild(closeButton);

  var log = el("div", { "class": "log", tabindex: "-1", "aria-label": TEXT.conversation });
  var live = el("div", { "class": "sr", "aria-live": "polite", "aria-atomic": "true" });

  var form = el("form", { "class": "ask" });
  form.appendChild(el("label", { "for": "da-q" }, TEXT.label));
  var row = el("div", { "class": "row" });
  var input = el("textarea", { id: "da-q", rows: "2", maxlength: String(MAX_QUESTION_CHARS), placeholder: TEXT.placeholder, "aria-describedby": "da-hint", autocomplete: "off" });
  var sendButton = el("button", { type: "submit", "class": "send" }, TEXT.send);
  row.appendChild(input);
  row.appendChild(sendButton);
  form.appendChild(row);
  form.appendChild(el("p", { id: "da-hint", "class": "hint" }, TEXT.hint));

  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(live);
  panel.appendChild(form);
  root.appendChild(probe);
  root.appendChild(launcher);
  root.appendChild(panel);
  shadow.appendChild(style);
  shadow.appendChild(root);

  function mount() {
    document.body.appendChild(host);
    root.style.setProperty("--accent", config.color);
    var onAccent = contrastText(probe);
    root.style.setProperty("--on-accent", onAccent);
    root.style.setProperty("--ring", onAccent === "#fff" ? "rgba(255,255,255,.9)" : "rgba(0,0,0,.75)");
    renderAll();
  }

  // --- messages --------------------------------------------------------------------------------
  function safeUrl(value) { // absolute http(s) only: a relative URL would resolve against this site, wrongly
    try {
      var url = new URL(String(value));
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) { return null; }
  }

  function pagePath(c) { // where a cited page is when it has no address: its published path or source file
    var url = String(c.url || "");
    return url.charAt(0) === "/" ? url.split("#")[0] : String(c.path || "");
  }

  function bubble(role) {
    var node = el("div", { "class": "msg " + (role === "user" ? "user" : "bot") });
    node.appendChild(el("span", { "class": "who" }, (role === "user" ? TEXT.you : TEXT.assistant) + ": "));
    var text = el("p", { "class": "text" });
    node.appendChild(text);
    log.appendChild(node);
    return { node: node, text: text };
  }

  function renderCitations(node, citations) {
    if (!citations || !citations.length) return;
    var box = el("div", { "class": "sources" });
    box.appendChild(el("h3", null, TEXT.sources));
    var list = el("ol", { "class": "cites" });
    citations.forEach(function (c) {
      var label = "[" + c.n + "] " + (c.title || "") + (c.heading ? " › " + c.heading : "");
      var item = el("li");
      var href = safeUrl(c.fragment_url || c.url);
      if (href) {
        var link = el("a", { href: href }, label);
        item.appendChild(link);
      } else {
        item.textContent = label + (pagePath(c) ? " (" + pagePath(c) + ")" : "");
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    node.appendChild(box);
  }

  function renderFeedback(node, message) {
    if (message.error || message.rated === undefined) return;
    var row = el("div", { "class": "fb" });
    if (message.rated) {
      row.textContent = TEXT.thanks;
    } else {
      [["up", "👍", TEXT.useful], ["down", "👎", TEXT.notUseful]].forEach(function (spec) {
        var b = el("button", { type: "button", "aria-label": spec[2], title: spec[2] }, spec[1]);
        b.addEventListener("click", function () { sendFeedback(message, spec[0], row); });
        row.appendChild(b);
      });
    }
    node.appendChild(row);
  }

  function renderAnswer(b, message) {
    b.node.className = "msg bot" + (message.error ? " error" : "");
    b.text.textContent = message.text;
    if (message.notice) b.node.appendChild(el("p", { "class": "notice" }, message.notice));
    renderCitations(b.node, message.citations);
    renderFeedback(b.node, message);
  }

  function renderAll() {
    log.textContent = "";
    log.appendChild(el("p", { "class": "intro" }, TEXT.intro));
    state.messages.forEach(function (m) {
      var b = bubble(m.role);
      if (m.role === "user") b.text.textContent = m.text;
      else renderAnswer(b, m);
    });
  }

  // Down to the end, but never past the top of `question`: a long answer is read from its start,
  // under the question it answers.
  function scrollDown(question) {
    var end = log.scrollHeight;
    if (question) end = Math.min(end, log.scrollTop + question.getBoundingClientRect().top - log.getBoundingClientRect().top - 8);
    log.scrollTop = end;
  }

  function announce(text) {
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50); // a change the screen reader notices
  }

  // --- asking ----------------------------------------------------------------------------------
  function history() {
    return state.messages.filter(function (m) { return !m.error; }).slice(-MAX_HISTORY_TURNS).map(function (m) {
      return { role: m.role, content: String(m.text).slice(0, MAX_TURN_CHARS) };
    });
  }

  function parseBlock(block) {
    var event = "message", data = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var i = line.indexOf(":");
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? "" : line.slice(i + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    });
    return data.length ? { event: event, data: data.join("\n") } : null;
  }

  async function readEvents(response, onEvent, onActivity) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      onActivity();
      buffer += decoder.decode(chunk.value, { stream: true });
      buffer = buffer.replace(/\r\n|\r(?!$)/g, "\n"); // a trailing \r may be half of \r\n: wait for more
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var parsed = parseBlock(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (parsed && onEvent(parsed) === false) { reader.cancel().catch(function () {}); return; }
      }
    }
    var last = parseBlock(buffer.replace(/\r/g, "\n").trim());
    if (last) onEvent(last);
  }

  function Failure(message) { this.message = message; }

  // A question that could not reach the server at all: a refused site looks the same to the browser
  // as an outage, so ask the server (which answers every site) whether this one is allowed.
  async function unreachableReason() {
    try {
      var reply = await fetch(API + "/api/widget/access", { mode: "cors", credentials: "omit" });
      var body = await reply.json();
      if (body && body.allowed === false) return typeof body.detail === "string" && body.detail ? body.detail : TEXT.notAllowed;
    } catch (e) { /* the server is really unreachable */ }
    return TEXT.unreachable;
  }

  async function ask(question) {
    var past = history();
    state.messages.push({ role: "user", text: question });
    save();
    var asked = bubble("user");
    asked.text.textContent = question;
    var b = bubble("assistant");
    b.node.className = "msg bot pending";
    b.node.setAttribute("aria-busy", "true");
    b.text.textContent = TEXT.searching;
    announce(TEXT.searching);
    scrollDown(asked.node);

    var controller = new AbortController();
    var timedOut = false;
    var timer = null;
    function arm() {
      clearTimeout(timer);
      timer = setTimeout(function () { timedOut = true; controller.abort(); }, IDLE_MS);
    }
    var streamed = "";
    var final = null;
    var failure = null;
    arm();
    try {
      var response = await fetch(API + "/api/ask/stream", {
        method: "POST", mode: "cors", credentials: "omit", signal: controller.signal,
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
        body: JSON.stringify({ question: question, history: past })
      });
      if (!response.ok) {
        var body = await response.json().catch(function () { return {}; });
        throw new Failure(response.status < 500 && typeof body.detail === "string" ? body.detail : TEXT.generic);
      }
      await readEvents(response, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return true; }
        if (event.event === "token") {
          if (!streamed) b.node.className = "msg bot";
          streamed += data.text || "";
          b.text.textContent = streamed;
          scrollDown(asked.node);
        } else if (event.event === "citations") {
          final = data;
        } else if (event.event === "error") {
          failure = data.message || TEXT.generic;
          return false;
        } else if (event.event === "done") {
          return false;
        }
        return true;
      }, arm);
      if (!final && !failure) failure = TEXT.generic;
    } catch (e) {
      failure = e instanceof Failure ? e.message : (timedOut ? TEXT.timeout : await unreachableReason());
    } finally {
      clearTimeout(timer);
    }

    var message = failure
      ? { role: "assistant", text: failure, error: true }
      : { role: "assistant", text: final.answer, answered: !!final.answered, notice: final.notice || "",
          citations: (final.citations || []).map(function (c) {
            return { n: c.n, title: c.title, heading: c.heading, url: c.url, fragment_url: c.fragment_url, path: c.path };
          }), question: question, rated: false };
    b.node.removeAttribute("aria-busy");
    renderAnswer(b, message);
    if (!message.error) { state.messages.push(message); save(); }
    announce(message.error ? message.text : TEXT.answerPrefix + message.text);
    scrollDown(asked.node);
  }

  function sendFeedback(message, rating, row) {
    row.textContent = TEXT.thanks;
    message.rated = true;
    save();
    fetch(API + "/api/feedback", {
      method: "POST", mode: "cors", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: message.question || "", answer: message.text, citations: message.citations || [], rating: rating })
    }).catch(function () { /* feedback is best effort */ });
  }

  // --- open, close, keyboard -------------------------------------------------------------------
  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("a[href], button:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"),
      function (node) { return node.getClientRects().length > 0; });
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    scrollDown();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeButton.addEventListener("click", close);
  newButton.addEventListener("click", function () {
    state.messages = [];
    save();
    renderAll();
    announce(TEXT.cleared);
    input.focus();
  });

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
      return;
    }
    if (event.key !== "Tab") return;
    var items = focusables();
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], active = shadow.activeElement;
    if (event.shiftKey && (active === first || !panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !panel.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question || busy) return;
    busy = true;
    sendButton.disabled = true;
    input.value = "";
    ask(question).finally(function () {
      busy = false;
      sendButton.disabled = false;
      input.focus();
    });
  });

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
