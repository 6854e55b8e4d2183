// The web page in Debian's chromium, headless, driven by playwright-core (KILN_URL, SHOT): sends
// a message, sees the answer stream in, saves a screenshot to SHOT.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(process.env.KILN_URL);
  await page.click("#settings summary");  // the settings fold open
  await page.fill("#max_tokens", "40");
  await page.fill("#temperature", "0");
  await page.fill("#input", "Hello there");
  await page.press("#input", "Enter");
  const reply = page.locator(".msg.assistant").last();
  await reply.locator(".body p").first().waitFor();  // streamed text has arrived
  await page.locator('.msg.assistant[data-done="true"]').waitFor();
  const text = await reply.locator(".body").innerText();
  assert.ok(text.length > 0, "the answer is empty");
  assert.equal(await page.locator("#conversations li").count(), 1);
  assert.match(await page.locator("#speed").innerText(), /tokens\/s/);
  await page.screenshot({ path: process.env.SHOT, fullPage: true });
  assert.deepEqual(errors, []);
  console.log("serve_browser: ok");
} finally {
  await browser.close();
}
