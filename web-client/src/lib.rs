//! The browser pages, compiled into the `viva` binary so a deployment is one file and no CDN
//! is ever contacted.

/// An embedded file: its bytes and its content type.
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
}

macro_rules! assets {
    ($($path:literal => $file:literal, $mime:literal;)*) => {
        /// Looks up an embedded asset by its URL path (without the leading slash).
        pub fn asset(path: &str) -> Option<Asset> {
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
    "" => "index.html", "text/html; charset=utf-8";
    "index.html" => "index.html", "text/html; charset=utf-8";
    "viva.css" => "viva.css", "text/css; charset=utf-8";
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
    }
}
