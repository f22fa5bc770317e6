//! The command line; everything lives in `ec2_ddns::cli`.

fn main() -> std::process::ExitCode {
    ec2_ddns::cli::main()
}
