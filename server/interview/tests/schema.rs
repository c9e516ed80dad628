//! `job.schema.json` is generated from the types; this test fails when it is stale.
//! Regenerate with `VIVA_UPDATE_SCHEMA=1 cargo test -p viva-interview --test schema`.

use std::path::PathBuf;

#[test]
fn published_schema_matches_the_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("job.schema.json");
    let generated = viva_interview::job::job_json_schema();
    if std::env::var_os("VIVA_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "job.schema.json is stale; regenerate it with VIVA_UPDATE_SCHEMA=1 cargo test -p viva-interview --test schema"
    );
    let schema: serde_json::Value = serde_json::from_str(&generated).expect("schema is JSON");
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false),
        "unknown keys are rejected"
    );
    assert!(schema["required"]
        .as_array()
        .is_some_and(|r| r.iter().any(|k| k == "rubric")));
}
