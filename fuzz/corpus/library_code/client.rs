//! An API client: reads its own token and talks to its service.
use std::net::{IpAddr, TcpStream};

pub struct Client {
    token: Option<String>,
}

impl Client {
    pub fn from_env() -> Self {
        Client { token: std::env::var("EXAMPLE_API_TOKEN").ok() }
    }

    pub fn ping(&self, addr: IpAddr) -> std::io::Result<()> {
        let _s = TcpStream::connect((addr, 443))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

#[cfg(all(test, unix))]
mod unix_tests {
    #[test]
    fn reads_password() {
        let _ = std::env::var("PASSWORD");
    }
}
