//! Every identity's facts for the monitoring organisations already run (Prometheus with
//! node_exporter or windows_exporter): the text exposition format of a status report
//! ([`exposition`]) and the textfile collector's file, written on request or whenever a status is
//! computed where the machine policy names the folder ([`textfile`]). Alert rules for them are in
//! `deploy/prometheus/`.

pub(crate) mod exposition;
pub(crate) mod textfile;

pub(crate) use exposition::Writer;
