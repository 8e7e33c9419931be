//! Tab addresses as the extension classifies them (any text a page can put in the address
//! bar). Property: no panic, and a replacement address (where an old CAISO address is sent) is
//! always https on a host of the catalog's current endpoints: no input makes the redirect
//! point anywhere else.
#![no_main]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use caiso_shared::{Classifier, Environment, Interface};
use libfuzzer_sys::fuzz_target;

/// Hosts of every current endpoint in the catalog.
fn current_hosts() -> &'static BTreeSet<String> {
    static HOSTS: OnceLock<BTreeSet<String>> = OnceLock::new();
    HOSTS.get_or_init(|| {
        let mut hosts = BTreeSet::new();
        for system in Classifier::builtin().catalog().systems.iter() {
            for environment in Environment::ALL {
                let Some(endpoints) = system.endpoints(environment) else {
                    continue;
                };
                for interface in [Interface::Ui, Interface::Api] {
                    if let Some(current) = endpoints.current(interface) {
                        let url = url::Url::parse(&current.url).expect("catalog URL");
                        hosts.insert(url.host_str().expect("catalog host").to_owned());
                    }
                }
            }
        }
        hosts
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(classification) = Classifier::builtin().classify(text) else {
        return;
    };
    if let Some(replacement) = classification.replacement {
        let url = url::Url::parse(&replacement).expect("a replacement is a URL");
        assert_eq!(url.scheme(), "https", "{text:?} -> {replacement}");
        let host = url.host_str().unwrap_or_default();
        assert!(
            current_hosts().contains(host),
            "{text:?} -> {replacement}: {host} is not a current CAISO host"
        );
    }
});
