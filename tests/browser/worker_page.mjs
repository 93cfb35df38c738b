// The workers' page in a real browser: Debian's headless chromium, driven by playwright-core,
// against real binaries on loopback (mw-dispatcher, mw-agent --web-listen, mw). The centre
// manager adds a worker and hands over the sign-in code; the worker, on a phone-sized screen,
// sees the pay before starting, does tasks in English and in Kiswahili, skips one with a reason,
// sees their earnings right to left in Urdu and again in French,
// and finds the pay on the earnings page once the dispatcher's receipts are back; then, in Urdu,
// rates the job and files a complaint that the manager answers. Screenshots go to --out.
//
//   node tests/browser/worker_page.mjs --bin build/bin --out build/browser
import assert from 'node:assert/strict';
import path from 'node:path';
import { mw, openCentre, out, PAGE_BUDGET, until } from './harness.mjs';

const contract = `
name: Browser test reviews
client: acme
currency: USD
budget_minor: 1000
inputs:
  - name: reviews
    format: FORMAT_CSV
    inline_text: "id,text\\nr1,Great phone\\nr2,Broke in a week\\nr3,Works fine\\nr4,Too slow\\n"
stages:
  - name: rows
    split: {input: reviews, by: SPLIT_ROWS}
  - name: sentiment
    after: [rows]
    human:
      instructions:
        en: "Is this review positive or negative?"
        sw: "Je, maoni haya ni mazuri au mabaya?"
      answer: {single_choice: {options: [positive, negative]}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 1
      show_fields: [text]
  - name: result
    after: [sentiment]
    merge: {}
`;

