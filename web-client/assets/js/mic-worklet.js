// AudioWorklet: the microphone at the context's rate → 16 kHz mono PCM16 frames of 20 ms
// (320 samples), plus a level (RMS of the frame) for the meter. Downsampling averages the
// input samples that fall into each output sample's slot (a box low-pass), enough for speech.
class VivaMic extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;
    this.pos = 0;          // input samples consumed into the current output sample
    this.acc = 0;
    this.n = 0;
    this.frame = new Int16Array(320);
    this.fill = 0;
    this.sq = 0;
  }
  process(inputs) {
    const input = inputs[0];
    const ch = input && input[0];
    const len = ch ? ch.length : 128;
    for (let i = 0; i < len; i++) {
      let s = 0;
      if (ch) {
        s = ch[i];
        if (input.length > 1) s = (s + input[1][i]) / 2;
      }
      this.acc += s;
      this.n += 1;
      this.pos += 1;
      if (this.pos >= this.ratio) {
        this.pos -= this.ratio;
        const v = Math.max(-1, Math.min(1, this.acc / this.n));
        this.acc = 0;
        this.n = 0;
        this.sq += v * v;
        this.frame[this.fill++] = v < 0 ? v * 32768 : v * 32767;
        if (this.fill === 320) {
          const out = this.frame;
          this.port.postMessage({ pcm: out, level: Math.sqrt(this.sq / 320) }, [out.buffer]);
          this.frame = new Int16Array(320);
          this.fill = 0;
          this.sq = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor('viva-mic', VivaMic);
