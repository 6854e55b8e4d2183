// kiln serve checked by the official openai client (KILN_URL, KILN_KEY): chat and completions,
// streamed and not; 32 concurrent temperature-0 streams each get exactly their text alone; bad
// requests get 4xx with OpenAI's error body while a stream carries on; auth, /health, /metrics,
// /v1/models, /tokenize and /detokenize.
import assert from "node:assert/strict";
import OpenAI from "openai";

const url = process.env.KILN_URL, key = process.env.KILN_KEY;
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
const model = "tiny";
const headers = { "Content-Type": "application/json", Authorization: `Bearer ${key}` };

async function streamChat(content, max_tokens = 24) {
  const stream = await client.chat.completions.create({
    model, messages: [{ role: "user", content }], temperature: 0, max_tokens, stream: true,
    stream_options: { include_usage: true },
  });
  let text = "", finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    text += c.delta.content ?? "";
    if (c.finish_reason) finish = c.finish_reason;
  }
  return { text, finish, usage, chunks };
}

// Chat, not streamed.
const chat = await client.chat.completions.create({
  model, messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello" }],
  temperature: 0, max_tokens: 12,
});
assert.equal(chat.object, "chat.completion");
assert.equal(chat.choices.length, 1);
assert.equal(chat.choices[0].message.role, "assistant");
assert.equal(typeof chat.choices[0].message.content, "string");
assert.ok(["stop", "length"].includes(chat.choices[0].finish_reason));
assert.ok(chat.usage.prompt_tokens > 0 && chat.usage.completion_tokens <= 12);
assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);

// The same request streamed gives the same text, usage in the last chunk.
const streamed = await (async () => {
  const s = await client.chat.completions.create({
    model, messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello" }],
    temperature: 0, max_tokens: 12, stream: true, stream_options: { include_usage: true },
  });
  let text = "", usage = null;
  for await (const c of s) {
    if (c.usage) usage = c.usage;
    if (c.choices[0]) text += c.choices[0].delta.content ?? "";
  }
  return { text, usage };
})();
assert.equal(streamed.text, chat.choices[0].message.content);
assert.deepEqual(streamed.usage, chat.usage);

// Completions, streamed and not; logprobs; n = 2 at temperature 0 gives two equal answers.
const comp = await client.completions.create({ model, prompt: "ROMEO:", max_tokens: 10, temperature: 0, logprobs: 2 });
assert.equal(comp.object, "text_completion");
assert.equal(comp.choices[0].logprobs.token_logprobs.length, comp.usage.completion_tokens);
let compText = "";
for await (const c of await client.completions.create({ model, prompt: "ROMEO:", max_tokens: 10, temperature: 0, stream: true }))
  compText += c.choices[0]?.text ?? "";
