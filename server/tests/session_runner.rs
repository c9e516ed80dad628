//! The session runner with scripted workers (no model files): the same task the gateways drive,
//! with `viva_models::workers::scripted` in place of Whisper, the voice and Silero. Real time
//! (the runner owns a wall clock), a few seconds.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use viva_models::workers::scripted::{EnergyActivity, ScriptedSpeech, ScriptedTranscriber};
use viva_models::workers::PassKind;
use viva_server::session::runner::{self, SessionParts, INBOUND_CAPACITY, OUTBOUND_CAPACITY};
use viva_server::session::{Engines, Inbound, Outbound, ServerEvent, SessionConfig};

const ANSWER: &str =
    "I have built payment systems for six years and I led our migration to Postgres.";
const MS_PER_WORD: u64 = 200;

/// 20 ms frames: `voiced_ms` of a speech-loud tone, then `silent_ms` of near silence.
fn answer_frames(voiced_ms: usize, silent_ms: usize) -> Vec<Vec<f32>> {
    let mut t = 0usize;
    let mut frames = Vec::new();
    for i in 0..(voiced_ms + silent_ms) / 20 {
        let voiced = i * 20 < voiced_ms;
        frames.push(
            (0..320)
                .map(|_| {
                    t += 1;
                    let x = t as f32 * 2.0 * std::f32::consts::PI / 16_000.0;
                    if voiced {
                        0.3 * (x * 180.0).sin() + 0.1 * (x * 1_100.0).sin()
                    } else {
                        0.0005 * (x * 50.0).sin()
                    }
                })
                .collect(),
        );
    }
    frames
}

async fn next_event(
    out_rx: &mut mpsc::Receiver<Outbound>,
    seen: &mut Vec<ServerEvent>,
    want: impl Fn(&ServerEvent) -> bool,
) -> ServerEvent {
    let wait = async {
        while let Some(msg) = out_rx.recv().await {
            if let Outbound::Event(e) = msg {
                seen.push(e.clone());
                if want(&e) {
                    return Some(e);
                }
            }
        }
        None
    };
    match tokio::time::timeout(Duration::from_secs(20), wait).await {
        Ok(Some(e)) => e,
        Ok(None) => panic!("the session ended early; events: {seen:#?}"),
        Err(_) => panic!("timed out; events so far: {seen:#?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_answer_goes_through_the_runner_to_the_next_question() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let transcriber = Arc::new(ScriptedTranscriber::new(ANSWER, MS_PER_WORD));
    let speech = Arc::new(ScriptedSpeech::new(15));
    let engines = Arc::new(
        Engines::new(
            transcriber.clone(),
            speech.clone(),
            Arc::new(EnergyActivity),
            None,
            2,
        )
        .expect("engines"),
    );
    let config = SessionConfig::new(tmp.path());
    let (in_tx, in_rx) = mpsc::channel(INBOUND_CAPACITY);
    let (out_tx, mut out_rx) = mpsc::channel(OUTBOUND_CAPACITY);
    let dir = tmp.path().join("s1");
    std::fs::create_dir_all(&dir).expect("dir");
    let task = runner::spawn(
        SessionParts {
            id: "s1".into(),
            job: viva_interview::demo_job(),
            dir: dir.clone(),
            journal: None,
            restored: None,
        },
        engines,
        config,
        in_rx,
        out_tx,
    )
    .expect("spawn");
    in_tx
        .send(Inbound::Attached { resumed: false })
        .await
        .expect("attach");

    let mut seen = Vec::new();
    // The opening: the interviewer speaks until it waits for an answer, and its audio ends.
    next_event(&mut out_rx, &mut seen, |e| {
        matches!(
            e,
            ServerEvent::InterviewerAudioEnd {
                awaits_answer: true,
                ..
            }
        )
    })
    .await;
    let asked = speech.spoken();
    assert!(!asked.is_empty(), "the scripted voice rendered the opening");

    // The answer, paced in real time as a transport delivers it, then silence.
    let words = ANSWER.split_whitespace().count();
    let voiced_ms = words * MS_PER_WORD as usize + 100;
    let feeder = {
        let in_tx = in_tx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            for frame in answer_frames(voiced_ms, 4_000) {
                tick.tick().await;
                if in_tx.send(Inbound::Audio(frame)).await.is_err() {
                    return;
                }
            }
        })
    };
    let ServerEvent::Caption { text, turn, .. } = next_event(&mut out_rx, &mut seen, |e| {
        matches!(e, ServerEvent::Caption { is_final: true, .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(
        text, ANSWER,
        "the final caption is the whole scripted answer"
    );
    let next = next_event(&mut out_rx, &mut seen, |e| {
        matches!(e, ServerEvent::Interviewer { .. })
    })
    .await;
    let ServerEvent::Interviewer { text: reply, .. } = next else {
        unreachable!()
    };
    assert!(!reply.is_empty(), "the interviewer replies to turn {turn}");
    // The event goes out as the utterance is queued; its rendering follows on the voice pool.
    let rendered = async {
        while !speech.spoken().iter().any(|t| t == &reply) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), rendered)
        .await
        .expect("the reply was rendered by the voice worker");
    let passes = transcriber.passes();
    assert!(
        passes
            .iter()
            .any(|k| matches!(k, PassKind::Endpoint | PassKind::Final)),
        "the turn's text came from an endpoint or final pass: {passes:?}"
    );
    feeder.abort();

    // The candidate hangs up: the session ends and has written the answer to its transcript.
    in_tx.send(Inbound::Bye).await.expect("bye");
    let reason = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the session ends after a goodbye")
        .expect("the runner task");
    assert!(!reason.is_empty());
    let turns = std::fs::read_to_string(dir.join("turns.json")).expect("turns.json written");
    assert!(
        turns.contains("migration to Postgres"),
        "the answer is in the saved transcript: {turns}"
    );
}
