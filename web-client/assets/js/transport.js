// Transports carry one live interview between the page and the server.
//
// Interface (what interview.js relies on; both transports below implement it):
//   const t = createXTransport(session, handlers, options)
//     session:  { id, ws_url, resume_token }  from POST /v1/sessions
//     handlers: { onEvent(obj), onAudio(Int16Array), onState(state, detail) }
//       state: 'connecting' | 'open' | 'reconnecting' | 'closed' | 'failed'
//   t.connect()              opens (and, after a drop, resumes) the session
//   t.sendAudio(Int16Array)  one 20 ms frame of 16 kHz mono PCM16 (dropped while not open)
//   t.sendControl(obj)       {type:'text_answer',text} | {type:'repeat'} | {type:'bye'}
//   t.close()                leaves for good (no reconnect)
//
// The WebSocket transport speaks docs/protocol.md version 1. After an unexpected close it
// reconnects with backoff and resumes with the same resume_token, for as long as the server
// keeps the session (its grace period, 60 s by default). A server that pauses the interview to
// restart (close 1012, `ended` with reason `paused`) keeps it for its resume window (10 min by
// default): the transport keeps trying that long.

export const PROTOCOL = 1;
/// How long a paused interview (the server restarting) is tried again.
const PAUSED_WINDOW_MS = 600000;

// Close codes after which reconnecting cannot help.
const FINAL_CODES = new Map([
  [1000, 'The interview is over.'],
  [1007, 'The page sent audio the server could not read.'],
  [1009, 'The page sent a message that was too large.'],
  [4001, 'This interview link is not valid any more.'],
  [4002, 'This page is out of date; reload it.'],
  [4003, 'The server refused the audio format.'],
  [4010, 'The interview has already ended.'],
]);

export function createWebSocketTransport(session, handlers, options = {}) {
  let graceMs = options.graceMs ?? 60000;
  let ws = null;
  let open = false;
  let closedByUs = false;
  let lostAt = null;
  let attempt = 0;
  let timer = null;

  const url = () => {
    const u = new URL(session.ws_url, location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  };

  function connect() {
    clearTimeout(timer);
    handlers.onState(lostAt ? 'reconnecting' : 'connecting', { attempt });
    try {
      ws = new WebSocket(url());
    } catch (e) {
      return scheduleRetry();
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      ws.send(JSON.stringify({
        type: 'hello', protocol: PROTOCOL, resume_token: session.resume_token,
        codec: 'pcm16', sample_rate: 16000,
      }));
    };
    ws.onmessage = (m) => {
      if (typeof m.data === 'string') {
        let ev;
        try { ev = JSON.parse(m.data); } catch { return; }
        if (ev.type === 'welcome') {
          open = true;
          attempt = 0;
          lostAt = null;
          handlers.onState('open', { resumed: !!ev.resumed });
        }
        handlers.onEvent(ev);
      } else if (m.data.byteLength >= 2) {
        handlers.onAudio(new Int16Array(m.data, 0, m.data.byteLength >> 1));
      }
    };
    ws.onclose = (c) => {
      open = false;
      ws = null;
      if (closedByUs) return handlers.onState('closed', { code: c.code });
      if (c.code === 1012) {
        // Paused for a restart: come back once the server is up again.
        graceMs = Math.max(graceMs, PAUSED_WINDOW_MS);
        lostAt = Date.now();
        handlers.onState('paused', { code: c.code });
      }
      if (FINAL_CODES.has(c.code)) {
        return handlers.onState(c.code === 1000 ? 'closed' : 'failed',
          { code: c.code, message: FINAL_CODES.get(c.code) });
      }
      scheduleRetry();
    };
  }

  function scheduleRetry() {
    lostAt ??= Date.now();
    if (Date.now() - lostAt > graceMs) {
      return handlers.onState('failed', { message: 'The connection could not be restored.' });
    }
    attempt += 1;
    handlers.onState('reconnecting', { attempt });
    timer = setTimeout(connect, Math.min(500 * 2 ** (attempt - 1), 5000));
  }

  return {
    kind: 'websocket',
    connect,
    sendAudio(frame) {
      if (open && ws && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 64000) ws.send(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength));
    },
    sendControl(obj) {
      if (!open || !ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(obj));
      return true;
    },
    close() {
      closedByUs = true;
      clearTimeout(timer);
      if (ws) ws.close(1000, 'bye');
    },
    // For tests and diagnostics: drop the connection as a network failure would.
    simulateDrop() { if (ws) ws.close(4999, 'simulated drop'); },
  };
}

