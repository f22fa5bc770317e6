//! Standard output for commands whose output is piped: `ec2-ddns replay
//! --json … | head` must end quietly when `head` closes the pipe, not panic
//! as `println!` does.

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout. A closed stdout ends the program at once with
/// status 0 (the reader has all it wanted); any other write failure is
/// reported on stderr with status 1.
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("ec2-ddns: could not write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `text` and a newline.
pub(crate) fn println(text: &str) {
    print(&format!("{text}\n"));
}
