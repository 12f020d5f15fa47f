// The explainer's web page: ask questions, read answers, browse the
// knowledge base. Plain DOM; every text from the server is set with
// textContent, never as HTML.
"use strict";

const $ = (sel) => document.querySelector(sel);

// el builds an element: el("li", {class: "point"}, "text", child...).
function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "class") n.className = v;
    else if (k === "onclick") n.addEventListener("click", v);
    else n.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

const STANDING = {
  fact: "fact",
  claim: "claim",
  disputed: "disputed",
  opinion: "opinion",
  background: "background",
};

function badge(standing) {
  const label = STANDING[standing] || standing;
  return el("span", { class: "badge standing-" + standing, title: "Standing: " + label }, label);
}

const KIND = {
  topic: "Questions about the story",
  person: "People",
  org: "Organisations",
  glossary: "Terms explained",
  gap: "What the sources do not cover",
};

const REASON = {
  not_covered: "The knowledge base does not cover this.",
  gap: "The sources do not cover this.",
  task: "That is a request, not a question.",
  live_data: "That needs live data.",
  advice: "No investment advice.",
  injection: "The bot's instructions do not change.",
  too_long: "That question is too long.",
  no_words: "That has no words to look up.",
  empty: "Ask a question first.",
};

// api calls the JSON API; it throws an Error with the server's message.
async function api(path, body) {
  const opts = body === undefined
    ? { headers: { "Accept": "application/json" } }
    : {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-Explainer-Client": "web" },
        body: JSON.stringify(body),
      };
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new Error("The server cannot be reached. Is it running?");
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    // not JSON: reported below
  }
  if (!res.ok) {
    let msg = (data && data.error) || ("The server answered " + res.status + ".");
    if (res.status === 429) {
      msg = "Too many questions at once; try again in " + (res.headers.get("Retry-After") || "a few") + " s.";
    }
    throw new Error(msg);
  }
  return data;
}

// askStream asks the API for server-sent events: onPartial gets the
// fluent answer as it is written (each text longer than the last), and
// the answer, which replaces it, is returned. It throws like api().
async function askStream(q, onPartial) {
  let res;
  try {
    res = await fetch("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream", "X-Explainer-Client": "web" },
      body: JSON.stringify({ question: q }),
    });
  } catch (e) {
    throw new Error("The server cannot be reached. Is it running?");
  }
  const type = res.headers.get("Content-Type") || "";
  if (!res.ok || !type.startsWith("text/event-stream") || !res.body) {
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      // not JSON: reported below
    }
    if (res.ok && data) return data;
    let msg = (data && data.error) || ("The server answered " + res.status + ".");
    if (res.status === 429) {
      msg = "Too many questions at once; try again in " + (res.headers.get("Retry-After") || "a few") + " s.";
    }
    throw new Error(msg);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      const v = JSON.parse(data);
      if (event === "partial") onPartial(v.text);
      else if (event === "answer") {
        reader.cancel();
        return v;
      } else if (event === "error") throw new Error(v.error);
    }
  }
  throw new Error("The answer was cut off; please try again.");
}

// ---- asking ----

let asking = 0; // the latest question; older replies are dropped

function askHash(q) {
  return "#/ask?q=" + encodeURIComponent(q);
}

async function ask(q) {
  const seq = ++asking;
  const answer = $("#answer");
  $("#question").value = q;
  $("#status").textContent = "Looking it up\u2026";
  answer.setAttribute("aria-busy", "true");
  try {
    const a = await askStream(q, (text) => {
      if (seq === asking) renderPartial(q, text);
    });
    if (seq !== asking) return;
    renderAnswer(q, a);
    $("#status").textContent = "";
  } catch (e) {
    if (seq !== asking) return;
    answer.hidden = true;
    $("#status").textContent = e.message;
    $("#status").className = "error";
  } finally {
    if (seq === asking) answer.removeAttribute("aria-busy");
  }
}

// renderPartial shows a fluent answer as it is being written.
function renderPartial(q, text) {
  $("#status").className = "";
  $("#status").textContent = "Writing\u2026";
  const answer = $("#answer");
  answer.className = "answered writing";
  answer.dataset.question = q;
  answer.replaceChildren(el("h2", { class: "asked" }, q), el("p", { class: "lead writing" }, text));
  answer.hidden = false;
  $("#featured").hidden = true;
}

