// Nothing secret leaves the registry client in a message: URLs lose their userinfo
// and the values of query parameters that carry credentials or signatures.

const SECRET_QUERY_KEYS = /^(token|access_token|refresh_token|password|secret|signature|sig|x-amz-(credential|signature|security-token)|x-goog-(credential|signature)|_state)$/i;

export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return '<unparseable url>';
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY_KEYS.test(key)) parsed.searchParams.set(key, 'REDACTED');
  }
  return parsed.toString();
}

/** `text` with the userinfo of every URL in it removed (an `ADD https://user:pass@host/...` line, say). */
export function redactUrlsIn(text: string): string {
  // Up to the last '@' before the path: a password may hold '@' itself (`user:p@ss@host`).
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/]*@/gi, '$1');
}
