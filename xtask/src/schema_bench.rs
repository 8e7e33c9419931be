//! `cargo xtask bench schemas`: importing a CAISO artifact package of the size CAISO ships (a
//! zip of 50 request schemas, two of which the product's operations use), as the release host
//! does it from the command line; and what an imported schema adds to each call (the
//! `schema` bench of caiso-soap, release build: reading and compiling the kept files, writing
//! the request from them and validating it, against writing the built-in request). Medians.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::host_bench::{command, median};
use crate::shell::{Result, root, step};

/// Schemas in the package.
const SCHEMAS: usize = 50;
/// Import runs (each into a fresh configuration).
const IMPORTS: usize = 11;

fn fixture(name: &str) -> Result<String> {
    let path = root().join("tests/fixtures/schemas").join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The package: the market-awards schema and 49 others of the same size and style under
/// other names (requests the product does not offer: read, compiled, not kept).
fn package(path: &std::path::Path) -> Result {
    let awards = fixture("RequestMarketAwards_v4_generated.xsd")?;
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |name: &str, text: &str| -> Result {
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(text.as_bytes()).map_err(|e| e.to_string())
    };
    add("RequestMarketAwards_v4.xsd", &awards)?;
    add(
        "retrieveMarketAwards_v4.wsdl",
        &fixture("retrieveMarketAwards_v4.wsdl")?,
    )?;
    for i in 1..SCHEMAS {
        let other = awards
            .replace("RequestMarketAwards", &format!("RequestOther{i}"))
            .replace(
                "RequestMarketAwardRecord",
                &format!("RequestOther{i}Record"),
            );
        add(&format!("RequestOther{i}_v1.xsd"), &other)?;
    }
    zip.finish().map_err(|e| e.to_string())?;
    Ok(())
}

pub fn run() -> Result {
    step("schemas: importing a package of 50 request schemas; per-call cost of an imported schema");
    let work = root().join("target").join("schema-bench");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let zip = work.join("artifacts.zip");
    package(&zip)?;
    let mut imports = Vec::new();
    for run in 0..IMPORTS {
        let config = work.join(format!("config-{run}"));
        let started = Instant::now();
        let output = command(&config)?
            .args(["schemas", "import"])
            .arg(&zip)
            .output()
            .map_err(|e| e.to_string())?;
        imports.push(started.elapsed());
        if !output.status.success() {
            return Err(format!(
                "the import failed: {}",
                String::from_utf8_lossy(&output.stdout)
            ));
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "import of {SCHEMAS} schemas (zip, release host, fresh configuration): median {:.1} ms of {IMPORTS}",
        ms(median(imports))
    );
    // The per-call cost, in a release build of the same code the calls run.
    crate::shell::run(crate::shell::cargo().args([
        "bench",
        "-p",
        "caiso-soap",
        "--bench",
        "schema",
    ]))
}