async function main() {
  // The manager adds a worker and hands over the code; the worker signs in on a phone.
  const { web, browser, manager, worker, sizes, blocked } = await openCentre(contract, 'Amina Otieno');
  assert.equal(new URL(worker.url()).pathname, '/task');

  const answers = [['positive', 'en'], ['negative', 'en'], ['positive', 'sw']];
  for (const [choice, lang] of answers) {
    if (lang === 'sw' && (await worker.getAttribute('html', 'lang')) !== 'sw') {
      await worker.click('nav button[lang=sw]');
      assert.equal(await worker.getAttribute('html', 'lang'), 'sw');
    }
    await until(worker, async () => (await worker.locator('#start').count()) > 0, 'a task to start');
    // The pay and the time come before the task itself.
    assert.equal((await worker.textContent('#pay')).trim(), '0.05 USD');
    assert.equal(await worker.locator('#item').count(), 0);
    assert.equal((await worker.textContent('#start')).trim(), lang === 'en' ? 'Start this task' : 'Anza kazi hii');
    assert.equal((await worker.textContent('#instructions')).trim(),
      lang === 'en' ? 'Is this review positive or negative?' : 'Je, maoni haya ni mazuri au mabaya?');
    await worker.click('#start');
    // The task page has loaded (the click only waits for the navigation to commit; asking
    // before its script ran made this flaky on a slow machine).
    await worker.waitForLoadState('load');
    // The page's script ran (the policy let it): read-aloud is wired and the idle clock is on.
    assert.equal(await worker.evaluate(() => typeof say), 'function');
    assert.equal(await worker.getAttribute('form#answer', 'enctype'), 'multipart/form-data');
    await worker.check(`input[name=choice][value=${choice}]`);
    if (lang === 'sw') await worker.screenshot({ path: path.join(out, 'worker-task-sw.png'), fullPage: true });
    await worker.click('#save');
    assert.equal((await worker.textContent('#notice')).trim(),
      lang === 'en' ? 'Saved. You earn 0.05 USD for this task.' : 'Imehifadhiwa. Unapata 0.05 USD kwa kazi hii.');
  }
  // The fourth task is skipped, with a reason.
  await until(worker, async () => (await worker.locator('#start').count()) > 0, 'the fourth task');
  await worker.click('#start');
  await worker.selectOption('#reason', 'skip_unreadable');
  await worker.click('#skip button');
  assert.equal((await worker.textContent('#notice')).trim(), 'Umeruka. Asante kwa kueleza sababu.');

  // Earnings, once the dispatcher has acknowledged the answers.
  await worker.goto(`${web}/earnings`);
  await until(worker, async () => (await worker.textContent('#today')).includes('kazi 3'), 'three receipts');
  assert.match(await worker.textContent('#today'), /^0\.15 USD\s*kazi 3/);
  await worker.screenshot({ path: path.join(out, 'worker-earnings-sw.png'), fullPage: true });
  // Urdu is written right to left: the page says so and its layout mirrors (the heading starts
  // at the right edge, the table's cells read from the right); French is the same page again.
  await worker.click('nav button[lang=ur]');
  assert.equal(await worker.getAttribute('html', 'lang'), 'ur');
  assert.equal(await worker.getAttribute('html', 'dir'), 'rtl');
  assert.equal((await worker.textContent('h1')).trim(), 'میری کمائی');
  // Where an element's text sits (a block's box spans the width either way).
  const textBox = (page, selector = 'h1') => page.locator(selector).first().evaluate((e) => {
    const r = document.createRange();
    r.selectNodeContents(e);
    const b = r.getBoundingClientRect();
    return { left: b.left, right: b.right };
  });
  const width = worker.viewportSize().width;
  const h1 = await textBox(worker);
  assert.ok(h1.right > width - 40 && h1.left > width / 2, `the heading is not at the right: ${JSON.stringify(h1)}`);
  const th = await textBox(worker, 'th');  // "Today", the first row's header
  assert.ok(th.left > width / 2, `the first column is not at the right: ${JSON.stringify(th)}`);
  await worker.screenshot({ path: path.join(out, 'worker-earnings-ur.png'), fullPage: true });
  await worker.click('nav button[lang=fr]');
  assert.equal(await worker.getAttribute('html', 'dir'), 'ltr');
  assert.equal((await worker.textContent('h1')).trim(), 'Mes gains');
  assert.match(await worker.textContent('#today'), /^0,15 USD\s*3 tâches/);  // a decimal comma
  const h1fr = await textBox(worker);
  assert.ok(h1fr.left < 40 && h1fr.right < width / 2, `the French heading is not at the left: ${JSON.stringify(h1fr)}`);
  await worker.click('nav button[lang=en]');
  assert.match(await worker.textContent('#today'), /^0\.15 USD\s*3 tasks/);
  await worker.screenshot({ path: path.join(out, 'worker-earnings-en.png'), fullPage: true });

  // The manager's page has the centre's day: three answers (the skip is not one), 0.15 USD.
  await manager.goto(`${web}/manage`);
  assert.match(await manager.textContent('#totals'), /^Everyone\s*1\s*0\s*3 · 0:0\d · 0\.15 USD/);
  await manager.screenshot({ path: path.join(out, 'manager.png'), fullPage: true });

  // The worker's voice, in Urdu on the phone: they rate the job and file a complaint (by touch);
  // the manager answers it; the worker sees the answer. One worker's rating is fewer than five:
  // it is shown nowhere, not on the manager's page, not to the operator.
  await worker.click('nav button[lang=ur]');
  await worker.goto(`${web}/voice`);
  assert.equal(await worker.getAttribute('html', 'dir'), 'rtl');
  assert.equal((await worker.textContent('h1')).trim(), 'آپ کی آواز');
  const voiceH1 = await textBox(worker);
  assert.ok(voiceH1.right > width - 40, `the voice heading is not at the right: ${JSON.stringify(voiceH1)}`);
  const rate = worker.locator('form#rate-job-1');
  for (const [scale, value] of [['clarity', 4], ['time_estimate', 2], ['pay_fairness', 3]]) {
    await rate.locator(`input[name=${scale}][value="${value}"]`).tap();
  }
  await rate.locator('textarea[name=comment]').fill('تصویریں دھندلی تھیں');
  await rate.locator('button').tap();
  await worker.waitForURL(/notice=rating_saved/);
  assert.equal((await worker.textContent('#notice')).trim(), 'شکریہ۔ آپ کا درجہ محفوظ ہو گیا۔');
  // Given once: the job now shows the worker's own rating, with no form to change it.
  assert.equal((await worker.textContent('#rate-job-1 p.done')).trim(), 'آپ کا درجہ: وضاحت 4 · وقت 2 · اجرت 3');
  assert.equal(await worker.locator('form#rate-job-1').count(), 0);
  await worker.selectOption('#topic', '1');  // pay
  const complaint = 'جمعہ کی اجرت ابھی تک نہیں ملی۔';
  await worker.fill('#complaint-text', complaint);
  await worker.locator('#complain button.primary').tap();
  await worker.waitForURL(/notice=complaint_sent/);
  assert.equal((await worker.textContent('#notice')).trim(), 'آپ کی شکایت بھیج دی گئی۔ جواب یہیں نظر آئے گا۔');
  const filed = await worker.textContent('#complaint-1');
  assert.ok(filed.includes(complaint) && filed.includes('جواب کا انتظار'), filed);
  // The date in Urdu: the month by its Urdu name.
  assert.match(filed, /(جنوری|فروری|مارچ|اپریل|مئی|جون|جولائی|اگست|ستمبر|اکتوبر|نومبر|دسمبر)/);
  await worker.screenshot({ path: path.join(out, 'worker-voice-ur.png'), fullPage: true });

  await manager.goto(`${web}/manage`);
  const card = manager.locator('#complaints #complaint-1');
  assert.ok((await card.textContent()).includes(complaint));
  assert.match(await card.textContent(), /waiting for an answer \(0 hours\)/);
  assert.match(await manager.textContent('#ratings-hidden'), /^1 jobs have ratings from fewer than 5 workers/);
  assert.ok(!(await manager.content()).includes('تصویریں دھندلی تھیں'), 'a lone rating was shown');
  const answer = 'اجرت آج بھیج دی گئی ہے۔';
  await card.locator('textarea[name=answer]').fill(answer);
  await card.locator('button').click();
  assert.equal((await manager.textContent('#notice')).trim(), 'Your answer is saved; the worker sees it on their page.');
  await manager.screenshot({ path: path.join(out, 'manager-voice.png'), fullPage: true });
  await worker.reload();
  assert.equal((await worker.textContent('#complaint-1 .answer-text')).trim(), answer);
  assert.match(await worker.textContent('#complaint-1 .answer'), /^manager نے .* کو جواب دیا:$/);
  await worker.screenshot({ path: path.join(out, 'worker-voice-answered-ur.png'), fullPage: true });

  // The operator's view, once the agent has shared it: the complaint with its topic and who
  // answered (not its words: it never escalated), and no rating (one rater).
  let voice = '';
  for (const deadline = Date.now() + 30000; !(voice = mw('voice')).includes('nairobi #1  pay  answered by manager');) {
    if (Date.now() > deadline) throw new Error(`mw voice never showed the answered complaint:\n${voice}`);
    await worker.waitForTimeout(250);
  }
  assert.ok(voice.includes('Ratings by jobs:\n  none yet'), voice);
  assert.ok(!voice.includes(complaint), 'the words of a complaint that never escalated left the centre');

  // The same money on the dispatcher's side, and every page within the budget.
  const statement = mw('statement', '--centre', 'nairobi');
  assert.match(statement, /0\.15 USD/);
  for (const [url, bytes] of sizes) assert.ok(bytes < PAGE_BUDGET, `${url}: ${bytes} bytes`);
  assert.deepEqual(blocked, []);
  const largest = Math.max(...sizes.map(([, b]) => b));
  await browser.close();
  console.log(`browser test: ok (${sizes.length} pages, largest ${largest} bytes; screenshots in ${out})`);
}

main().then(() => process.exit(0), (e) => { console.error(`browser test: FAILED: ${e.stack ?? e}`); process.exit(1); });
