//! Command-line entry points for the `viva` binary to wire in:
//! `viva say` ([`SayArgs`], [`run_say`]) and `viva bench-tts` ([`BenchTtsArgs`], [`run_bench_tts`]).

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::TtsError;
use crate::piper::PiperOptions;
use crate::provision::{default_models_dir, VoicePaths};
use crate::{CancelToken, PromptCache, SampleRate, Voice, VoiceChoice};

/// `viva say "text" --out file.wav`: speak a text into a WAV file, for trying voices.
#[derive(clap::Args, Debug, Clone)]
pub struct SayArgs {
    /// What to say.
    pub text: String,
    /// Output WAV file (16-bit mono).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Engine: auto (Piper if provisioned, else espeak-ng), espeak or piper.
    #[arg(long, value_enum, default_value_t = VoiceChoice::Auto)]
    pub voice: VoiceChoice,
    /// Output sample rate: 8000, 16000, 24000 or 48000.
    #[arg(long, default_value_t = 24_000)]
    pub rate: u32,
    /// Where `viva models fetch` put the voice (default: $VIVA_MODELS_DIR or models/store).
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
}

/// What [`run_say`] did, for the binary to print.
#[derive(Debug, Clone)]
pub struct SayReport {
    pub voice: String,
    pub out: PathBuf,
    pub audio: Duration,
    pub first_audio: Duration,
    pub total: Duration,
}

impl fmt::Display for SayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} ({:.2} s of audio, voice {}): first audio after {} ms, done after {} ms",
            self.out.display(),
            self.audio.as_secs_f64(),
            self.voice,
            self.first_audio.as_millis(),
            self.total.as_millis()
        )
    }
}

pub fn run_say(args: &SayArgs) -> Result<SayReport, TtsError> {
    let rate = SampleRate::try_from(args.rate)?;
    let models_dir = args.models_dir.clone().unwrap_or_else(default_models_dir);
    let voice = Voice::load(args.voice, &models_dir, &PiperOptions::default())?;
    let start = Instant::now();
    let mut first = None;
    let mut samples = Vec::new();
    for chunk in voice.speak(&args.text, rate, &CancelToken::new())? {
        let chunk = chunk?;
        first.get_or_insert_with(|| start.elapsed());
        samples.extend_from_slice(&chunk.samples);
    }
    let total = start.elapsed();
    crate::write_wav(&args.out, &samples, rate.hz())?;
    Ok(SayReport {
        voice: voice.voice_id().to_string(),
        out: args.out.clone(),
        audio: Duration::from_secs_f64(samples.len() as f64 / f64::from(rate.hz())),
        first_audio: first.unwrap_or(total),
        total,
    })
}

/// The benchmark question: 25 words, with the jargon the lexicon exists for.
pub const BENCH_QUESTION: &str =
    "Walk me through how you would design an idempotent payment API on PostgreSQL, \
     and how exactly you would handle retries when a request times out?";

/// `viva bench-tts`: time to first audio (cache miss and hit) and real-time factor per engine.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchTtsArgs {
    /// Engines to measure; default: espeak, and piper when provisioned.
    #[arg(long, value_enum)]
    pub voice: Vec<VoiceChoice>,
    /// Output sample rate.
    #[arg(long, default_value_t = 16_000)]
    pub rate: u32,
    /// ONNX threads for the neural voice (the target machine has 2 cores).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Timed runs per measurement (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Text to speak instead of the built-in 25-word question.
    #[arg(long)]
    pub text: Option<String>,
    /// Where `viva models fetch` put the voice (default: $VIVA_MODELS_DIR or models/store).
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
}

/// One engine's numbers.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub voice: String,
    pub load: Duration,
    pub first_audio_miss: Duration,
    pub first_audio_hit: Duration,
    pub render_all: Duration,
    pub audio: Duration,
    /// Render time / audio time for the whole question (lower is faster; < 1 is real time).
    pub rtf: f64,
    /// CPU seconds (all threads) per second of audio: the cost independent of other load.
    pub cpu_per_audio: Option<f64>,
}

