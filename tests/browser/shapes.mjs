// Shapes by touch on a phone: a worker boxes a car by dragging across it and a bus by tapping
// two corners (then nudges the bus with the arrow keys, and draws and removes a slip), taps a
// doorway as a point, and marks a name in a sentence by tapping its words. The real dispatcher
// then holds exactly those answers (mw results answers), every coordinate within one pixel of
// where the finger was, in the original photo's pixels (800 x 600, shown 336 px wide).
//
//   node tests/browser/shapes.mjs --bin build/bin --out build/browser
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dispatcherAnswers, openCentre, out, PAGE_BUDGET, photoPng, tmp, until } from './harness.mjs';

fs.mkdirSync(`${tmp}/streets`, { recursive: true });
fs.writeFileSync(`${tmp}/streets/s1.png`, photoPng(800, 600));
fs.writeFileSync(`${tmp}/photos.csv`, 'id,photo,caption\np1,s1.png,Juma Otieno crosses Moi Avenue .\n');

const contract = `
name: Browser test shapes
client: mji-salama
currency: USD
budget_minor: 1000
inputs:
  - name: photos
    format: FORMAT_CSV
    path: photos.csv
    media_folder: streets
    media: [{field: photo, kind: MEDIA_IMAGE}]
stages:
  - name: rows
    split: {input: photos, by: SPLIT_ROWS}
  - name: vehicles
    after: [rows]
    human:
      instructions: {en: "Box every car and bus."}
      answer: {shapes: {field: photo, kind: SHAPE_BOX, labels: [car, bus], max_count: 5}}
      piece_rate_minor: 5
      estimated_seconds: 40
      overlap: 1
      show_fields: [id]
  - name: doors
    after: [rows]
    human:
      instructions: {en: "Tap every doorway."}
      answer: {shapes: {field: photo, kind: SHAPE_POINT, labels: [door]}}
      piece_rate_minor: 3
      estimated_seconds: 20
      overlap: 1
      show_fields: [id]
  - name: names
    after: [rows]
    human:
      instructions: {en: "Mark every person (PER)."}
      answer: {spans: {field: caption, labels: [PER]}}
      piece_rate_minor: 3
      estimated_seconds: 20
      overlap: 1
  - name: result
    after: [vehicles, doors, names]
    merge: {}
`;

const W = 800, H = 600;

// Where a finger at (x, y) of the page lands on the photo, as the page must record it.
const onPhoto = (r, x, y) => [Math.round((x - r.x) * W / r.width), Math.round((y - r.y) * H / r.height)];

// A finger dragged from about `from` to about `to` ([x, y] in the page), through Chromium's own
// gesture synthesis, so the page sees touch and pointer events as from a screen. The gesture
// goes a little past `to` (it adds the touch slop), so where the finger really went down and
// came up is read from the events, by a listener of the test's own, and returned.
async function touchDrag(page, from, to) {
  await page.evaluate(() => {
    if (!window.finger) {
      for (const type of ['pointerdown', 'pointerup']) {
        document.addEventListener(type, (e) => window.finger.push([e.clientX, e.clientY]), true);
      }
    }
    window.finger = [];
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Input.synthesizeScrollGesture', {
    x: from[0], y: from[1], xDistance: to[0] - from[0], yDistance: to[1] - from[1],
    gestureSourceType: 'touch', speed: 400, preventFling: true,
  });
  await cdp.detach();
  const finger = await page.evaluate(() => window.finger);
  assert.equal(finger.length, 2, `the drag made ${JSON.stringify(finger)}`);
  return finger;
}

const near = (got, want) => got.length === want.length && got.every((v, i) => Math.abs(v - want[i]) <= 1);

