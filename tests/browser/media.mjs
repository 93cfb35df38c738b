// Media tasks on a phone: a worker opens a receipt photo of 12 megapixels (the agent serves it
// re-encoded at 800 px on its long side, as its --photo-long-side says) and types its total,
// then listens to a spoken clip (made with espeak-ng), slows it down and types what it says. The
// real dispatcher then holds both answers (mw results answers). Each task's page plus its media
// stay under 150 KB; screenshots go to --out.
//
//   node tests/browser/media.mjs --bin build/bin --out build/browser
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dispatcherAnswers, openCentre, out, PAGE_BUDGET, photoPng, tmp, until } from './harness.mjs';

const MEDIA_BUDGET = 150 * 1024;  // a task page plus its image

fs.mkdirSync(`${tmp}/scans`, { recursive: true });
fs.writeFileSync(`${tmp}/scans/receipt.png`, photoPng(4000, 3000));
execFileSync('espeak-ng', ['-v', 'en', '-s', '140', '-w', `${tmp}/scans/total.wav`, 'The total is twelve fifty']);
fs.writeFileSync(`${tmp}/receipts.csv`, 'id,photo,clip\nr1,receipt.png,total.wav\n');

const contract = `
name: Browser test media
client: habari-data
currency: USD
budget_minor: 1000
inputs:
  - name: receipts
    format: FORMAT_CSV
    path: receipts.csv
    media_folder: scans
    media: [{field: photo, kind: MEDIA_IMAGE}, {field: clip, kind: MEDIA_AUDIO}]
stages:
  - name: rows
    split: {input: receipts, by: SPLIT_ROWS}
  - name: total
    after: [rows]
    human:
      instructions: {en: "Type the receipt's total."}
      answer: {text: {max_length: 20}}
      piece_rate_minor: 4
      estimated_seconds: 30
      overlap: 1
      show_fields: [id, photo]
  - name: heard
    after: [rows]
    human:
      instructions: {en: "Type what the voice says."}
      answer: {text: {max_length: 100}}
      piece_rate_minor: 4
      estimated_seconds: 30
      overlap: 1
      show_fields: [clip]
  - name: result
    after: [total, heard]
    merge: {}
`;

async function main() {
  // The centre serves photos at 800 px on their long side, JPEG quality 50.
  const { browser, worker, sizes, blocked } = await openCentre(contract, 'Neema Wanjiru',
    ['--photo-long-side', '800', '--photo-quality', '50']);
  const media = [];  // [url, bytes] of every /media/ response
  worker.on('response', async (r) => {
    if (!new URL(r.url()).pathname.startsWith('/media/')) return;
    try { media.push([r.url(), (await r.body()).length, r.status()]); } catch { /* left */ }
  });

  const done = new Set();
  for (let n = 0; n < 2; ++n) {
    await until(worker, async () => (await worker.locator('#start').count()) > 0, 'a task to start', 60000);
    const taskPages = () => sizes.filter(([u]) => new URL(u).pathname === '/task');
    const before = taskPages().length;
    await worker.tap('#start');
    await worker.waitForSelector('form#answer');
    await worker.waitForLoadState('load');
    for (let i = 0; i < 100 && taskPages().length === before; ++i) await worker.waitForTimeout(20);
    if (await worker.locator('img.photo').count()) {
      const img = worker.locator('img.photo');
      const size = await img.evaluate((i) => ({ w: i.naturalWidth, h: i.naturalHeight, complete: i.complete }));
      assert.deepEqual(size, { w: 800, h: 600, complete: true }, 'the photo is not decoded at the size served');
      const box = await img.boundingBox();
      assert.ok(box.width <= 360, `the photo is wider than the phone: ${box.width}`);
      const pageBytes = taskPages()[taskPages().length - 1][1];
      const src = await img.getAttribute('src');
      const imageBytes = media.find(([u]) => u.endsWith(src))?.[1];
      assert.ok(imageBytes > 0, 'the photo was not fetched');
      assert.ok(pageBytes + imageBytes <= MEDIA_BUDGET, `page ${pageBytes} + image ${imageBytes} bytes`);
      console.log(`media browser test: photo task page ${pageBytes} bytes + image ${imageBytes} bytes`);
      await worker.fill('textarea[name=text], input[name=text]', '12.50');
      await worker.screenshot({ path: path.join(out, 'media-image.png'), fullPage: true });
      done.add('image');
    } else {
      const audio = worker.locator('.clip audio');
      assert.equal(await audio.count(), 1, 'a task with neither a photo nor a clip');
      const duration = await audio.evaluate((a) => new Promise((resolve) => {
        if (a.readyState >= 1) resolve(a.duration);
        else a.addEventListener('loadedmetadata', () => resolve(a.duration));
      }));
      assert.ok(duration > 1 && duration < 5, `the clip's duration is ${duration}`);
      // The whole clip is what a worker needs to hear it all: the page plus every byte of it
      // within the budget (what the player has fetched so far is only reported).
      const pageBytes = taskPages()[taskPages().length - 1][1];
      const clipBytes = fs.statSync(`${tmp}/scans/total.wav`).size;
      const src = await audio.getAttribute('src');
      const fetched = media.filter(([u]) => u.endsWith(src)).reduce((sum, [, b]) => sum + b, 0);
      assert.ok(pageBytes + clipBytes <= MEDIA_BUDGET, `page ${pageBytes} + clip ${clipBytes} bytes`);
      assert.equal(await worker.locator('.clip .replay').getAttribute('aria-label'), 'Play again');
      console.log(`media browser test: clip task page ${pageBytes} bytes + clip ${clipBytes} bytes (${fetched} fetched)`);
      await worker.locator('.clip .slower').tap();
      assert.equal(await audio.evaluate((a) => a.playbackRate), 0.75);
      assert.equal(await worker.locator('.clip .slower').getAttribute('aria-pressed'), 'true');
      await worker.fill('textarea[name=text], input[name=text]', 'the total is twelve fifty');
      await worker.screenshot({ path: path.join(out, 'media-audio.png'), fullPage: true });
      done.add('audio');
    }
    await worker.tap('#save');
    await worker.waitForURL(/notice=saved/);
  }
  assert.equal(done.size, 2);

  const byStage = await dispatcherAnswers(worker, 2);
  assert.deepEqual(byStage, { total: '12.50', heard: 'the total is twelve fifty' });

  for (const [url, bytes] of sizes) assert.ok(bytes < PAGE_BUDGET, `${url}: ${bytes} bytes`);
  for (const [url, , status] of media) assert.ok(status === 200 || status === 206, `${url}: ${status}`);
  assert.deepEqual(blocked, []);
  await browser.close();
  console.log(`media browser test: ok (${sizes.length} pages, ${media.length} media responses; screenshots in ${out})`);
}

main().then(() => process.exit(0), (e) => { console.error(`media browser test: FAILED: ${e.stack ?? e}`); process.exit(1); });
