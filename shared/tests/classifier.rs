//! Classifier behaviour beyond the seed rows: URL forms, non-CAISO and malformed input.

use caiso_shared::{Classifier, ClassifyError, Environment, Interface, Status};

fn classify(url: &str) -> caiso_shared::Classification<'static> {
    Classifier::builtin()
        .classify(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

#[test]
fn host_matching_ignores_letter_case() {
    let answer = classify("HTTPS://PORTAL.CAISO.COM/TR/Home.aspx");
    assert_eq!(answer.status, Status::Decommissioned);
    assert_eq!(answer.replacement.as_deref(), Some("https://tr.caiso.com/"));
    assert_eq!(classify("https://CMRI.Caiso.Com/").status, Status::Current);
}

#[test]
fn path_prefixes_match_whole_segments_only() {
    // "/tr" must not catch "/trading".
    let answer = classify("https://portal.caiso.com/trading");
    assert_eq!(answer.status, Status::Decommissioned);
    assert!(answer.systems.is_empty());
    assert_eq!(
        answer.replacement, None,
        "no single replacement for an unknown old path"
    );
    assert_eq!(classify("https://portal.caiso.com/tr").systems[0].id, "tr");
    assert_eq!(classify("https://portal.caiso.com/tr/").systems[0].id, "tr");
    assert_eq!(
        classify("https://portal.caiso.com/tr?x=1").systems[0].id,
        "tr"
    );
}

#[test]
fn path_keeping_mappings_keep_path_query_and_fragment() {
    let answer =
        classify("https://ws.caiso.com/sst/sibr/SubmitRawBidSet_SIBRv5_DocAttach_AP?wsdl=1#part");
    assert_eq!(
        answer.replacement.as_deref(),
        Some("https://ws.prod.caiso.com/sst/sibr/SubmitRawBidSet_SIBRv5_DocAttach_AP?wsdl=1#part")
    );
    // The prefix is rewritten to the catalog's form; the rest keeps the user's letters.
    let answer = classify("https://ws.caiso.com/SST/CMRI/RetrieveX_AP");
    assert_eq!(
        answer.replacement.as_deref(),
        Some("https://ws.prod.caiso.com/sst/cmri/RetrieveX_AP")
    );
}

#[test]
fn landing_page_mappings_drop_path_and_query() {
    let answer = classify("https://portal.caiso.com/cmri/logon.do?user=x#frag");
    assert_eq!(
        answer.replacement.as_deref(),
        Some("https://cmri.caiso.com/")
    );
    assert_eq!(answer.environment, Some(Environment::Production));
}

#[test]
fn unknown_path_on_a_host_swapping_old_host_still_gets_its_replacement() {
    let answer = classify("https://ws.caiso.com/sst/newsystem/Op_AP");
    assert_eq!(answer.status, Status::Legacy);
    assert!(answer.systems.is_empty());
    assert_eq!(answer.interface, Some(Interface::Api));
    assert_eq!(
        answer.replacement.as_deref(),
        Some("https://ws.prod.caiso.com/sst/newsystem/Op_AP")
    );
}

#[test]
fn old_portal_root_is_switched_off_without_a_single_replacement() {
    let answer = classify("https://portal.caiso.com/");
    assert_eq!(answer.status, Status::Decommissioned);
    assert_eq!(answer.replacement, None);
    assert_eq!(answer.environment, Some(Environment::Production));
}

#[test]
fn ports_matter() {
    assert_eq!(
        classify("https://portal.caiso.com:443/tr").status,
        Status::Decommissioned,
        "443 is https's own port"
    );
    assert_eq!(
        classify("http://portal.caiso.com:80/tr").status,
        Status::Decommissioned
    );
    assert_eq!(
        classify("https://portal.caiso.com:8443/tr").status,
        Status::UnknownCaiso
    );
    assert_eq!(
        classify("https://cmri.caiso.com:8080/").status,
        Status::UnknownCaiso
    );
    assert_eq!(
        classify("http://portal.caiso.com:443/tr").status,
        Status::UnknownCaiso,
        "443 is not http's port"
    );
}

#[test]
fn odd_but_valid_forms() {
    // Trailing dot of a fully qualified name, user information, surrounding blanks.
    assert_eq!(
        classify("https://portal.caiso.com./tr")
            .replacement
            .as_deref(),
        Some("https://tr.caiso.com/")
    );
    assert_eq!(
        classify("https://someone@portal.caiso.com/tr")
            .replacement
            .as_deref(),
        Some("https://tr.caiso.com/")
    );
    assert_eq!(
        classify("  https://portal.caiso.com/tr \n")
            .replacement
            .as_deref(),
        Some("https://tr.caiso.com/")
    );
    // http of an old portal leads to the https portal.
    assert_eq!(
        classify("http://portal.caiso.com/tr")
            .replacement
            .as_deref(),
        Some("https://tr.caiso.com/")
    );
}

#[test]
fn current_addresses_oasis_and_the_website_are_current() {
    for url in [
        "https://cmri.caiso.com/",
        "https://mapstage-sibr.caiso.com/sibr/bids",
        "https://ws.prod.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP",
        "https://adsws.prod.caiso.com/ads/Query",
        "http://oasis.caiso.com/mrioasis/logon.do",
        "https://www.caiso.com/",
        "https://www.caiso.com/library/page",
    ] {
        let answer = classify(url);
        assert_eq!(answer.status, Status::Current, "{url}");
        assert_eq!(answer.replacement, None, "{url}");
    }
    assert_eq!(
        classify("https://www.caiso.com/").site,
        Some("caiso.com website")
    );
}

#[test]
fn unknown_caiso_hosts_are_told_apart_from_other_sites() {
    assert_eq!(
        classify("https://newthing.caiso.com/").status,
        Status::UnknownCaiso
    );
    assert_eq!(classify("https://caiso.com/").status, Status::UnknownCaiso);
    for url in [
        "https://example.com/",
        "https://caiso.com.example.net/",
        "https://notcaiso.com/",
        "https://portal.caiso.com.evil.test/tr",
        "http://127.0.0.1:8080/",
        "file:///etc/hosts",
        "chrome://extensions/",
        "about:blank",
        "mailto:someone@caiso.com",
        "data:text/plain,portal.caiso.com",
    ] {
        let answer = classify(url);
        assert_eq!(answer.status, Status::NotCaiso, "{url}");
        assert!(
            answer.systems.is_empty() && answer.replacement.is_none(),
            "{url}"
        );
    }
}

#[test]
fn malformed_input_is_an_error_value() {
    for input in [
        "",
        "   ",
        "not a url",
        "portal.caiso.com/tr",
        "https://",
        "http://[::1",
        "https://exa mple.com/",
        "\u{0}",
    ] {
        match Classifier::builtin().classify(input) {
            Err(ClassifyError::Malformed { reason }) => assert!(!reason.is_empty(), "{input:?}"),
            Ok(answer) => panic!("{input:?} classified as {:?}", answer.status),
        }
    }
    let message = Classifier::builtin()
        .classify("nope")
        .expect_err("fails")
        .to_string();
    assert!(message.starts_with("not a valid URL"), "{message}");
}

#[test]
fn launcher_lists_each_environment_s_portals_once() {
    let classifier = Classifier::builtin();
    let production = classifier.portals(Environment::Production);
    let map_stage = classifier.portals(Environment::MapStage);
    assert!(
        production
            .iter()
            .any(|p| p.system.id == "tr" && p.url == "https://tr.caiso.com/")
    );
    assert!(production.iter().any(|p| p.system.id == "oasis"));
    assert!(
        map_stage
            .iter()
            .all(|p| p.url.starts_with("https://mapstage-"))
    );
    assert!(!map_stage.iter().any(|p| p.system.id == "hana"));
    let mut ids: Vec<_> = production.iter().map(|p| p.system.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), production.len());
    for portal in production.iter().chain(&map_stage) {
        assert_eq!(
            classify(portal.url).status,
            Status::Current,
            "{}",
            portal.url
        );
    }
}

#[test]
fn the_hosts_with_old_addresses_are_those_whose_old_urls_classify_old_and_no_current_only_host() {
    let classifier = Classifier::builtin();
    let hosts = classifier.hosts_with_old_addresses();
    for host in ["ws.caiso.com", "wsmap.caiso.com", "portal.caiso.com"] {
        assert!(hosts.contains(&host), "{host} in {hosts:?}");
    }
    for host in ["oasis.caiso.com", "ws.prod.caiso.com"] {
        assert!(!hosts.contains(&host), "{host} in {hosts:?}");
    }
    // Every old address of the catalog lies on one of them.
    for system in classifier.catalog().systems.iter() {
        for environment in Environment::ALL {
            let Some(endpoints) = system.endpoints(environment) else {
                continue;
            };
            for interface in [Interface::Ui, Interface::Api] {
                for legacy in endpoints.legacy(interface) {
                    let host = url::Url::parse(&legacy.url).expect("url");
                    let host = host.host_str().expect("host");
                    assert!(hosts.contains(&host), "{} ({host})", legacy.url);
                }
            }
        }
    }
}
