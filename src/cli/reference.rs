//! `ec2-ddns completions SHELL` and `ec2-ddns manpage DIR`: shell
//! completions and man pages written from the clap definition the command
//! line parses with, so they cannot fall behind it. docs/man/ holds the
//! pages as of this commit (a test in tests/reference.rs keeps them so).

use super::output::print;
use super::Cli;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::path::PathBuf;
use std::process::ExitCode;

/// Print the completion script of a shell for ec2-ddns
#[derive(Debug, Args)]
#[command(after_help = "The script goes to stdout. To install it:

  ec2-ddns completions bash > ~/.local/share/bash-completion/completions/ec2-ddns
  ec2-ddns completions zsh > ~/.zfunc/_ec2-ddns    # with fpath+=(~/.zfunc) before compinit
  ec2-ddns completions fish > ~/.config/fish/completions/ec2-ddns.fish")]
pub(crate) struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

/// Write the man pages (ec2-ddns.1, and one per command) into a directory
#[derive(Debug, Args)]
#[command(after_help = "To install them for yourself, then read one:

  ec2-ddns manpage ~/.local/share/man/man1 && man ec2-ddns-replay")]
pub(crate) struct ManpageArgs {
    /// Where to write them (created if missing), e.g. docs/man
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

pub(crate) fn completions(args: CompletionsArgs) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "ec2-ddns", &mut script);
    print(&String::from_utf8_lossy(&script));
    ExitCode::SUCCESS
}

pub(crate) fn manpage(args: ManpageArgs) -> ExitCode {
    let written = std::fs::create_dir_all(&args.dir)
        .and_then(|()| clap_mangen::generate_to(Cli::command(), &args.dir));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "ec2-ddns: could not write the man pages into {}: {e}",
                args.dir.display()
            );
            ExitCode::from(1)
        }
    }
}
