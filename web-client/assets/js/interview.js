// The candidate's interview page: intro + consent → microphone check → live interview → end.
import { transports } from './transport.js';
import { openMic, listMics, createPlayer, micErrorMessage } from './audio.js';

const $ = (id) => document.getElementById(id);
const state = { screen: 'intro', mic: null, player: null, transport: null, session: null,
  ended: false, totalS: null, micStarted: false, lastLevel: 0, fallbacks: [] };
window.vivaInterview = state;   // for diagnostics and the browser tests

function show(screen) {
  for (const s of ['intro', 'mic', 'live', 'end']) $(`screen-${s}`).hidden = s !== screen;
  state.screen = screen;
  const h = document.querySelector(`#screen-${screen} h1`);
  if (h) h.focus();
}

function alertMsg(text) {
  const a = $('alert');
  a.textContent = text || '';
  a.hidden = !text;
}

// ---- intro
$('consent').addEventListener('change', () => { $('to-mic').disabled = !$('consent').checked; });
$('to-mic').addEventListener('click', () => { show('mic'); startMicCheck(); });

// ---- microphone check
async function startMicCheck(deviceId) {
  alertMsg('');
  $('mic-retry').hidden = true;
  $('start').disabled = true;
  if (state.mic) { await state.mic.close(); state.mic = null; }
  $('level-text').textContent = 'waiting for the microphone…';
  try {
    state.mic = await openMic({ deviceId, onLevel: meter($('level'), $('level-text')) });
  } catch (e) {
    alertMsg(micErrorMessage(e));
    $('mic-status').textContent = 'No microphone is open.';
    $('level-text').textContent = 'no microphone';
    $('mic-retry').hidden = false;
    return;
  }
  $('mic-status').textContent = `Using: ${state.mic.label}`;
  $('start').disabled = false;
  const select = $('mic-select');
  const mics = await listMics();
  const current = state.mic.deviceId;
  select.replaceChildren(...mics.map((d, i) => {
    const o = document.createElement('option');
    o.value = d.deviceId;
    o.textContent = d.label || `Microphone ${i + 1}`;
    o.selected = d.deviceId === current;
    return o;
  }));
  if (!mics.length) select.append(new Option('Default microphone', ''));
}

function meter(el, text) {
  let shown = 0;
  return (level) => {
    // A little gain so speech fills the bar; decays smoothly.
    const v = Math.min(1, level * 4);
    shown = Math.max(v, shown * 0.85);
    el.value = shown;
    state.lastLevel = Math.max(state.lastLevel * 0.9, level);
    if (text) text.textContent = shown > 0.05 ? 'hearing you' : 'quiet';
  };
}

$('mic-select').addEventListener('change', (e) => startMicCheck(e.target.value || undefined));
$('mic-retry').addEventListener('click', () => startMicCheck($('mic-select').value || undefined));
$('no-mic').addEventListener('click', async () => {
  if (state.mic) { await state.mic.close(); state.mic = null; }
  try {
    state.mic = await openMic({ silent: true });
  } catch (e) {
    return alertMsg(`Audio is not available in this browser (${e.name || e}).`);
  }
  startInterview();
});
$('start').addEventListener('click', () => startInterview());

