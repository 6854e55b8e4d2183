// Code highlighting for fenced blocks: one tokenizer for C-like, Python and shell code that marks
// comments, strings, numbers and keywords. Returns escaped HTML.
const KEYWORDS = new Set(("if else for while do return break continue switch case default def class " +
  "struct enum union import from as with try except finally catch throw raise new delete const let var " +
  "function fn pub use mod impl trait match auto int float double char bool void long unsigned static " +
  "template typename namespace public private protected virtual override true false null None True False " +
  "nullptr this self in is not and or lambda yield async await export package interface type").split(" "));

const esc = (s) => s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);

export function highlight(code, lang) {
  const hashComments = /^(py|python|sh|bash|shell|ruby|rb|yaml|yml|toml|r)$/i.test(lang || "");
  const re = hashComments
    ? /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|(\b\d+(?:\.\d+)?\b)|([A-Za-z_]\w*)/g
    : /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_]\w*)/g;
  let out = "", last = 0;
  for (const m of code.matchAll(re)) {
    out += esc(code.slice(last, m.index));
    const [all, com, str, num, word] = m;
    if (com) out += `<span class="tok-com">${esc(com)}</span>`;
    else if (str) out += `<span class="tok-str">${esc(str)}</span>`;
    else if (num) out += `<span class="tok-num">${esc(num)}</span>`;
    else if (word && KEYWORDS.has(word)) out += `<span class="tok-kw">${word}</span>`;
    else out += esc(all);
    last = m.index + all.length;
  }
  return out + esc(code.slice(last));
}
