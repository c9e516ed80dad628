// Browser end-to-end tests of viva's two pages in real headless Chromium (Debian's `chromium`,
// driven by playwright-core; no downloaded browser). Started by tests/tests/browser.rs, which
// runs the real `viva serve`, generates the microphone's speech with espeak-ng and checks what
// the server stored.
//
//   node run.mjs candidate --base http://127.0.0.1:PORT --wav SPEECH.wav --out DIR [--transport webrtc|websocket]
//   node run.mjs recruiter --base http://127.0.0.1:PORT --token TOKEN --interview ID --out DIR
//   node run.mjs switch-language --link INVITE_URL --wav SPEECH.wav --out DIR
//
// Each prints one JSON line with what it observed and exits non-zero on the first failed check.
// Screenshots go to DIR.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const AXE = join(here, 'node_modules', 'axe-core', 'axe.min.js');
const CHROMIUM = process.env.VIVA_CHROMIUM || '/usr/bin/chromium';

function parseArgs(argv) {
  const [cmd, ...rest] = argv;
  const opts = { cmd };
  for (let i = 0; i < rest.length; i += 2) opts[rest[i].replace(/^--/, '')] = rest[i + 1];
  return opts;
}

const profiles = [];   // fresh --user-data-dir per browser, removed at exit
const log = (...a) => console.error('[browser]', ...a);

class CheckFailed extends Error {}
function check(cond, what) {
  if (!cond) throw new CheckFailed(what);
  log('ok:', what);
}

async function launch(extraArgs) {
  const profile = mkdtempSync(join(tmpdir(), 'viva-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
      // Pages fulfilled from disk (dev mode below) count as non-local: let them reach loopback.
      ...(process.env.VIVA_WEB_DEV_ASSETS ? ['--disable-features=LocalNetworkAccessChecks'] : []),
    ],
    viewport: { width: 1280, height: 900 },
  });
  // Development only: VIVA_WEB_DEV_ASSETS=web-client/assets serves the pages from disk, so a
  // change can be tried without rebuilding the binary. Tests of record run without it.
  const dev = process.env.VIVA_WEB_DEV_ASSETS;
  if (dev) {
    const pages = { '/interview': 'interview.html', '/dashboard': 'dashboard.html', '/': 'index.html' };
    await context.route((url) => url.pathname.startsWith('/js/') || url.pathname.endsWith('.css') || url.pathname in pages || url.pathname.startsWith('/i/'), (route) => {
      const p = new URL(route.request().url()).pathname;
      const file = pages[p] || (p.startsWith('/i/') ? 'interview.html' : p.slice(1));
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
      route.fulfill({ path: join(dev, file), contentType: type });
    });
  }
  profiles.push(profile);
  return context;
}

function watch(page, name) {
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log(`${name} console.${m.type()}:`, m.text()); });
  page.on('pageerror', (e) => log(`${name} page error:`, e.message));
}

/// Presses Tab (only the keyboard) until `selector` has the focus; fails after `max` presses.
async function tabTo(page, selector, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return i;
    await page.keyboard.press('Tab');
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new CheckFailed(`keyboard: Tab never reached ${selector} (focus stayed at ${at})`);
}

/// Runs axe-core (WCAG 2 A/AA rules) on the page as it is now; fails on any violation.
async function axe(page, label) {
  await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary) })),
      contrastChecked: r.passes.filter((p) => p.id === 'color-contrast').reduce((n, p) => n + p.nodes.length, 0) };
  });
  for (const v of res.violations) log(`axe ${label}: ${v.id} (${v.impact})`, JSON.stringify(v.nodes));
  check(res.violations.length === 0, `axe-core WCAG 2 AA on ${label}: no violations (${res.contrastChecked} text nodes passed color-contrast)`);
  return res;
}

const shot = (page, out, name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });

/// A candidate on an English job that allows Spanish follows the invite over WebRTC and asks,
/// by voice, to continue in Spanish: the interviewer confirms in Spanish and goes on in Spanish.
async function switchLanguage({ link, wav, out }) {
  const ctx = await launch([
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`,
    '--disable-features=WebRtcHideLocalIpsWithMdns',
  ]);
  const page = await ctx.newPage();
  watch(page, 'switch-language');
  const result = { shots: [] };
  try {
    await page.goto(link);
    await page.locator('#consent').check();
    await page.locator('#to-mic').click();
    await page.waitForFunction(() => !document.getElementById('start').disabled, null, { timeout: 15000 });
    await page.locator('#start').click();
    await page.waitForSelector('#screen-live:not([hidden])');
    await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'open', null, { timeout: 20000 });
    result.transport = await page.evaluate(() => document.body.dataset.transport);
    check(result.transport === 'webrtc', `connected over ${result.transport}`);
    await page.waitForFunction(() => [...document.querySelectorAll('#captions .line.interviewer')].some((l) => /español/i.test(l.textContent)), null, { timeout: 150000 });
    const lines = await page.locator('#captions .line.interviewer').allTextContents();
    const at = lines.findIndex((l) => /español/i.test(l));
    check(at >= 1, `the interviewer confirmed in Spanish: "${lines[at]}"`);
    // Then the interviewer goes on in Spanish (the greeting or question again, the catalogue's).
    await page.waitForFunction((n) => document.querySelectorAll('#captions .line.interviewer').length > n, at + 1, { timeout: 60000 });
    result.interviewer = await page.locator('#captions .line.interviewer').allTextContents();
    result.candidate = await page.locator('#captions .line.candidate:not(.partial)').allTextContents();
    await shot(page, out, 'candidate-6-switch-language'); result.shots.push('candidate-6-switch-language.png');
    return result;
  } catch (e) {
    await shot(page, out, 'switch-language-failure').catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------------------------------
/// A candidate's whole interview. `transport`: 'webrtc' (the page's default: WebRTC first) or
/// 'websocket' (forced with ?transport=websocket; this run also checks the denied microphone
/// and the automatic fallback when WebRTC is unavailable).
async function candidate({ base, wav, out, transport = 'websocket' }) {
  const rtc = transport === 'webrtc';
  const result = { shots: [], transport };
  if (!rtc) {
    result.shots.push(await micDenied({ base, out }));
    result.fallback = await fallback({ base });
  }
  const name = (n) => (rtc ? `candidate-webrtc-${n}` : `candidate-${n}`);
  const ctx = await launch([
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`,
    // Host candidates as IP addresses, not mDNS names (headless, loopback).
    ...(rtc ? ['--disable-features=WebRtcHideLocalIpsWithMdns'] : []),
  ]);
  const page = await ctx.newPage();
  watch(page, `candidate-${transport}`);
  try {
    await page.goto(rtc ? `${base}/interview?job=demo` : `${base}/interview?job=demo&transport=websocket`);
    await page.waitForSelector('#screen-intro:not([hidden])');
    check(await page.locator('#to-mic').isDisabled(), 'start is disabled until consent is given');
    await axe(page, 'candidate intro');
    await shot(page, out, name('1-intro')); result.shots.push(`${name('1-intro')}.png`);

    // Keyboard only from here on: consent, continue, microphone check, start.
    await tabTo(page, '#consent');
    await page.keyboard.press('Space');
    check(await page.locator('#consent').isChecked(), 'keyboard: consent checkbox toggles with Space');
    await tabTo(page, '#to-mic');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#screen-mic:not([hidden])');
    await page.waitForFunction(() => !document.getElementById('start').disabled, null, { timeout: 15000 });
    // The fake microphone plays the speech file in a loop: the meter must move.
    await page.waitForFunction(() => document.getElementById('level').value > 0.05, null, { timeout: 20000 });
    const level = await page.locator('#level').evaluate((m) => m.value);
    check(level > 0.05, `microphone check: the level meter moves with speech (${level.toFixed(2)})`);
    const mics = await page.locator('#mic-select option').count();
    check(mics >= 1, `microphone choice lists ${mics} device(s)`);
    await tabTo(page, '#mic-select');
    await axe(page, 'candidate microphone check');
    await shot(page, out, name('2-mic-check')); result.shots.push(`${name('2-mic-check')}.png`);
    await tabTo(page, '#start');
    await page.keyboard.press('Enter');

    // The live interview over the transport under test.
    await page.waitForSelector('#screen-live:not([hidden])');
    await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'open', null, { timeout: 20000 });
    const used = await page.evaluate(() => ({ attr: document.body.dataset.transport, kind: window.vivaInterview.transport.kind, conn: document.getElementById('conn').textContent, shown: document.getElementById('transport').textContent, fallbacks: window.vivaInterview.fallbacks }));
    check(used.attr === transport && used.kind === transport && used.fallbacks.length === 0, `connected over ${transport}, no fallback (data-transport=${used.attr}, fallbacks ${JSON.stringify(used.fallbacks)})`);
    check(new RegExp(rtc ? 'WebRTC' : 'WebSocket').test(used.conn) && new RegExp(rtc ? 'WebRTC' : 'WebSocket').test(used.shown), `the page says which transport: "${used.conn}" / "${used.shown}"`);
    result.used = used;
    await page.waitForFunction(() => document.querySelectorAll('#captions .line.interviewer').length >= 1, null, { timeout: 60000 });
    check(true, 'the interviewer spoke (caption shown)');
    await page.waitForFunction(() => (document.getElementById('progress-row') || document.getElementById('time-left')).textContent.includes('min'), null, { timeout: 20000 });
    check(true, `progress shows time left: ${await page.locator('#time-left').textContent()}`);
    // The candidate's own speech comes back as a final caption.
    await page.waitForFunction(() => [...document.querySelectorAll('#captions .line.candidate:not(.partial)')].some((l) => l.textContent.trim().length > 8), null, { timeout: 90000 });
    const spoken = await page.locator('#captions .line.candidate:not(.partial)').allTextContents();
    check(spoken.length > 0, `live caption of the candidate's speech: ${JSON.stringify(spoken)}`);
    result.spoken_captions = spoken;
    await page.waitForFunction(() => document.querySelectorAll('#captions .line.interviewer').length >= 2, null, { timeout: 60000 });
    check(true, 'the interviewer answered the spoken answer with its next utterance');
    // The microphone loops the answer: the next question gets it too (the report needs an
    // answered question with word times for its evidence).
    await page.waitForFunction(() => document.querySelectorAll('#captions .line.candidate:not(.partial)').length >= 2, null, { timeout: 90000 });
    result.spoken_captions = await page.locator('#captions .line.candidate:not(.partial)').allTextContents();
    check(true, `a second spoken answer captioned: ${JSON.stringify(result.spoken_captions[1])}`);
    if (rtc) {
      // Media over the peer connection both ways: the microphone out, the interviewer's voice in
      // (played by an <audio> element from the remote track).
      const st = await page.evaluate(() => window.vivaInterview.transport.stats());
      const el = await page.evaluate(() => { const a = document.getElementById('rtc-audio'); return { playing: !!a && !a.paused && !!a.srcObject, tracks: a?.srcObject?.getAudioTracks().length ?? 0 }; });
      log('webrtc stats:', JSON.stringify(st), JSON.stringify(el));
      check(st.packetsSent > 250, `WebRTC: microphone sent as RTP (${st.packetsSent} packets)`);
      check(st.packetsReceived > 100 && st.totalAudioEnergy > 0, `WebRTC: interviewer audio received (${st.packetsReceived} packets, energy ${st.totalAudioEnergy.toFixed(3)}, ${st.codec})`);
      check(el.playing && el.tracks === 1, 'WebRTC: the remote track plays through an <audio> element');
      result.webrtc = st;
    } else {
      const heard = await page.evaluate(() => window.vivaInterview.player && true);
      check(heard, 'interviewer audio player running');
    }

    // Lost connection → automatic reconnect that resumes the same session.
    await page.evaluate(() => window.vivaInterview.transport.simulateDrop());
    await page.waitForFunction(() => /reconnecting/i.test(document.getElementById('conn').textContent), null, { timeout: 20000 });
    check(true, 'a dropped connection says "reconnecting"');
    await page.waitForFunction(() => /Reconnected/.test(document.getElementById('conn').textContent), null, { timeout: 30000 });
    check(await page.evaluate(() => document.body.dataset.transport) === transport, `the page reconnected over ${transport} and resumed the interview`);

    // Keyboard reaches the main controls; a typed answer goes through the text fallback.
    await tabTo(page, '#repeat');
    await tabTo(page, '#end');
    await tabTo(page, '#text-answer');
    await page.keyboard.type('I also run PostgreSQL in production and tune its indexes.');
    await tabTo(page, '#text-form button[type=submit]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => [...document.querySelectorAll('#captions .line.candidate')].some((l) => l.textContent.includes('tune its indexes')), null, { timeout: 20000 });
    check(true, 'typed answer sent and shown');
    await axe(page, 'candidate live interview');
    await shot(page, out, name('3-interview')); result.shots.push(`${name('3-interview')}.png`);

    // End the interview from the keyboard.
    await tabTo(page, '#end');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'end-yes');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#screen-end:not([hidden])', { timeout: 10000 });
    check(true, 'the end screen is shown');
    await axe(page, 'candidate end screen');
    await shot(page, out, name('4-end')); result.shots.push(`${name('4-end')}.png`);
    result.session_id = await page.evaluate(() => window.vivaInterview.session.id);
    result.captions = await page.locator('#captions li').allTextContents();
  } catch (e) {
    await shot(page, out, name('failure')).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
  return result;
}