// ---- session
async function getSession() {
  const saved = sessionStorage.getItem('viva.session');
  const params = new URLSearchParams(location.search);
  if (params.get('session') && params.get('token')) {
    const id = params.get('session');
    return { id, ws_url: `/v1/sessions/${encodeURIComponent(id)}/ws`, resume_token: params.get('token') };
  }
  if (saved) {
    try { const s = JSON.parse(saved); if (s.page === location.pathname + location.search) return s; } catch {}
  }
  const invite = location.pathname.startsWith('/i/') ? decodeURIComponent(location.pathname.slice(3)) : null;
  const body = invite ? { invite } : { job: params.get('job') || 'demo' };
  const r = await fetch('/v1/sessions', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if ((r.status === 503 || r.status === 429) && (j.retry_after_s || r.headers.get('retry-after'))) {
    // Full or restarting: the page waits and tries again by itself.
    const e = new Error(j.message || 'The interview service is busy.');
    e.retryAfterS = Number(j.retry_after_s || r.headers.get('retry-after')) || 15;
    e.busy = j.error;
    throw e;
  }
  if (!r.ok) {
    const why = {
      unknown_job: 'This interview does not exist.',
      demo_disabled: 'The demo interview is not offered on this server.',
      invalid_invite: 'This invite link is not valid any more (used, revoked or expired).',
      not_ready: 'The interview service is not ready. Please try again in a few minutes.',
      bad_request: invite ? 'This invite link cannot be used on this server.' : 'The interview could not be started.',
    }[j.error] || j.message || `The interview could not be started (HTTP ${r.status}).`;
    throw new Error(why);
  }
  const s = { id: j.id, ws_url: j.ws_url, resume_token: j.resume_token, page: location.pathname + location.search,
    interview_id: j.interview_id || null, invite, accommodations: j.accommodations || null };
  sessionStorage.setItem('viva.session', JSON.stringify(s));
  return s;
}

// The adjustments this candidate was given, said plainly so they know they are in place.
function showAccommodations(a) {
  if (!a) return;
  const items = [];
  if (a.extra_time > 1) items.push(`extra time (×${a.extra_time}): take the time you need to answer`);
  if (a.slower_speech) items.push('the interviewer speaks more slowly');
  if (a.captions) items.push('captions stay on throughout');
  if (a.typed_answers) items.push('you may type any answer in the box below');
  if (!items.length) return;
  const p = document.createElement('p');
  p.id = 'accommodations';
  p.className = 'muted';
  p.textContent = `Your adjustments: ${items.join('; ')}.`;
  $('conn').after(p);
  if (a.typed_answers) $('text-answer').focus({ preventScroll: true });
}

// ---- live interview
async function startInterview() {
  alertMsg('');
  $('start').disabled = true;
  try {
    state.session = await getSession();
  } catch (e) {
    if (e.retryAfterS) return waitAndRetry(e);
    $('start').disabled = false;
    return alertMsg(e.message);
  }
  show('live');
  showAccommodations(state.session.accommodations);
  state.player = createPlayer({ onSpeaking: () => updateSpeaker() });
  state.player.resume();
  const liveMeter = meter($('live-level'));
  state.mic.setHandlers({
    onFrame: (pcm) => state.transport && state.transport.sendAudio(pcm),
    onLevel: (level) => {
      liveMeter(level);
      // Held for 0.6 s after the last loud frame, so the label does not flicker between words.
      const now = performance.now();
      if (level > 0.02) state.loudAt = now;
      const speaking = now - (state.loudAt ?? -1e9) < 600;
      if (speaking !== state.candidateSpeaking) { state.candidateSpeaking = speaking; updateSpeaker(); }
    },
  });
  connectWith(transportOrder());
}

/// Every interviewer is busy (or the server restarts): count down, then try again.
function waitAndRetry(e) {
  let left = Math.max(1, Math.round(e.retryAfterS));
  const what = e.busy === 'rate_limited'
    ? 'You have started several demo interviews from this address'
    : e.busy === 'restarting' ? 'The interview service is restarting' : 'All interviewers are busy';
  const tick = () => {
    if (left <= 0) { alertMsg(''); return startInterview(); }
    alertMsg(`${what}; retrying in ${left} s.`);
    left -= 1;
    state.retryTimer = setTimeout(tick, 1000);
  };
  tick();
}

/// Transports to try, best first: `?transport=websocket|webrtc` forces one; otherwise WebRTC
/// when a WebRTC transport is registered, then the WebSocket fallback.
function transportOrder() {
  const forced = new URLSearchParams(location.search).get('transport');
  if (forced && transports[forced]) return [forced];
  return ['webrtc', 'websocket'].filter((k) => transports[k]);
}

const TRANSPORT_NAMES = { webrtc: 'WebRTC', websocket: 'WebSocket' };

function connectWith(order) {
  const [kind, ...rest] = order;
  let opened = false;
  state.transportKind = kind;
  // The page says which transport carries the interview (people and the browser tests read it).
  document.body.dataset.transport = kind;
  $('transport').textContent = `Audio over ${TRANSPORT_NAMES[kind] || kind}`;
  const transport = transports[kind](state.session, {
    onEvent,
    onAudio: (pcm) => state.player.push(pcm),
    onState: (s, d) => {
      if (state.transport !== transport) return;   // a transport we already left
      if (s === 'open') opened = true;
      // A transport that never opened (blocked UDP, no WebRTC) hands over to the next one.
      if (s === 'failed' && !opened && rest.length && !state.ended) {
        console.warn(`${kind} transport failed (${d && d.message}); trying ${rest[0]}`);
        state.fallbacks.push({ from: kind, why: d && d.message });
        transport.close();
        return connectWith(rest);
      }
      onState(s, d);
    },
  }, { micStream: () => state.mic && state.mic.stream });
  state.transport = transport;
  transport.connect();
}

let awaiting = false;
function updateSpeaker() {
  if (state.ended) return;
  // WebSocket: the page's own player knows; WebRTC: the transport (its events) knows.
  const t = state.transport;
  const talking = (state.player && state.player.speaking) || !!(t && t.kind === 'webrtc' && t.speaking);
  $('speaker').textContent = talking ? 'The interviewer is speaking'
    : state.candidateSpeaking ? 'You are speaking'
      : awaiting ? 'Your turn — the interviewer is listening' : 'Listening';
  $('speaker').dataset.who = talking ? 'interviewer' : 'candidate';
}

const captionEls = new Map();
function addLine(who, text, { final = true, key } = {}) {
  let li = key && captionEls.get(key);
  if (!li) {
    li = document.createElement('li');
    li.className = `line ${who}`;
    const label = document.createElement('span');
    label.className = 'who';
    label.textContent = who === 'interviewer' ? 'Interviewer:' : 'You:';
    const t = document.createElement('span');
    t.className = 'text';
    li.append(label, ' ', t);
    $('captions').append(li);
    if (key) captionEls.set(key, li);
  }
  li.querySelector('.text').textContent = text;
  li.classList.toggle('partial', !final);
  li.scrollIntoView({ block: 'nearest' });
}

function onEvent(ev) {
  switch (ev.type) {
    case 'interviewer':
      awaiting = !!ev.awaits_answer;
      addLine('interviewer', ev.text);
      if (ev.awaits_answer) $('question').textContent = ev.text;
      updateSpeaker();
      break;
    case 'interviewer_audio_end':
      awaiting = !!ev.awaits_answer;
      updateSpeaker();
      break;
    case 'flush':
      state.player.flush();
      updateSpeaker();
      break;
    case 'caption':
      // Partial captions of an utterance are replaced in place until its final one.
      if (ev.text && ev.text.trim()) {
        let key = `turn-${ev.turn}`;
        const open = captionEls.get(key);
        if (open && !open.classList.contains('partial')) {
          captionEls.delete(key);
          captionEls.set(`${key}-done-${captionEls.size}`, open);
        }
        addLine('candidate', ev.text, { final: ev.final, key });
      }
      break;
    case 'progress': {
      state.totalS ??= ev.remaining_s;
      $('phase').textContent = phaseName(ev.phase);
      const min = Math.ceil(ev.remaining_s / 60);
      $('time-left').textContent = `about ${min} min left`;
      if (state.totalS) $('progress').value = Math.round(100 * (1 - ev.remaining_s / state.totalS));
      break;
    }
    case 'ended':
      if (ev.reason !== 'paused') finish(ev.reason);
      break;
    case 'error':
      if (ev.code !== 'already_hello') alertMsg(`The server said: ${ev.message || ev.code}`);
      break;
  }
}

function phaseName(p) {
  const s = typeof p === 'string' ? p : (p && Object.keys(p)[0]) || '';
  return s ? s.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) : 'Interview';
}

