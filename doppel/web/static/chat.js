// The public chat page: streams answers from the OpenAI-compatible endpoint and shows
// citations as links to the passages they come from. No framework, no external requests.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("q");
  const button = form.querySelector("button");
  const slug = log.dataset.agent;
  const CITED = ["composed", "generated", "extractive", "tool"];

  // One conversation thread per browser and agent: an unguessable id kept locally.
  const threadKey = "doppel-thread-" + slug;
  let thread = localStorage.getItem(threadKey);
  if (!thread) {
    thread = (crypto.randomUUID && crypto.randomUUID()) ||
      String(Date.now()) + Math.random().toString(16).slice(2);
    localStorage.setItem(threadKey, thread);
  }

  // The transcript is kept beside the thread, so a reload shows the conversation it
  // continues (the server keeps the thread itself: follow-ups lean on the last question).
  const transcriptKey = "doppel-transcript-" + slug;
  const MAX_KEPT = 60;
  function loadTranscript() {
    try { return JSON.parse(localStorage.getItem(transcriptKey) || "[]"); } catch (e) { return []; }
  }
  function keep(kind, text, citations) {
    const kept = loadTranscript();
    kept.push({kind: kind, text: text, citations: citations || []});
    try { localStorage.setItem(transcriptKey, JSON.stringify(kept.slice(-MAX_KEPT))); } catch (e) { /* full */ }
  }

  function bubble(kind, text) {
    const div = document.createElement("div");
    div.className = "msg " + kind;
    const p = document.createElement("p");
    p.textContent = text || "";
    div.appendChild(p);
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function showCitations(div, citations) {
    if (!citations || !citations.length) return;
    const box = document.createElement("div");
    box.className = "cites";
    citations.forEach(function (c) {
      const a = document.createElement("a");
      a.href = "/a/" + encodeURIComponent(slug) + "/passages/" + c.chunk_id;
      a.target = "_blank";
      a.rel = "noopener";
      a.className = "cite";
      a.textContent = "[" + c.number + "] " + (c.label || c.heading || "source");
      box.appendChild(a);
    });
    div.appendChild(box);
  }

  loadTranscript().forEach(function (m) {
    const div = bubble(m.kind, m.text);
    if (m.kind === "bot") { div.classList.add("done"); showCitations(div, m.citations); }
  });

  // A person's replies (and notices such as "the assistant is back") arrive outside the
  // answers: polled while a person holds the conversation, and after every answer.
  const seenKey = "doppel-seen-" + slug;
  let seen = Number(localStorage.getItem(seenKey) || 0);
  let held = false;
  let polling = null;
  async function poll() {
    let response;
    try {
      response = await fetch("/v1/messages?model=" + encodeURIComponent(slug) + "&after=" + seen,
                             {headers: {"X-Doppel-Thread": thread}});
    } catch (e) { return; }
    if (!response.ok) return;
    const body = await response.json();
    body.data.forEach(function (m) {
      if (m.id <= seen) return;  // an overlapping poll already showed it
      const kind = m.kind === "human" ? "human" : "notice";
      bubble(kind, (m.kind === "human" && m.author ? m.author + ": " : "") + m.text);
      keep(kind, (m.kind === "human" && m.author ? m.author + ": " : "") + m.text);
      seen = Math.max(seen, m.id);
    });
    localStorage.setItem(seenKey, String(seen));
    held = body.state !== "agent";
    if (held && polling === null) polling = setInterval(poll, 3000);
    if (!held && polling !== null) { clearInterval(polling); polling = null; }
  }
  poll();

  async function ask(question) {
    bubble("user", question);
    keep("user", question);
    const answer = bubble("bot", "");
    const text = answer.querySelector("p");
    answer.classList.add("pending");
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-Doppel-Thread": thread},
      body: JSON.stringify({model: slug, stream: true,
                            messages: [{role: "user", content: question}]}),
    });
    if (!response.ok) {
      let message = "Something went wrong (" + response.status + ").";
      try { message = (await response.json()).error.message; } catch (e) { /* keep */ }
      answer.remove();
      bubble("error", message);
      return;
    }
    let citations = [];
    let erased = false;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const line = buffer.slice(0, cut).trim();
        buffer = buffer.slice(cut + 2);
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        const choice = chunk.choices && chunk.choices[0];
        if (choice && choice.delta && choice.delta.content) {
          text.textContent += choice.delta.content;
          log.scrollTop = log.scrollHeight;
        }
        if (chunk.doppel && chunk.doppel.erased) erased = true;
        if (chunk.citations && chunk.doppel && CITED.indexOf(chunk.doppel.path) >= 0) {
          citations = chunk.citations.map(function (c) {
            return {number: c.number, chunk_id: c.chunk_id, label: c.label, heading: c.heading};
          });
          showCitations(answer, citations);
        }
      }
    }
    text.textContent = text.textContent.trim();
    if (erased) {
      // "Forget me": the server erased the conversation; this browser forgets its copy and
      // starts a new conversation.
      localStorage.removeItem(transcriptKey);
      localStorage.removeItem(seenKey);
      seen = 0;
      thread = (crypto.randomUUID && crypto.randomUUID()) ||
        String(Date.now()) + Math.random().toString(16).slice(2);
      localStorage.setItem(threadKey, thread);
      answer.classList.remove("pending");
      answer.classList.add("done");
      return;
    }
    if (!text.textContent) {
      // A person holds the conversation: the agent stays silent, the person will reply.
      answer.remove();
    } else {
      keep("bot", text.textContent, citations);
      answer.classList.remove("pending");
      answer.classList.add("done");
    }
    poll();
  }

  const human = document.getElementById("human");
  if (human) {
    human.addEventListener("click", async function () {
      human.disabled = true;
      try { await ask("I'd like to talk to a person, please."); } finally { human.disabled = false; }
    });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    button.disabled = true;
    try {
      await ask(question);
    } catch (err) {
      bubble("error", "The connection was lost. Please try again.");
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
})();