/// A browser without WebRTC (RTCPeerConnection removed before the page runs): the page falls
/// back to the WebSocket transport by itself, says so, and the interview starts.
async function fallback({ base }) {
  const ctx = await launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
  const page = await ctx.newPage();
  watch(page, 'fallback');
  try {
    await page.addInitScript(() => { delete window.RTCPeerConnection; window.RTCPeerConnection = undefined; });
    await page.goto(`${base}/interview?job=demo`);
    await page.locator('#consent').check();
    await page.locator('#to-mic').click();
    await page.waitForFunction(() => !document.getElementById('start').disabled, null, { timeout: 15000 });
    await page.locator('#start').click();
    await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'open', null, { timeout: 30000 });
    const r = await page.evaluate(() => ({ transport: document.body.dataset.transport, fallbacks: window.vivaInterview.fallbacks, conn: document.getElementById('conn').textContent }));
    check(r.transport === 'websocket' && r.fallbacks.length === 1 && r.fallbacks[0].from === 'webrtc', `without WebRTC the page falls back to the WebSocket: ${JSON.stringify(r)}`);
    await page.waitForFunction(() => document.querySelectorAll('#captions .line.interviewer').length >= 1, null, { timeout: 60000 });
    check(true, 'fallback: the interview runs over the WebSocket');
    await page.locator('#end').click();
    await page.locator('#end-yes').click();
    await page.waitForSelector('#screen-end:not([hidden])', { timeout: 10000 });
    return r;
  } finally {
    await ctx.close();
  }
}

