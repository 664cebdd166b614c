//! The `lockwatch` binary.

use clap::Parser;
use lockwatch::cli::{self, Cli};

fn main() {
    let cli = Cli::parse();
    std::process::exit(cli::exit_code_of(cli::run(cli)));
}