// leadWithCitations renders a fluent lead, its [p1] citations marked and
// naming the point they cite.
function leadWithCitations(a) {
  const p = el("p", { class: "lead" });
  const parts = a.lead.split(/(\[p\d+\])/);
  for (const part of parts) {
    const m = /^\[p(\d+)\]$/.exec(part);
    const point = m && a.points[Number(m[1]) - 1];
    if (point) {
      // Not a link: the page's routes live in the hash.
      p.append(el("button", {
        type: "button", class: "cite", title: point.text, "data-point": m[1],
        onclick: () => {
          const li = document.getElementById("point-" + m[1]);
          if (!li) return;
          li.scrollIntoView({ block: "nearest" });
          li.classList.add("cited");
          setTimeout(() => li.classList.remove("cited"), 1500);
        },
      }, part));
    } else if (part) {
      p.append(part);
    }
  }
  return p;
}

function renderAnswer(q, a) {
  $("#status").className = "";
  const answer = $("#answer");
  answer.className = a.answered ? "answered" : "declined";
  answer.dataset.question = q;
  const parts = [el("h2", { class: "asked" }, q)];
  if (!a.answered && REASON[a.reason]) {
    parts.push(el("p", { class: "reason" }, REASON[a.reason]));
  }
  parts.push(a.fluent ? leadWithCitations(a) : el("p", { class: "lead" }, a.lead));

  if (a.points && a.points.length) {
    // A fluent lead cites the points as [p1], [p2]...: number them so.
    const ul = el(a.fluent ? "ol" : "ul", { class: "points" });
    a.points.forEach((p, i) => {
      ul.append(el("li", { class: "point standing-" + p.standing, id: a.fluent ? "point-" + (i + 1) : null },
        a.fluent ? el("span", { class: "num" }, "[p" + (i + 1) + "] ") : null,
        badge(p.standing), " ", el("span", { class: "text" }, p.text), " ",
        el("span", { class: "by" }, "\u2014 " + p.by)));
    });
    parts.push(ul);
  }
  if (a.fluent) {
    parts.push(el("p", { class: "fluent-note" },
      "Summarised by a language model from the points above and checked against them before it was shown."));
  }
  if (a.points && a.points.some((p) => p.standing === "disputed")) {
    parts.push(el("p", { class: "disputed-note" },
      "Points marked disputed are claims someone in the sources contests: read them as claims, not facts."));
  }
  if (a.sources && a.sources.length) {
    // One line per entry, with every paragraph it cites.
    const byEntry = new Map();
    for (const s of a.sources) {
      if (!byEntry.has(s.entry)) byEntry.set(s.entry, { title: s.title, refs: [] });
      byEntry.get(s.entry).refs.push(s.ref);
    }
    const ul = el("ul");
    for (const [id, s] of byEntry) {
      ul.append(el("li", {}, el("a", { href: "#/kb/" + encodeURIComponent(id) }, s.title), " \u00b7 ", s.refs.join("; ")));
    }
    parts.push(el("section", { class: "sources" }, el("h3", {}, "Sources"), ul));
  }
  if (a.followups && a.followups.length) {
    const box = el("div", { class: "chips" });
    for (const f of a.followups) {
      box.append(el("a", { class: "followup chip", href: askHash(f) }, f));
    }
    parts.push(el("section", { class: "followups" },
      el("h3", {}, a.answered ? "Ask next" : "Try instead"), box));
  }
  if (a.answered && a.confidence < 0.8) {
    parts.push(el("p", { class: "confidence" }, "This answer covers part of what you asked."));
  }
  answer.replaceChildren(...parts);
  answer.hidden = false;
  $("#featured").hidden = true;
}

async function loadAbout() {
  try {
    const about = await api("/api/about");
    $("#about").textContent = about.summary || ("Ask about " + about.name + ".");
    const box = $("#featured .chips");
    box.replaceChildren(...(about.featured || []).map((q) => el("a", { class: "chip", href: askHash(q) }, q)));
    $("#featured").hidden = !$("#answer").hidden || !about.featured || !about.featured.length;
  } catch (e) {
    $("#about").textContent = "";
  }
}

// ---- browsing ----

let entryList = null;

async function showList() {
  if (!entryList) {
    try {
      entryList = (await api("/api/entries")).entries;
    } catch (e) {
      $("#kb-list").replaceChildren(el("p", { class: "error" }, e.message));
      return;
    }
  }
  renderList();
}

