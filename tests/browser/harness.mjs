// What the browser tests share: their flags, the binaries they start (killed on exit), `mw`,
// the phone they use, a watch on every page's size and on what the Content-Security-Policy
// blocked, and the manager adding a worker whose code signs them in on the phone.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

export const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
export const bin = path.resolve(args.bin ?? 'build/bin');
export const out = path.resolve(args.out ?? 'build/browser');
export const chromiumPath = args.chromium ?? '/usr/bin/chromium';
export const PAGE_BUDGET = 50 * 1024;
fs.mkdirSync(out, { recursive: true });
export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-browser-'));
const children = [];
process.on('exit', () => { for (const c of children) c.kill('SIGTERM'); });

// A five-year-old Android phone: 360x640, touch.
export const phone = { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true,
  userAgent: 'Mozilla/5.0 (Linux; Android 9; SM-J260G) AppleWebKit/537.36 Chrome/90 Mobile' };

// Starts a binary and resolves with its first stdout line that says ' ready '.
export function start(name, argv) {
  const child = spawn(path.join(bin, name), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const log = fs.createWriteStream(path.join(out, `${name}.log`));
  child.stderr.pipe(log);
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => { if (line.includes(' ready ')) resolve(line); });
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready; see ${out}/${name}.log`)));
  });
}

export const field = (line, key) => line.split(' ').find((f) => f.startsWith(`${key}=`)).slice(key.length + 1);

export function mw(...argv) {
  return execFileSync(path.join(bin, 'mw'), argv, { env: process.env, encoding: 'utf8' });
}

// Reloads `page` until `check()` holds: the agent fills a worker's buffer and the dispatcher's
// receipts come back asynchronously. Fails after `ms`.
export async function until(page, check, what, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(250);
    await page.reload();
  }
}

// A dispatcher, one centre (Nairobi) with `contract` submitted, and its agent serving the page
// (started with `agentArgs` besides). Returns the page's address.
export async function centreWith(contract, agentArgs = []) {
  const ready = await start('mw-dispatcher', ['--data-dir', `${tmp}/dispatcher`, '--listen', '127.0.0.1:0',
    '--metrics-listen', '127.0.0.1:0']);
  process.env.MW_SERVER = field(ready, 'grpc');
  process.env.MW_TOKEN_FILE = `${tmp}/dispatcher/operator.token`;
  mw('centre', 'add', '--id', 'nairobi', '--region', 'KE', '--currency', 'USD', '--floor-minor', '150',
    '--languages', 'en,sw', '--capacity', '100', '--credential-out', `${tmp}/nairobi.cred`);
  fs.writeFileSync(`${tmp}/contract.yaml`, contract);
  mw('contract', 'submit', `${tmp}/contract.yaml`);
  fs.writeFileSync(`${tmp}/manager.code`, 'manager-4711\n');
  const agentReady = await start('mw-agent', ['--dispatcher', process.env.MW_SERVER, '--credential-file',
    `${tmp}/nairobi.cred`, '--data-dir', `${tmp}/agent`, '--web-listen', '127.0.0.1:0',
    '--manager-code-file', `${tmp}/manager.code`, ...agentArgs]);
  return `http://${field(agentReady, 'web')}`;
}

// Records every page's size into `sizes` ([url, bytes]) and what the policy blocked into
// `blocked`: the pages run under a Content-Security-Policy that allows only their own script and
// style, so anything blocked is a failure.
export function watch(page, sizes, blocked) {
  page.on('response', async (r) => {
    if (r.request().resourceType() !== 'document' || r.status() !== 200) return;
    // A page the test leaves at once (a tap that submits) has no body left to read: its
    // Content-Length says the same.
    try {
      sizes.push([r.url(), (await r.body()).length]);
    } catch {
      try { sizes.push([r.url(), Number(await r.headerValue('content-length'))]); } catch { /* gone */ }
    }
  });
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(`${page.url()}: ${m.text()}`); });
}

// The manager signs in on `manager` and adds a worker; returns the worker's sign-in code.
export async function addWorker(manager, web, name) {
  await manager.goto(`${web}/signin`);
  await manager.fill('#code', 'manager-4711');
  await manager.click('button.primary');
  if (new URL(manager.url()).pathname !== '/manage') throw new Error(`the manager is at ${manager.url()}`);
  await manager.fill('input[name=name]', name);
  await manager.fill('input[name=contact]', '+254 700 123 456');
  await manager.fill('input[name=languages]', 'en,sw');
  await manager.click('#add button.primary');
  return (await manager.textContent('#code')).trim();
}

// The whole opening of a browser test: a centre with `contract` (centreWith), Chromium, the
// manager adding `workerName` on a desktop page, and the worker signed in with their code on a
// phone (on /task). Every page is watched (watch).
export async function openCentre(contract, workerName, agentArgs = []) {
  const web = await centreWith(contract, agentArgs);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const sizes = [];
  const blocked = [];
  const manager = await (await browser.newContext()).newPage();
  watch(manager, sizes, blocked);
  const code = await addWorker(manager, web, workerName);
  if (!/^[0-9]{12}$/.test(code)) throw new Error(`the manager's page gave the code ${code}`);
  const worker = await (await browser.newContext(phone)).newPage();
  watch(worker, sizes, blocked);
  await worker.goto(`${web}/signin`);
  await worker.fill('#code', code);
  await worker.tap('button.primary');
  await worker.waitForURL(/\/task/);
  return { web, browser, manager, worker, sizes, blocked };
}

// A width x height RGB PNG: soft bands of colour, like a photo of paper under a lamp.
export function photoPng(width, height) {
  const row = 1 + width * 3;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; ++y) {
    raw[y * row] = 0;
    for (let x = 0; x < width; ++x) {
      const o = y * row + 1 + x * 3;
      raw[o] = 200 + ((x >> 5) % 40);
      raw[o + 1] = 190 + ((y >> 5) % 50);
      raw[o + 2] = 170 + (((x + y) >> 6) % 60);
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32 ? zlib.crc32(body) : crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; ++k) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

// Each stage's answer in job-1 as the dispatcher holds it (mw results answers), once it holds
// `n` answers: the agent sends them when it can. Polls for up to 30 s.
export async function dispatcherAnswers(page, n) {
  const file = `${tmp}/answers.jsonl`;
  let rows = [];
  for (const deadline = Date.now() + 30000; rows.length < n;) {
    if (Date.now() > deadline) throw new Error(`the dispatcher has ${rows.length} of ${n} answers`);
    await page.waitForTimeout(250);
    mw('results', 'answers', 'job-1', '--format', 'jsonl', '--out', file);
    rows = fs.readFileSync(file, 'utf8').trim().split('\n').filter((l) => l).map((l) => JSON.parse(l));
  }
  return Object.fromEntries(rows.map((r) => [r.stage, r.answer]));
}
