//! Classifier throughput on one core: `cargo bench -p caiso-shared` (or `cargo xtask bench`).
//!
//! A mixed corpus (old and current portal and web-service URLs from the catalog, with paths,
//! queries and odd letter case, plus non-CAISO URLs) is classified in rounds; the median round
//! gives URLs per second.

use std::hint::black_box;
use std::time::Instant;

use caiso_shared::Classifier;

fn corpus(classifier: &Classifier<'_>) -> Vec<String> {
    let mut urls = Vec::new();
    for system in classifier.catalog().systems.iter() {
        for endpoints in [&system.production, &system.map_stage]
            .into_iter()
            .flatten()
        {
            for current in [&endpoints.ui, &endpoints.api].into_iter().flatten() {
                urls.push(current.url.to_string());
                urls.push(format!(
                    "{}/Retrieve_AP?wsdl",
                    current.url.trim_end_matches('/')
                ));
            }
            for legacy in endpoints
                .legacy_ui
                .iter()
                .chain(endpoints.legacy_api.iter())
            {
                urls.push(legacy.url.to_string());
                urls.push(format!(
                    "{}/logon.do?next=%2Fhome#top",
                    legacy.url.to_uppercase()
                ));
            }
        }
    }
    for other in [
        "https://www.example.com/path?q=1",
        "https://intranet.example.org/wiki/CAISO_links",
        "http://127.0.0.1:8080/",
        "chrome://extensions/",
    ] {
        urls.push(other.to_owned());
    }
    urls
}

fn main() {
    let classifier = Classifier::builtin();
    let urls = corpus(classifier);
    let per_round = 200_000usize;
    let mut rates = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        for i in 0..per_round {
            let answer = classifier.classify(&urls[i % urls.len()]);
            black_box(&answer);
        }
        rates.push(per_round as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    let median = rates[rates.len() / 2];
    println!(
        "classifier: {} distinct URLs, median {:.2} million URLs/s on one core (min {:.2}, max {:.2}); target >= 1.00",
        urls.len(),
        median / 1e6,
        rates[0] / 1e6,
        rates[rates.len() - 1] / 1e6
    );
}
