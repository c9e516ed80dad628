//! `--job` of `viva simulate` and `viva bench live`: the built-in demo job, or a job file that
//! is filed through the recruiter API so that every simulated candidate joins by an invite of
//! it (the same path a real candidate takes).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::http::InProcessServer;

/// A session job string naming an invite token instead of `demo`.
pub const INVITE_PREFIX: &str = "invite:";

/// What `--job` named.
#[derive(Debug, PartialEq)]
pub enum JobArg {
    Demo,
    File(PathBuf),
}

/// The job, ready for sessions.
pub enum PreparedJob {
    Demo,
    Stored { base_job: String, token: String },
}

impl JobArg {
    pub fn parse(s: &str) -> anyhow::Result<JobArg> {
        if s == "demo" {
            return Ok(JobArg::Demo);
        }
        let p = Path::new(s);
        if p.is_file() {
            Ok(JobArg::File(p.to_path_buf()))
        } else {
            bail!("--job {s:?} is neither \"demo\" nor a job file")
        }
    }

    /// Files a job file's job on the server: directly in an in-process server's database for
    /// the token, otherwise with `VIVA_API_TOKEN`.
    pub async fn prepare(
        self,
        base: &str,
        server: Option<&InProcessServer>,
    ) -> anyhow::Result<PreparedJob> {
        let path = match self {
            JobArg::Demo => return Ok(PreparedJob::Demo),
            JobArg::File(p) => p,
        };
        let toml = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the job file {}", path.display()))?;
        if let Err(e) = viva_interview::JobConfig::from_toml_str(&toml) {
            bail!("{} is not a valid job: {e}", path.display());
        }
        let token = match server.and_then(|s| s.store.as_ref()) {
            Some(store) => store
                .create_api_token("simulation", crate::store::now_ms())
                .await
                .context("creating an API token for the simulation")?,
            None => std::env::var("VIVA_API_TOKEN").context(
                "--job FILE with --server needs a recruiter API token in VIVA_API_TOKEN \
                 (`viva admin token create NAME` prints one)",
            )?,
        };
        let created = post(
            &format!("{base}/v1/jobs"),
            &token,
            serde_json::json!({ "config_toml": toml }),
        )
        .await
        .context("filing the job")?;
        let base_job = created["id"]
            .as_str()
            .context("the job's id is missing from the answer")?
            .to_string();
        Ok(PreparedJob::Stored { base_job, token })
    }
}

impl PreparedJob {
    /// What one session is created with: `demo`, or a fresh invite of the stored job.
    pub async fn session_job(&self, base: &str) -> anyhow::Result<String> {
        match self {
            PreparedJob::Demo => Ok("demo".into()),
            PreparedJob::Stored { base_job, token } => {
                let invite = post(
                    &format!("{base}/v1/jobs/{base_job}/invites"),
                    token,
                    serde_json::json!({ "candidate_name": "Simulated candidate" }),
                )
                .await
                .context("creating an invite")?;
                let t = invite["token"]
                    .as_str()
                    .context("the invite's token is missing from the answer")?;
                Ok(format!("{INVITE_PREFIX}{t}"))
            }
        }
    }
}

async fn post(
    url: &str,
    token: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let resp = super::simulate::http_client()?
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    let text = resp.text().await.context("reading the answer")?;
    if !status.is_success() {
        bail!("POST {url}: {status} {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("POST {url}: not JSON: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_or_an_existing_file() {
        assert_eq!(JobArg::parse("demo").unwrap(), JobArg::Demo);
        let f = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(
            JobArg::parse(&f.path().to_string_lossy()).unwrap(),
            JobArg::File(f.path().to_path_buf())
        );
        let err = JobArg::parse("no/such/job.toml").unwrap_err().to_string();
        assert!(err.contains("neither"), "{err}");
    }
}