/// Without the fake permission UI the browser denies the microphone: the page must say so
/// and offer the ways on (try again, typed answers).
async function micDenied({ base, out }) {
  const ctx = await launch(['--use-fake-device-for-media-stream']);
  const page = await ctx.newPage();
  watch(page, 'mic-denied');
  try {
    await page.goto(`${base}/interview?job=demo`);
    await page.locator('#consent').check();
    await page.locator('#to-mic').click();
    await page.waitForSelector('#alert:not([hidden])', { timeout: 15000 });
    const text = await page.locator('#alert').textContent();
    check(/denied/i.test(text) && /typing/i.test(text), `denied microphone: "${text}"`);
    check(await page.locator('#mic-retry').isVisible() && await page.locator('#no-mic').isVisible(), 'denied microphone: "Try again" and "type answers" offered');
    await shot(page, out, 'candidate-0-mic-denied');
    // Without a microphone the interview still runs, on typed answers.
    await page.locator('#no-mic').click();
    await page.waitForSelector('#screen-live:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#captions .line.interviewer').length >= 1, null, { timeout: 60000 });
    await page.locator('#text-answer').fill('Yes, I am ready to begin.');
    await page.locator('#text-form button[type=submit]').click();
    await page.waitForFunction(() => document.querySelectorAll('#captions .line.interviewer').length >= 2, null, { timeout: 60000 });
    check(true, 'without a microphone: a typed answer moves the interview on');
    await page.locator('#end').click();
    await page.locator('#end-yes').click();
    await page.waitForSelector('#screen-end:not([hidden])', { timeout: 10000 });
    return 'candidate-0-mic-denied.png';
  } finally {
    await ctx.close();
  }
}

