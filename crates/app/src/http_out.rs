//! Calls the desk makes to the exchange (the freeze call, webhooks, the customer-context lookup): a plain
//! HTTP/1.1 POST over tokio (https through rustls with the roots of [`crate::tls`]), with a 15-second limit.
//! Small on purpose: one request per connection, the answer's status and the start of its body, which is all
//! a signed call needs.

/// A plain HTTP/1.1 POST (http or https through rustls) answering the status and up to 64 KiB of the body,
/// within 15 seconds.
pub async fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(u16, String), String> {
    post_within(url, headers, body, std::time::Duration::from_secs(15)).await
}

/// [`post`] with its own time limit (connecting, sending and reading the answer all count).
pub async fn post_within(
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    limit: std::time::Duration,
) -> Result<(u16, String), String> {
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    let u = url::Url::parse(url).map_err(|e| format!("bad url: {e}"))?;
    let host = u.host_str().ok_or("no host")?.to_string();
    let port = u.port_or_known_default().ok_or("no port")?;
    let mut path = u.path().to_string();
    if let Some(q) = u.query() {
        path = format!("{path}?{q}");
    }
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Lifebuoy\r\nConnection: close\r\nContent-Length: {}\r\n",
        u.port().map_or(host.clone(), |p| format!("{host}:{p}")),
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        mut s: S,
        head: &[u8],
        body: &[u8],
    ) -> std::io::Result<Vec<u8>> {
        s.write_all(head).await?;
        s.write_all(body).await?;
        s.flush().await?;
        let mut out = Vec::new();
        s.take(64 * 1024 + 8 * 1024).read_to_end(&mut out).await?;
        Ok(out)
    }
    let run = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
        if u.scheme() == "https" {
            let cfg = crate::tls::client_config(&[])?;
            let name =
                tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
            let tls = tokio_rustls::TlsConnector::from(cfg).connect(name, tcp).await.map_err(|e| e.to_string())?;
            exchange(tls, req.as_bytes(), body).await.map_err(|e| e.to_string())
        } else {
            exchange(tcp, req.as_bytes(), body).await.map_err(|e| e.to_string())
        }
    };
    let raw = tokio::time::timeout(limit, run).await.map_err(|_| "timed out".to_string())??;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("no HTTP status in {:?}", head.lines().next()))?;
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    Ok((status, body))
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        assert_eq!(dechunk("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"), "Wikipedia");
        assert_eq!(dechunk("0\r\n\r\n"), "");
    }
}