function renderList() {
  const filter = $("#kb-filter").value.trim().toLowerCase();
  const groups = [];
  for (const kind of Object.keys(KIND)) {
    const items = entryList.filter((e) => e.kind === kind && (!filter || e.title.toLowerCase().includes(filter) || e.id.includes(filter)));
    if (!items.length) continue;
    groups.push(el("h3", {}, KIND[kind]));
    groups.push(el("ul", { class: "entries" },
      ...items.map((e) => el("li", {}, el("a", { href: "#/kb/" + encodeURIComponent(e.id), "data-id": e.id }, e.title)))));
  }
  if (!groups.length) groups.push(el("p", {}, "No entry matches."));
  $("#kb-list").replaceChildren(...groups);
}

async function showEntry(id) {
  const box = $("#entry");
  box.replaceChildren(el("p", {}, "Loading\u2026"));
  let e;
  try {
    e = await api("/api/entries/" + encodeURIComponent(id));
  } catch (err) {
    box.replaceChildren(el("p", { class: "error" }, err.message));
    return;
  }
  const parts = [
    el("p", { class: "kind" }, KIND[e.kind] || e.kind),
    el("h2", {}, e.title),
    el("p", { class: "lead" }, e.lead),
  ];
  for (const para of (e.body || "").split(/\n\s*\n/)) {
    if (para.trim()) parts.push(el("p", {}, para.replace(/\s+/g, " ").trim()));
  }
  if (e.points.length) {
    parts.push(el("h3", {}, "Points"));
    parts.push(el("ul", { class: "points" }, ...e.points.map((p) =>
      el("li", { class: "point standing-" + p.standing }, badge(p.standing), " ",
        el("span", { class: "text" }, p.text), " ", el("span", { class: "by" }, "\u2014 " + p.by),
        p.source !== p.by && el("span", { class: "cite" }, " (" + p.source + ")")))));
  }
  if (e.questions.length) {
    parts.push(el("h3", {}, "People ask"));
    parts.push(el("div", { class: "chips" }, ...e.questions.map((q) => el("a", { class: "chip", href: askHash(q) }, q))));
  }
  if (e.related.length) {
    parts.push(el("h3", {}, "Related"));
    parts.push(el("ul", { class: "entries" }, ...e.related.map((r) =>
      el("li", {}, el("a", { href: "#/kb/" + encodeURIComponent(r.id) }, r.title)))));
  }
  const meta = [];
  if (e.sources.length) meta.push("Sources: " + e.sources.map((s) => s.cite).join("; "));
  if (e.tags.length) meta.push("Tags: " + e.tags.join(", "));
  if (e.reviewed) meta.push("Reviewed " + e.reviewed);
  if (meta.length) parts.push(el("p", { class: "meta" }, meta.join(" \u00b7 ")));
  box.replaceChildren(...parts);
  document.title = e.title + " \u00b7 Explainer";
}

// ---- routing: #/, #/ask?q=..., #/kb, #/kb/ID ----

function show(view) {
  for (const v of ["ask-view", "kb-view", "entry-view"]) $("#" + v).hidden = v !== view;
  $("#nav-ask").classList.toggle("current", view === "ask-view");
  $("#nav-kb").classList.toggle("current", view !== "ask-view");
}

function route() {
  const h = location.hash || "#/";
  document.title = "Explainer";
  if (h.startsWith("#/kb/")) {
    show("entry-view");
    showEntry(decodeURIComponent(h.slice(5)));
  } else if (h === "#/kb") {
    show("kb-view");
    showList();
  } else {
    show("ask-view");
    const q = h.startsWith("#/ask?q=") ? decodeURIComponent(h.slice(8)) : "";
    if (q) {
      ask(q);
      window.scrollTo(0, 0);
    } else {
      $("#answer").hidden = true;
      $("#featured").hidden = !$("#featured .chips").children.length;
      $("#question").focus();
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#ask-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("#question").value.trim();
    if (!q) return;
    const h = askHash(q);
    if (location.hash === h) ask(q); // the same question again: no hashchange
    else location.hash = h;
  });
  $("#kb-filter").addEventListener("input", () => entryList && renderList());
  window.addEventListener("hashchange", route);
  loadAbout();
  route();
});
