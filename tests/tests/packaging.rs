//! `make package`: the tarball and the .deb hold a working binary, the example config, the
//! hardened systemd unit and the install guide; the unit passes `systemd-analyze verify`.

use std::path::Path;
use std::process::Command;

use viva_e2e::*;

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn found(dir: &Path, ext: &str) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .expect("out dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(ext))
        .unwrap_or_else(|| panic!("no *{ext} in {}", dir.display()))
}

#[test]
fn package_builds_a_tarball_and_a_deb_that_install_a_hardened_service() {
    let out = tempfile::tempdir().expect("tmp");
    let script = workspace_root().join("scripts/package.sh");
    let printed = ok(Command::new("bash")
        .arg(&script)
        .arg("--binary")
        .arg(viva_bin())
        .arg("--out")
        .arg(out.path()));
    assert!(
        printed.contains(".tar.gz") && printed.contains(".deb"),
        "{printed}"
    );

    // The tarball: everything an operator needs, and a binary that runs.
    let tarball = found(out.path(), ".tar.gz");
    let listing = ok(Command::new("tar").arg("-tzf").arg(&tarball));
    for f in [
        "bin/viva",
        "viva.example.toml",
        "INSTALL.md",
        "README.md",
        "systemd/viva.service",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(f)),
            "{f} missing: {listing}"
        );
    }
    let x = tempfile::tempdir().expect("tmp");
    ok(Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(x.path()));
    let root = std::fs::read_dir(x.path())
        .expect("extracted")
        .next()
        .expect("one folder")
        .expect("entry")
        .path();
    let version = ok(Command::new(root.join("bin/viva")).arg("--version"));
    assert!(version.starts_with("viva "), "{version}");
    // Debug info is stripped: the packaged binary is smaller than the built one.
    let packaged = std::fs::metadata(root.join("bin/viva")).expect("bin").len();
    let built = std::fs::metadata(viva_bin()).expect("bin").len();
    assert!(packaged < built, "{packaged} vs {built}");

    // The .deb: its metadata, files and maintainer scripts.
    let deb = found(out.path(), ".deb");
    let info = ok(Command::new("dpkg-deb").arg("--info").arg(&deb));
    assert!(info.contains("Package: viva"), "{info}");
    assert!(
        info.contains("viva models fetch"),
        "description cut short: {info}"
    );
    assert!(
        info.contains("libopus0") && info.contains("libespeak-ng1"),
        "{info}"
    );
    for script in ["postinst", "prerm", "postrm"] {
        assert!(info.contains(script), "{script} missing: {info}");
    }
    let contents = ok(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for f in [
        "./usr/bin/viva",
        "./lib/systemd/system/viva.service",
        "./usr/share/doc/viva/viva.example.toml",
        "./usr/share/doc/viva/INSTALL.md",
    ] {
        assert!(contents.contains(f), "{f} missing: {contents}");
    }
    let control = tempfile::tempdir().expect("tmp");
    ok(Command::new("dpkg-deb")
        .arg("--control")
        .arg(&deb)
        .arg(control.path()));
    for script in ["postinst", "prerm", "postrm"] {
        ok(Command::new("sh")
            .arg("-n")
            .arg(control.path().join(script)));
    }

    // The unit: its own user, restarts on failure, stops with SIGTERM into the drain, hardened.
    let unit = std::fs::read_to_string(root.join("systemd/viva.service")).expect("unit");
    for line in [
        "User=viva",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
        "ExecStart=/usr/bin/viva serve",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "{line} missing from the unit"
        );
    }
    // systemd's own checker, where systemd is installed (it checks ExecStart exists, so point
    // a copy at the extracted binary).
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        let copy = x.path().join("viva.service");
        let exe = root.join("bin/viva");
        std::fs::write(&copy, unit.replace("/usr/bin/viva", &exe.to_string_lossy()))
            .expect("unit copy");
        let out = run(Command::new("systemd-analyze").arg("verify").arg(&copy));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "systemd-analyze verify: {err}");
    }
}
