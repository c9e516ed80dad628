// Transports carry one live interview between the page and the server.
//
// Interface (what interview.js relies on; a WebRTC transport implements the same):
//   const t = createXTransport(session, handlers)
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
// keeps the session (its grace period, 60 s by default).

export const PROTOCOL = 1;

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
  const graceMs = options.graceMs ?? 60000;
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

// The transports this page knows, best first. A WebRTC transport registers itself here.
export const transports = { websocket: createWebSocketTransport };
