// The replay player: the interview's recording with its transcript alongside. The line and the
// words being played are highlighted; any line (or an evidence quote, through seek()) jumps there.
import { h, fmtTime } from './dom.js';

/// Lines of a stored transcript (viva_interview::Transcript), in time order, on the recording's
/// clock: interviewer prompts at asked_at_ms, candidate answers with their word times.
export function transcriptLines(t) {
  const lines = [];
  for (const turn of t?.turns || []) {
    lines.push({ who: 'interviewer', start: turn.asked_at_ms, text: turn.spoken_text || turn.prompt, words: null });
    for (const a of turn.answers || []) {
      const words = (a.words || []).filter((w) => Number.isFinite(w.start_ms));
      const start = a.audio_start_ms ?? words[0]?.start_ms;
      lines.push({ who: 'candidate', start: start ?? turn.asked_at_ms, text: a.text, words: words.length ? words : null, typed: start == null });
    }
  }
  return lines.sort((x, y) => x.start - y.start);
}

export function createReplay(container, { transcript, loadAudio }) {
  const audio = h('audio', { controls: true, preload: 'auto', id: 'replay-audio', 'aria-label': 'Interview recording' });
  const speed = h('select', { id: 'replay-speed' }, ...[0.75, 1, 1.25, 1.5, 2].map((s) => h('option', { value: s, selected: s === 1 }, `${s}×`)));
  speed.addEventListener('change', () => { audio.playbackRate = Number(speed.value); });
  const status = h('p', { class: 'muted', id: 'replay-status', role: 'status' }, 'Loading the recording…');
  const list = h('ol', { class: 'replay-lines', id: 'replay-lines', 'aria-label': 'Transcript' });
  const lines = transcriptLines(transcript);
  const wordEls = [];
  const lineEls = lines.map((l) => {
    const text = l.words
      ? l.words.flatMap((w, i) => {
        const span = h('span', { class: 'w', 'data-start-ms': w.start_ms, 'data-end-ms': w.end_ms }, w.text.trim());
        wordEls.push({ el: span, start: w.start_ms, end: w.end_ms });
        return i ? [' ', span] : [span];
      })
      : [l.text];
    const b = h('button', { class: `line ${l.who}`, 'data-start-ms': l.start, type: 'button' },
      h('span', { class: 'who' }, l.who === 'interviewer' ? 'Interviewer' : 'Candidate'),
      h('span', { class: 'at' }, fmtTime(l.start)),
      h('span', { class: 'text' }, ...text),
      l.typed ? h('span', { class: 'muted' }, ' (typed)') : null);
    b.addEventListener('click', () => seek(l.start, true));
    return h('li', {}, b);
  });
  list.append(...lineEls);
  container.replaceChildren(
    h('h2', { id: 'h-replay' }, 'Replay'),
    audio,
    h('p', { class: 'inline' }, h('label', { for: 'replay-speed' }, 'Playback speed'), speed),
    status,
    lines.length ? list : h('p', { class: 'muted' }, 'No transcript stored.'));

  // The recording streams from a short-lived signed URL (the browser fetches byte ranges as it
  // plays and seeks). When the link has expired by the time the browser needs another range,
  // the player asks for a fresh one and carries on from the same place.
  let loaded = false;
  let refreshing = false;
  audio.addEventListener('error', async () => {
    if (!loaded || refreshing) return;
    refreshing = true;
    const at = audio.currentTime;
    const playing = !audio.paused;
    try {
      audio.src = await loadAudio();
      audio.addEventListener('loadedmetadata', () => {
        audio.currentTime = at;
        if (playing) audio.play().catch(() => {});
      }, { once: true });
    } catch (e) {
      status.textContent = `The recording could not be loaded again (${e.message}).`;
    } finally {
      refreshing = false;
    }
  });
  let ready = null;
  ready = (async () => {
    try {
      audio.src = await loadAudio();
      await new Promise((ok, fail) => {
        audio.addEventListener('loadedmetadata', ok, { once: true });
        audio.addEventListener('error', () => fail(new Error('the recording could not be decoded')), { once: true });
      });
      status.textContent = `Recording: ${fmtTime(audio.duration * 1000)}. Click a line or an evidence quote to play from there.`;
      loaded = true;
      return true;
    } catch (e) {
      status.textContent = e.status === 404 ? 'No recording is available for this interview.' : `The recording could not be loaded (${e.message}).`;
      return false;
    }
  })();

  let currentLine = -1;
  let currentWord = null;
  function highlight() {
    const t = audio.currentTime * 1000;
    let li = -1;
    for (let i = 0; i < lines.length && lines[i].start <= t + 1; i++) li = i;
    if (li !== currentLine) {
      lineEls[currentLine]?.firstChild.classList.remove('current');
      lineEls[li]?.firstChild.classList.add('current');
      lineEls[li]?.scrollIntoView?.({ block: 'nearest' });
      currentLine = li;
    }
    const w = wordEls.find((x) => x.start <= t && t < Math.max(x.end, x.start + 120)) || null;
    if (w !== currentWord) {
      currentWord?.el.classList.remove('current');
      w?.el.classList.add('current');
      currentWord = w;
    }
  }
  let raf = 0;
  const tick = () => { highlight(); raf = audio.paused ? 0 : requestAnimationFrame(tick); };
  audio.addEventListener('play', () => { if (!raf) raf = requestAnimationFrame(tick); });
  audio.addEventListener('timeupdate', highlight);
  audio.addEventListener('seeked', highlight);

  async function seek(ms, play) {
    if (!(await ready)) return;
    audio.currentTime = Math.max(0, ms / 1000);
    highlight();
    if (play) await audio.play().catch(() => {});
  }

  return {
    audio,
    seek,
    ready,
    close() { cancelAnimationFrame(raf); audio.pause(); if (audio.src.startsWith('blob:')) URL.revokeObjectURL(audio.src); },
  };
}
