//! Reading an answer's XML costs the same per MB whatever its size: `cargo bench -p caiso-soap
//! --bench xml` (or `cargo xtask bench`). A hostile or broken server can send many small
//! elements; the document is parsed and walked (as the answer reader does, `find` for a name
//! that is absent) at 1, 8 and 32 MB; medians of 5 runs, in ms per MB.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A document of about `megabytes` MB of 128-byte elements, all siblings.
fn document(megabytes: usize) -> String {
    let element = format!("<item code=\"X\">{}</item>", "v".repeat(101));
    let count = megabytes * 1024 * 1024 / element.len();
    let mut text = String::with_capacity(megabytes * 1024 * 1024 + 64);
    text.push_str("<answer>");
    for _ in 0..count {
        text.push_str(&element);
    }
    text.push_str("</answer>");
    text
}

fn main() {
    let mut line = Vec::new();
    for megabytes in [1, 8, 32] {
        let text = document(megabytes);
        let mut runs: Vec<Duration> = (0..5)
            .map(|_| {
                let started = Instant::now();
                let root = caiso_soap::xml::parse(black_box(&text)).expect("parses");
                black_box(root.find("absent"));
                black_box(root.descendants().len());
                started.elapsed()
            })
            .collect();
        runs.sort();
        let per_mb = runs[2].as_secs_f64() * 1000.0 / megabytes as f64;
        line.push(format!("{megabytes} MB: {per_mb:.1} ms/MB"));
    }
    eprintln!(
        "answer XML, parse + walk (medians of 5): {}",
        line.join(", ")
    );
}
