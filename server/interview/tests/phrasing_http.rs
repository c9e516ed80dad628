//! The HTTP phraser against a local stub of `/v1/chat/completions` on 127.0.0.1: a good
//! phrasing is used, and a slow, failing, unreachable or unsafe one falls back to the engine's
//! own words within the deadline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use viva_interview::guard::TopicGuard;
use viva_interview::phrasing::{phrase_or_default, Phraser, PhrasingError, PhrasingRequest};
use viva_interview::phrasing_http::{HttpPhraser, HttpPhraserConfig};

#[derive(Clone)]
struct Stub {
    reply: &'static str,
    delay_ms: u64,
    status: StatusCode,
    seen: Arc<Mutex<Vec<serde_json::Value>>>,
}

async fn completions(
    State(stub): State<Stub>,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, Json<serde_json::Value>) {
    stub.seen.lock().unwrap().push(body);
    tokio::time::sleep(Duration::from_millis(stub.delay_ms)).await;
    (
        stub.status,
        Json(serde_json::json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": stub.reply}}]
        })),
    )
}

/// Starts a stub on a free port of 127.0.0.1 in a background runtime; returns its URL.
fn serve(stub: Stub) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = Router::new()
                .route("/v1/chat/completions", post(completions))
                .with_state(stub);
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

fn stub(reply: &'static str, delay_ms: u64, status: StatusCode) -> Stub {
    Stub {
        reply,
        delay_ms,
        status,
        seen: Arc::new(Mutex::new(Vec::new())),
    }
}

fn phraser(url: &str) -> HttpPhraser {
    HttpPhraser::new(&HttpPhraserConfig {
        url: url.into(),
        model: "local-model".into(),
        api_key: Some("secret".into()),
    })
    .unwrap()
}

fn request() -> PhrasingRequest {
    PhrasingRequest {
        utterance_id: "u-7".into(),
        default_text: "How did you choose which columns to index?".into(),
        question: "Tell me about a slow query you fixed.".into(),
        last_answer: "I added an index and it got faster.".into(),
        purpose: "Knowledge area: Indexing".into(),
        tone: "Professional".into(),
        role_brief: "Senior backend engineer".into(),
    }
}

#[test]
fn a_good_phrasing_is_used_and_the_request_is_openai_shaped() {
    let s = stub(
        "You said the index made it faster: which columns did it cover, and why?",
        0,
        StatusCode::OK,
    );
    let seen = Arc::clone(&s.seen);
    let url = serve(s);
    let mut p = phraser(&url);
    let got = phrase_or_default(&mut p, &TopicGuard::protected_only(), &request(), 2000);
    assert_eq!(
        got,
        "You said the index made it faster: which columns did it cover, and why?"
    );
    let bodies = seen.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["model"], "local-model");
    assert_eq!(bodies[0]["messages"][0]["role"], "system");
    assert!(bodies[0]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("I added an index"));
}

#[test]
fn a_slow_service_times_out_within_the_deadline() {
    let url = serve(stub("Which columns?", 5000, StatusCode::OK));
    let mut p = phraser(&url);
    let t = Instant::now();
    let r = p.phrase(&request(), 300);
    assert_eq!(r, Err(PhrasingError::Timeout(300)));
    // Generous bound: the point is that it does not wait for the 5 s reply.
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        phrase_or_default(&mut p, &TopicGuard::protected_only(), &request(), 300),
        request().default_text
    );
}

#[test]
fn errors_and_unsafe_phrasings_fall_back_to_the_engine_text() {
    let guard = TopicGuard::protected_only();
    // Server error.
    let url = serve(stub("Which columns?", 0, StatusCode::INTERNAL_SERVER_ERROR));
    let mut p = phraser(&url);
    assert!(
        matches!(p.phrase(&request(), 2000), Err(PhrasingError::Service(m)) if m.contains("500"))
    );
    assert_eq!(
        phrase_or_default(&mut p, &guard, &request(), 2000),
        request().default_text
    );
    // A protected characteristic, or a hint at the score.
    for reply in [
        "Are you married, by the way?",
        "Great answer! Which columns did you pick?",
    ] {
        let url = serve(stub(reply, 0, StatusCode::OK));
        let mut p = phraser(&url);
        assert_eq!(p.phrase(&request(), 2000).as_deref(), Ok(reply));
        assert_eq!(
            phrase_or_default(&mut p, &guard, &request(), 2000),
            request().default_text
        );
    }
    // Nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut p = phraser(&format!("http://{addr}"));
    assert!(matches!(
        p.phrase(&request(), 1000),
        Err(PhrasingError::Service(_)) | Err(PhrasingError::Timeout(_))
    ));
    assert_eq!(
        phrase_or_default(&mut p, &guard, &request(), 1000),
        request().default_text
    );
}
