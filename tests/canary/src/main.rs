//! Adding botanu changes nothing else in the application it joins (issue 23).
//!
//! An application that talks plain http to a server on 127.0.0.1 with its own `reqwest` (no TLS feature)
//! adds botanu and calls `botanu::init()` with an http OTLP endpoint. Its `reqwest::blocking::Client` must
//! still build and make the request, and no process-wide rustls crypto provider may have been installed.
//! Exits non-zero, saying what broke, otherwise.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("canary ok: the application's reqwest client works and no crypto provider was installed");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("canary FAILED: {problem}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    // botanu exports over OTLP/HTTP to a loopback port nothing listens on: the exporter and its transport
    // are built (what matters here); the export fails, is counted and logged once.
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9");
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    let server = model_server()?;

    let guard = botanu::init().map_err(|e| format!("botanu::init(): {e}"))?;
    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return Err("botanu::init() installed a process-wide rustls crypto provider".to_owned());
    }

    let response = std::panic::catch_unwind(|| {
        let client = reqwest::blocking::Client::builder().build().map_err(|e| format!("Client::build(): {e}"))?;
        let response = client.get(&server).send().map_err(|e| format!("GET {server}: {e}"))?;
        response.text().map_err(|e| format!("reading the response: {e}"))
    })
    .map_err(|_| "the application's reqwest client panicked (see the panic message above)".to_owned())??;
    if response != "ok" {
        return Err(format!("unexpected response {response:?}"));
    }
    tracing::info!("the application's request went through");

    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return Err("a process-wide rustls crypto provider was installed".to_owned());
    }
    drop(guard);
    Ok(())
}

/// A plain-http server on 127.0.0.1 answering one request with `ok`; its URL.
fn model_server() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener.local_addr().map_err(|e| format!("local_addr: {e}"))?.port();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return };
        let mut reader = BufReader::new(&mut stream);
        let mut line = String::new();
        // The request head ends with an empty line; a GET has no body.
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            line.clear();
        }
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    });
    Ok(format!("http://127.0.0.1:{port}/"))
}
