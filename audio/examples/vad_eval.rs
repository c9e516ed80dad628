//! Frame accuracy of the VAD detectors on real speech, clean and noisy.
//!
//! ```text
//! VIVA_MODELS_DIR=… cargo run -p viva-audio --example vad_eval [SPEECH_DIR]
//! ```
//! SPEECH_DIR defaults to `../shared/speech` (a `manifest.tsv` and its WAV files).
//!
//! Method: each file is resampled to 16 kHz and padded with 1 s of silence on both sides (an
//! interview is mostly pauses). Reference labels come from the **clean** signal by energy
//! (10 ms frames above the file's 95th-percentile level − 35 dB; gaps under 150 ms inside
//! speech filled, since a stop consonant is not a pause), which is reliable on clean read speech
//! and independent of every detector under test. Noise is mixed at 10 dB and 0 dB SNR relative
//! to the speech-active power: white Gaussian noise, and babble (five other files of the set
//! summed). Each detector's decision for a chunk applies to every 10 ms frame inside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use viva_audio::vad::provision::{default_models_dir, locate_onnxruntime, locate_vad_model};
use viva_audio::vad::{onnx_environment, EnergyVad, SileroModel, SileroVad, WebRtcMode, WebRtcVad};
use viva_audio::{read_wav, resample, AudioFrame, VadStream, VoiceActivityDetector};

/// Builds a fresh detector per file (detectors are stateful).
type MakeDetector = Box<dyn Fn() -> Box<dyn VoiceActivityDetector>>;

const RATE: usize = 16_000;
const HOP: usize = 160; // 10 ms label frames

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32) / ((1u64 << 24) as f32)
    }
    fn gauss(&mut self) -> f32 {
        let (u, v) = (self.next().max(1e-7), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos()
    }
}

