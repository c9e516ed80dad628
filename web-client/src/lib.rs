//! The browser pages, compiled into the `viva` binary so a deployment is one file and no CDN
//! is ever contacted. Plain HTML, CSS and JavaScript modules: no framework, no build step.
//!
//! - `/interview` (and an invite link `/i/<token>`): the candidate's page — intro and consent,
//!   microphone check, the live interview over a transport (`js/transport.js`), the end.
//! - `/dashboard`: the recruiter's page — jobs, invites, ranked candidates, report, replay.

/// An embedded file: its bytes and its content type.
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

macro_rules! assets {
    ($($path:literal => $file:literal, $mime:expr;)*) => {
        fn embedded(path: &str) -> Option<Asset> {
            match path {
                $($path => Some(Asset { bytes: include_bytes!(concat!("../assets/", $file)), content_type: $mime }),)*
                _ => None,
            }
        }
        /// Every embedded URL path.
        pub const PATHS: &[&str] = &[$($path),*];
    };
}

assets! {
    "" => "index.html", HTML;
    "index.html" => "index.html", HTML;
    "interview" => "interview.html", HTML;
    "dashboard" => "dashboard.html", HTML;
    "viva.css" => "viva.css", CSS;
    "js/transport.js" => "js/transport.js", JS;
    "js/audio.js" => "js/audio.js", JS;
    "js/mic-worklet.js" => "js/mic-worklet.js", JS;
    "js/interview.js" => "js/interview.js", JS;
    "js/dashboard.js" => "js/dashboard.js", JS;
    "js/replay.js" => "js/replay.js", JS;
    "js/dom.js" => "js/dom.js", JS;
}

/// Looks up an embedded asset by its URL path (without the leading slash). An invite link
/// `i/<token>` is the candidate page (the page reads the token from its address).
pub fn asset(path: &str) -> Option<Asset> {
    match path.strip_prefix("i/") {
        Some(token) if is_token(token) => embedded("interview"),
        _ => embedded(path),
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_listed_asset_exists_and_unknown_paths_do_not() {
        for p in super::PATHS {
            let a = super::asset(p).expect("listed asset");
            assert!(!a.bytes.is_empty(), "{p} is empty");
        }
        assert!(super::asset("../Cargo.toml").is_none());
        assert!(super::asset("js/../Cargo.toml").is_none());
    }

    #[test]
    fn invite_links_open_the_candidate_page() {
        let page = super::asset("i/0123abcdef").expect("invite page");
        assert_eq!(page.bytes, super::asset("interview").unwrap().bytes);
        assert!(super::asset("i/").is_none());
        assert!(super::asset("i/a/b").is_none());
    }

    #[test]
    fn pages_load_only_embedded_scripts_and_styles() {
        // No CDN: every src/href a page names is one of ours.
        for page in ["index.html", "interview", "dashboard"] {
            let html = std::str::from_utf8(super::asset(page).unwrap().bytes).unwrap();
            for attr in ["src=\"", "href=\""] {
                for part in html.split(attr).skip(1) {
                    let url = part.split('"').next().unwrap();
                    if url.starts_with('#')
                        || url.starts_with("data:")
                        || url == "/healthz"
                        || url.starts_with("/interview")
                        || url == "/dashboard"
                    {
                        continue;
                    }
                    let path = url.trim_start_matches('/');
                    assert!(
                        super::asset(path).is_some(),
                        "{page} loads {url}, which is not embedded"
                    );
                }
            }
        }
        // Module imports inside the scripts are embedded too.
        for p in super::PATHS.iter().filter(|p| p.ends_with(".js")) {
            let js = std::str::from_utf8(super::asset(p).unwrap().bytes).unwrap();
            for part in js.split("from './").skip(1) {
                let file = part.split('\'').next().unwrap();
                assert!(
                    super::asset(&format!("js/{file}")).is_some(),
                    "{p} imports {file}"
                );
            }
        }
    }
}
