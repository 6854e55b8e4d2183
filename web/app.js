// The chat page: conversations kept in localStorage, replies streamed from
// /v1/chat/completions (server-sent events), rendered as Markdown as they arrive.
import { renderMarkdown, escapeHtml } from "/markdown.js";

const $ = (id) => document.getElementById(id);
const STORE = "kiln.conversations", SETTINGS = "kiln.settings";
let conversations = JSON.parse(localStorage.getItem(STORE) || "[]");
let current = null; // the conversation shown
let controller = null; // aborts the reply being streamed

function save() {
  localStorage.setItem(STORE, JSON.stringify(conversations));
}

function settings() {
  const s = {
    system: $("system").value,
    temperature: Number($("temperature").value),
    top_p: Number($("top_p").value),
    max_tokens: Number($("max_tokens").value),
    api_key: $("api_key").value,
  };
  localStorage.setItem(SETTINGS, JSON.stringify(s));
  return s;
}

function loadSettings() {
  const s = JSON.parse(localStorage.getItem(SETTINGS) || "{}");
  for (const k of ["system", "temperature", "top_p", "max_tokens", "api_key"]) if (s[k] !== undefined) $(k).value = s[k];
}

function newConversation() {
  current = { id: Date.now().toString(36), title: "New chat", messages: [] };
  conversations.unshift(current);
  save();
  show();
}

function renderList() {
  const ul = $("conversations");
  ul.innerHTML = "";
  for (const c of conversations) {
    const li = document.createElement("li");
    li.className = c === current ? "active" : "";
    li.innerHTML = `<span>${escapeHtml(c.title)}</span><button title="Delete">×</button>`;
    li.querySelector("span").onclick = () => { current = c; show(); };
    li.querySelector("button").onclick = () => {
      conversations = conversations.filter((x) => x !== c);
      if (current === c) current = conversations[0] || null;
      save();
      if (!current) newConversation(); else show();
    };
    ul.appendChild(li);
  }
}

function messageHtml(m) {
  let html = "";
  if (m.reasoning) html += `<details class="thinking"${m.content ? "" : " open"}><summary>Thinking</summary>${renderMarkdown(m.reasoning)}</details>`;
  return html + renderMarkdown(m.content || "");
}

function addMessageElement(m) {
  const div = document.createElement("div");
  div.className = `msg ${m.role}${m.error ? " error" : ""}`;
  div.innerHTML = `<div class="role">${m.role}</div><div class="body"></div>`;
  div.querySelector(".body").innerHTML = m.role === "user" ? `<p>${escapeHtml(m.content).replace(/\n/g, "<br>")}</p>` : messageHtml(m);
  $("messages").appendChild(div);
  $("messages").scrollTop = $("messages").scrollHeight;
  return div;
}

function show() {
  renderList();
  $("messages").innerHTML = "";
  for (const m of current.messages) addMessageElement(m);
}

// Reads server-sent events from a fetch response, calling onData with each parsed JSON payload.
async function readEvents(response, onData) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        onData(JSON.parse(data));
      }
    }
  }
}

async function reply() {
  const s = settings();
  const messages = [];
  if (s.system) messages.push({ role: "system", content: s.system });
  for (const m of current.messages) if (!m.error) messages.push({ role: m.role, content: m.content });
  const m = { role: "assistant", content: "", reasoning: "" };
  current.messages.push(m);
  const el = addMessageElement(m);
  const body = el.querySelector(".body");
  controller = new AbortController();
  $("stop").disabled = false;
  $("send").disabled = true;
  let tokens = 0, started = 0;
  try {
    const headers = { "Content-Type": "application/json" };
    if (s.api_key) headers.Authorization = `Bearer ${s.api_key}`;
    const res = await fetch("/v1/chat/completions", {
      method: "POST",
      headers,
      signal: controller.signal,
      body: JSON.stringify({ messages, stream: true, temperature: s.temperature, top_p: s.top_p, max_tokens: s.max_tokens }),
    });
    if (!res.ok) throw new Error((await res.json()).error?.message || res.statusText);
    await readEvents(res, (chunk) => {
      if (chunk.error) throw new Error(chunk.error.message);
      const delta = chunk.choices?.[0]?.delta;
      if (!delta) return;
      if (delta.content || delta.reasoning_content) {
        tokens++;
        if (!started) started = performance.now();
        const secs = (performance.now() - started) / 1000;
        if (secs > 0) $("speed").textContent = `${(tokens / secs).toFixed(1)} tokens/s`;
      }
      m.content += delta.content || "";
      m.reasoning += delta.reasoning_content || "";
      body.innerHTML = messageHtml(m);
      $("messages").scrollTop = $("messages").scrollHeight;
    });
  } catch (e) {
    if (e.name !== "AbortError") {
      m.error = true;
      m.content += `\n\n**Error:** ${e.message}`;
      el.classList.add("error");
      body.innerHTML = messageHtml(m);
    }
  } finally {
    controller = null;
    $("stop").disabled = true;
    $("send").disabled = false;
    el.dataset.done = "true";
    save();
  }
}

$("composer").onsubmit = (e) => {
  e.preventDefault();
  const text = $("input").value.trim();
  if (!text || controller) return;
  $("input").value = "";
  if (current.messages.length === 0) current.title = text.slice(0, 40);
  const m = { role: "user", content: text };
  current.messages.push(m);
  addMessageElement(m);
  renderList();
  reply();
};
$("input").onkeydown = (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("composer").requestSubmit();
  }
};
$("stop").onclick = () => controller?.abort();
$("regenerate").onclick = () => {
  if (controller) return;
  while (current.messages.length && current.messages.at(-1).role === "assistant") current.messages.pop();
  if (!current.messages.length) return;
  show();
  reply();
};
$("new-chat").onclick = newConversation;

loadSettings();
const key = $("api_key").value;
fetch("/v1/models", { headers: key ? { Authorization: `Bearer ${key}` } : {} }).then((r) => r.json()).then((j) => { $("model").textContent = j.data?.[0]?.id || ""; }).catch(() => {});
current = conversations[0] || null;
if (!current) newConversation(); else show();