function onState(s, d = {}) {
  const conn = $('conn');
  if (s === 'open') {
    const via = TRANSPORT_NAMES[state.transportKind] || state.transportKind;
    conn.textContent = d.resumed ? `Reconnected (${via}) — the interview goes on.` : `Connected (${via})`;
    conn.dataset.state = 'open';
    state.paused = false;
    alertMsg('');
  } else if (s === 'connecting') {
    conn.textContent = 'Connecting…';
  } else if (s === 'paused') {
    conn.textContent = 'Paused — reconnecting when the interviewer is back…';
    conn.dataset.state = 'reconnecting';
    state.paused = true;
    alertMsg('The interviewer had to pause for a moment (a server restart). Stay on this page: it reconnects by itself and the interview continues where it stopped. Your answers so far are saved.');
  } else if (s === 'reconnecting') {
    conn.textContent = state.paused ? 'Paused — reconnecting when the interviewer is back…' : 'Connection lost — reconnecting…';
    conn.dataset.state = 'reconnecting';
  } else if (s === 'failed') {
    conn.dataset.state = 'failed';
    conn.textContent = 'Disconnected';
    if (!state.ended) alertMsg(`${d.message || 'The connection was lost.'} Your answers so far are saved.`);
    if (d.code === 4010) finish('ended');
  } else if (s === 'closed') {
    conn.textContent = 'Disconnected';
    if (!state.ended && d.code === 1000) finish('ended');
  }
}

