//! `cargo lockwatch`: `lockwatch check` as a Cargo subcommand. `cargo install lockwatch`
//! installs this beside `lockwatch`; Cargo runs it as `cargo-lockwatch lockwatch ARGS...`.

use clap::Parser;
use lockwatch::cli::{self, CargoLockwatch};

fn main() {
    let args = CargoLockwatch::parse_from(cli::cargo_subcommand_args(std::env::args_os()));
    std::process::exit(cli::exit_code_of(cli::check(args.check)));
}
