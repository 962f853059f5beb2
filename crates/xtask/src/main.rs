//! `cargo run -p xtask -- openapi`: regenerates `crates/kapi-openapi/data/*.json`.

use std::{fs, process::ExitCode};

use xtask::openapi;

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let result = match command.as_str() {
        "openapi" => generate_openapi(),
        _ => Err(format!("usage: cargo run -p xtask -- openapi (got {command:?})")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate_openapi() -> Result<(), String> {
    let root = openapi::workspace_root();
    let package = openapi::locate_kubernetes_validate()?;
    let source = openapi::definitions_file(&package);
    let definitions = fs::read_to_string(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    let data = openapi::data_dir(&root);
    fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    write(
        &data.join("definitions.json"),
        &openapi::generate_definitions(&definitions)?,
    )?;

    let recording = openapi::reference_dir(&root).join("discovery_openapi_v2.json");
    let recorded = fs::read_to_string(&recording).map_err(|e| format!("{}: {e}", recording.display()))?;
    write(&data.join("parameters.json"), &openapi::generate_parameters(&recorded)?)?;
    Ok(())
}

fn write(path: &std::path::Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {} ({} bytes)", path.display(), contents.len());
    Ok(())
}