fn labels(clean: &[f32]) -> Vec<bool> {
    let db: Vec<f32> = clean
        .chunks(HOP)
        .map(|c| 10.0 * (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32 + 1e-12).log10())
        .collect();
    let mut sorted = db.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let p95 = sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)];
    let mut l: Vec<bool> = db.iter().map(|d| *d > p95 - 35.0).collect();
    // Fill gaps shorter than 150 ms between speech frames.
    let mut i = 0;
    while i < l.len() {
        if !l[i] {
            let j = (i..l.len()).find(|&k| l[k]).unwrap_or(l.len());
            if i > 0 && j < l.len() && j - i < 15 {
                l[i..j].fill(true);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    l
}

fn run(det: Box<dyn VoiceActivityDetector>, audio: &[f32], n_frames: usize) -> (Vec<bool>, f64) {
    let mut s = VadStream::new(det, 0.5);
    let frame = AudioFrame::new(audio.to_vec(), 16_000, 0).expect("finite audio");
    let t = Instant::now();
    let chunks = s.push(&frame).expect("vad");
    let secs = t.elapsed().as_secs_f64();
    let mut out = vec![false; n_frames];
    for c in chunks {
        let (a, b) = (c.start as usize / HOP, (c.end as usize).div_ceil(HOP));
        for f in out.iter_mut().take(b.min(n_frames)).skip(a) {
            *f |= c.speech;
        }
    }
    (out, secs)
}

#[derive(Default, Clone, Copy)]
struct Score {
    tp: u64,
    tn: u64,
    fp: u64,
    fn_: u64,
    secs: f64,
    audio_secs: f64,
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/speech"));
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest.tsv");
    let mut clips = Vec::new();
    for line in manifest.lines().skip(1) {
        let Some(name) = line.split('\t').next() else {
            continue;
        };
        let a = read_wav(&dir.join(name)).expect("wav");
        let mut x = resample(&a.samples, a.sample_rate, 16_000).expect("resample");
        let peak = x.iter().fold(0.0f32, |m, s| m.max(s.abs())).max(1e-6);
        x.iter_mut().for_each(|s| *s *= 0.5 / peak);
        let mut padded = vec![0.0; RATE];
        padded.extend_from_slice(&x);
        padded.extend(std::iter::repeat_n(0.0, RATE));
        clips.push((name.to_string(), padded));
    }
    let models = default_models_dir();
    let silero = locate_vad_model(&models)
        .and_then(|m| Ok((m, locate_onnxruntime(&models)?)))
        .and_then(|(m, lib)| SileroModel::load(onnx_environment(&lib)?, &m))
        .map(Arc::new);
    if let Err(e) = &silero {
        eprintln!("Silero unavailable ({e}); evaluating the others only");
    }
    let detectors: Vec<(&str, MakeDetector)> = {
        let mut d: Vec<(&str, MakeDetector)> = Vec::new();
        if let Ok(m) = &silero {
            let m = m.clone();
            d.push((
                "silero",
                Box::new(move || Box::new(SileroVad::new(m.clone()))),
            ));
        }
        for (name, mode) in [
            ("webrtc-0 quality", WebRtcMode::Quality),
            ("webrtc-1 lowbitrate", WebRtcMode::LowBitrate),
            ("webrtc-2 aggressive", WebRtcMode::Aggressive),
            ("webrtc-3 very-aggr.", WebRtcMode::VeryAggressive),
        ] {
            d.push((name, Box::new(move || Box::new(WebRtcVad::new(mode)))));
        }
        d.push(("energy", Box::new(|| Box::new(EnergyVad::default()))));
        d
    };
    let conditions: [(&str, Option<(bool, f32)>); 5] = [
        ("clean", None),
        ("white 10dB", Some((false, 10.0))),
        ("white 0dB", Some((false, 0.0))),
        ("babble 10dB", Some((true, 10.0))),
        ("babble 0dB", Some((true, 0.0))),
    ];
    let total_speech: f64 = clips
        .iter()
        .map(|(_, c)| c.len() as f64 / RATE as f64)
        .sum();
    println!(
        "{} files, {:.1} s (incl. 1 s silence padding each side), labels from clean-signal energy",
        clips.len(),
        total_speech
    );
    println!(
        "{:<22}{:>14}{:>14}{:>14}{:>14}{:>14}   (accuracy % / speech recall % / false-alarm %)",
        "detector", "clean", "white 10dB", "white 0dB", "babble 10dB", "babble 0dB"
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Noisy versions once, shared by all detectors.
    let mut mixed: Vec<Vec<(Vec<f32>, Vec<bool>)>> = Vec::new();
    for (_, cond) in &conditions {
        let mut v = Vec::new();
        for (i, (_, clean)) in clips.iter().enumerate() {
            let lab = labels(clean);
            let speech_pow = {
                let (mut s, mut n) = (0.0f64, 0usize);
                for (f, l) in clean.chunks(HOP).zip(&lab) {
                    if *l {
                        s += f.iter().map(|x| f64::from(x * x)).sum::<f64>();
                        n += f.len();
                    }
                }
                s / n.max(1) as f64
            };
            let x = match cond {
                None => clean.clone(),
                Some((babble, snr)) => {
                    let noise: Vec<f32> = if *babble {
                        let mut b = vec![0.0f32; clean.len()];
                        for k in 1..=5 {
                            let other = &clips[(i + k * 5) % clips.len()].1;
                            let off = (rng.next() * other.len() as f32) as usize;
                            for (j, s) in b.iter_mut().enumerate() {
                                *s += other[(off + j) % other.len()];
                            }
                        }
                        b
                    } else {
                        (0..clean.len()).map(|_| rng.gauss()).collect()
                    };
                    let np =
                        noise.iter().map(|x| f64::from(x * x)).sum::<f64>() / noise.len() as f64;
                    let g = (speech_pow / np.max(1e-12) / 10f64.powf(f64::from(*snr) / 10.0)).sqrt()
                        as f32;
                    clean
                        .iter()
                        .zip(&noise)
                        .map(|(s, n)| (s + g * n).clamp(-1.0, 1.0))
                        .collect()
                }
            };
            v.push((x, lab));
        }
        mixed.push(v);
    }
    for (name, make) in &detectors {
        print!("{name:<22}");
        let mut speed = Score::default();
        for set in &mixed {
            let mut sc = Score::default();
            for (x, lab) in set {
                let (pred, secs) = run(make(), x, lab.len());
                sc.secs += secs;
                sc.audio_secs += x.len() as f64 / RATE as f64;
                for (p, l) in pred.iter().zip(lab) {
                    match (p, l) {
                        (true, true) => sc.tp += 1,
                        (false, false) => sc.tn += 1,
                        (true, false) => sc.fp += 1,
                        (false, true) => sc.fn_ += 1,
                    }
                }
            }
            let n = (sc.tp + sc.tn + sc.fp + sc.fn_) as f64;
            let acc = 100.0 * (sc.tp + sc.tn) as f64 / n;
            let rec = 100.0 * sc.tp as f64 / (sc.tp + sc.fn_).max(1) as f64;
            let fa = 100.0 * sc.fp as f64 / (sc.fp + sc.tn).max(1) as f64;
            print!("{:>14}", format!("{acc:.1}/{rec:.0}/{fa:.0}"));
            speed.secs += sc.secs;
            speed.audio_secs += sc.audio_secs;
        }
        println!("   RTF {:.4}", speed.secs / speed.audio_secs);
    }
    let speech_frames: usize = mixed[0]
        .iter()
        .map(|(_, l)| l.iter().filter(|b| **b).count())
        .sum();
    let all_frames: usize = mixed[0].iter().map(|(_, l)| l.len()).sum();
    println!(
        "labels: {:.1} % of 10 ms frames are speech ({speech_frames} of {all_frames})",
        100.0 * speech_frames as f64 / all_frames as f64
    );
}
