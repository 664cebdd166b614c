//! The `lockwatch` binary.

use clap::Parser;
use lockwatch::cli::{self, Cli, output};

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::error_line(&format!("cannot start the runtime: {e}"));
            std::process::exit(cli::EXIT_ERROR);
        }
    };
    let code = match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            output::error_line(&format!("{e:#}"));
            cli::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
