// Answers beyond choices, by touch on a phone: a worker marks two names in a sentence by tapping
// words (a person of two words, first word then last; a place of one, tapped twice), picks the
// better of two summaries with a reason, and ranks three titles by place. The real dispatcher
// then holds exactly those answers (mw results answers). Screenshots go to --out.
//
//   node tests/browser/answer_kinds.mjs --bin build/bin --out build/browser
import assert from 'node:assert/strict';
import path from 'node:path';
import { dispatcherAnswers, openCentre, out, PAGE_BUDGET, until } from './harness.mjs';

const contract = `
name: Browser test answer kinds
client: habari-data
currency: USD
budget_minor: 1000
inputs:
  - name: texts
    format: FORMAT_CSV
    inline_text: "id,text,summary_a,summary_b,t1,t2,t3\\nn1,Juma Otieno anaishi Nairobi .,Juma lives in Mombasa.,Juma Otieno lives in Nairobi.,Rain in Kisumu,Maize prices fall,Clinic opens\\n"
stages:
  - name: rows
    split: {input: texts, by: SPLIT_ROWS}
  - name: names
    after: [rows]
    human:
      instructions: {en: "Mark every person (PER) and place (LOC)."}
      answer: {spans: {field: text, labels: [PER, LOC]}}
      piece_rate_minor: 4
      estimated_seconds: 30
      overlap: 1
  - name: better
    after: [rows]
    human:
      instructions: {en: "Which summary says what the text says?"}
      answer: {comparison: {a_field: summary_a, b_field: summary_b, ask_reason: true}}
      piece_rate_minor: 3
      estimated_seconds: 20
      overlap: 1
      show_fields: [text]
  - name: order
    after: [rows]
    human:
      instructions: {en: "Which headline would you read first?"}
      answer: {ranking: {fields: [t1, t2, t3]}}
      piece_rate_minor: 3
      estimated_seconds: 20
      overlap: 1
  - name: result
    after: [names, better, order]
    merge: {}
`;

async function main() {
  const { browser, worker, sizes, blocked } = await openCentre(contract, 'Neema Wanjiru');

  // The three tasks come in whatever order the agent holds them: each is answered by its kind.
  const done = new Set();
  for (let n = 0; n < 3; ++n) {
    await until(worker, async () => (await worker.locator('#start').count()) > 0, 'a task to start');
    await worker.tap('#start');
    await worker.waitForSelector('form#answer');
    await worker.waitForLoadState('load');
    if (await worker.locator('.spans').count()) {
      const word = (w) => worker.locator('.spans button.w', { hasText: new RegExp(`^${w}$`) });
      // Every word is a touch target of at least 44 px.
      for (const b of await worker.locator('.spans button.w').all()) {
        assert.ok((await b.boundingBox()).height >= 44, 'a word too small to tap');
      }
      await worker.locator('input[name=span_label][value=PER]').tap();
      await word('Juma').tap();
      await word('Otieno').tap();
      await worker.locator('input[name=span_label][value=LOC]').tap();
      await word('Nairobi').tap();
      await word('Nairobi').tap();
      // A slip, undone: "anaishi" marked, then removed from the list.
      await word('anaishi').tap();
      await word('anaishi').tap();
      assert.equal(await worker.locator('ol.marked li').count(), 3);
      await worker.locator('ol.marked li', { hasText: 'anaishi' }).locator('button').tap();
      assert.deepEqual(await worker.locator('ol.marked li').allTextContents(),
        ['Juma Otieno \u2014 PER \u2715', 'Nairobi \u2014 LOC \u2715']);
      assert.equal(await worker.inputValue('input[name=spans]'), '0-11:PER;20-27:LOC');
      await worker.screenshot({ path: path.join(out, 'answer-spans.png'), fullPage: true });
      done.add('spans');
    } else if (await worker.locator('.pair').count()) {
      // Side by side does not fit 360 px: the versions are stacked, B below A.
      const a = await worker.locator('#version-a').boundingBox();
      const b = await worker.locator('#version-b').boundingBox();
      assert.ok(b.y >= a.y + a.height, `the versions are not stacked: ${JSON.stringify([a, b])}`);
      await worker.locator('#version-b label').tap();
      await worker.fill('textarea[name=pick_reason]', 'It names the right town');
      await worker.screenshot({ path: path.join(out, 'answer-comparison.png'), fullPage: true });
      done.add('comparison');
    } else {
      assert.equal(await worker.locator('select[name=rank_0]').count(), 1, 'an answer kind not known to the test');
      await worker.selectOption('select[name=rank_0]', '3');
      await worker.selectOption('select[name=rank_1]', '1');
      await worker.selectOption('select[name=rank_2]', '2');
      done.add('ranking');
    }
    await worker.tap('#save');
    await worker.waitForURL(/notice=saved/);
  }
  assert.equal(done.size, 3);

  // The dispatcher holds exactly what was tapped, once the agent has sent it.
  const byStage = await dispatcherAnswers(worker, 3);
  assert.deepEqual(byStage, { names: '0-11:PER;20-27:LOC', better: 'b: It names the right town', order: 't2>t3>t1' });

  for (const [url, bytes] of sizes) assert.ok(bytes < PAGE_BUDGET, `${url}: ${bytes} bytes`);
  assert.deepEqual(blocked, []);
  const largest = Math.max(...sizes.map(([, b]) => b));
  await browser.close();
  console.log(`answer kinds browser test: ok (${sizes.length} pages, largest ${largest} bytes; screenshots in ${out})`);
}

main().then(() => process.exit(0), (e) => { console.error(`answer kinds browser test: FAILED: ${e.stack ?? e}`); process.exit(1); });
