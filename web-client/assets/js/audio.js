// Microphone capture and interviewer playback (Web Audio).

/// Why the microphone could not be opened, in words a candidate can act on.
export function micErrorMessage(err) {
  const name = err && err.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Microphone access was denied. Allow the microphone for this site (the icon at the left of the address bar), then press "Try again". You can also answer by typing.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return 'No microphone was found. Connect one and press "Try again", or continue with typed answers.';
  }
  if (name === 'NotReadableError') {
    return 'The microphone is in use by another application or could not start. Close other apps that use it and press "Try again".';
  }
  if (!navigator.mediaDevices) {
    return 'This browser cannot use a microphone on this page (it needs https or localhost). You can answer by typing.';
  }
  return `The microphone could not be opened (${name || err}).`;
}

/// Opens a microphone (or, with deviceId === null, a silent source so the interview can run
/// on typed answers) and calls onFrame(Int16Array) every 20 ms and onLevel(0..1).
export async function openMic({ deviceId, silent = false, onFrame, onLevel }) {
  const ctx = new AudioContext();
  await ctx.audioWorklet.addModule('/js/mic-worklet.js');
  let stream = null;
  let source;
  if (silent) {
    source = new ConstantSourceNode(ctx, { offset: 0 });
    source.start();
  } else {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        deviceId: deviceId ? { exact: deviceId } : undefined,
        echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1,
      },
    });
    source = ctx.createMediaStreamSource(stream);
  }
  // One (silent) output into the destination keeps the node pulled by the renderer.
  const node = new AudioWorkletNode(ctx, 'viva-mic', { numberOfInputs: 1, numberOfOutputs: 1 });
  const mute = new GainNode(ctx, { gain: 0 });
  node.connect(mute).connect(ctx.destination);
  node.port.onmessage = (m) => {
    onFrame && onFrame(m.data.pcm);
    onLevel && onLevel(m.data.level);
  };
  source.connect(node);
  if (ctx.state === 'suspended') await ctx.resume().catch(() => {});
  const track = stream && stream.getAudioTracks()[0];
  // What a WebRTC transport sends: the microphone itself (the browser's echo cancellation,
  // noise suppression and gain control applied), or a silent track without one.
  let outStream = stream;
  if (!outStream) {
    const dest = ctx.createMediaStreamDestination();
    source.connect(dest);
    outStream = dest.stream;
  }
  return {
    label: track ? track.label : 'no microphone (typed answers)',
    deviceId: track ? track.getSettings().deviceId : null,
    stream: outStream,
    setHandlers(h) { onFrame = h.onFrame ?? onFrame; onLevel = h.onLevel ?? onLevel; },
    async close() {
      try { source.disconnect(); } catch {}
      if (stream) stream.getTracks().forEach((t) => t.stop());
      await ctx.close().catch(() => {});
    },
  };
}

/// Lists microphones (labels appear once permission was granted).
export async function listMics() {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === 'audioinput');
}

/// Plays the interviewer's 16 kHz PCM16 frames in order. A small jitter buffer (prebufferMs)
/// absorbs uneven arrival; flush() drops everything not yet played (barge-in).
export function createPlayer({ prebufferMs = 80, onSpeaking } = {}) {
  const ctx = new AudioContext();
  let queue = [];        // frames waiting for the prebuffer
  let queuedMs = 0;
  let nextTime = 0;
  let playing = new Set();
  let speaking = false;
  let timer = null;

  const setSpeaking = (v) => {
    if (v !== speaking) { speaking = v; onSpeaking && onSpeaking(v); }
  };

  function schedule(frames) {
    const total = frames.reduce((n, f) => n + f.length, 0);
    if (!total) return;
    const buf = ctx.createBuffer(1, total, 16000);
    const data = buf.getChannelData(0);
    let at = 0;
    for (const f of frames) {
      for (let i = 0; i < f.length; i++) data[at + i] = f[i] / 32768;
      at += f.length;
    }
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    const now = ctx.currentTime;
    if (nextTime < now + 0.02) nextTime = now + 0.02;  // underrun: restart a little ahead
    src.start(nextTime);
    nextTime += buf.duration;
    playing.add(src);
    setSpeaking(true);
    src.onended = () => {
      playing.delete(src);
      if (!playing.size && !queue.length) setSpeaking(false);
    };
  }

  function drain() {
    clearTimeout(timer);
    timer = null;
    if (queue.length) { schedule(queue); queue = []; queuedMs = 0; }
  }

  return {
    push(frame) {
      if (ctx.state === 'suspended') ctx.resume().catch(() => {});
      const idle = !playing.size;
      if (idle && queuedMs < prebufferMs) {
        queue.push(frame);
        queuedMs += (frame.length / 16000) * 1000;
        if (queuedMs >= prebufferMs) drain();
        else if (!timer) timer = setTimeout(drain, prebufferMs);   // a short utterance
        return;
      }
      queue.push(frame);
      drain();
    },
    flush() {
      clearTimeout(timer);
      timer = null;
      queue = [];
      queuedMs = 0;
      for (const s of playing) { try { s.stop(); } catch {} }
      playing.clear();
      nextTime = 0;
      setSpeaking(false);
    },
    get speaking() { return speaking; },
    resume() { return ctx.resume(); },
    close() { this.flush(); return ctx.close().catch(() => {}); },
  };
}