// ---- WebRTC (docs/protocol.md §10)
//
// One RTCPeerConnection: the microphone's track goes out as Opus, the interviewer's voice comes
// back as a remote track played by an <audio> element, and a data channel ("events", opened by
// the page) carries the JSON events of §5 and the control messages of §4. Signaling is one
// request (WHIP-style): the offer, once ICE gathering is complete, is POSTed to
// /v1/sessions/{id}/webrtc with the resume token as bearer; the answer comes back whole.
//
// Extra options: { micStream: () => MediaStream|null, connectTimeoutMs, graceMs }.
// The transport is 'open' when the data channel is. If it never opens within connectTimeoutMs
// it reports 'failed' (interview.js then falls back to the WebSocket transport); after it has
// been open, a failed or closed connection is re-established with a new offer (a resume).

const RTC_FINAL = new Map([
  [401, 'This interview link is not valid any more.'],
  [404, 'This interview does not exist any more.'],
  [410, 'The interview has already ended.'],
]);

/// Resolves when ICE gathering is complete (or after `ms`, with what was gathered by then).
function iceGathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check() { if (pc.iceGatheringState === 'complete') done(); }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

export function createWebRtcTransport(session, handlers, options = {}) {
  const connectTimeoutMs = options.connectTimeoutMs ?? 8000;
  let graceMs = options.graceMs ?? 60000;
  let pc = null;
  let dc = null;
  let open = false;
  let everOpen = false;
  let closedByUs = false;
  let ended = false;
  let lostAt = null;
  let attempt = 0;
  let timer = null;
  let connectTimer = null;
  let generation = 0;   // a late callback of a replaced peer connection is ignored
  let interviewerSpeaking = false;

  // The interviewer's voice: a hidden <audio> element playing the remote track.
  const audio = document.createElement('audio');
  audio.autoplay = true;
  audio.hidden = true;
  audio.id = 'rtc-audio';
  document.body.append(audio);

  function teardown() {
    clearTimeout(connectTimer);
    if (dc) { dc.onopen = dc.onclose = dc.onmessage = null; try { dc.close(); } catch {} }
    if (pc) { pc.onconnectionstatechange = pc.ontrack = null; try { pc.close(); } catch {} }
    dc = null;
    pc = null;
    open = false;
  }

  function fail(message, detail = {}) {
    teardown();
    handlers.onState('failed', { message, ...detail });
  }

  /// A problem while connecting: before the first open, give up (the page falls back);
  /// after it, keep trying for the grace period.
  function trouble(why) {
    if (closedByUs || ended) return;
    teardown();
    if (!everOpen) return fail(`WebRTC could not connect (${why}).`);
    lostAt ??= Date.now();
    if (Date.now() - lostAt > graceMs) return fail('The connection could not be restored.');
    attempt += 1;
    handlers.onState('reconnecting', { attempt });
    clearTimeout(timer);
    timer = setTimeout(connect, Math.min(500 * 2 ** (attempt - 1), 5000));
  }

  async function connect() {
    clearTimeout(timer);
    const gen = ++generation;
    handlers.onState(lostAt ? 'reconnecting' : 'connecting', { attempt, transport: 'webrtc' });
    try {
      if (typeof RTCPeerConnection !== 'function') throw new Error('this browser has no WebRTC');
      pc = new RTCPeerConnection({ iceServers: session.ice_servers || [] });
      const stream = options.micStream ? options.micStream() : null;
      const track = stream && stream.getAudioTracks()[0];
      if (track) pc.addTrack(track, stream);
      else pc.addTransceiver('audio', { direction: 'sendrecv' });
      pc.ontrack = (e) => {
        audio.srcObject = e.streams[0] || new MediaStream([e.track]);
        audio.play().catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        if (gen !== generation || !pc) return;
        const s = pc.connectionState;
        if (s === 'failed' || s === 'closed') trouble(`connection ${s}`);
        // 'disconnected' often recovers by itself; give it a moment.
        else if (s === 'disconnected') setTimeout(() => { if (gen === generation && pc && pc.connectionState === 'disconnected') trouble('connection lost'); }, 3000);
      };
      dc = pc.createDataChannel('events', { ordered: true });
      dc.onopen = () => {
        if (gen !== generation) return;
        clearTimeout(connectTimer);
        open = true;
        const resumed = everOpen;
        everOpen = true;
        attempt = 0;
        lostAt = null;
        handlers.onState('open', { resumed, transport: 'webrtc' });
      };
      dc.onclose = () => {
        if (gen !== generation) return;
        open = false;
        if (closedByUs) return handlers.onState('closed', { code: 1000 });
        if (ended) return handlers.onState('closed', { code: 1000 });
        trouble('events channel closed');
      };
      dc.onmessage = (m) => {
        if (typeof m.data !== 'string') return;
        let ev;
        try { ev = JSON.parse(m.data); } catch { return; }
        onServerEvent(ev);
      };
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc, 3000);
      if (gen !== generation) return;
      const r = await fetch(`/v1/sessions/${encodeURIComponent(session.id)}/webrtc`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${session.resume_token}` },
        body: pc.localDescription.sdp,
      });
      if (gen !== generation) return;
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        if (RTC_FINAL.has(r.status)) {
          closedByUs = true;
          return fail(RTC_FINAL.get(r.status), { code: r.status === 410 ? 4010 : 4001 });
        }
        // 409: the previous connection is not released yet (a resume); others: a real refusal.
        if (r.status === 409 && everOpen) return trouble('session busy');
        return trouble(body.message || `HTTP ${r.status}`);
      }
      await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
      connectTimer = setTimeout(() => { if (gen === generation && !open) trouble('timed out'); }, connectTimeoutMs);
    } catch (e) {
      if (gen === generation) trouble(e.message || String(e));
    }
  }

  let unmuteAfterFlush = false;
  function onServerEvent(ev) {
    switch (ev.type) {
      case 'interviewer':
        // A new utterance: its audio follows. After a barge-in the element was muted so that
        // nothing already in the jitter buffer plays on; the next utterance is heard again.
        if (unmuteAfterFlush) { audio.muted = false; unmuteAfterFlush = false; }
        interviewerSpeaking = true;
        break;
      case 'interviewer_audio_end':
        interviewerSpeaking = false;
        break;
      case 'flush':
        // Barge-in: the server has stopped sending; silence what the browser still holds.
        audio.muted = true;
        unmuteAfterFlush = true;
        interviewerSpeaking = false;
        break;
      case 'ended':
        if (ev.reason === 'paused') {
          // The server restarts: keep trying for its resume window, then resume.
          graceMs = Math.max(graceMs, PAUSED_WINDOW_MS);
          lostAt = Date.now();
          handlers.onState('paused', {});
        } else {
          ended = true;
        }
        break;
    }
    handlers.onEvent(ev);
  }

  return {
    kind: 'webrtc',
    connect,
    // Audio travels on the media track; PCM frames are for the WebSocket transport only.
    sendAudio() {},
    sendControl(obj) {
      if (!open || !dc || dc.readyState !== 'open') return false;
      dc.send(JSON.stringify(obj));
      return true;
    },
    close() {
      closedByUs = true;
      clearTimeout(timer);
      const done = () => {
        generation += 1;
        teardown();
        audio.srcObject = null;
        audio.remove();
      };
      if (!dc || dc.readyState !== 'open') return done();
      // Let what was just sent (a `bye`) leave before the connection goes: closing the peer
      // connection at once would drop the data channel's queue.
      const started = Date.now();
      const drain = () => {
        if (dc && dc.bufferedAmount > 0 && Date.now() - started < 1500) return setTimeout(drain, 50);
        setTimeout(done, 250);
      };
      drain();
    },
    /// True while the interviewer's voice is playing (between its `interviewer` event and the
    /// end of its audio, cut short by a barge-in).
    get speaking() { return interviewerSpeaking && !audio.muted; },
    get audioElement() { return audio; },
    /// Packets and levels from the peer connection's statistics (tests, diagnostics).
    async stats() {
      if (!pc) return null;
      const out = { packetsSent: 0, packetsReceived: 0, bytesReceived: 0, totalAudioEnergy: 0, codec: null, candidatePair: null };
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'audio') out.packetsSent += s.packetsSent || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          out.packetsReceived += s.packetsReceived || 0;
          out.bytesReceived += s.bytesReceived || 0;
          out.totalAudioEnergy += s.totalAudioEnergy || 0;
          if (s.codecId && report.get(s.codecId)) out.codec = report.get(s.codecId).mimeType;
        }
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') out.candidatePair = s.id;
      });
      return out;
    },
    // For tests and diagnostics: drop the connection as a network failure would.
    simulateDrop() { if (open) trouble('simulated drop'); },
  };
}

// The transports this page knows; interview.js tries WebRTC first, then the WebSocket.
export const transports = { webrtc: createWebRtcTransport, websocket: createWebSocketTransport };