async function main() {
  const { browser, worker, sizes, blocked } = await openCentre(contract, 'Neema Wanjiru');
  const expected = {};
  const done = new Set();
  for (let n = 0; n < 3; ++n) {
    await until(worker, async () => (await worker.locator('#start').count()) > 0, 'a task to start', 60000);
    await worker.tap('#start');
    await worker.waitForSelector('form#answer');
    await worker.waitForLoadState('load');
    if (await worker.locator('.shapes').count()) {
      const svg = worker.locator('.shapes .draw svg');
      await svg.scrollIntoViewIfNeeded();
      const img = await worker.locator('.shapes .draw img').evaluate((i) => ({ w: i.naturalWidth, complete: i.complete }));
      assert.deepEqual(img, { w: 800, complete: true }, 'the photo is not shown');
      const r = await svg.boundingBox();
      assert.ok(r.width <= 360 && Math.abs(r.width / r.height - 4 / 3) < 0.02, `drawn on ${JSON.stringify(r)}`);
      const at = (fx, fy) => [r.x + fx * r.width, r.y + fy * r.height];
      if ((await worker.locator('.shapes[data-kind=box]').count()) > 0) {
        // The car: dragged from its top left to its bottom right.
        await worker.locator('input[name=shape_label][value=car]').tap();
        const [c0, c1] = await touchDrag(worker, at(0.1, 0.2), at(0.45, 0.5));
        // The bus: one corner tapped, then the other (bottom left first: any two corners do).
        await worker.locator('input[name=shape_label][value=bus]').tap();
        const b0 = at(0.5, 0.9), b1 = at(0.95, 0.55);
        await worker.touchscreen.tap(...b0);
        await worker.touchscreen.tap(...b1);
        // A slip, removed from the list.
        await touchDrag(worker, at(0.05, 0.05), at(0.2, 0.15));
        assert.equal(await worker.locator('.shapes ol.marked li').count(), 3);
        await worker.locator('.shapes ol.marked li').nth(2).locator('button').nth(1).tap();
        // The bus nudged right by the keyboard: one step is 1% of the long side, 8 px.
        await worker.locator('.shapes ol.marked li').nth(1).locator('button').first().focus();
        await worker.keyboard.press('ArrowRight');
        const [cx0, cy0] = onPhoto(r, ...c0), [cx1, cy1] = onPhoto(r, ...c1);
        const [bx0, by1] = onPhoto(r, ...b0), [bx1, by0] = onPhoto(r, ...b1);
        expected.vehicles = [['car', cx0, cy0, cx1, cy1], ['bus', bx0 + 8, by0, bx1 + 8, by1]];
        assert.equal(await worker.locator('.shapes ol.marked li').count(), 2);
        await worker.screenshot({ path: path.join(out, 'answer-boxes.png'), fullPage: true });
        done.add('boxes');
      } else {
        const p = at(0.3, 0.7);
        await worker.touchscreen.tap(...p);
        expected.doors = [['door', ...onPhoto(r, ...p)]];
        await worker.screenshot({ path: path.join(out, 'answer-points.png'), fullPage: true });
        done.add('points');
      }
    } else {
      const word = (w) => worker.locator('.spans button.w', { hasText: new RegExp(`^${w}$`) });
      await word('Juma').tap();
      await word('Otieno').tap();
      done.add('spans');
    }
    await worker.tap('#save');
    await worker.waitForURL(/notice=saved/);
  }
  assert.equal(done.size, 3);

  const byStage = await dispatcherAnswers(worker, 3);
  assert.equal(byStage.names, '0-11:PER');
  for (const stage of ['vehicles', 'doors']) {
    const got = byStage[stage].split(';').map((s) => {
      const [label, xy] = s.split(':');
      return [label, ...xy.split(',').map(Number)];
    });
    assert.equal(got.length, expected[stage].length, `${stage}: ${byStage[stage]}`);
    for (let i = 0; i < got.length; ++i) {
      assert.equal(got[i][0], expected[stage][i][0], `${stage}: ${byStage[stage]}`);
      assert.ok(near(got[i].slice(1), expected[stage][i].slice(1)),
        `${stage}: stored ${byStage[stage]}, drawn ${JSON.stringify(expected[stage])}`);
    }
  }
  for (const [url, bytes] of sizes) assert.ok(bytes < PAGE_BUDGET, `${url}: ${bytes} bytes`);
  assert.deepEqual(blocked, []);
  await browser.close();
  console.log(`shapes browser test: ok (boxes ${byStage.vehicles}; point ${byStage.doors}; screenshots in ${out})`);
}

main().then(() => process.exit(0), (e) => { console.error(`shapes browser test: FAILED: ${e.stack ?? e}`); process.exit(1); });