assert.equal(compText, comp.choices[0].text);
const two = await client.completions.create({ model, prompt: "ROMEO:", max_tokens: 6, temperature: 0, n: 2 });
assert.equal(two.choices.length, 2);
assert.equal(two.choices[0].text, two.choices[1].text);
const lp = await client.chat.completions.create({
  model, messages: [{ role: "user", content: "x" }], max_tokens: 3, temperature: 0, logprobs: true, top_logprobs: 2,
});
for (const t of lp.choices[0].logprobs.content) {
  assert.equal(t.top_logprobs.length, 2);
  assert.ok(t.logprob <= 0 && t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
}

// Stop strings cut the text before them.
const stopAt = chat.choices[0].message.content.slice(3, 5);
if (stopAt.length === 2 && !stopAt.includes("\ufffd")) {
  const cut = await client.chat.completions.create({
    model, messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello" }],
    temperature: 0, max_tokens: 12, stop: [stopAt],
  });
  assert.equal(cut.choices[0].finish_reason, "stop");
  assert.equal(cut.choices[0].message.content, chat.choices[0].message.content.slice(0, chat.choices[0].message.content.indexOf(stopAt)));
}

// 32 concurrent streams at temperature 0: each text equals the one it gets alone.
const prompts = Array.from({ length: 32 }, (_, i) => `question ${i}: ${"abcdefghij".slice(0, 1 + (i % 10))}?`);
const alone = [];
for (const p of prompts) alone.push(await streamChat(p));
const together = await Promise.all(prompts.map((p) => streamChat(p)));
for (let i = 0; i < prompts.length; i++) {
  assert.equal(together[i].text, alone[i].text, `stream ${i} differs from its text alone`);
  assert.equal(together[i].finish, alone[i].finish);
  assert.deepEqual(together[i].usage, alone[i].usage);
}
const metrics = await (await fetch(`${url}/metrics`)).text();
const steps = Number(metrics.match(/^kiln_decode_steps_total (\S+)/m)[1]);
const rows = Number(metrics.match(/^kiln_decode_rows_total (\S+)/m)[1]);
assert.ok(rows > steps, "decode steps ran more than one sequence at once");

// Bad requests: 4xx with an OpenAI-style error body, while a long stream carries on.
const longRun = streamChat("a long answer, please", 120);
async function post(path, body, h = headers) {
  const res = await fetch(`${url}${path}`, { method: "POST", headers: h, body });
  return { status: res.status, body: await res.json() };
}
const bad = [
  ["malformed JSON", "/v1/chat/completions", '{"messages": [', 400],
  ["wrong type", "/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }], temperature: "hot" }), 400],
  ["empty messages", "/v1/chat/completions", JSON.stringify({ messages: [] }), 400],
  ["unknown model", "/v1/chat/completions", JSON.stringify({ model: "gpt-9", messages: [{ role: "user", content: "x" }] }), 404],
  ["over-long prompt", "/v1/completions", JSON.stringify({ prompt: "x".repeat(400) }), 400],
  ["max_tokens over the cap", "/v1/completions", JSON.stringify({ prompt: "x", max_tokens: 1e9 }), 400],
];
for (const [what, path, body, status] of bad) {
  const r = await post(path, body);
  assert.equal(r.status, status, what);
  assert.equal(typeof r.body.error.message, "string", what);
  assert.ok("type" in r.body.error && "param" in r.body.error && "code" in r.body.error, what);
}
// What httplib refuses before a handler runs gets the same error body.
const huge = await post("/v1/completions", JSON.stringify({ prompt: "x".repeat(1100000) }));
assert.equal(huge.status, 413, "a body over --max-body");
assert.match(huge.body.error.message, /--max-body/);
const nowhere = await post("/v1/nowhere", "{}");
assert.equal(nowhere.status, 404, "an unknown endpoint");
assert.equal(nowhere.body.error.type, "invalid_request_error");
const noKey = await post("/v1/completions", JSON.stringify({ prompt: "x" }), { "Content-Type": "application/json" });
assert.equal(noKey.status, 401);
await assert.rejects(client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }), (e) => e.status === 404);
const long = await longRun;
assert.equal(long.text, (await streamChat("a long answer, please", 120)).text, "the stream beside the bad requests");

// A client that goes away frees its slot: abort a stream, then the server is idle again.
const ac = new AbortController();
const s = await client.chat.completions.create(
  { model, messages: [{ role: "user", content: "go on" }], max_tokens: 200, temperature: 0, stream: true },
  { signal: ac.signal });
for await (const _ of s) { ac.abort(); break; }
for (;;) {  // the server's own gauge, read until the cancelled sequence has left
  const m = await (await fetch(`${url}/metrics`)).text();
  if (/^kiln_running_sequences 0$/m.test(m)) break;
  await new Promise((r) => setTimeout(r, 20));
}

// The small endpoints.
assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: "ok" });
const models = await client.models.list();
assert.equal(models.data[0].id, model);
const tok = await post("/tokenize", JSON.stringify({ content: "hello" }));
assert.ok(tok.body.tokens.length > 0);
const detok = await post("/detokenize", JSON.stringify({ tokens: tok.body.tokens }));
assert.equal(detok.body.content, "hello");
for (const name of ["kiln_requests_total", "kiln_queue_depth", "kiln_kv_cache_usage_ratio", "kiln_time_to_first_token_seconds_bucket"])
  assert.ok(metrics.includes(name), name);
console.log("serve_check: ok");
