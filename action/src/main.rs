//! `lockwatch-action`: the container entry point of the GitHub Action.

use lockwatch_action::{ActionEnv, run};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let env = ActionEnv::from_process();
    let mut out = std::io::stdout();
    let outcome = run(&env, &mut out).await;
    std::process::exit(outcome.exit_code);
}