/// All rows, printable as a table.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub words: usize,
    pub rate: u32,
    pub rows: Vec<BenchRow>,
    pub skipped: Vec<String>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}-word question, output {} Hz, medians; ms = wall milliseconds",
            self.words, self.rate
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>14} {:>13} {:>10} {:>8} {:>7} {:>9}",
            "voice",
            "load ms",
            "1st audio miss",
            "1st audio hit",
            "render ms",
            "audio s",
            "RTF",
            "CPU s/s"
        )?;
        for r in &self.rows {
            let cpu = r
                .cpu_per_audio
                .map_or_else(|| "-".to_string(), |c| format!("{c:.3}"));
            writeln!(
                f,
                "{:<28} {:>8} {:>14.1} {:>13.2} {:>10.1} {:>8.2} {:>7.3} {:>9}",
                r.voice,
                r.load.as_millis(),
                r.first_audio_miss.as_secs_f64() * 1e3,
                r.first_audio_hit.as_secs_f64() * 1e3,
                r.render_all.as_secs_f64() * 1e3,
                r.audio.as_secs_f64(),
                r.rtf,
                cpu
            )?;
        }
        for s in &self.skipped {
            writeln!(f, "skipped: {s}")?;
        }
        Ok(())
    }
}

/// CPU time of the whole process (all threads) so far, from /proc (Linux; `None` elsewhere).
/// Reported beside wall time because a shared 2-core machine makes wall time depend on neighbours.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ")" (0-based 11, 12).
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux we run on.
    Some(Duration::from_millis(ticks * 10))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub fn run_bench_tts(args: &BenchTtsArgs) -> Result<BenchReport, TtsError> {
    let rate = SampleRate::try_from(args.rate)?;
    let models_dir = args.models_dir.clone().unwrap_or_else(default_models_dir);
    let text = args
        .text
        .clone()
        .unwrap_or_else(|| BENCH_QUESTION.to_string());
    let runs = args.runs.max(1);
    let mut skipped = Vec::new();
    let voices: Vec<VoiceChoice> = if args.voice.is_empty() {
        let mut v = vec![VoiceChoice::Espeak];
        match VoicePaths::locate(&models_dir) {
            Ok(_) => v.push(VoiceChoice::Piper),
            Err(e) => skipped.push(format!("piper: {e}")),
        }
        v
    } else {
        args.voice.clone()
    };
    let options = PiperOptions {
        threads: args.threads.max(1),
        ..PiperOptions::default()
    };
    let cache_dir = std::env::temp_dir().join(format!("viva-tts-bench-{}", std::process::id()));
    let mut rows = Vec::new();
    for choice in voices {
        let t0 = Instant::now();
        let voice = Voice::load(choice, &models_dir, &options)?;
        let load = t0.elapsed();
        // Warm-up: the first inference pays one-off allocations.
        voice.synthesize_all(&text, rate)?;
        let mut miss = Vec::new();
        let mut all = Vec::new();
        let mut audio = Duration::ZERO;
        let cpu_start = process_cpu_time();
        for _ in 0..runs {
            let start = Instant::now();
            let mut first = None;
            let mut samples = 0usize;
            for chunk in voice.speak(&text, rate, &CancelToken::new())? {
                let chunk = chunk?;
                first.get_or_insert_with(|| start.elapsed());
                samples += chunk.samples.len();
            }
            all.push(start.elapsed());
            miss.push(first.unwrap_or_default());
            audio = Duration::from_secs_f64(samples as f64 / f64::from(rate.hz()));
        }
        let cpu = match (cpu_start, process_cpu_time()) {
            (Some(a), Some(b)) => Some(
                b.saturating_sub(a).as_secs_f64() / (audio.as_secs_f64() * runs as f64).max(1e-9),
            ),
            _ => None,
        };
        let _ = std::fs::remove_dir_all(&cache_dir);
        let cached = voice.clone().with_cache(PromptCache::open(&cache_dir)?);
        cached.prerender(std::slice::from_ref(&text), rate)?;
        let mut hit = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let mut u = cached.speak(&text, rate, &CancelToken::new())?;
            let first = u.next().transpose()?;
            hit.push(start.elapsed());
            if !first.is_some_and(|c| c.from_cache) {
                return Err(TtsError::Cache {
                    path: cache_dir.clone(),
                    reason: "prerendered prompt missed".into(),
                });
            }
        }
        let _ = std::fs::remove_dir_all(&cache_dir);
        let render_all = median(all);
        rows.push(BenchRow {
            voice: voice.voice_id().to_string(),
            load,
            first_audio_miss: median(miss),
            first_audio_hit: median(hit),
            render_all,
            audio,
            rtf: render_all.as_secs_f64() / audio.as_secs_f64().max(1e-9),
            cpu_per_audio: cpu,
        });
    }
    Ok(BenchReport {
        words: text.split_whitespace().count(),
        rate: rate.hz(),
        rows,
        skipped,
    })
}