/// An invited candidate starts without a microphone, ends the interview, and rates it 4 with a
/// comment on the end screen.
async function rateExperience({ link, out }) {
  const ctx = await launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
  const page = await ctx.newPage();
  watch(page, 'rating');
  try {
    await page.goto(link);
    await page.locator('#consent').check();
    await page.locator('#to-mic').click();
    await page.locator('#no-mic').click();
    await page.waitForSelector('#screen-live:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#captions .line.interviewer').length >= 1, null, { timeout: 60000 });
    await page.locator('#end').click();
    await page.locator('#end-yes').click();
    await page.waitForSelector('#feedback:not([hidden])', { timeout: 10000 });
    check(true, 'an invited candidate is asked to rate the interview');
    await page.locator('#feedback-send').click();
    check(/Choose a rating/.test(await page.locator('#feedback-status').textContent()), 'sending without a rating asks for one');
    await page.locator('label[for=rate-4]').click();
    await page.locator('#feedback-comment').fill('Clear questions, friendly pace.');
    await axe(page, 'candidate rating');
    await shot(page, out, 'candidate-5-rating');
    await page.locator('#feedback-send').click();
    await page.waitForFunction(() => /Thank you/.test(document.getElementById('feedback-status').textContent), null, { timeout: 10000 });
    check(await page.locator('#feedback').isHidden(), 'the form is gone once the rating is sent');
    return 'candidate-5-rating.png';
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------------------------------
async function recruiter({ base, token, interview, out, 'job-toml': jobToml, jd }) {
  const ctx = await launch([]);
  const page = await ctx.newPage();
  watch(page, 'recruiter');
  const result = { shots: [] };
  // How the player fetched the recording: byte ranges through a signed link, no bearer header.
  const recordingResponses = [];
  page.on('response', (r) => {
    if (/\/recording\?/.test(r.url())) recordingResponses.push({ status: r.status(), url: r.url(), range: r.request().headers().range || null, auth: !!r.request().headers().authorization });
  });
  try {
    await page.goto(`${base}/dashboard`);
    await page.waitForSelector('#login-form');
    await axe(page, 'dashboard sign-in');
    // Sign in with the keyboard.
    await tabTo(page, '#token');
    await page.keyboard.type('wrong-token');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.getElementById('alert').hidden, null, { timeout: 20000 });
    check(/not accepted/i.test(await page.locator('#alert').textContent()), 'a wrong token is refused with a clear message');
    await page.locator('#token').fill('');
    await tabTo(page, '#token');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.waitForSelector('table.list a[href^="#/jobs/"]');
    check(await page.evaluate(() => !!sessionStorage.getItem('viva.token')), 'token kept in sessionStorage');
    await axe(page, 'dashboard jobs');
    await shot(page, out, 'dashboard-1-jobs'); result.shots.push('dashboard-1-jobs.png');

    // Jobs → the job (keyboard): ranked candidates and invites.
    await tabTo(page, 'table.list a[href^="#/jobs/"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#candidates');
    await page.waitForSelector(`#candidates a[href="#/interviews/${interview}"]`);
    const ranked = await page.locator('#candidates tr').evaluateAll((rows) => rows.map((r) => ({
      composite: Number(r.children[2]?.textContent), badge: r.querySelector('.badge')?.textContent, href: r.querySelector('a')?.getAttribute('href') })));
    log('ranked:', JSON.stringify(ranked));
    // Scored candidates best first; interviews without a report (abandoned, still scoring) after them.
    const scored = ranked.filter((r) => Number.isFinite(r.composite));
    const firstUnscored = ranked.findIndex((r) => !Number.isFinite(r.composite));
    check(scored.length >= 2 && scored.every((r, i) => i === 0 || scored[i - 1].composite >= r.composite)
      && (firstUnscored < 0 || firstUnscored === scored.length), `candidates ranked by composite: ${ranked.map((r) => `${r.composite ?? '—'} ${r.badge ?? '(not scored)'}`).join(' > ')}`);
    const badgeText = ranked.find((r) => r.href === `#/interviews/${interview}`).badge;
    check(['Strong Yes', 'Yes', 'Maybe', 'No'].includes(badgeText), `candidate has a recommendation badge (${badgeText})`);
    result.ranked = ranked;
    // Filters: choosing another recommendation hides the row, "All" brings it back.
    const other = badgeText === 'No' ? 'Yes' : 'No';
    await page.selectOption('#f-rec', other);
    check(await page.locator(`#candidates a[href="#/interviews/${interview}"]`).count() === 0, `filter "${other}" hides the ${badgeText} candidate`);
    await page.selectOption('#f-rec', badgeText);
    const shownBadges = await page.locator('#candidates .badge').allTextContents();
    check(shownBadges.length >= 1 && shownBadges.every((b) => b === badgeText), `filter "${badgeText}" shows only ${badgeText}: ${shownBadges}`);
    await page.selectOption('#f-rec', 'All');
    // The ranked list as a CSV file, name-blind like the page.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    const csvLines = csv.split('\r\n').filter(Boolean);
    check(csvLines[0].startsWith('rank,interview_id,candidate') && csvLines.length >= 3 && csv.includes(interview),
      `CSV export: ${csvLines.length - 1} candidates, ${download.suggestedFilename()}`);
    // An invite: create, shown link, revoke.
    await tabTo(page, '#inv-name');
    await page.keyboard.type('Ada Example');
    await tabTo(page, '#invite-form button[type=submit]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#invite-link');
    const link = await page.locator('#invite-link').textContent();
    check(/\/i\/[0-9a-f]+$/.test(link), `invite link shown: ${link}`);
    const pin = await page.locator('#invite-pin').textContent();
    check(/^[0-9]{8}$/.test(pin), `the invite's dial-in PIN shown once: ${pin}`);
    const revoke = page.locator('button[aria-label^="Revoke invite"]').first();
    await revoke.click();
    await page.waitForFunction(() => [...document.querySelectorAll('td')].some((t) => t.textContent === 'revoked'));
    check(true, 'invite revoked');
    // A candidate follows a fresh invite, ends at once, and rates the experience; the job's
    // page then shows the rating.
    await page.locator('#inv-name').fill('Rae Rater');
    await page.locator('#invite-form button[type=submit]').click();
    await page.waitForSelector('#invite-link');
    const rateLink = await page.locator('#invite-link').textContent();
    result.feedback = await rateExperience({ link: rateLink, out });
    await page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')));
    await page.waitForSelector('#feedback-average', { timeout: 15000 });
    const avg = await page.locator('#feedback-average').textContent();
    check(/^4\.0 \/ 5 from 1 rating$/.test(avg), `the job shows the candidate's rating: "${avg}"`);
    check((await page.locator('#feedback .comments').textContent()).includes('Clear questions'), 'and the comment');
    await axe(page, 'dashboard job');
    await shot(page, out, 'dashboard-2-job'); result.shots.push('dashboard-2-job.png');

    // The report, via the keyboard.
    await tabTo(page, `#candidates a[href="#/interviews/${interview}"]`, 80);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#h-report');
    await page.waitForFunction(() => /Recording: /.test(document.getElementById('replay-status')?.textContent || ''), null, { timeout: 30000 });
    const sections = await page.locator('.report h3').allTextContents();
    for (const s of ['Recommendation', 'Confidence', 'Knockouts', 'Must-have competencies', 'Required skills', 'Preferred skills', 'Rubric', 'Questions', 'Depth by concept', 'Strengths', 'Risks', 'Notable quotes', 'Suggested next step', 'Coverage']) {
      check(sections.includes(s), `report section "${s}"`);
    }
    const quotes = page.locator('a.quote[data-start-ms]');
    const n = await quotes.count();
    check(n > 0, `${n} evidence quote(s) are links into the recording`);
    result.quotes = n;
    const duration = await page.evaluate(() => document.getElementById('replay-audio').duration);
    check(duration > 5, `the recording plays (${duration.toFixed(1)} s)`);
    const src = await page.evaluate(() => document.getElementById('replay-audio').src);
    check(/\/recording\?exp=\d+&sig=[0-9a-f]{64}$/.test(src), `the player streams from a signed link: ${src.replace(/sig=[0-9a-f]+/, 'sig=…')}`);

    // Click an evidence quote: the player jumps to the quote's time.
    const target = quotes.last();
    const startMs = Number(await target.getAttribute('data-start-ms'));
    await target.click();
    await page.waitForFunction((ms) => Math.abs(document.getElementById('replay-audio').currentTime * 1000 - ms) < 2000 && !document.getElementById('replay-audio').paused, startMs, { timeout: 20000 });
    const at = await page.evaluate(() => document.getElementById('replay-audio').currentTime);
    check(at * 1000 >= startMs - 50 && at * 1000 < startMs + 2000, `clicked quote at ${startMs} ms: player at ${(at * 1000).toFixed(0)} ms`);
    result.quote_ms = startMs;
    result.player_ms = Math.round(at * 1000);
    // The transcript alongside highlights the current line and word.
    await page.waitForSelector('#replay-lines button.line.current', { timeout: 10000 });
    check(true, 'the transcript line being played is highlighted');
    log('recording responses:', JSON.stringify(recordingResponses.map((r) => [r.status, r.range, r.auth])));
    check(recordingResponses.some((r) => r.status === 206 && r.range) && recordingResponses.every((r) => !r.auth && r.status < 400),
      `the recording is streamed with Range requests (${recordingResponses.filter((r) => r.status === 206).length} × 206, no bearer header)`);
    result.range_requests = recordingResponses.filter((r) => r.status === 206).length;
    const word = await page.locator('#replay-lines .w.current').count();
    result.word_highlighted = word > 0;
    log('word highlighted while playing:', word > 0);
    await shot(page, out, 'dashboard-3-report'); result.shots.push('dashboard-3-report.png');

    // Playback speed, and seeking from a transcript line with the keyboard.
    await page.selectOption('#replay-speed', '1.5');
    check(await page.evaluate(() => document.getElementById('replay-audio').playbackRate) === 1.5, 'playback speed 1.5×');
    const first = page.locator('#replay-lines button.line').first();
    const lineMs = Number(await first.getAttribute('data-start-ms'));
    await first.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((ms) => Math.abs(document.getElementById('replay-audio').currentTime * 1000 - ms) < 2000, lineMs, { timeout: 20000 });
    check(true, `Enter on a transcript line seeks to ${lineMs} ms`);
    // Keyboard reaches the player and a quote.
    await page.locator('#h-report').focus();
    await tabTo(page, 'a.quote[data-start-ms]', 120);
    await tabTo(page, '#replay-audio', 400);
    check(true, 'keyboard reaches evidence quotes and the player');
    await page.evaluate(() => document.getElementById('replay-audio').pause());
    await axe(page, 'dashboard report');

    // Human review, keyboard only: name-blind until revealed; an override kept with who and why.
    check(/name-blind/.test(await page.locator('#review-identity').textContent()) && /^Candidate [0-9a-f]{8}$/.test(await page.locator('#h-candidate').textContent()),
      'name-blind: the candidate is shown by id');
    const engine = (await page.locator('#review-in-force .badge').textContent()).trim();
    const to = engine === 'No' ? 'Maybe' : 'No';
    await page.locator('#h-report').focus();
    await tabTo(page, '#override-rec', 60);
    await page.selectOption('#override-rec', to);
    await tabTo(page, '#override-reason');
    await page.keyboard.type('A second reviewer listened to the recording');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#override-log', { timeout: 20000 });
    const inForceNow = (await page.locator('#review-in-force .badge').textContent()).trim();
    const logRow = await page.locator('#override-log tbody tr').first().textContent();
    check(inForceNow === to && logRow.includes(`${engine} → ${to}`) && logRow.includes('A second reviewer') && logRow.includes('browser-test'),
      `override ${engine} → ${to} in force, logged with who and why: ${logRow}`);
    check((await page.locator('.headline .badge').textContent()).trim() === to, 'the headline shows the recommendation in force');
    result.override = { from: engine, to };
    check(await page.evaluate(() => document.activeElement?.id) === 'review-in-force', 'after the override the focus is on the recommendation in force');
    await page.locator('#h-report').focus();
    await tabTo(page, '#reveal-reason', 60);
    await page.keyboard.type('Scheduling the next round');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#reveal-log', { timeout: 20000 });
    const revealed = await page.locator('#h-candidate').textContent();
    check(!/name-blind/.test(await page.locator('#review-identity').textContent()) && !/^Candidate [0-9a-f]{8}$/.test(revealed)
      && (await page.locator('#reveal-log tbody tr').first().textContent()).includes('Scheduling the next round'),
      `identity revealed (${revealed}) and the reveal logged`);
    await axe(page, 'dashboard review');
    await page.locator('#review').scrollIntoViewIfNeeded();
    await shot(page, out, 'dashboard-3b-review'); result.shots.push('dashboard-3b-review.png');

    // ---- Jobs: from pasted configuration (TOML and JSON), drafted from a job description, and
    // from the form; problems are shown next to the input with their field and line.
    await page.goto(`${base}/dashboard#/jobs`);
    await page.waitForSelector('#job-form');
    await page.locator('#job-toml').fill('title = "x"\nfamily = "engineering"\nduration_minutes = "long"\n');
    await page.locator('#job-form button[type=submit]').click();
    await page.waitForSelector('#job-errors li:not(.summary)', { timeout: 20000 });
    const tomlErrors = await page.locator('#job-errors li').allTextContents();
    check(tomlErrors.some((t) => /line 3/.test(t) && /duration_minutes/.test(t)), `invalid TOML: the problem names its field and line: ${JSON.stringify(tomlErrors)}`);
    check(await page.locator('#job-toml').getAttribute('aria-invalid') === 'true', 'invalid TOML: the input is marked invalid');
    // "Go to line 3" puts the cursor on that line (keyboard).
    await tabTo(page, '#job-errors button');
    await page.keyboard.press('Enter');
    const sel = await page.evaluate(() => { const t = document.getElementById('job-toml'); return { focused: document.activeElement === t, text: t.value.slice(t.selectionStart, t.selectionEnd) }; });
    check(sel.focused && sel.text.startsWith('duration_minutes'), `"Go to line" selects the line: ${JSON.stringify(sel)}`);
    await page.locator('#job-toml').fill('{\n  "title": "x",\n  "family": 7\n}');
    await page.locator('#job-form button[type=submit]').click();
    await page.waitForFunction(() => [...document.querySelectorAll('#job-errors li')].some((l) => /line 3/.test(l.textContent)), null, { timeout: 20000 });
    check(true, `invalid JSON: ${JSON.stringify(await page.locator('#job-errors li').allTextContents())}`);
    await axe(page, 'dashboard jobs with configuration errors');

    // Drafted from a job description (keyboard), reviewed in the box, saved.
    await page.locator('#jd-text').fill(readFileSync(jd, 'utf8'));
    await tabTo(page, '#draft-form button[type=submit]', 80);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /^Drafted/.test(document.getElementById('draft-status').textContent), null, { timeout: 10000 });
    const drafted = await page.evaluate(() => ({ focused: document.activeElement?.id, toml: document.getElementById('job-toml').value, status: document.getElementById('draft-status').textContent }));
    check(drafted.focused === 'job-toml' && /\[\[skills\.required\]\]/.test(drafted.toml) && /\[\[custom_questions\]\]/.test(drafted.toml), `a job description is drafted into the configuration box for review: ${drafted.status}`);
    const draftTitle = drafted.toml.match(/^title = "(.*)"$/m)[1];
    await shot(page, out, 'dashboard-4-job-draft'); result.shots.push('dashboard-4-job-draft.png');
    await tabTo(page, '#job-form button[type=submit]');
    await page.keyboard.press('Enter');
    await page.waitForFunction((t) => document.querySelector('h1')?.textContent === t, draftTitle, { timeout: 20000 });
    check(/#\/jobs\/.+/.test(page.url()), `the drafted job "${draftTitle}" is saved and opens`);
    result.drafted_title = draftTitle;

    // From the form, keyboard only: open it, fill it in, pick questions from the bank.
    await page.goto(`${base}/dashboard#/jobs`);
    await page.waitForSelector('#job-form-details');
    await page.locator('h1').focus();
    await tabTo(page, '#job-form-details summary');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#jf-bank input[type=checkbox]', { timeout: 20000 });
    await tabTo(page, '#jf-title');
    await page.keyboard.type('Data Engineer (form)');
    await tabTo(page, '#jf-description');
    await page.keyboard.type('Build and run the data pipelines behind our analytics product.');
    await tabTo(page, '#jf-brief');
    await page.keyboard.type('Data engineer who builds reliable batch and streaming pipelines.');
    await tabTo(page, '#jf-years');
    await page.keyboard.type('3');
    await tabTo(page, '#jf-required');
    await page.keyboard.type('SQL and data modelling, advanced\nStreaming with Kafka');
    await tabTo(page, '#jf-competencies');
    await page.keyboard.type('Production ownership: Runs and debugs the pipelines they build.');
    // Submitted without a question: the problem is shown at the question bank.
    await tabTo(page, '#jf-submit', 200);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#jf-bank-error:not([hidden])', { timeout: 20000 });
    const bankErr = await page.locator('#jf-bank-error').textContent();
    check(/question/i.test(bankErr) && await page.locator('#jf-bank').getAttribute('aria-invalid') === 'true', `form: a missing question is reported at the bank: "${bankErr}"`);
    const firstQ = await page.locator('#jf-bank input[type=checkbox]').first().getAttribute('id');
    check(await page.evaluate(() => document.activeElement?.type === 'checkbox'), 'form: the focus moves to the field with the problem');
    await axe(page, 'dashboard job form with errors');
    await shot(page, out, 'dashboard-5-job-form'); result.shots.push('dashboard-5-job-form.png');
    await page.keyboard.press('Space');
    check(await page.locator(`#${firstQ}`).isChecked(), 'form: a bank question is picked with Space');
    await tabTo(page, '#jf-submit', 200);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Data Engineer (form)', null, { timeout: 20000 });
    const cfg = await page.locator('details pre').textContent();
    check(/min-years/.test(cfg) && /SQL and data modelling/.test(cfg) && /\[\[custom_questions\]\]/.test(cfg), 'a job created from the form opens, with its knockout, skills and picked question');

    // From pasted TOML: a valid file opens.
    await page.goto(`${base}/dashboard#/jobs`);
    await page.waitForSelector('#job-form');
    const toml = readFileSync(jobToml, 'utf8').replace(/^title = ".*"$/m, 'title = "Backend Engineer (browser test)"');
    await page.locator('#job-toml').fill(toml);
    await page.locator('#job-form button[type=submit]').click();
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Backend Engineer (browser test)', null, { timeout: 20000 });
    check(/#\/jobs\/.+/.test(page.url()), 'a job created from pasted configuration opens');
  } catch (e) {
    await shot(page, out, 'dashboard-failure').catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
  return result;
}

const opts = parseArgs(process.argv.slice(2));
mkdirSync(opts.out || '.', { recursive: true });
const run = { candidate, recruiter, 'switch-language': switchLanguage }[opts.cmd];
if (!run) {
  console.error('usage: node run.mjs candidate|recruiter|switch-language --base URL …');
  process.exit(2);
}
let code = 0;
try {
  const result = await run(opts);
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(`[browser] FAILED: ${e.message}`);
  code = 1;
}
// Chromium may still be writing its profile for a moment after close.
await new Promise((r) => setTimeout(r, 500));
for (const p of profiles) {
  try { rmSync(p, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); } catch (e) { log('profile left behind:', e.message); }
}
process.exit(code);
