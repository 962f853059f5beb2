//! Writes the documents for kapi's built-in resources into a directory, laid out like the server's URL space:
//! `openapi/v2.json`, `openapi/v2.pb` (gnostic protobuf), `openapi/v3.json` (the index) and
//! `openapi/v3/<group-version>.json`. Useful to inspect them or to serve them from a static file server.
//!
//! `cargo run -p kapi-openapi --example dump_openapi -- OUT_DIR`

use std::{fs, path::PathBuf, process::ExitCode};

use kapi_openapi::{build_v2, build_v3, builtin_resources, encode_v2_document, ApiSurface, Definitions};

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: dump_openapi OUT_DIR");
        return ExitCode::FAILURE;
    };
    match dump(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dump_openapi: {message}");
            ExitCode::FAILURE
        }
    }
}

fn dump(out: &std::path::Path) -> Result<(), String> {
    let resources = builtin_resources();
    let surface = ApiSurface::new(Definitions::builtin(), &resources);
    let v2 = build_v2(&surface).map_err(|e| e.to_string())?;
    let v3 = build_v3(&surface).map_err(|e| e.to_string())?;
    let write = |relative: &str, bytes: &[u8]| -> Result<(), String> {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{} ({} bytes)", path.display(), bytes.len());
        Ok(())
    };
    write("openapi/v2.json", v2.to_string().as_bytes())?;
    write("openapi/v2.pb", &encode_v2_document(&v2))?;
    write("openapi/v3.json", v3.index().to_string().as_bytes())?;
    for (key, document) in &v3.documents {
        write(&format!("openapi/v3/{key}.json"), &document.json)?;
    }
    Ok(())
}
