//! Dial-in PINs in the database (SQLite and PostgreSQL): one per invite, stored keyed-hashed,
//! and what each state of the invite makes of a typed PIN.

mod common;

use common::TestDb;
use viva_server::store::pins::PinLookup;
use viva_server::store::seed_demo_job;

const HOUR: i64 = 3_600_000;

async fn pins(db: &TestDb) {
    let store = &db.store;
    let now = 1_700_000_000_000;
    let job = seed_demo_job(store, now)
        .await
        .expect("seed")
        .expect("seeded");
    let cand = store
        .create_candidate(Some("Ada"), None, now)
        .await
        .expect("candidate");
    let (inv, _) = store
        .create_invite(&job.id, &cand, HOUR, now)
        .await
        .expect("invite");
    let pin = store.assign_pin(&inv.id, 8, now).await.expect("pin");
    assert_eq!(pin.len(), 8);
    let (other, _) = store
        .create_invite(&job.id, &cand, HOUR, now)
        .await
        .expect("invite");
    let other_pin = store.assign_pin(&other.id, 6, now).await.expect("pin");
    assert_eq!(other_pin.len(), 6);

    // Only a keyed hash is stored.
    let stored: Option<String> = sqlx::query_scalar("SELECT pin_hash FROM invites WHERE id = $1")
        .bind(&inv.id)
        .fetch_one(store.pool())
        .await
        .expect("row");
    let stored = stored.expect("a hash");
    assert!(!stored.contains(&pin) && stored.len() == 64, "{stored}");

    match store.invite_by_pin(&pin, now + 1).await.expect("lookup") {
        PinLookup::Open(i) => assert_eq!(i.id, inv.id),
        other => panic!("expected an open invite, got {other:?}"),
    }
    let wrong = if pin == "12345678" {
        "87654321"
    } else {
        "12345678"
    };
    assert_eq!(
        store.invite_by_pin(wrong, now + 1).await.expect("lookup"),
        PinLookup::Unknown
    );
    assert_eq!(
        store
            .invite_by_pin(&pin, now + 2 * HOUR)
            .await
            .expect("lookup"),
        PinLookup::Expired,
        "past the invite's expiry"
    );

    // Used once; then the PIN leads to its interview (for a rejoin), never to a second one.
    let used = store
        .redeem_invite_id(&inv.id, now + 2)
        .await
        .expect("redeem");
    assert!(used.is_some());
    assert!(
        store
            .redeem_invite_id(&inv.id, now + 3)
            .await
            .expect("redeem")
            .is_none(),
        "single use"
    );
    let iv = store
        .create_interview(&job.id, job.version, &cand, Some(&inv.id), now + 2)
        .await
        .expect("interview");
    store
        .start_interview(&iv, "sess0001", "sess0001/recording.wav", now + 2)
        .await
        .expect("start");
    match store.invite_by_pin(&pin, now + 4).await.expect("lookup") {
        PinLookup::Used {
            interview_id,
            session_id,
            state,
            ..
        } => {
            assert_eq!(interview_id.as_deref(), Some(iv.as_str()));
            assert_eq!(session_id.as_deref(), Some("sess0001"));
            assert_eq!(state.as_deref(), Some("in_progress"));
        }
        other => panic!("expected a used invite, got {other:?}"),
    }

    store
        .revoke_invite(&other.id, now + 5)
        .await
        .expect("revoke");
    assert_eq!(
        store
            .invite_by_pin(&other_pin, now + 6)
            .await
            .expect("lookup"),
        PinLookup::Revoked
    );
}
on_both!(pins_sqlite, pins_postgres, pins);