async function finish(reason) {
  if (state.ended) return;
  state.ended = true;
  sessionStorage.removeItem('viva.session');
  if (state.transport) state.transport.close();
  if (state.mic) { await state.mic.close(); state.mic = null; }
  if (state.player) setTimeout(() => state.player.close(), 4000);   // let the goodbye finish
  $('end-text').textContent = reason === 'candidate_left'
    ? 'You ended the interview. Thank you for your time; the hiring team will be in touch.'
    : 'The interview is over. Thank you for your time; the hiring team will be in touch.';
  // The experience rating: only an invited candidate's interview is on file to rate.
  $('feedback').hidden = !(state.session && state.session.interview_id && state.session.invite);
  show('end');
}

for (const r of document.querySelectorAll('input[name="rating"]')) {
  r.addEventListener('change', () => { $('feedback-status').textContent = ''; });
}
$('feedback').addEventListener('submit', async (e) => {
  e.preventDefault();
  const picked = document.querySelector('input[name="rating"]:checked');
  if (!picked) { $('feedback-status').textContent = 'Choose a rating from 1 to 5 first.'; return; }
  const body = { rating: Number(picked.value) };
  const comment = $('feedback-comment').value.trim();
  if (comment) body.comment = comment;
  $('feedback-send').disabled = true;
  try {
    const r = await fetch(`/v1/interviews/${encodeURIComponent(state.session.interview_id)}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${state.session.invite}` },
      body: JSON.stringify(body),
    });
    if (!r.ok) {
      const j = await r.json().catch(() => ({}));
      throw new Error(j.message || `HTTP ${r.status}`);
    }
    $('feedback').hidden = true;
    $('feedback-status').textContent = 'Thank you for your feedback.';
  } catch (err) {
    $('feedback-status').textContent = `Your rating could not be sent (${err.message}). Try again.`;
    $('feedback-send').disabled = false;
  }
});

$('repeat').addEventListener('click', () => {
  if (!state.transport.sendControl({ type: 'repeat' })) alertMsg('Not connected right now; try again in a moment.');
});
$('end').addEventListener('click', () => { $('end-confirm').hidden = false; $('end-yes').focus(); });
$('end-no').addEventListener('click', () => { $('end-confirm').hidden = true; $('end').focus(); });
$('end-yes').addEventListener('click', () => {
  state.transport.sendControl({ type: 'bye' });
  finish('candidate_left');
});
$('text-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('text-answer').value.trim();
  if (!text) return;
  if (state.transport.sendControl({ type: 'text_answer', text })) {
    addLine('candidate', text);
    $('text-answer').value = '';
  } else {
    alertMsg('Not connected right now; your typed answer was kept. Send it again in a moment.');
  }
});
